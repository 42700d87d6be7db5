-- nothing risky: also run under the enforce policy, where nothing may be refused.
-- An application's ordinary temporary-table work: never gated, never chained.
CREATE TABLE src (x int, y text);
INSERT INTO src SELECT g, 'v' || g FROM generate_series(1, 20) g;
CREATE TEMP TABLE tmp_s AS SELECT * FROM src WHERE x < 10;
CREATE INDEX ON tmp_s (x);
CREATE UNIQUE INDEX tmp_s_y ON tmp_s (y);
ALTER TABLE tmp_s ADD COLUMN z int NOT NULL DEFAULT 0;
ALTER TABLE tmp_s ALTER COLUMN x TYPE bigint;
ALTER TABLE tmp_s ADD CONSTRAINT tmp_s_x CHECK (x > 0);
ALTER TABLE tmp_s DROP COLUMN z;
ALTER TABLE tmp_s RENAME TO tmp_s2;
CLUSTER tmp_s2 USING tmp_s_y;
VACUUM FULL tmp_s2;
REINDEX TABLE tmp_s2;
LOCK TABLE tmp_s2 IN ACCESS EXCLUSIVE MODE;
TRUNCATE tmp_s2;
SELECT count(*) FROM tmp_s2;
DROP TABLE tmp_s2;
CREATE TEMPORARY TABLE tmp_seq (id serial PRIMARY KEY, v text);
INSERT INTO tmp_seq (v) VALUES ('a'), ('b');
CREATE TEMP VIEW tmp_v AS SELECT * FROM tmp_seq;
CREATE TEMP SEQUENCE tmp_counter;
SELECT nextval('tmp_counter');
CREATE FUNCTION pg_temp.tmp_f() RETURNS int LANGUAGE sql AS 'SELECT 42';
SELECT pg_temp.tmp_f();
CREATE TABLE pg_temp.tmp_named (a int);
DROP TABLE pg_temp.tmp_named;
DROP VIEW tmp_v;
DROP SEQUENCE tmp_counter;
DROP FUNCTION pg_temp.tmp_f();
BEGIN;
CREATE TEMP TABLE tmp_oc (a int) ON COMMIT DROP;
INSERT INTO tmp_oc VALUES (1);
CREATE INDEX ON tmp_oc (a);
COMMIT;
SELECT count(*) FROM pg_class WHERE relname = 'tmp_oc';
CREATE TEMP TABLE tmp_del (a int) ON COMMIT DELETE ROWS;
BEGIN; INSERT INTO tmp_del VALUES (1); SELECT count(*) FROM tmp_del; COMMIT;
SELECT count(*) FROM tmp_del;
-- A temporary table that shares a name with a permanent one hides it.
CREATE TEMP TABLE src (x int);
DROP TABLE src;
SELECT count(*) FROM src;
-- A permanent table's default using a temporary sequence: CASCADE reaches the permanent
-- table (recorded, while the temporary sequence itself is not).
CREATE TEMP SEQUENCE tmp_ids;
CREATE TABLE keeper (id int);
ALTER TABLE keeper ALTER COLUMN id SET DEFAULT nextval('tmp_ids');
DROP SEQUENCE tmp_ids CASCADE;
-- Errors on temporary objects keep every field.
CREATE TEMP TABLE tmp_e1 (a int GENERATED ALWAYS AS (b * 2) STORED);
CREATE TEMP TABLE tmp_u (a int PRIMARY KEY);
INSERT INTO tmp_u VALUES (1), (1);
DROP TABLE tmp_u, tmp_missing;
DROP TABLE tmp_u;
