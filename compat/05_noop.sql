-- nothing risky: also run under the enforce policy, where nothing may be refused.
-- What migration tools emit all the time: no-ops that must pass without approval.
DROP TABLE IF EXISTS no_such_table;
DROP TABLE IF EXISTS no_such_table, also_missing CASCADE;
DROP INDEX IF EXISTS no_such_index;
DROP INDEX CONCURRENTLY IF EXISTS no_such_index;
DROP MATERIALIZED VIEW IF EXISTS no_such_mv;
DROP VIEW IF EXISTS no_such_view;
DROP SEQUENCE IF EXISTS no_such_seq;
DROP SCHEMA IF EXISTS no_such_schema CASCADE;
DROP TYPE IF EXISTS no_such_type CASCADE;
DROP FUNCTION IF EXISTS no_such_function(int) CASCADE;
ALTER TABLE IF EXISTS no_such_table ADD COLUMN a int;
ALTER TABLE IF EXISTS no_such_table DROP COLUMN a;
BEGIN;
CREATE TABLE IF NOT EXISTS n1 (a int);
CREATE INDEX IF NOT EXISTS n1_a ON n1 (a);
COMMIT;
CREATE TABLE IF NOT EXISTS n1 (a int);
CREATE INDEX IF NOT EXISTS n1_a ON n1 (a);
-- IF [NOT] EXISTS of what the table has or lacks, and settings it already has: skipped by
-- PostgreSQL (only its lock is taken, rated as such: allowed, below the threshold).
CREATE TABLE n2 (id int NOT NULL, v int);
-- A relation of the index's name that is no index of that table: PostgreSQL skips it, fence
-- rates the index build (low here: the table is empty), as a decoy could be renamed away while
-- CREATE INDEX waits for its lock.
CREATE TABLE taken_name (a int);
CREATE INDEX IF NOT EXISTS taken_name ON n2 (v);
ALTER TABLE n2 DROP COLUMN IF EXISTS gone_column;
ALTER TABLE n2 ADD COLUMN IF NOT EXISTS v uuid NOT NULL DEFAULT gen_random_uuid();
ALTER TABLE n2 ALTER COLUMN id SET NOT NULL;
ALTER TABLE n2 SET LOGGED;
-- DROP ... IF EXISTS of a trigger, policy or rule the table does not have: PostgreSQL reads
-- the table and skips it (allowed at risk none); of a constraint, its ALTER TABLE's lock only.
DROP TRIGGER IF EXISTS no_such_trigger ON n2;
DROP POLICY IF EXISTS no_such_policy ON n2;
DROP RULE IF EXISTS no_such_rule ON n2;
ALTER TABLE n2 DROP CONSTRAINT IF EXISTS gone_constraint;
-- The first refresh of a materialized view created WITH NO DATA (nobody can read it before;
-- CONCURRENTLY cannot do it): low, allowed.
CREATE MATERIALIZED VIEW n2_counts AS SELECT count(*) AS n FROM n2 WITH NO DATA;
REFRESH MATERIALIZED VIEW n2_counts;
DROP TABLE no_such_table;
DROP INDEX no_such_index;
ALTER TABLE no_such_table ADD COLUMN a int;
TRUNCATE no_such_table;
