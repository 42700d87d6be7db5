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

-- DROP ... IF EXISTS of a trigger, policy, rule or constraint the table lacks: PostgreSQL
-- skips it (the table read, or only its ALTER TABLE's lock taken); of one it has, rated.
CREATE TRIGGER nn_proof_kept BEFORE INSERT ON nn_proof FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger();
SELECT stmt_no, lock_mode, risk, (SELECT string_agg(f ->> 'rule', ',') FROM jsonb_array_elements(findings) f) AS rules
FROM fence.analyze($$
DROP TRIGGER IF EXISTS no_such_trigger ON nn_proof;
DROP POLICY IF EXISTS no_such_policy ON nn_proof;
DROP RULE IF EXISTS no_such_rule ON nn_proof;
ALTER TABLE nn_proof DROP CONSTRAINT IF EXISTS no_such_constraint;
DROP TRIGGER IF EXISTS nn_proof_kept ON nn_proof;
ALTER TABLE nn_proof DROP CONSTRAINT IF EXISTS nn_proof_code;
$$);

-- An index ON ONLY a partitioned table builds nothing (then CREATE INDEX CONCURRENTLY on each
-- partition and ALTER INDEX ... ATTACH PARTITION): the parent's lock only. Without ONLY it
-- builds every partition's index.
BEGIN;
CREATE TABLE nn_parted (id int, v int) PARTITION BY RANGE (id);
CREATE TABLE nn_parted_1 PARTITION OF nn_parted FOR VALUES FROM (0) TO (1000);
COMMIT;
INSERT INTO nn_parted SELECT g, g FROM generate_series(1, 999) g;
SELECT stmt_no, lock_mode, scans, risk, (SELECT string_agg(f ->> 'rule', ',') FROM jsonb_array_elements(findings) f) AS rules
FROM fence.analyze($$
CREATE INDEX nn_parted_v ON ONLY nn_parted (v);
CREATE INDEX nn_parted_v ON nn_parted (v);
CREATE INDEX nn_parted_1_v ON ONLY nn_parted_1 (v);
$$);

-- The first refresh of a materialized view created WITH NO DATA: low (its readers fail until
-- then, CONCURRENTLY cannot do it); once populated, a refresh blocks its readers: medium.
CREATE MATERIALIZED VIEW nn_counts AS SELECT count(*) AS n FROM nn_proof WITH NO DATA;
SELECT risk FROM fence.analyze('REFRESH MATERIALIZED VIEW nn_counts');
REFRESH MATERIALIZED VIEW nn_counts;
SELECT risk FROM fence.analyze('REFRESH MATERIALIZED VIEW nn_counts');

-- DROP OWNED BY a role that owns nothing but is named in a policy drops the policy: it is not
-- taken for a no-op (nor refused as one doing something).
CREATE ROLE regress_owns_nothing;
CREATE POLICY nn_proof_p ON nn_proof TO regress_owns_nothing USING (true);
DROP OWNED BY regress_owns_nothing;
SELECT count(*) AS policies_left FROM pg_policy WHERE polname = 'nn_proof_p';
DROP ROLE regress_owns_nothing;

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
