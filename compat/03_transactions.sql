-- Savepoints around DDL, errors inside them, DDL in exception blocks.
CREATE TABLE s1 (a int);
BEGIN;
SAVEPOINT before_ddl;
ALTER TABLE s1 ADD COLUMN b int;
ROLLBACK TO SAVEPOINT before_ddl;
SAVEPOINT again;
ALTER TABLE s1 ADD COLUMN c int;
RELEASE SAVEPOINT again;
SAVEPOINT broken;
ALTER TABLE s1 ADD COLUMN c int;
ROLLBACK TO SAVEPOINT broken;
ALTER TABLE s1 ADD COLUMN d int;
COMMIT;
SELECT attname FROM pg_attribute WHERE attrelid = 's1'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum;
BEGIN;
CREATE TABLE s2 (a int);
CREATE INDEX ON s2 (nope);
ALTER TABLE s2 ADD COLUMN b int;
ROLLBACK;
DO $$
BEGIN
  BEGIN
    ALTER TABLE s1 ADD COLUMN a int;
  EXCEPTION WHEN duplicate_column THEN
    RAISE NOTICE 'caught %: %', SQLSTATE, SQLERRM;
  END;
  ALTER TABLE s1 ADD COLUMN e int;
END $$;
DO $$
BEGIN
  EXECUTE 'CREATE TABLE s3 (a int PRIMARY KEY)';
  EXECUTE 'INSERT INTO s3 VALUES (1), (1)';
END $$;
DO $$ BEGIN RAISE EXCEPTION 'custom failure' USING DETAIL = 'd', HINT = 'h', SCHEMA = 'sc', TABLE = 'tb', COLUMN = 'co', DATATYPE = 'dt', CONSTRAINT = 'cn', ERRCODE = 'P1234'; END $$;
CREATE FUNCTION add_col(t regclass, c text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('ALTER TABLE %s ADD COLUMN %I int', t, c);
END $$;
SELECT add_col('s1', 'f');
SELECT add_col('s1', 'f');
SELECT add_col('nope', 'f');
CREATE PROCEDURE mig() LANGUAGE plpgsql AS $$
BEGIN
  CREATE TABLE p1 (a int);
  COMMIT;
  CREATE TABLE p2 (a int);
  ROLLBACK;
  CREATE TABLE p3 (a int);
END $$;
CALL mig();
SELECT relname FROM pg_class WHERE relname IN ('p1', 'p2', 'p3') ORDER BY 1;
CREATE PROCEDURE failing() LANGUAGE plpgsql AS $$ BEGIN CREATE TABLE p1 (a int); END $$;
CALL failing();
-- Multi-statement strings (one simple query).
SELECT 1 AS one\; CREATE TABLE m1 (a int)\; ALTER TABLE m1 ADD COLUMN a int\; SELECT 2 AS two;
SELECT count(*) FROM pg_class WHERE relname = 'm1';
-- Prepared statements running functions that do DDL.
PREPARE add_g AS SELECT add_col('s1', 'g');
EXECUTE add_g;
EXECUTE add_g;
DEALLOCATE add_g;
-- Two-phase commit is off on these servers: same error on both.
BEGIN; CREATE TABLE tp (a int); PREPARE TRANSACTION 'x';
-- LISTEN / NOTIFY beside DDL.
LISTEN app_channel;
BEGIN; CREATE TABLE notified (a int); NOTIFY app_channel, 'created'; COMMIT;
SELECT pg_notify('app_channel', 'direct');
UNLISTEN *;
