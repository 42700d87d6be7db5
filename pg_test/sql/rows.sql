-- Row-level change audit: tracking, what each change records (composite and non-first-column
-- keys, excluded columns, the application's actor on a pooled connection), history and
-- point-in-time queries, sealing, verification and tampering.
\set VERBOSITY terse
CREATE ROLE regress_rows_app LOGIN;
GRANT CREATE ON SCHEMA public TO regress_rows_app;
SET SESSION AUTHORIZATION regress_rows_app;
CREATE TABLE rows_accounts (note text, region text, num int, email text, last_seen timestamptz, PRIMARY KEY (region, num));
CREATE TABLE rows_plain (id int, v text);
CREATE TABLE rows_ident (code text NOT NULL, v text, CONSTRAINT rows_ident_code UNIQUE (code));
ALTER TABLE rows_ident REPLICA IDENTITY USING INDEX rows_ident_code;
-- Only fence_admin may track.
SELECT fence.track_table('rows_accounts');
RESET SESSION AUTHORIZATION;

-- Refusals name the table and the next step; nothing is stored.
SET SESSION AUTHORIZATION regress_admin;
SELECT fence.track_table('rows_plain');
SELECT fence.track_table('rows_accounts', '{num}');
SELECT fence.track_table('rows_accounts', '{nope}');
SELECT fence.track_table('fence.audit_chain');
SELECT count(*) AS tracked_after_refusals FROM fence.tracked_tables;
-- A composite key that is not the first column; a table keyed by its replica identity.
SELECT fence.track_table('rows_accounts', '{last_seen}') > 0 AS tracked;
SELECT fence.track_table('rows_ident') > 0 AS tracked;
SELECT relation, key_columns, exclude_columns, tracked_by FROM fence.tracked_tables ORDER BY id;
RESET SESSION AUTHORIZATION;
-- Each trigger names the table's live tracking (its argument).
SELECT tgname, tgenabled, fence.trigger_tracking(tgargs) = (SELECT id FROM fence.tracked_tables
    WHERE relation = 'public.rows_accounts' AND untracked_at IS NULL) AS names_live_tracking
FROM pg_trigger WHERE tgrelid = 'rows_accounts'::regclass ORDER BY 1;

-- The application's writes: one pooled connection serving two users, then no user.
SET SESSION AUTHORIZATION regress_rows_app;
SELECT clock_timestamp() AS t0 \gset
SELECT pg_sleep(0.01);
BEGIN;
SET LOCAL fence.actor = 'alice';
INSERT INTO rows_accounts VALUES ('first', 'eu', 1, 'a@example.com', now()), (NULL, 'us', 7, 'b@example.com', now());
COMMIT;
SELECT pg_sleep(0.01);
SELECT clock_timestamp() AS t1 \gset
SELECT pg_sleep(0.01);
BEGIN;
SET LOCAL fence.actor = 'bob';
UPDATE rows_accounts SET email = 'a2@example.com' WHERE region = 'eu' AND num = 1;
-- Only the excluded column changes: nothing is recorded.
UPDATE rows_accounts SET last_seen = now() + interval '1 hour' WHERE region = 'us';
-- A savepoint's rolled-back change is gone with it.
SAVEPOINT s;
UPDATE rows_accounts SET note = 'undone' WHERE region = 'us';
ROLLBACK TO SAVEPOINT s;
COMMIT;
SELECT pg_sleep(0.01);
SELECT clock_timestamp() AS t2 \gset
SELECT pg_sleep(0.01);
-- No actor set: the session role acts; the key changes.
UPDATE rows_accounts SET num = 2 WHERE region = 'eu';
DELETE FROM rows_accounts WHERE region = 'us';
INSERT INTO rows_ident VALUES ('k1', 'x');
TRUNCATE rows_ident;
SELECT pg_sleep(0.01);
SELECT clock_timestamp() AS t3 \gset
-- The application cannot read, forge, edit or switch off its audit.
SELECT count(*) FROM fence.row_changes;
SELECT * FROM fence.row_audit_status();
DELETE FROM fence.row_changes;
INSERT INTO fence.row_changes (changed_at, table_id, relation, operation, actor, session_role, application_name,
    client_addr, backend_pid, txid, ordinal, row_hash) VALUES (now(), 1, 'x', 'INSERT', 'x', 'x', 'x', 'x', 1, 1, 1, 'x');
SELECT fence.record_row_change();
ALTER TABLE rows_accounts DISABLE TRIGGER fence_row_changes;
ALTER TABLE rows_accounts DISABLE TRIGGER ALL;
DROP TRIGGER fence_row_changes ON rows_accounts;
ALTER TRIGGER fence_row_truncate ON rows_accounts RENAME TO quiet;
SELECT fence.untrack_table('rows_accounts');
-- What the row audit depends on cannot be taken away either: the key that tells rows apart
-- (a replica identity here), an untracked child read and written through the table.
ALTER TABLE rows_ident REPLICA IDENTITY FULL;
ALTER TABLE rows_ident DROP CONSTRAINT rows_ident_code;
CREATE TABLE rows_ident_child () INHERITS (rows_ident);
RESET SESSION AUTHORIZATION;
-- Nor by a superuser: fence's trigger replaced by one that never fires, made to depend on an
-- extension (dropping it would drop the trigger), or the key taken away by a dependency.
CREATE OR REPLACE TRIGGER fence_row_changes AFTER INSERT OR UPDATE OR DELETE ON rows_accounts
    FOR EACH ROW WHEN (false) EXECUTE FUNCTION fence.record_row_change('1');
ALTER TRIGGER fence_row_changes ON rows_accounts DEPENDS ON EXTENSION plpgsql;
CREATE DOMAIN rows_code AS text;
CREATE TABLE rows_keyed (code rows_code PRIMARY KEY, v text);
SELECT fence.track_table('rows_keyed') > 0 AS tracked;
SELECT fence.exempt('relation', 'public.rows_keyed', 'even exempted', now() + interval '1 hour') AS keyed_exemption \gset
DROP DOMAIN rows_code CASCADE;
SELECT fence.revoke_exemption(:keyed_exemption, 'done');
SELECT fence.untrack_table('rows_keyed') > 0 AS untracked;
SELECT tgname, tgenabled FROM pg_trigger WHERE tgrelid = 'rows_accounts'::regclass ORDER BY 1;
SELECT reason, relation, command_tag FROM fence.audit_chain WHERE reason = 'row_audit_protected' ORDER BY seq;

-- What was recorded, in order.
SELECT relation, operation, row_key, old_key, old_values, new_row, actor, session_role, ordinal
FROM fence.row_changes ORDER BY txid, ordinal;
SELECT count(DISTINCT backend_pid) = 1 AS one_backend, bool_and(txid > 0) AS txids, bool_and(row_hash ~ '^sha256:[0-9a-f]{64}$') AS hashed,
       bool_and(key_hash IS NOT DISTINCT FROM fence.key_hash(row_key::jsonb)) AS keys_hashed,
       count(*) FILTER (WHERE old_key_hash = fence.key_hash(old_key::jsonb)) AS key_moves
FROM fence.row_changes;
-- Nobody edits the recorded changes, not even a superuser (unless fence's triggers are
-- switched off: the chain catches that, below). The refusal names this month's partition.
CREATE FUNCTION pg_temp.refusal(statement text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE statement;
    RETURN 'done';
EXCEPTION WHEN insufficient_privilege OR object_not_in_prerequisite_state THEN
    RETURN regexp_replace(SQLERRM, '_[0-9]{4}_[0-9]{2} ', '_<month> ');
END
$$;
SELECT pg_temp.refusal(s) FROM unnest(ARRAY['DELETE FROM fence.row_changes', 'UPDATE fence.row_changes SET actor = ''x''',
                                            'TRUNCATE fence.row_changes']) s;

-- The auditor's questions.
SET SESSION AUTHORIZATION regress_auditor;
SELECT operation, row_key, old_key, new_row ->> 'email' AS email, actor
FROM fence.row_history('rows_accounts', '{"region": "eu", "num": 1}');
-- An UPDATE stores the old values of the columns it changed; the whole old row comes back.
SELECT operation, old_row, new_row FROM fence.row_history('rows_accounts', '{"region": "eu", "num": 1}');
SELECT operation, row_key, old_key, actor FROM fence.row_history('rows_accounts', '{"region": "eu", "num": 2}');
SELECT operation FROM fence.row_history('rows_ident', '{"code": "k1"}');
SELECT fence.row_as_of('rows_accounts', '{"region": "eu", "num": 1}', :'t0') AS before_insert,
       fence.row_as_of('rows_accounts', '{"region": "eu", "num": 1}', :'t1') ->> 'email' AS at_t1,
       fence.row_as_of('rows_accounts', '{"region": "eu", "num": 1}', :'t2') ->> 'email' AS at_t2,
       fence.row_as_of('rows_accounts', '{"region": "eu", "num": 1}', :'t3') AS after_key_change,
       fence.row_as_of('rows_accounts', '{"region": "eu", "num": 2}', :'t2') AS new_key_before,
       fence.row_as_of('rows_accounts', '{"region": "eu", "num": 2}', :'t3') ->> 'email' AS new_key_after,
       fence.row_as_of('rows_accounts', '{"region": "us", "num": 7}', :'t2') ->> 'email' AS deleted_before,
       fence.row_as_of('rows_accounts', '{"region": "us", "num": 7}', :'t3') AS deleted_after;
SELECT relation, operation, row_key FROM fence.changes_by('alice', :'t0', :'t3');
SELECT relation, operation, row_key FROM fence.changes_by('bob', :'t0');
SELECT count(*) AS not_in_window FROM fence.changes_by('alice', :'t1', :'t3');
-- Sealed into the chain: every change verifies, none is left unsealed.
SELECT fence.seal_changes() >= 0 AS sealed;
SELECT ok, reason, changes_checked, changes_unsealed FROM fence.verify_chain();
SELECT kind, details -> 'block' ->> 'xid_from' = '0' AS first_block FROM fence.audit_chain WHERE kind = 'row_seal' ORDER BY seq LIMIT 1;
-- For monitoring: nothing waits to be sealed now; a change not sealed yet shows, with its time.
SELECT tracked_tables, unsealed_changes, oldest_unsealed_at, last_seal_at IS NOT NULL AS sealed_once,
       last_seal_changes > 0 AS last_seal_had_changes
FROM fence.row_audit_status();
RESET SESSION AUTHORIZATION;
BEGIN;
INSERT INTO rows_ident VALUES ('k9', 'waiting');
SELECT unsealed_changes, oldest_unsealed_at BETWEEN now() AND clock_timestamp() AS oldest_is_this_one FROM fence.row_audit_status();
ROLLBACK;

-- A change's hash can be recomputed by anyone from its columns (the documented hashed form):
-- sha256 of every column but the hashes, in the export view's order, each as
-- <length in bytes>:<text>, and -, for NULL.
CREATE FUNCTION pg_temp.field(t text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(octet_length(t) || ':' || t || ',', '-,')
$$;
CREATE FUNCTION pg_temp.change_hash(c fence.row_changes) RETURNS text LANGUAGE sql AS $$
    SELECT 'sha256:' || encode(sha256(convert_to(
        pg_temp.field(c.table_id::text) || pg_temp.field(c.relation) || pg_temp.field(c.operation)
        || pg_temp.field(c.row_key::text) || pg_temp.field(c.old_key::text) || pg_temp.field(c.old_values::text)
        || pg_temp.field(c.new_row::text) || pg_temp.field(c.actor) || pg_temp.field(c.session_role)
        || pg_temp.field(c.application_name) || pg_temp.field(c.client_addr) || pg_temp.field(c.backend_pid::text)
        || pg_temp.field(c.txid::text) || pg_temp.field(c.ordinal::text)
        || pg_temp.field(((extract(epoch FROM c.changed_at) * 1000000)::bigint)::text), 'UTF8')), 'hex')
$$;
SELECT bool_and(pg_temp.change_hash(c) = c.row_hash) AS recomputable FROM fence.row_changes c;

-- Tampering by a superuser with fence's triggers off is detected, then undone.
SET session_replication_role = replica;
CREATE TEMP TABLE saved AS SELECT * FROM fence.row_changes WHERE operation = 'DELETE';
UPDATE fence.row_changes SET old_values = jsonb_set(old_values::jsonb, '{email}', '"forged@example.com"')::json WHERE operation = 'DELETE';
SELECT ok, first_bad_seq IN (SELECT seq FROM fence.audit_chain WHERE kind = 'row_seal') AS in_a_sealed_block,
       reason ~ 'does not match its hash' AS row_hash_checked FROM fence.verify_chain();
-- The forger recomputes the row's own hash too: the sealed block still disagrees.
UPDATE fence.row_changes c SET row_hash = pg_temp.change_hash(c) WHERE operation = 'DELETE';
SELECT ok, reason ~ 'differ from what was sealed' AS block_checked FROM fence.verify_chain();
DELETE FROM fence.row_changes WHERE operation = 'DELETE';
SELECT ok, reason ~ 'changes stored, [0-9]+ sealed|sealed changes are missing' AS removal_detected FROM fence.verify_chain();
INSERT INTO fence.row_changes SELECT * FROM saved;
-- Re-filing a change under another key hides it from row_history: caught too.
UPDATE fence.row_changes SET key_hash = key_hash + 1 WHERE operation = 'DELETE';
SELECT ok, reason ~ 'indexed under another key' AS key_hash_checked FROM fence.verify_chain();
UPDATE fence.row_changes SET key_hash = fence.key_hash(row_key::jsonb) WHERE operation = 'DELETE';
SELECT ok, changes_unsealed FROM fence.verify_chain();
RESET session_replication_role;

-- Row images print as PostgreSQL's to_json of the row, keys as the text of their to_jsonb,
-- whatever the column types (fence prints common types itself and leaves the others to
-- PostgreSQL: compare both).
CREATE TYPE rows_mood AS ENUM ('calm', 'angry');
CREATE TYPE rows_pair AS (a int, b text);
CREATE DOMAIN rows_positive AS int CHECK (VALUE > 0);
CREATE TABLE rows_types (
    k_text text, k_int bigint, k_num numeric, k_uuid uuid,
    b bool, i2 smallint, f4 real, f8 double precision, n numeric, s varchar(10), c char(3), t text,
    d date, ts timestamp, tstz timestamptz, iv interval, j json, jb jsonb, arr int[], pair rows_pair,
    mood rows_mood, pos rows_positive, bin bytea, ip inet,
    PRIMARY KEY (k_text, k_int, k_num, k_uuid)
);
CREATE TABLE rows_float_key (f float8 PRIMARY KEY, at timestamptz);
SET SESSION AUTHORIZATION regress_admin;
SELECT fence.track_table('rows_types') > 0 AND fence.track_table('rows_float_key') > 0 AS tracked;
RESET SESSION AUTHORIZATION;
INSERT INTO rows_types VALUES
    (E'q"\\\n\u00e9', -9000000000, 1.50, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
     true, -3, 'NaN', '-Infinity', 'NaN', 'v', 'ab', E'tab\there \u0001',
     '2026-11-22', '2026-11-22 10:00:00.5', '2026-11-22 10:00:00+02', '1 day 2 hours', '{"x": [1, 2]}', '{"b": 1, "a": 2}',
     '{1,NULL,3}', ROW(1, 'p'), 'angry', 5, '\xdeadbeef', '10.0.0.0/8'),
    ('plain', 1, 0, 'b0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12',
     NULL, NULL, 1.5, 1e100, 123.4500, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
INSERT INTO rows_float_key VALUES (1e100, now()), (0.1, NULL);
SELECT count(*) AS rows, bool_and(p.new_row::text = to_json(r)::text) AS rows_as_to_json,
       bool_and(p.row_key::text = jsonb_build_object('k_text', r.k_text, 'k_int', r.k_int, 'k_num', r.k_num, 'k_uuid', r.k_uuid)::text)
           AS keys_as_jsonb
FROM rows_types r JOIN fence.row_changes p ON p.relation = 'public.rows_types' AND p.row_key::jsonb ->> 'k_text' = r.k_text;
SELECT count(*) AS rows, bool_and(p.new_row::text = to_json(t)::text) AS rows_as_to_json,
       bool_and(p.row_key::text = jsonb_build_object('f', t.f)::text) AS keys_as_jsonb
FROM rows_float_key t JOIN fence.row_changes p ON p.relation = 'public.rows_float_key' AND (p.row_key::jsonb ->> 'f')::float8 = t.f;
SELECT count(*) AS float_key_history FROM fence.row_history('rows_float_key', '{"f": 1e100}');
SET SESSION AUTHORIZATION regress_admin;
SELECT fence.untrack_table('rows_types') > 0 AND fence.untrack_table('rows_float_key') > 0 AS untracked;
RESET SESSION AUTHORIZATION;

-- A partitioned table is tracked once: its partitions, present and future, record under its
-- tracking (PostgreSQL clones the row trigger onto each; fence gives each its own TRUNCATE
-- trigger, new ones at the end of the CREATE or ATTACH); a row moving to another partition is
-- a DELETE and an INSERT; a partition cannot be tracked apart, nor its trigger switched off.
CREATE TABLE rows_events (id int, at date, v text, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
CREATE TABLE rows_events_mar (id int, at date, v text, PRIMARY KEY (id, at));
SET SESSION AUTHORIZATION regress_admin;
SELECT count(*) AS exempted FROM unnest('{public.rows_events,public.rows_events_mar}'::text[]) r,
    LATERAL fence.exempt('relation', r, 'partition maintenance in the regress test', now() + interval '1 hour') e;
RESET SESSION AUTHORIZATION;
CREATE TABLE rows_events_jan PARTITION OF rows_events FOR VALUES FROM ('2026-01-01') TO ('2026-02-01');
SET SESSION AUTHORIZATION regress_admin;
SELECT fence.track_table('rows_events') > 0 AS tracked;
SELECT fence.track_table('rows_events_jan');
RESET SESSION AUTHORIZATION;
CREATE TABLE rows_events_feb PARTITION OF rows_events FOR VALUES FROM ('2026-02-01') TO ('2026-03-01');
ALTER TABLE rows_events ATTACH PARTITION rows_events_mar FOR VALUES FROM ('2026-03-01') TO ('2026-04-01');
-- A partition's own TRUNCATE trigger cannot be replaced either.
CREATE OR REPLACE TRIGGER fence_row_truncate AFTER TRUNCATE ON rows_events_feb
    FOR EACH STATEMENT EXECUTE FUNCTION fence.record_row_change('999');
-- A table bringing a trigger of fence's name that does something else is not attached.
CREATE TABLE rows_events_apr (id int, at date, v text, PRIMARY KEY (id, at));
CREATE TRIGGER fence_row_truncate AFTER TRUNCATE ON rows_events_apr FOR EACH STATEMENT EXECUTE FUNCTION suppress_redundant_updates_trigger();
SET SESSION AUTHORIZATION regress_admin;
SELECT fence.exempt('relation', 'public.rows_events_apr', 'partition maintenance in the regress test', now() + interval '1 hour') > 0 AS exempted;
RESET SESSION AUTHORIZATION;
ALTER TABLE rows_events ATTACH PARTITION rows_events_apr FOR VALUES FROM ('2026-04-01') TO ('2026-05-01');
SELECT count(*) AS attached FROM pg_inherits WHERE inhrelid = 'rows_events_apr'::regclass;
SELECT tgrelid::regclass AS relation, tgname, tgenabled FROM pg_trigger
WHERE tgfoid = 'fence.record_row_change()'::regprocedure AND tgrelid::regclass::text LIKE 'rows_events%' ORDER BY 1, 2;
INSERT INTO rows_events VALUES (1, '2026-01-05', 'a'), (2, '2026-02-05', 'b'), (3, '2026-03-05', 'c');
UPDATE rows_events SET at = '2026-02-06' WHERE id = 1;
TRUNCATE rows_events_mar;
TRUNCATE rows_events;
SELECT relation, operation, row_key, new_row FROM fence.row_changes WHERE relation LIKE 'public.rows_events%' ORDER BY txid, ordinal;
SELECT operation, relation FROM fence.row_history('rows_events', '{"id": 1, "at": "2026-01-05"}');
ALTER TABLE rows_events_feb DISABLE TRIGGER fence_row_changes;
-- A detached partition is no longer recorded; its TRUNCATE trigger stays, harmless, and may go.
SET SESSION AUTHORIZATION regress_admin;
SELECT fence.exempt('relation', 'public.rows_events_jan', 'partition maintenance in the regress test', now() + interval '1 hour') > 0 AS exempted;
RESET SESSION AUTHORIZATION;
ALTER TABLE rows_events DETACH PARTITION rows_events_jan;
INSERT INTO rows_events_jan VALUES (9, '2026-01-09', 'gone');
TRUNCATE rows_events_jan;
SELECT count(*) AS detached_changes FROM fence.row_changes WHERE relation = 'public.rows_events_jan' AND row_key::jsonb ->> 'id' = '9';
DROP TRIGGER fence_row_truncate ON rows_events_jan;
SET SESSION AUTHORIZATION regress_admin;
SELECT fence.untrack_table('rows_events') > 0 AS untracked;
RESET SESSION AUTHORIZATION;
SELECT count(*) AS fence_triggers_left FROM pg_trigger
WHERE tgfoid = 'fence.record_row_change()'::regprocedure AND tgrelid::regclass::text LIKE 'rows_events%';

-- A savepoint that took the partition's insert locks (the partition's and its index's) is
-- rolled back: the locks go with it, and the next change takes them again (a change is never
-- stored without them).
BEGIN;
SAVEPOINT s;
INSERT INTO rows_ident VALUES ('k3', 'z');
ROLLBACK TO SAVEPOINT s;
INSERT INTO rows_ident VALUES ('k4', 'z');
SELECT string_agg(c.relkind::text, ',' ORDER BY c.relkind) AS locked FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
WHERE l.pid = pg_backend_pid() AND l.mode = 'RowExclusiveLock'
  AND c.relnamespace = 'fence'::regnamespace AND c.relkind IN ('r', 'i') AND c.relname LIKE 'row_changes_2%';
COMMIT;
SELECT row_key FROM fence.row_changes WHERE relation = 'public.rows_ident' AND row_key::jsonb ->> 'code' IN ('k3', 'k4');

-- A role renamed while a session uses it is recorded under its new name (each backend keeps the
-- session role's name until a role changes).
SET SESSION AUTHORIZATION regress_rows_app;
INSERT INTO rows_ident VALUES ('k5', 'r');
RESET SESSION AUTHORIZATION;
ALTER ROLE regress_rows_app RENAME TO regress_rows_app_renamed;
SET SESSION AUTHORIZATION regress_rows_app_renamed;
INSERT INTO rows_ident VALUES ('k6', 'r');
RESET SESSION AUTHORIZATION;
ALTER ROLE regress_rows_app_renamed RENAME TO regress_rows_app;
SELECT row_key::jsonb ->> 'code' AS code, session_role, actor FROM fence.row_changes
WHERE relation = 'public.rows_ident' AND row_key::jsonb ->> 'code' IN ('k5', 'k6') ORDER BY 1;

-- A change table with a column the writer does not know (the library and the extension's
-- tables of different versions) stores nothing, and says why.
SET SESSION AUTHORIZATION regress_admin;
SELECT fence.exempt('relation', 'fence.row_changes', 'version skew in the regress test', now() + interval '1 hour') > 0 AS exempted;
RESET SESSION AUTHORIZATION;
ALTER TABLE fence.row_changes ADD COLUMN extra text;
SELECT pg_temp.refusal($$INSERT INTO rows_ident VALUES ('k8', 'skew')$$);
ALTER TABLE fence.row_changes RENAME COLUMN client_addr TO client;
SELECT pg_temp.refusal($$INSERT INTO rows_ident VALUES ('k8', 'skew')$$);
ALTER TABLE fence.row_changes RENAME COLUMN client TO client_addr;
ALTER TABLE fence.row_changes DROP COLUMN extra;
INSERT INTO rows_ident VALUES ('k8', 'no skew');
SELECT new_row ->> 'v' AS v FROM fence.row_changes WHERE row_key::jsonb = '{"code": "k8"}';

-- A restore from a dump gives tables new OIDs; their triggers still name their trackings.
-- Here two tracked tables' recorded OIDs are swapped (a superuser's edit standing in for the
-- restore): the history is still found, and the first change moves both trackings back (in
-- one statement, so that the OIDs may swap), each move chained.
UPDATE fence.tracked_tables SET relid = CASE relid WHEN 'rows_ident'::regclass THEN 'rows_accounts'::regclass
                                                   ELSE 'rows_ident'::regclass END
WHERE relid IN ('rows_ident'::regclass, 'rows_accounts'::regclass);
SELECT count(*) AS history_found FROM fence.row_history('rows_ident', '{"code": "k5"}');
\c
INSERT INTO rows_ident VALUES ('k7', 'after the restore');
SELECT relation, relid = relation::regclass AS relinked FROM fence.tracked_tables
WHERE relation IN ('public.rows_ident', 'public.rows_accounts') ORDER BY id;
SELECT relation, details ->> 'action' AS action, (details ->> 'relid')::oid = relation::regclass AS to_the_table
FROM fence.audit_chain WHERE kind = 'row_tracking' AND details ->> 'action' = 'relink' ORDER BY seq;
SELECT count(*) AS k7_changes FROM fence.row_changes WHERE row_key::jsonb = '{"code": "k7"}';

-- Dropping a tracked table ends its tracking, chained; its history stays.
CREATE TABLE rows_dropped (id int PRIMARY KEY);
SET SESSION AUTHORIZATION regress_admin;
SELECT fence.track_table('rows_dropped') > 0 AS tracked;
SELECT fence.exempt('statement', (SELECT statement_hash FROM fence.analyze('DROP TABLE rows_dropped')),
                    'dropped in the regress test', now() + interval '1 hour') > 0 AS exempted;
RESET SESSION AUTHORIZATION;
INSERT INTO rows_dropped VALUES (1);
DROP TABLE rows_dropped;
SELECT untracked_at IS NOT NULL AS ended, untracked_by FROM fence.tracked_tables WHERE relation = 'public.rows_dropped';
SELECT count(*) AS history_kept FROM fence.row_changes WHERE relation = 'public.rows_dropped';

-- Untracking is the admin's recorded act; the history stays.
SET SESSION AUTHORIZATION regress_admin;
SELECT fence.untrack_table('rows_ident') > 0 AS untracked;
SELECT fence.untrack_table('rows_ident');
RESET SESSION AUTHORIZATION;
SELECT count(*) AS fence_triggers_left FROM pg_trigger WHERE tgrelid = 'rows_ident'::regclass;
INSERT INTO rows_ident VALUES ('k2', 'y');
SELECT count(*) AS k2_changes FROM fence.row_changes WHERE row_key::jsonb = '{"code": "k2"}';
-- DROP EXTENSION fence needs the tracked tables untracked first (their triggers use fence's
-- function): untrack the last one.
SET SESSION AUTHORIZATION regress_admin;
SELECT fence.untrack_table('rows_accounts') > 0 AS untracked;
RESET SESSION AUTHORIZATION;
SELECT kind, relation, details ->> 'action' AS action FROM fence.audit_chain WHERE kind = 'row_tracking' ORDER BY seq;
