-- Live truth: each statement runs for real on a fixture with data, inside a subtransaction
-- that is rolled back; the locks it holds (pg_locks of this backend), whether it rewrote a
-- table (relfilenode) and whether it scanned one (pg_stat_xact_user_tables.seq_scan) are
-- compared with what fence.analyze predicted for it.
\set VERBOSITY terse
SELECT fence.set_policy('{"mode": "off"}', 'truth test') IS NOT NULL AS policy_off;
CREATE SCHEMA truth;
SET search_path = truth, public;
CREATE TABLE orgs (id bigint PRIMARY KEY, name text);
CREATE TABLE members (id bigint PRIMARY KEY, org_id bigint, email varchar(50), note text, score int,
                      seqno int NOT NULL, handle varchar(50), nickname text,
                      doubled bigint GENERATED ALWAYS AS (id * 2) STORED);
CREATE INDEX members_handle_idx ON members (handle);
ALTER TABLE members ADD CONSTRAINT members_nickname_present CHECK (nickname IS NOT NULL AND nickname <> '');
ALTER TABLE members ADD CONSTRAINT members_seq_positive CHECK (seqno > 0) NOT VALID;
CREATE TABLE audit_log (id int);
CREATE TABLE audit_log_archive (id int);
CREATE INDEX members_email_idx ON members (email);
CREATE RULE members_keep AS ON DELETE TO members WHERE false DO INSTEAD NOTHING;
CREATE TABLE badges (id bigint PRIMARY KEY, org_id bigint CONSTRAINT badges_org_fk REFERENCES orgs (id));
CREATE TABLE events (id int, at date) PARTITION BY RANGE (at);
CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE TABLE events_2027 (id int, at date);
INSERT INTO events SELECT g, date '2026-01-01' + g % 300 FROM generate_series(1, 300) g;
INSERT INTO events_2027 SELECT g, date '2027-01-01' + g % 300 FROM generate_series(1, 300) g;
-- A default partition: creating, attaching or detaching another partition locks it, and
-- creating or attaching one scans it.
CREATE TABLE events_default PARTITION OF events DEFAULT;
INSERT INTO events SELECT g, date '2031-01-01' + g FROM generate_series(1, 50) g;
CREATE VIEW member_emails AS SELECT id, email FROM members;
CREATE MATERIALIZED VIEW org_counts AS SELECT org_id, count(*) AS n FROM members GROUP BY org_id;
CREATE SEQUENCE ticket_seq;
CREATE FUNCTION truth_noop() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
SET allow_in_place_tablespaces = on;
CREATE TABLESPACE truth_space LOCATION '';
RESET allow_in_place_tablespaces;
CREATE TABLE spaced (id int) TABLESPACE truth_space;
INSERT INTO spaced SELECT generate_series(1, 100);
-- A second table access method (PostgreSQL 15 ships only heap): the heap's own handler.
CREATE ACCESS METHOD truth_heap TYPE TABLE HANDLER heap_tableam_handler;
CREATE TYPE org_shape AS (id bigint, name text);
CREATE TABLE typed_orgs OF org_shape;
CREATE INDEX orgs_lower_name_idx ON orgs (lower(name));
CREATE SCHEMA truth_archive;
CREATE TABLE truth_archive.snapshots (id int);
CREATE VIEW snapshot_ids AS SELECT id FROM truth_archive.snapshots;
CREATE TYPE mood AS ENUM ('ok', 'meh');
CREATE TABLE moods (id int, feeling mood);
CREATE TABLE tags (id int, label text);
CREATE TRIGGER tags_audit AFTER UPDATE ON tags FOR EACH ROW EXECUTE FUNCTION truth_noop();
CREATE POLICY tags_all ON tags USING (true);
CREATE RULE tags_keep AS ON DELETE TO tags WHERE false DO INSTEAD NOTHING;
CREATE STATISTICS tags_stats ON id, label FROM tags;
CREATE TABLE ledger (id int);
CREATE TABLE ledger_2026 () INHERITS (ledger);
INSERT INTO ledger_2026 SELECT g FROM generate_series(1, 100) g;
CREATE DOMAIN contact_email AS text;
CREATE DOMAIN work_email AS contact_email;
ALTER DOMAIN contact_email ADD CONSTRAINT contact_email_short CHECK (length(VALUE) < 100) NOT VALID;
CREATE TABLE contacts (id int, email contact_email);
CREATE TABLE staff (id int, email work_email);
INSERT INTO contacts SELECT g, 'c' || g || '@example.com' FROM generate_series(1, 100) g;
INSERT INTO staff SELECT g, 's' || g || '@example.com' FROM generate_series(1, 100) g;
INSERT INTO orgs SELECT g, 'org' || g FROM generate_series(1, 200) g;
INSERT INTO members SELECT g, g % 200 + 1, 'm' || g || '@example.com', NULL, g, g, 'h' || g, 'n' || g FROM generate_series(1, 2000) g;
INSERT INTO badges SELECT g, g % 200 + 1 FROM generate_series(1, 500) g;
-- Organizations without badges, and an index for the foreign key's checks (a lookup, no
-- scan, when a row is deleted or inserted).
INSERT INTO orgs SELECT g, 'org' || g FROM generate_series(201, 5000) g;
CREATE INDEX badges_org_idx ON badges (org_id);
ANALYZE orgs, members, badges, events, events_2027;
-- A role's belongings (REASSIGN / DROP OWNED), a procedure (CALL).
DO $$ BEGIN CREATE ROLE truth_owner; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
CREATE TABLE owned_things (id int PRIMARY KEY);
ALTER TABLE owned_things OWNER TO truth_owner;
CREATE POLICY owner_sees ON tags TO truth_owner USING (true);
CREATE FOREIGN DATA WRAPPER truth_wrapper;
CREATE SERVER truth_server FOREIGN DATA WRAPPER truth_wrapper;
CREATE FOREIGN TABLE remote_items (id int) SERVER truth_server;
CREATE PROCEDURE truth_proc() LANGUAGE sql AS $$ SELECT 1 $$;

-- Observed: the strongest lock this backend holds on each relation that existed before the
-- statement, a rewrite when a table's relfilenode changed, a scan when a table's seq_scan
-- counter moved. Predicted: fence.analyze's locks, rewrites and scans. ACCESS SHARE locks
-- are left out on both sides: they come from reading (a view's query, index look-ups) and
-- block nothing but ACCESS EXCLUSIVE.
CREATE FUNCTION truth_check(stmt text, reads boolean DEFAULT false) RETURNS TABLE (predicted text, observed text, agree boolean)
LANGUAGE plpgsql AS $$
DECLARE
    existing jsonb;
    files jsonb;
    scans jsonb;
    lock_rank constant text[] := ARRAY['AccessShareLock', 'RowShareLock', 'RowExclusiveLock',
        'ShareUpdateExclusiveLock', 'ShareLock', 'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock'];
BEGIN
    SELECT pg_catalog.string_agg(l ->> 'relation' || '=' || (l ->> 'mode'), ' ' ORDER BY l ->> 'relation')
           || CASE WHEN bool_or(a.rewrites) THEN ' rewrite' ELSE '' END
           || CASE WHEN bool_or(a.scans) THEN ' scan' ELSE '' END
    INTO predicted
    FROM fence.analyze(stmt, estimate => true) a
    LEFT JOIN LATERAL jsonb_array_elements(a.locks) l
      ON l ->> 'mode' <> 'AccessShareLock'
      OR (reads AND (SELECT c.relkind IN ('r', 'p', 'v', 'm') FROM pg_class c WHERE c.oid = to_regclass(l ->> 'relation')));
    SELECT jsonb_object_agg(c.oid::text, jsonb_build_array(c.relnamespace::regnamespace::text || '.' || c.relname, c.relkind::text)),
           jsonb_object_agg(c.oid::text, c.relfilenode)
    INTO existing, files
    FROM pg_class c WHERE c.relnamespace IN ('truth'::regnamespace, 'truth_archive'::regnamespace)
                      AND c.relkind IN ('r', 'i', 'p', 'v', 'm', 'S', 'f');
    SELECT jsonb_object_agg(s.relid::text, s.seq_scan) INTO scans
    FROM pg_stat_xact_user_tables s WHERE s.schemaname IN ('truth', 'truth_archive');
    BEGIN
        EXECUTE stmt;
        SELECT pg_catalog.string_agg(rel || '=' || lock_rank[strongest], ' ' ORDER BY rel)
               || CASE WHEN EXISTS (SELECT 1 FROM pg_class c WHERE existing ? c.oid::text AND c.relkind IN ('r', 'm')
                                    AND (files ->> c.oid::text)::oid <> c.relfilenode)
                       THEN ' rewrite' ELSE '' END
               || CASE WHEN EXISTS (SELECT 1 FROM pg_stat_xact_user_tables s WHERE scans ? s.relid::text
                                    AND s.seq_scan > (scans ->> s.relid::text)::bigint)
                       THEN ' scan' ELSE '' END
        INTO observed
        FROM (SELECT existing -> l.relation::text ->> 0 AS rel, max(array_position(lock_rank, l.mode)) AS strongest
              FROM pg_locks l
              WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND l.granted
                AND existing ? l.relation::text
                AND (l.mode <> 'AccessShareLock' OR (reads AND existing -> l.relation::text ->> 1 IN ('r', 'p', 'v', 'm')))
              GROUP BY 1) held;
        RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = 'roll back';
    EXCEPTION
        WHEN raise_exception THEN NULL;
        WHEN OTHERS THEN observed := 'error: ' || SQLERRM;
    END;
    agree := predicted IS NOT DISTINCT FROM observed;
    RETURN NEXT;
END
$$;
-- Warm the statistics counters and the relcache, so the first case reads like the others.
SELECT count(*) FROM truth.members;

CREATE TEMP TABLE truth_cases (n serial, stmt text);
INSERT INTO truth_cases (stmt) VALUES
    ('ALTER TABLE members ALTER COLUMN email SET NOT NULL'),
    -- A validated CHECK (nickname IS NOT NULL AND ...) proves it: no scan.
    ('ALTER TABLE members ALTER COLUMN nickname SET NOT NULL'),
    ('ALTER TABLE members ADD COLUMN plan text'),
    ('ALTER TABLE members ADD COLUMN plan text DEFAULT ''free'''),
    ('ALTER TABLE members ADD COLUMN joined timestamptz DEFAULT clock_timestamp()'),
    ('ALTER TABLE members ADD COLUMN joined timestamptz DEFAULT now()'),
    ('ALTER TABLE members ADD COLUMN code int NOT NULL DEFAULT 0'),
    ('ALTER TABLE members ALTER COLUMN score TYPE bigint'),
    ('ALTER TABLE members ALTER COLUMN handle TYPE varchar(100)'),
    ('ALTER TABLE members ALTER COLUMN handle TYPE text'),
    ('ALTER TABLE members ALTER COLUMN handle TYPE varchar(40)'),
    -- Binary-coercible, but a CHECK uses the column: validated again (a scan, no rewrite).
    ('ALTER TABLE members ALTER COLUMN nickname TYPE varchar'),
    ('ALTER TABLE members DROP COLUMN note'),
    ('ALTER TABLE audit_log ADD COLUMN actor text NOT NULL'),
    ('ALTER TABLE members SET (fillfactor = 70)'),
    ('ALTER TABLE members SET (autovacuum_enabled = false, toast.autovacuum_enabled = false)'),
    ('ALTER TABLE members RESET (autovacuum_vacuum_scale_factor)'),
    ('ALTER TABLE members SET (user_catalog_table = true)'),
    ('ALTER TABLE audit_log_archive INHERIT audit_log'),
    ('ALTER VIEW member_emails OWNER TO postgres'),
    ('ALTER MATERIALIZED VIEW org_counts SET (fillfactor = 80)'),
    ('ALTER TABLE members VALIDATE CONSTRAINT members_seq_positive'),
    ('ALTER TABLE members DROP CONSTRAINT members_nickname_present'),
    ('CREATE TABLE events_2028 PARTITION OF events FOR VALUES FROM (''2028-01-01'') TO (''2029-01-01'')'),
    ('DROP TABLE badges CASCADE'),
    ('DROP VIEW member_emails'),
    ('DROP SEQUENCE ticket_seq'),
    ('ALTER TABLE members ADD CONSTRAINT members_org_fk FOREIGN KEY (org_id) REFERENCES orgs (id)'),
    ('ALTER TABLE members ADD CONSTRAINT members_org_fk FOREIGN KEY (org_id) REFERENCES orgs (id) NOT VALID'),
    ('ALTER TABLE members ADD CONSTRAINT members_score_check CHECK (score > 0)'),
    ('ALTER TABLE members ADD CONSTRAINT members_score_check CHECK (score > 0) NOT VALID'),
    ('ALTER TABLE members ADD CONSTRAINT members_email_key UNIQUE (email)'),
    ('CREATE INDEX members_score_idx ON members (score)'),
    ('DROP INDEX members_email_idx'),
    ('DROP TABLE events_2027'),
    ('DROP TABLE badges'),
    ('ALTER TABLE members RENAME COLUMN note TO remark'),
    ('ALTER TABLE members RENAME TO people'),
    ('COMMENT ON TABLE members IS ''people'''),
    ('TRUNCATE members'),
    ('LOCK TABLE members IN SHARE MODE'),
    ('CLUSTER members USING members_pkey'),
    ('REINDEX TABLE members'),
    ('REINDEX INDEX members_email_idx'),
    ('ALTER TABLE members ALTER COLUMN score SET STATISTICS 500'),
    ('ALTER TABLE members ALTER COLUMN score SET (n_distinct = 100)'),
    ('ALTER TABLE members ALTER COLUMN note SET STORAGE EXTERNAL'),
    ('ALTER TABLE members ALTER COLUMN note SET COMPRESSION pglz'),
    ('ALTER TABLE members CLUSTER ON members_pkey'),
    ('ALTER TABLE members SET WITHOUT CLUSTER'),
    ('ALTER TABLE members DISABLE TRIGGER ALL'),
    ('ALTER TABLE members DISABLE RULE members_keep'),
    ('ALTER TABLE members REPLICA IDENTITY FULL'),
    ('ALTER TABLE members ENABLE ROW LEVEL SECURITY'),
    ('ALTER TABLE members OWNER TO postgres'),
    ('ALTER TABLE members SET UNLOGGED'),
    ('ALTER TABLE members ALTER COLUMN seqno ADD GENERATED ALWAYS AS IDENTITY'),
    ('ALTER TABLE members ALTER COLUMN doubled DROP EXPRESSION'),
    ('ALTER TABLE badges ALTER CONSTRAINT badges_org_fk DEFERRABLE'),
    ('ALTER TABLE members ALTER COLUMN score SET STATISTICS 500, DISABLE TRIGGER ALL'),
    ('CREATE TRIGGER members_touch BEFORE UPDATE ON members FOR EACH ROW EXECUTE FUNCTION truth_noop()'),
    ('CREATE POLICY members_all ON members USING (true)'),
    ('CREATE STATISTICS members_stats ON org_id, score FROM members'),
    ('CREATE OR REPLACE VIEW member_emails AS SELECT id, email FROM members'),
    ('REFRESH MATERIALIZED VIEW org_counts'),
    ('ALTER TABLE events ATTACH PARTITION events_2027 FOR VALUES FROM (''2027-01-01'') TO (''2028-01-01'')'),
    ('ALTER TABLE events DETACH PARTITION events_2026'),
    -- Copied into another tablespace (indexes stay); already there, or already of that
    -- access method: only the lock.
    ('ALTER TABLE members SET TABLESPACE truth_space'),
    ('ALTER TABLE members SET TABLESPACE pg_default'),
    -- Everything of a kind in a tablespace, each under ACCESS EXCLUSIVE.
    ('ALTER TABLE ALL IN TABLESPACE truth_space SET TABLESPACE pg_default'),
    ('ALTER TABLE members SET ACCESS METHOD heap'),
    ('ALTER TABLE members SET ACCESS METHOD truth_heap'),
    ('ALTER TABLE orgs OF org_shape'),
    ('ALTER TABLE typed_orgs NOT OF'),
    -- ALTER INDEX locks the index, not its table.
    ('ALTER INDEX members_email_idx SET TABLESPACE truth_space'),
    ('ALTER INDEX members_email_idx SET (fillfactor = 70)'),
    ('ALTER INDEX members_email_idx SET (deduplicate_items = off)'),
    ('ALTER INDEX orgs_lower_name_idx ALTER COLUMN 1 SET STATISTICS 100'),
    ('ALTER INDEX members_email_idx RENAME TO members_mail_idx'),
    -- A domain constraint is checked in every table with a column of the domain (or of a
    -- domain over it): SHARE and a scan each; NOT VALID and the rest lock no table.
    ('ALTER DOMAIN contact_email ADD CONSTRAINT contact_email_at CHECK (VALUE LIKE ''%@%'')'),
    ('ALTER DOMAIN contact_email ADD CONSTRAINT contact_email_at CHECK (VALUE LIKE ''%@%'') NOT VALID'),
    ('ALTER DOMAIN contact_email SET NOT NULL'),
    ('ALTER DOMAIN contact_email VALIDATE CONSTRAINT contact_email_short'),
    ('ALTER DOMAIN work_email SET DEFAULT ''nobody@example.com'''),
    ('ALTER DOMAIN contact_email DROP CONSTRAINT contact_email_short'),
    -- Moving a table to another schema changes its name for every client; enum values lock
    -- no table, not even one using the type.
    ('ALTER TABLE audit_log SET SCHEMA truth_archive'),
    ('ALTER SEQUENCE ticket_seq SET SCHEMA truth_archive'),
    ('ALTER TYPE mood ADD VALUE ''great'''),
    ('ALTER TYPE mood RENAME VALUE ''meh'' TO ''so-so'''),
    ('ALTER TYPE mood RENAME TO feeling'),
    -- Publishing tables: SHARE UPDATE EXCLUSIVE on each, none for a whole schema.
    ('CREATE PUBLICATION truth_pub FOR TABLE members, orgs'),
    ('CREATE PUBLICATION truth_pub FOR TABLES IN SCHEMA truth'),
    -- A table's triggers, policies and rules: ACCESS EXCLUSIVE on it to drop, rename or
    -- create one (a trigger is created under SHARE ROW EXCLUSIVE, above); its statistics
    -- objects: SHARE UPDATE EXCLUSIVE to drop, nothing to alter.
    ('DROP TRIGGER tags_audit ON tags'),
    ('ALTER TRIGGER tags_audit ON tags RENAME TO tags_audit2'),
    ('COMMENT ON TRIGGER tags_audit ON tags IS ''audit'''),
    ('DROP POLICY tags_all ON tags'),
    ('ALTER POLICY tags_all ON tags RENAME TO tags_every'),
    ('CREATE RULE tags_keep2 AS ON INSERT TO tags WHERE false DO INSTEAD NOTHING'),
    ('ALTER RULE tags_keep ON tags RENAME TO tags_keep2'),
    ('DROP RULE tags_keep ON tags'),
    ('DROP STATISTICS tags_stats'),
    ('ALTER STATISTICS tags_stats SET STATISTICS 100'),
    -- What a DROP ... CASCADE takes with it, from the dependency catalog: a column of the
    -- dropped type (its table altered), a domain over the dropped domain and its columns, a
    -- view elsewhere on a table of the dropped schema.
    ('DROP TYPE mood CASCADE'),
    ('DROP DOMAIN contact_email CASCADE'),
    ('DROP SCHEMA truth_archive CASCADE'),
    -- A table dropped with CASCADE: the views on it go too, other tables lose their foreign
    -- keys to it.
    ('DROP TABLE orgs CASCADE'),
    ('DROP TABLE members CASCADE'),
    -- Constraints: renaming one; dropping a foreign key also locks the referenced table.
    ('ALTER TABLE members RENAME CONSTRAINT members_seq_positive TO members_seq_pos'),
    ('ALTER TABLE badges DROP CONSTRAINT badges_org_fk'),
    ('ALTER TABLE members SET WITHOUT OIDS'),
    -- NO INHERIT only reads the parent.
    ('ALTER TABLE ledger_2026 NO INHERIT ledger'),
    -- Columns, defaults, NOT NULL, CHECK constraints and statistics targets recurse into
    -- inheritance children and partitions, under the same lock (not with ONLY); the owner
    -- does not.
    ('ALTER TABLE ledger ADD COLUMN memo text'),
    ('ALTER TABLE ledger ALTER COLUMN id TYPE bigint'),
    ('ALTER TABLE ledger ALTER COLUMN id SET NOT NULL'),
    ('ALTER TABLE ledger ALTER COLUMN id SET DEFAULT 0'),
    ('ALTER TABLE ONLY ledger ALTER COLUMN id SET DEFAULT 0'),
    ('ALTER TABLE ledger ADD CONSTRAINT ledger_id_positive CHECK (id > 0)'),
    ('ALTER TABLE ledger ALTER COLUMN id SET STATISTICS 100'),
    ('ALTER TABLE ledger OWNER TO postgres'),
    ('ALTER TABLE events ADD COLUMN memo text'),
    ('ALTER TABLE events ALTER COLUMN id SET NOT NULL'),
    -- Objects that lock no table; code, whose DDL is gated as it runs.
    ('CREATE FOREIGN DATA WRAPPER truth_fdw'),
    ('CREATE OPERATOR FAMILY truth_ops USING btree'),
    ('CREATE ROLE truth_role'),
    ('DO $$ BEGIN PERFORM 1; END $$'),
    ('CALL truth_proc()'),
    -- Extension membership: SHARE UPDATE EXCLUSIVE on the relation; a dependency on an
    -- extension: ACCESS EXCLUSIVE on the index; a trigger's only reads its table.
    ('ALTER EXTENSION plpgsql ADD TABLE tags'),
    ('ALTER INDEX members_email_idx DEPENDS ON EXTENSION plpgsql'),
    ('ALTER TRIGGER tags_audit ON tags DEPENDS ON EXTENSION plpgsql'),
    ('SET CONSTRAINTS ALL DEFERRED'),
    -- A foreign table's options: ACCESS EXCLUSIVE.
    ('ALTER FOREIGN TABLE remote_items OPTIONS (ADD note ''x'')'),
    ('ALTER FOREIGN TABLE remote_items ALTER COLUMN id OPTIONS (ADD k ''v'')'),
    ('SHOW work_mem'),
    -- A role's belongings: a new owner under ACCESS EXCLUSIVE (the indexes too), or dropped
    -- (and the role taken out of the policies that name it: ACCESS EXCLUSIVE on their tables).
    ('REASSIGN OWNED BY truth_owner TO postgres'),
    ('DROP OWNED BY truth_owner'),
    -- A function dropped with CASCADE takes the triggers that call it.
    ('DROP FUNCTION truth_noop() CASCADE'),
    -- Data steps of a migration: ROW EXCLUSIVE on the table written and its indexes, ROW
    -- SHARE where rows are locked (a foreign key's check: the referenced table's rows on
    -- insert, the referencing table's on delete); a scan when the plan reads a table whole.
    ('UPDATE members SET score = score + 1'),
    ('UPDATE members SET score = 0 WHERE id = 5'),
    ('DELETE FROM orgs WHERE id = 4000'),
    ('INSERT INTO badges VALUES (10001, 5)'),
    ('SELECT id FROM orgs WHERE id < 10 FOR UPDATE'),
    ('MERGE INTO orgs o USING members m ON o.id = m.id WHEN MATCHED THEN UPDATE SET name = ''x'''),
    ('INSERT INTO audit_log SELECT id FROM members'),
    -- A write in a WITH clause; rows locked by alias; a partitioned table written (each
    -- partition); a write through a view (its table, and the table's indexes).
    ('WITH gone AS (DELETE FROM badges WHERE id < 3 RETURNING id) SELECT count(*) FROM gone'),
    ('SELECT o.id FROM orgs o JOIN members m ON m.org_id = o.id WHERE o.id < 5 FOR UPDATE OF o'),
    ('UPDATE events SET id = id + 1'),
    ('UPDATE member_emails SET email = lower(email) WHERE id = 3'),
    -- New relations from a query: a table or materialized view with data reads its sources
    -- whole; a view only stores its query.
    ('CREATE TABLE members_copy AS SELECT * FROM members'),
    ('CREATE VIEW members_v2 AS SELECT id FROM members'),
    ('CREATE MATERIALIZED VIEW emails_mv AS SELECT * FROM member_emails'),
    ('CREATE MATERIALIZED VIEW emails_mv AS SELECT * FROM member_emails WITH NO DATA'),
    ('CREATE ACCESS METHOD truth_heap2 TYPE TABLE HANDLER heap_tableam_handler'),
    -- Last: a sequence's lock is held to the end of the whole transaction.
    ('ALTER SEQUENCE ticket_seq SET UNLOGGED'),
    ('ALTER SEQUENCE ticket_seq RESTART WITH 100')
;
\pset format unaligned
SELECT c.stmt, t.* FROM truth_cases c, LATERAL truth_check(c.stmt) t ORDER BY c.n;

-- What queries read: ACCESS SHARE on each table and view they name, counted here too (not on
-- indexes, which planning opens); a planned query that names a view reads the view's tables.
CREATE TEMP TABLE truth_reads (n serial, stmt text);
INSERT INTO truth_reads (stmt) VALUES
    ('CREATE VIEW members_v2 AS SELECT m.id FROM members m JOIN orgs o ON o.id = m.org_id'),
    ('CREATE TABLE emails_copy AS SELECT * FROM member_emails'),
    ('UPDATE members SET score = 1 FROM orgs WHERE orgs.id = members.org_id'),
    ('WITH recent AS (SELECT id FROM members WHERE id > 1990) DELETE FROM badges WHERE id IN (SELECT id FROM recent)'),
    ('SELECT count(*) FROM member_emails')
;
SELECT c.stmt, t.* FROM truth_reads c, LATERAL truth_check(c.stmt, true) t ORDER BY c.n;

-- What differs between versions: each case runs on the versions that have its syntax
-- (PostgreSQL 17: SET EXPRESSION, SET ACCESS METHOD DEFAULT, SET STATISTICS DEFAULT; 18:
-- virtual generated columns, NOT NULL ... NOT VALID, [NOT] ENFORCED), on a fixture of its own.
SELECT current_setting('server_version_num')::int / 10000 AS major,
       current_setting('server_version_num')::int >= 180000 AS pg18 \gset
\if :pg18
CREATE TABLE gauges (id bigint PRIMARY KEY, org_id bigint, reading int, label text,
                     halved bigint GENERATED ALWAYS AS (id / 2) VIRTUAL,
                     CONSTRAINT gauges_org_unenforced FOREIGN KEY (org_id) REFERENCES orgs (id) NOT ENFORCED);
INSERT INTO gauges SELECT g, g % 200 + 1, g, 'g' || g FROM generate_series(1, 500) g;
ALTER TABLE gauges ADD CONSTRAINT gauges_label_nn NOT NULL label NOT VALID;
ANALYZE gauges;
\endif
CREATE TEMP TABLE truth_since (n serial, since int, stmt text);
INSERT INTO truth_since (since, stmt) VALUES
    -- A stored column's new expression rewrites the table (and rebuilds its indexes).
    (17, 'ALTER TABLE members ALTER COLUMN doubled SET EXPRESSION AS (id * 3)'),
    (17, 'ALTER TABLE members SET ACCESS METHOD DEFAULT'),
    (17, 'ALTER TABLE members ALTER COLUMN score SET STATISTICS DEFAULT'),
    -- A virtual column stores nothing: adding it, changing its expression or its type
    -- rewrites nothing (NOT NULL still checks every row).
    (18, 'ALTER TABLE gauges ADD COLUMN tripled bigint GENERATED ALWAYS AS (id * 3) VIRTUAL'),
    (18, 'ALTER TABLE gauges ADD COLUMN tripled bigint GENERATED ALWAYS AS (id * 3)'),
    (18, 'ALTER TABLE gauges ADD COLUMN tripled bigint NOT NULL GENERATED ALWAYS AS (id * 3)'),
    (18, 'ALTER TABLE gauges ADD COLUMN tripled bigint GENERATED ALWAYS AS (id * 3) STORED'),
    (18, 'ALTER TABLE gauges ALTER COLUMN halved SET EXPRESSION AS (id / 4)'),
    (18, 'ALTER TABLE gauges ALTER COLUMN halved TYPE int'),
    -- NOT NULL as a constraint: NOT VALID skips the scan, VALIDATE scans under SHARE UPDATE
    -- EXCLUSIVE.
    (18, 'ALTER TABLE members ADD CONSTRAINT members_email_nn NOT NULL email NOT VALID'),
    (18, 'ALTER TABLE members ADD CONSTRAINT members_email_nn NOT NULL email'),
    (18, 'ALTER TABLE gauges VALIDATE CONSTRAINT gauges_label_nn'),
    -- Enforceability: NOT ENFORCED checks nothing; ENFORCED checks every row.
    (18, 'ALTER TABLE members ADD CONSTRAINT members_score_check CHECK (score > 0) NOT ENFORCED'),
    (18, 'ALTER TABLE members ADD CONSTRAINT members_org_fk FOREIGN KEY (org_id) REFERENCES orgs (id) NOT ENFORCED'),
    (18, 'ALTER TABLE badges ALTER CONSTRAINT badges_org_fk NOT ENFORCED'),
    (18, 'ALTER TABLE gauges ALTER CONSTRAINT gauges_org_unenforced ENFORCED')
;
SELECT c.since, c.stmt, t.* FROM truth_since c, LATERAL truth_check(c.stmt) t WHERE c.since <= :major ORDER BY c.n;

\pset format aligned
-- Transaction-level truths: what a transaction still holds after several statements, and
-- what PostgreSQL refuses inside a block; fence.analyze names each.
BEGIN;
ALTER TABLE members ADD COLUMN t1 int;
ALTER TABLE orgs ADD COLUMN t1 int;
SELECT string_agg(c.relname, ', ' ORDER BY c.relname) AS held_access_exclusive_until_commit
FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
WHERE l.pid = pg_backend_pid() AND l.mode = 'AccessExclusiveLock' AND c.relnamespace = 'truth'::regnamespace AND c.relkind = 'r';
ROLLBACK;
BEGIN;
ALTER TABLE members ADD CONSTRAINT members_id_positive CHECK (id > 0) NOT VALID;
ALTER TABLE members VALIDATE CONSTRAINT members_id_positive;
SELECT max(mode) AS members_lock_while_validating FROM pg_locks WHERE pid = pg_backend_pid() AND relation = 'members'::regclass AND mode = 'AccessExclusiveLock';
ROLLBACK;
BEGIN;
CREATE INDEX CONCURRENTLY members_score_ci ON members (score);
ROLLBACK;
CREATE TEMP TABLE truth_script AS SELECT * FROM fence.analyze($$
BEGIN;
ALTER TABLE members ADD COLUMN t1 int;
ALTER TABLE orgs ADD COLUMN t1 int;
ALTER TABLE members ADD CONSTRAINT members_id_positive CHECK (id > 0) NOT VALID;
ALTER TABLE members VALIDATE CONSTRAINT members_id_positive;
CREATE INDEX CONCURRENTLY members_score_ci ON members (score);
COMMIT;
$$);
SELECT stmt_no, (SELECT string_agg(f ->> 'rule', ',') FROM jsonb_array_elements(findings) f WHERE f ->> 'risk' <> 'none') AS rules
FROM truth_script ORDER BY stmt_no;

-- Every rule (one page each in docs/rules) must be reported by some statement whose locks,
-- rewrite and scan were checked live: listed here are those no case above reports on this
-- version; each is checked by scripts/truth_wait.sh (the commands that cannot run in a
-- transaction block) or, for syntax a version lacks, on the newer versions.
\set rule_ids `ls docs/rules | sed -n 's/\.md$//p' | paste -sd, -`
-- (`unclassified`: no statement of the grammar is.)
SELECT r AS rule_checked_elsewhere
FROM unnest(string_to_array(:'rule_ids', ',')) r
WHERE r <> 'unclassified'
  AND r NOT IN (SELECT f ->> 'rule' FROM truth_cases c, fence.analyze(c.stmt) a, jsonb_array_elements(a.findings) f
                UNION SELECT f ->> 'rule' FROM truth_reads c, fence.analyze(c.stmt) a, jsonb_array_elements(a.findings) f
                UNION SELECT f ->> 'rule' FROM truth_script s, jsonb_array_elements(s.findings) f
                UNION SELECT f ->> 'rule' FROM truth_since c, fence.analyze(c.stmt) a, jsonb_array_elements(a.findings) f
                      WHERE c.since <= :major)
ORDER BY 1;

DROP SCHEMA truth CASCADE;
DROP SCHEMA truth_archive CASCADE;
DROP TABLESPACE truth_space;
DROP ACCESS METHOD truth_heap;
DROP ROLE truth_owner;
DROP FOREIGN DATA WRAPPER truth_wrapper CASCADE;
RESET search_path;
SELECT fence.set_policy('{}', 'truth test done') IS NOT NULL AS policy_back;
