-- Governance: durable denials, timeout requirements, approver and warn roles, CI context
-- claims, and approvals matched on what the client sent for DDL run indirectly.
\set VERBOSITY terse
CREATE ROLE regress_lead LOGIN IN ROLE fence_approver;
CREATE ROLE regress_oncall;
CREATE ROLE regress_oncall_member LOGIN IN ROLE regress_oncall;
GRANT CREATE ON SCHEMA public TO regress_oncall_member;
SET SESSION AUTHORIZATION regress_ci;
CREATE TABLE accounts (id bigint PRIMARY KEY, name text, note text);
INSERT INTO accounts SELECT g, 'a' || g, NULL FROM generate_series(1, 500) g;
RESET SESSION AUTHORIZATION;
CREATE TEMP TABLE mark AS SELECT max(seq) AS seq FROM fence.audit_chain;

-- 1. A denial survives the rollback of its transaction ...
SET SESSION AUTHORIZATION regress_ci;
BEGIN;
ALTER TABLE accounts ALTER COLUMN name SET NOT NULL;
ROLLBACK;
-- ... and a plpgsql EXCEPTION block that swallows it.
DO $$
BEGIN
    ALTER TABLE accounts DROP COLUMN note;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'caught: %', SQLERRM;
END $$;
RESET SESSION AUTHORIZATION;
SELECT kind, session_role, decision, reason, statement, details ->> 'text_source' AS source
FROM fence.audit_chain WHERE seq > (SELECT seq FROM mark) ORDER BY seq;
SELECT count(*) AS parked FROM fence.pending_denials;

-- When the denied session itself holds the chain's lock, the worker parks the denial and
-- the next denial chains it.
BEGIN;
LOCK TABLE fence.audit_chain IN SHARE ROW EXCLUSIVE MODE;
ALTER TABLE accounts ALTER COLUMN name TYPE varchar(10);
ROLLBACK;
SELECT count(*) AS parked FROM fence.pending_denials;
SET SESSION AUTHORIZATION regress_ci;
ALTER TABLE accounts ALTER COLUMN name SET NOT NULL;
RESET SESSION AUTHORIZATION;
SELECT count(*) AS parked FROM fence.pending_denials;
SELECT statement, decision FROM fence.audit_chain
WHERE seq > (SELECT seq FROM mark) AND kind = 'ddl' ORDER BY seq;
UPDATE mark SET seq = (SELECT max(seq) FROM fence.audit_chain);

-- 2. Timeout requirements hold even for approved statements.
SELECT fence.set_policy('{"max_lock_timeout": "2s", "statement_timeout_required": true}', 'timeouts') AS v \gset
SET SESSION AUTHORIZATION regress_approver;
SELECT fence.approve('ALTER TABLE accounts ALTER COLUMN name SET NOT NULL') AS name_nn \gset
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_ci;
SET fence.approval = :'name_nn';
ALTER TABLE accounts ALTER COLUMN name SET NOT NULL;
SET lock_timeout = '10s';
ALTER TABLE accounts ALTER COLUMN name SET NOT NULL;
SET lock_timeout = '1s';
SET statement_timeout = '1min';
ALTER TABLE accounts ALTER COLUMN name SET NOT NULL;
-- Nullable again for the refusals below (SET NOT NULL of a column that is NOT NULL changes
-- nothing, scans nothing, and is rated so).
ALTER TABLE accounts ALTER COLUMN name DROP NOT NULL;
-- Weaker locks need no timeouts (CREATE INDEX CONCURRENTLY: SHARE UPDATE EXCLUSIVE).
RESET lock_timeout;
RESET statement_timeout;
RESET fence.approval;
CREATE INDEX CONCURRENTLY accounts_name_idx ON accounts (name);
RESET SESSION AUTHORIZATION;
SELECT reason, policy_version = :v AS under_new_policy FROM fence.audit_chain
WHERE seq > (SELECT seq FROM mark) AND kind = 'ddl' ORDER BY seq;
UPDATE mark SET seq = (SELECT max(seq) FROM fence.audit_chain);

-- 3. Only the policy's approver roles may approve, and only their approvals count.
SELECT fence.set_policy('{"approver_roles": ["regress_lead"]}', 'leads approve');
SET SESSION AUTHORIZATION regress_approver;
SELECT fence.approve('ALTER TABLE accounts DROP COLUMN note');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_lead;
SELECT fence.approve('ALTER TABLE accounts DROP COLUMN note', source => 'github', external_approver => 'octo-lead') AS drop_note \gset
RESET SESSION AUTHORIZATION;
-- regress_approver's earlier approval of name_nn no longer counts (the session's third
-- refusal of this statement under this approval: counted, not chained again — the chain has
-- the first, the second and every power of two).
SET SESSION AUTHORIZATION regress_ci;
SET fence.approval = :'name_nn';
ALTER TABLE accounts ALTER COLUMN name SET NOT NULL;
SET fence.approval = :'drop_note';
ALTER TABLE accounts DROP COLUMN note;
RESET fence.approval;
RESET SESSION AUTHORIZATION;

-- 4. Members of warn roles are warned, not refused; the warning is recorded.
SELECT fence.set_policy('{"warn_roles": ["regress_oncall"]}', 'on-call may act');
SET SESSION AUTHORIZATION regress_oncall_member;
CREATE TABLE oncall_fix (id int);
INSERT INTO oncall_fix VALUES (1);
ALTER TABLE oncall_fix ALTER COLUMN id TYPE bigint;
RESET SESSION AUTHORIZATION;
-- Superusers are not members of a warn role unless granted it.
ALTER TABLE oncall_fix ALTER COLUMN id TYPE int;
SELECT session_role, decision, reason FROM fence.audit_chain
WHERE seq > (SELECT seq FROM mark) AND kind = 'ddl' AND risk <> 'none' ORDER BY seq;
UPDATE mark SET seq = (SELECT max(seq) FROM fence.audit_chain);
SELECT fence.set_policy('{}', 'back to defaults') IS NOT NULL AS reset;

-- 5. CI context claims are recorded with each event, apart from the verified roles.
SET SESSION AUTHORIZATION regress_ci;
SET fence.repository = 'acme/app';
SET fence.pull_request = '314';
SET fence.commit_sha = 'a1b2c3d';
SET fence.actor = 'octocat';
CREATE TABLE claimed (id int);
ALTER TABLE claimed DROP COLUMN id;
RESET fence.repository;
RESET fence.pull_request;
RESET fence.commit_sha;
RESET fence.actor;
RESET SESSION AUTHORIZATION;
SELECT statement, session_role, decision, details -> 'claims' AS claims FROM fence.audit_chain
WHERE seq > (SELECT seq FROM mark) ORDER BY seq;
UPDATE mark SET seq = (SELECT max(seq) FROM fence.audit_chain);

-- 6. DDL run indirectly is gated on the statement executed; the approval matches on what
-- the client sent (the DO block, the function call, the EXECUTE of a prepared statement).
-- The function is SECURITY DEFINER, owned by a superuser: its DDL is gated all the same.
CREATE FUNCTION public.migrate_accounts() RETURNS void LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
    ALTER TABLE public.accounts ALTER COLUMN id TYPE bigint USING id;
END $$;
SET SESSION AUTHORIZATION regress_lead;
SELECT fence.approve($m$DO $x$ BEGIN EXECUTE 'ALTER TABLE accounts ALTER COLUMN name SET NOT NULL'; END $x$$m$) AS via_do \gset
-- Approving the call does not approve what the function runs: only the statement itself.
SELECT fence.approve('SELECT public.migrate_accounts()') AS via_call \gset
SELECT fence.approve('ALTER TABLE public.accounts ALTER COLUMN id TYPE bigint USING id') AS via_fn \gset
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_ci;
-- Unapproved: refused, on the inner statement.
DO $x$ BEGIN EXECUTE 'ALTER TABLE accounts ALTER COLUMN name SET NOT NULL'; END $x$;
SELECT public.migrate_accounts();
-- Approved as sent.
SET fence.approval = :'via_do';
DO $x$ BEGIN EXECUTE 'ALTER TABLE accounts ALTER COLUMN name SET NOT NULL'; END $x$;
-- Another DO block under the same approval is not covered.
DO $x$ BEGIN EXECUTE 'ALTER TABLE accounts DROP COLUMN name'; END $x$;
SET fence.approval = :'via_call';
SELECT public.migrate_accounts();
-- The statement the function runs, approved: covered however the function is called.
SET fence.approval = :'via_fn';
SELECT public.migrate_accounts()\; SELECT 1;
PREPARE m AS SELECT public.migrate_accounts();
EXECUTE m;
RESET fence.approval;
RESET SESSION AUTHORIZATION;
SELECT statement, executing_role, decision, reason, details ->> 'text_source' AS source
FROM fence.audit_chain WHERE seq > (SELECT seq FROM mark) AND kind = 'ddl' ORDER BY seq;
SELECT ok FROM fence.verify_chain();
