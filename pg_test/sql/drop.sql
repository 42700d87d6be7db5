-- DROP EXTENSION removes fence's objects (the roles stay: they are cluster-wide, and the
-- schema named in fence.control stays, empty, as PostgreSQL leaves such schemas); it can
-- come back with a fresh chain.
-- An inline `-- fence:ignore` is a claim the decision keeps, never an exemption: still refused.
SET SESSION AUTHORIZATION regress_ci;
ALTER TABLE users ADD COLUMN claimed_at timestamptz DEFAULT clock_timestamp() -- fence:ignore add_column_volatile_default users stays small
;
RESET SESSION AUTHORIZATION;
SELECT decision, reason, details -> 'ignore_claims' AS claims FROM fence.audit_chain WHERE seq = (SELECT max(seq) FROM fence.audit_chain);

-- SET NOT NULL is proven scan-free by a validated CHECK only when the statement does not drop
-- a constraint first (PostgreSQL runs the drop, then scans).
CREATE TABLE nn_proof (id int, code text DEFAULT 'c' CONSTRAINT nn_proof_code CHECK (code IS NOT NULL));
INSERT INTO nn_proof SELECT g FROM generate_series(1, 100) g;
-- Nor a NO INHERIT check on a table with children (they are scanned), nor a composite
-- column's IS NOT NULL (true only when every field is non-null: no proof for PostgreSQL).
BEGIN;
CREATE TABLE nn_parent (id int, code text CONSTRAINT nn_parent_code CHECK (code IS NOT NULL) NO INHERIT);
CREATE TABLE nn_child () INHERITS (nn_parent);
CREATE TYPE nn_pair AS (a int, b int);
CREATE TABLE nn_rows (id int, pair nn_pair CONSTRAINT nn_rows_pair CHECK (pair IS NOT NULL));
COMMIT;
SELECT stmt_no, risk, (SELECT string_agg(f ->> 'rule', ',') FROM jsonb_array_elements(findings) f) AS rules
FROM fence.analyze($$
ALTER TABLE nn_proof ALTER COLUMN code SET NOT NULL;
ALTER TABLE nn_proof DROP CONSTRAINT nn_proof_code, ALTER COLUMN code SET NOT NULL;
ALTER TABLE nn_parent ALTER COLUMN code SET NOT NULL;
ALTER TABLE nn_rows ALTER COLUMN pair SET NOT NULL;
$$);

-- fence inserts the chain's rows without the executor: every row is in each index of the
-- chain it belongs in (the partial ones by their predicates), as amcheck sees it.
CREATE EXTENSION amcheck;
SELECT count(*) AS chain_indexes_checked
FROM (SELECT bt_index_check(i.indexrelid, true) FROM pg_catalog.pg_index i
      WHERE i.indrelid = 'fence.audit_chain'::regclass) c;
DROP EXTENSION amcheck;

DROP EXTENSION fence;
SELECT count(*) AS fence_relations FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'fence';
SELECT count(*) AS fence_functions FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'fence';
SELECT count(*) AS fence_event_triggers FROM pg_event_trigger WHERE evtname LIKE 'fence%';
-- Without fence, DDL is no longer gated.
CREATE TABLE after_drop (id int);
ALTER TABLE after_drop ALTER COLUMN id SET NOT NULL;
CREATE EXTENSION fence;
SELECT ok, checked FROM fence.verify_chain();
DROP EXTENSION fence;
DROP SCHEMA fence;
DROP TABLE after_drop, users, orders, events, kept, accounts, claimed, oncall_fix,
    mark2, maint, not_preloaded, big_ledger, ex_a, ex_a_old, ex_c, ex_d, rows_keyed CASCADE;
DROP DOMAIN rows_code;
DROP FUNCTION IF EXISTS sneaky();
DROP FUNCTION public.migrate_accounts();
REVOKE CREATE ON SCHEMA public FROM regress_ci, regress_oncall_member, regress_preloaded;
DROP ROLE regress_ci, regress_approver, regress_approver2, regress_admin, regress_auditor,
    regress_lead, regress_oncall, regress_oncall_member, regress_preloaded, regress_super;
