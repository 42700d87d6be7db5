-- Bypass attempts by a hostile migration role (sec_mig), an application role (sec_app)
-- and an approver who also migrates (sec_dual). Each block runs in one transaction as the
-- role named; it must fail with the SQLSTATE given, change nothing, and, when it reached
-- the gate ("gated: yes"), leave its denial in the audit chain.

-- attack: write an approval row directly
-- as: sec_mig
-- expect: 42501
-- gated: no
INSERT INTO fence.approvals (content_hash, statement_hashes, content, decision, approved_by, approved_as, analysis, policy_version, created_at)
VALUES ('sha256:' || repeat('0', 64), '{}', 'x', 'approve', 'sec_approver', 'sec_approver', '[]', 1, now());

-- attack: un-revoke approvals
-- as: sec_mig
-- expect: 42501
-- gated: no
UPDATE fence.approvals SET revoked_at = NULL;

-- attack: grant itself an exemption row
-- as: sec_mig
-- expect: 42501
-- gated: no
INSERT INTO fence.exemptions (scope, target, reason, created_by, created_at, expires_at, policy_version)
VALUES ('relation', 'public.victim', 'because', 'sec_mig', now(), now() + interval '1 day', 1);

-- attack: delete exemptions (hide evidence)
-- as: sec_mig
-- expect: 42501
-- gated: no
DELETE FROM fence.exemptions;

-- attack: write a policy version with mode off
-- as: sec_mig
-- expect: 42501
-- gated: no
INSERT INTO fence.policy_versions VALUES (99, now(), 'sec_mig', NULL, '{"mode": "off"}', 'x');

-- attack: forge an audit event
-- as: sec_mig
-- expect: 42501
-- gated: no
INSERT INTO fence.audit_chain (seq, recorded_at, kind, session_role, executing_role, details, prev_hash, event_hash)
VALUES (1000000, now(), 'ddl', 'sec_approver', 'sec_approver', '{}', 'x', 'y');

-- attack: rewrite an audit event
-- as: sec_mig
-- expect: 42501
-- gated: no
UPDATE fence.audit_chain SET decision = 'allow' WHERE decision = 'deny';

-- attack: delete audit events
-- as: sec_mig
-- expect: 42501
-- gated: no
DELETE FROM fence.audit_chain;

-- attack: truncate the audit chain
-- as: sec_mig
-- expect: 42501
-- gated: no
TRUNCATE fence.audit_chain;

-- attack: delete parked denials before they are chained
-- as: sec_mig
-- expect: 42501
-- gated: no
DELETE FROM fence.pending_denials;

-- attack: switch fence off through its own API
-- as: sec_mig
-- expect: 42501
-- gated: no
SELECT fence.set_policy('{"mode": "off"}');

-- attack: approve its own migration without being an approver
-- as: sec_mig
-- expect: 42501
-- gated: no
SELECT fence.approve('ALTER TABLE victim DROP COLUMN note');

-- attack: grant itself an exemption through the API
-- as: sec_mig
-- expect: 42501
-- gated: no
SELECT fence.exempt('relation', 'public.victim', 'please', now() + interval '1 hour');

-- attack: call the gate function directly
-- as: sec_mig
-- expect: 42501
-- gated: no
SELECT fence.gate();

-- attack: call the append-only guard directly
-- as: sec_mig
-- expect: 42501
-- gated: no
SELECT fence.forbid_change();

-- attack: run risky DDL under a forged (well-formed, never approved) content hash
-- as: sec_mig
-- expect: 42501
-- gated: yes
SET fence.approval = 'sha256:0000000000000000000000000000000000000000000000000000000000000000';
ALTER TABLE victim ALTER COLUMN email SET NOT NULL;

-- attack: hide SET NOT NULL's scan behind a DROP NOT NULL of the same column in one statement
-- as: sec_mig
-- expect: 42501
-- gated: yes
ALTER TABLE victim ALTER COLUMN state DROP NOT NULL, ALTER COLUMN state SET NOT NULL;

-- attack: drop the CHECK that proves a column NOT NULL in the statement that sets it (PostgreSQL
-- drops first, then scans)
-- as: sec_mig
-- expect: 42501
-- gated: yes
ALTER TABLE victim DROP CONSTRAINT victim_code_nn, ALTER COLUMN code SET NOT NULL;

-- attack: attach a partition as an element of CREATE SCHEMA (no event trigger sees elements)
-- as: sec_mig
-- expect: 42501
-- gated: yes
CREATE SCHEMA sneaky CREATE TABLE victim_parts_2000 PARTITION OF public.victim_parts FOR VALUES FROM (2000) TO (3000);

-- attack: drop a constraint with CASCADE (what depends on it goes unseen by the decision)
-- as: sec_mig
-- expect: 42501
-- gated: yes
ALTER TABLE victim DROP CONSTRAINT victim_pkey CASCADE;

-- attack: pass a partition off as existing with IF NOT EXISTS and a pg_catalog name
-- as: sec_mig
-- expect: 42501
-- gated: yes
CREATE TABLE IF NOT EXISTS pg_class PARTITION OF victim_parts FOR VALUES FROM (1) TO (10);

-- attack: malformed approval value once fence is loaded in the session
-- as: sec_mig
-- expect: 22023
-- gated: no
SELECT fence.content_hash('SELECT 1') IS NOT NULL AS loaded;
SET fence.approval = 'sha256:approved-by-bob';

-- attack: oversized approval value once fence is loaded in the session
-- as: sec_mig
-- expect: 22023
-- gated: no
SELECT fence.content_hash('SELECT 1') IS NOT NULL AS loaded;
SELECT set_config('fence.approval', repeat('a', 100000), false);

-- attack: malformed approval value set before fence is loaded (kept as a placeholder)
-- as: sec_mig
-- expect: 42501
-- gated: yes
SET fence.approval = 'sha256:approved-by-bob';
ALTER TABLE victim ALTER COLUMN email SET NOT NULL;

-- attack: stretch another migration's approval over a different statement
-- as: sec_mig
-- expect: 42501
-- gated: yes
SELECT set_config('fence.approval', fence.content_hash('ALTER TABLE victim ADD COLUMN ok int'), false);
ALTER TABLE victim DROP COLUMN note;

-- attack: run a migration it approved itself (separation of duties)
-- as: sec_dual
-- expect: 42501
-- gated: yes
SELECT set_config('fence.approval', dual_approval, false) FROM public.approval_names;
ALTER TABLE victim ALTER COLUMN email SET NOT NULL;

-- attack: DDL inside a DO block
-- as: sec_mig
-- expect: 42501
-- gated: yes
DO $$ BEGIN EXECUTE 'ALTER TABLE victim ALTER COLUMN email SET NOT NULL'; END $$;

-- attack: DDL inside its own plpgsql function, built with format()
-- as: sec_mig
-- expect: 42501
-- gated: yes
CREATE FUNCTION sneaky(col text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN EXECUTE format('ALTER TABLE victim DROP COLUMN %I', col); END $$;
SELECT sneaky('note');

-- attack: DDL through a superuser's SECURITY DEFINER function
-- as: sec_mig
-- expect: 42501
-- gated: yes
SELECT public.admin_helper('ALTER TABLE public.victim DROP COLUMN note');

-- attack: DDL through a prepared statement
-- as: sec_mig
-- expect: 42501
-- gated: yes
PREPARE p AS SELECT public.admin_helper('ALTER TABLE public.victim ALTER COLUMN email TYPE varchar(5)');
EXECUTE p;

-- attack: risky DDL hidden behind a harmless statement in one query string
-- as: sec_mig
-- expect: 42501
-- gated: yes
CREATE TABLE decoy (id int)\; ALTER TABLE victim ALTER COLUMN email SET NOT NULL;

-- attack: search_path and operator hijacking against fence's own queries
-- as: sec_mig
-- expect: 42501
-- gated: yes
CREATE FUNCTION public.always(text, text) RETURNS boolean LANGUAGE sql AS 'SELECT true';
CREATE OPERATOR public.= (LEFTARG = text, RIGHTARG = text, FUNCTION = public.always);
CREATE FUNCTION public.cardinality(text[]) RETURNS int LANGUAGE sql AS 'SELECT 1';
SET search_path = public, pg_catalog;
SET fence.approval = 'sha256:1111111111111111111111111111111111111111111111111111111111111111';
ALTER TABLE victim DROP COLUMN note;

-- attack: temporary tables shadowing fence's tables
-- as: sec_mig
-- expect: 42501
-- gated: yes
CREATE TEMP TABLE approvals (content_hash text, decision text, approved_by text, statement_hashes text[]);
INSERT INTO approvals VALUES ('sha256:' || repeat('2', 64), 'approve', 'sec_approver', '{}');
SET search_path = pg_temp, public;
SET fence.approval = 'sha256:2222222222222222222222222222222222222222222222222222222222222222';
ALTER TABLE victim DROP COLUMN note;

-- attack: disable fence's gate
-- as: sec_mig
-- expect: 42501
-- gated: no
ALTER EVENT TRIGGER fence_gate DISABLE;

-- attack: drop fence's gate
-- as: sec_mig
-- expect: 42501
-- gated: no
DROP EVENT TRIGGER fence_gate;

-- attack: silence every event trigger with session_replication_role
-- as: sec_mig
-- expect: 42501
-- gated: no
SET session_replication_role = replica;

-- attack: drop the extension
-- as: sec_mig
-- expect: 42501
-- gated: no
DROP EXTENSION fence;

-- attack: disable the chain's append-only triggers
-- as: sec_mig
-- expect: 42501
-- gated: yes
ALTER TABLE fence.audit_chain DISABLE TRIGGER ALL;

-- attack: take over fence's tables (a low-risk OWNER TO for fence: PostgreSQL refuses it)
-- as: sec_mig
-- expect: 42501
-- gated: no
ALTER TABLE fence.approvals OWNER TO sec_mig;

-- attack: rename fence's tables away
-- as: sec_mig
-- expect: 42501
-- gated: yes
ALTER TABLE fence.approvals RENAME TO approvals_old;

-- attack: create objects in schema fence
-- as: sec_mig
-- expect: 42501
-- gated: no
CREATE TABLE fence.evil (id int);

-- attack: overload a fence function in schema fence
-- as: sec_mig
-- expect: 42501
-- gated: no
CREATE FUNCTION fence.approve(sql text, x int) RETURNS text LANGUAGE sql AS 'SELECT 1::text';

-- attack: put a trigger on fence's approvals (no risk for fence: PostgreSQL refuses it)
-- as: sec_mig
-- expect: 42501
-- gated: no
CREATE FUNCTION public.noop() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER t BEFORE INSERT ON fence.approvals FOR EACH ROW EXECUTE FUNCTION public.noop();

-- attack: stall every DDL commit by locking the chain
-- as: sec_mig
-- expect: 42501
-- gated: no
LOCK TABLE fence.audit_chain IN EXCLUSIVE MODE;

-- attack: grant itself the approver role
-- as: sec_mig
-- expect: 42501
-- gated: no
GRANT fence_approver TO sec_mig;

-- attack: become a superuser for the migration
-- as: sec_mig
-- expect: 42501
-- gated: no
SET ROLE postgres;

-- attack: switch off the row audit of a table it owns
-- as: sec_mig
-- expect: 42501
-- gated: yes
ALTER TABLE victim DISABLE TRIGGER fence_row_changes;

-- attack: disable every trigger of a table it owns (the row audit's included)
-- as: sec_mig
-- expect: 42501
-- gated: yes
ALTER TABLE victim DISABLE TRIGGER ALL;

-- attack: drop the row-audit trigger
-- as: sec_mig
-- expect: 42501
-- gated: yes
DROP TRIGGER fence_row_changes ON victim;

-- attack: rename the TRUNCATE audit trigger away
-- as: sec_mig
-- expect: 42501
-- gated: yes
ALTER TRIGGER fence_row_truncate ON victim RENAME TO quiet;

-- attack: stop the row audit through the API
-- as: sec_mig
-- expect: 42501
-- gated: no
SELECT fence.untrack_table('victim');

-- attack: rewrite a recorded row change
-- as: sec_mig
-- expect: 42501
-- gated: no
UPDATE fence.row_changes SET actor = 'someone else';

-- attack: forge a row change under another user's name
-- as: sec_app
-- expect: 42501
-- gated: no
INSERT INTO fence.row_changes (changed_at, table_id, relation, operation, actor, session_role, application_name,
    client_addr, backend_pid, txid, ordinal, row_hash) VALUES (now(), 1, 'public.victim', 'UPDATE', 'ceo', 'ceo', 'x', 'x', 1, 1, 1, 'x');

-- attack: the application role reads the row history it should not
-- as: sec_app
-- expect: 42501
-- gated: no
SELECT * FROM fence.row_history('victim', '{"id": 1}');

-- attack: fire the row trigger by hand to forge a change
-- as: sec_app
-- expect: 42501
-- gated: no
SELECT fence.record_row_change();

-- attack: the application role runs DDL on a table it can write
-- as: sec_app
-- expect: 42501
-- gated: yes
ALTER TABLE victim ALTER COLUMN email SET NOT NULL;

-- attack: the application role approves
-- as: sec_app
-- expect: 42501
-- gated: no
SELECT fence.approve('ALTER TABLE victim ALTER COLUMN email SET NOT NULL');

-- attack: the application role reads the evidence it should not
-- as: sec_app
-- expect: 42501
-- gated: no
SELECT * FROM fence.approvals;

-- attack: long garbage to the analyzer
-- as: sec_mig
-- expect: 42601
-- gated: no
SELECT * FROM fence.analyze(repeat('$$', 100001));

-- attack: binary garbage to the hasher
-- as: sec_mig
-- expect: 42601
-- gated: no
SELECT fence.content_hash(convert_from('\x414c5445522027'::bytea, 'UTF8') || chr(1) || repeat(chr(7), 1000));

-- attack: a carriage return ends the comment that hid a DROP COLUMN (same hash as approved?)
-- as: sec_mig
-- expect: 42501
-- gated: yes
SELECT set_config('fence.approval', dual_approval, true) FROM approval_names;
DO $$ BEGIN EXECUTE E'ALTER TABLE victim ALTER COLUMN email SET NOT NULL --\r, DROP COLUMN note'; END $$;

-- attack: standard_conforming_strings off turns an approved literal's end into a comment
-- as: sec_mig
-- expect: 42501
-- gated: yes
SELECT set_config('fence.approval', backslash_approval, true) FROM approval_names;
SET LOCAL standard_conforming_strings = off;
ALTER TABLE victim ALTER COLUMN note SET DEFAULT 'a\' /* ', DROP COLUMN note -- */;

-- attack: the role's own lower() on the search path runs DROP TABLE inside an approved CHECK
-- as: sec_mig
-- expect: 42501
-- gated: yes
CREATE FUNCTION public.lower(text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE 'DROP TABLE public.victim_precious';
    RETURN pg_catalog.lower($1);
END $$;
SET LOCAL search_path = public, pg_catalog;
SELECT set_config('fence.approval', check_approval, true) FROM approval_names;
ALTER TABLE victim ADD CONSTRAINT victim_email_lc CHECK (lower(email) = email);

-- attack: an approved backfill fires the role's own statement trigger that drops a table
-- as: sec_mig
-- expect: 42501
-- gated: yes
CREATE FUNCTION public.sneaky() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE 'DROP TABLE public.victim_precious';
    RETURN NULL;
END $$;
CREATE TRIGGER sneaky AFTER UPDATE ON victim_precious FOR EACH STATEMENT EXECUTE FUNCTION public.sneaky();
SELECT set_config('fence.approval', backfill_approval, true) FROM approval_names;
UPDATE victim_precious SET id = 1;

-- attack: replace fence's row trigger on the tracked table with a no-op (CREATE OR REPLACE)
-- as: sec_mig
-- expect: 42501
-- gated: yes
CREATE FUNCTION public.noop() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
CREATE OR REPLACE TRIGGER fence_row_changes AFTER INSERT OR UPDATE OR DELETE ON victim
    FOR EACH ROW EXECUTE FUNCTION public.noop();

-- attack: keep fence's row trigger but give it a WHEN (false) (PostgreSQL refuses: no EXECUTE
-- on fence's function; a role that has it is refused by fence, see pg_test/sql/rows.sql)
-- as: sec_mig
-- expect: 42501
-- gated: no
CREATE OR REPLACE TRIGGER fence_row_changes AFTER INSERT OR UPDATE OR DELETE ON victim
    FOR EACH ROW WHEN (false) EXECUTE FUNCTION fence.record_row_change('1');

-- attack: an untracked child table whose rows are written through the tracked one
-- as: sec_mig
-- expect: 42501
-- gated: yes
CREATE TABLE victim_child () INHERITS (victim);

-- attack: drop the tracked table's primary key so every later write fails
-- as: sec_mig
-- expect: 42501
-- gated: yes
ALTER TABLE victim DROP CONSTRAINT victim_pkey;

-- attack: rename an enum value to change the tracked rows with no change recorded
-- as: sec_mig
-- expect: 42501
-- gated: yes
ALTER TYPE account_state RENAME VALUE 'active' TO 'banned_now';

-- attack: rename the tracked table through ALTER INDEX (classified as an index rename?)
-- as: sec_mig
-- expect: 42501
-- gated: yes
ALTER INDEX victim RENAME TO victim_gone;

-- attack: rename the tracked table through ALTER SEQUENCE
-- as: sec_mig
-- expect: 42501
-- gated: yes
ALTER SEQUENCE victim RENAME TO victim_gone;

-- attack: rename the tracked table through ALTER VIEW
-- as: sec_mig
-- expect: 42501
-- gated: yes
ALTER VIEW victim RENAME TO victim_gone;

-- attack: one query string turns standard_conforming_strings off after PostgreSQL parsed it
-- with it on: fence would read the text as the approved default, PostgreSQL runs a DROP COLUMN
-- as: sec_mig
-- expect: 42501
-- gated: yes
SELECT set_config('fence.approval', default_approval, true) FROM approval_names;
SET LOCAL standard_conforming_strings = off \; ALTER TABLE victim ADD COLUMN note2 text DEFAULT '\', DROP COLUMN note --'
;

-- attack: an approved comment's text smuggles a statement (data never approves)
-- as: sec_mig
-- expect: 42501
-- gated: yes
SELECT set_config('fence.approval', comment_approval, true) FROM approval_names;
DROP TABLE victim_precious;

-- attack: a replicated approval written by hand (as if the control database had sent it)
-- as: sec_mig
-- expect: 42501
-- gated: no
INSERT INTO fence.fleet_approvals (origin, id, content_hash, statement_hashes, content, decision, approved_by, approved_as,
                                   analysis, policy_version, created_at)
VALUES (gen_random_uuid(), 1, 'sha256:' || repeat('0', 64), '{}', 'x', 'approve', 'sec_approver', 'sec_approver', '[]', 1, now());

-- attack: call the arrival function the apply worker's trigger calls
-- as: sec_mig
-- expect: 42501
-- gated: no
SELECT fence.fleet_arrived('fleet_policies', jsonb_build_object('origin', gen_random_uuid(), 'version', 9,
    'created_by', 'sec_approver', 'document', '{"mode": "off"}'::jsonb));

-- attack: an approver switches fence's policy to the fleet's by following a control of its own
-- as: sec_approver
-- expect: 42501
-- gated: no
SELECT fence.join_fleet('host=/tmp port=1 dbname=evil');

-- attack: run the fleet's set-up statements directly (a subscription of its own)
-- as: sec_mig
-- expect: 42501
-- gated: no
SELECT fence.fleet_ddl('subscribe', 'fence_fleet', 'host=/tmp port=1 dbname=evil', 'x');

-- attack: serve a fleet (publish fence's grants) without being a superuser
-- as: sec_dual
-- expect: 42501
-- gated: no
SELECT fence.serve_fleet();

-- attack: take another database's identity
-- as: sec_mig
-- expect: 42501
-- gated: no
INSERT INTO fence.identity VALUES (gen_random_uuid(), '-infinity');

-- attack: rewrite the evidence copy of the chain
-- as: sec_mig
-- expect: 42501
-- gated: no
DELETE FROM fence.fleet_chain;

