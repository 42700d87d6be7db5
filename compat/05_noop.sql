-- nothing risky: also run under the enforce policy, where nothing may be refused.
-- What migration tools emit all the time: no-ops that must pass without approval.
DROP TABLE IF EXISTS no_such_table;
DROP TABLE IF EXISTS no_such_table, also_missing CASCADE;
DROP INDEX IF EXISTS no_such_index;
DROP INDEX CONCURRENTLY IF EXISTS no_such_index;
DROP MATERIALIZED VIEW IF EXISTS no_such_mv;
DROP VIEW IF EXISTS no_such_view;
DROP SEQUENCE IF EXISTS no_such_seq;
ALTER TABLE IF EXISTS no_such_table ADD COLUMN a int;
ALTER TABLE IF EXISTS no_such_table DROP COLUMN a;
BEGIN;
CREATE TABLE IF NOT EXISTS n1 (a int);
CREATE INDEX IF NOT EXISTS n1_a ON n1 (a);
COMMIT;
CREATE TABLE IF NOT EXISTS n1 (a int);
CREATE INDEX IF NOT EXISTS n1_a ON n1 (a);
DROP TABLE no_such_table;
DROP INDEX no_such_index;
ALTER TABLE no_such_table ADD COLUMN a int;
TRUNCATE no_such_table;
