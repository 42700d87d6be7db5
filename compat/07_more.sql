-- More of what applications and migrations meet: partitions, row-level security, sequences,
-- user event triggers, domains, generated columns, EXPLAIN, cursors.
CREATE TABLE measures (at date NOT NULL, v int) PARTITION BY RANGE (at);
CREATE TABLE measures_2026 PARTITION OF measures FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
INSERT INTO measures VALUES ('2026-05-01', 1);
INSERT INTO measures VALUES ('2030-05-01', 1);
CREATE TABLE measures_bad PARTITION OF measures FOR VALUES FROM ('2026-06-01') TO ('2027-06-01');
ALTER TABLE measures DETACH PARTITION measures_2026;
ALTER TABLE measures ATTACH PARTITION measures_2026 FOR VALUES FROM ('2026-01-01') TO ('2026-02-01');
CREATE TABLE secrets (owner text, v text);
ALTER TABLE secrets ENABLE ROW LEVEL SECURITY;
ALTER TABLE secrets FORCE ROW LEVEL SECURITY;
CREATE POLICY mine ON secrets USING (owner = current_user) WITH CHECK (owner = current_user);
INSERT INTO secrets VALUES ('someone_else', 'x');
CREATE SEQUENCE tiny MAXVALUE 2;
SELECT nextval('tiny'), nextval('tiny');
SELECT nextval('tiny');
ALTER SEQUENCE tiny MAXVALUE 1;
CREATE DOMAIN short_text AS text CHECK (length(VALUE) < 3);
CREATE TABLE notes (body short_text, doubled int GENERATED ALWAYS AS (length(body) * 2) STORED);
INSERT INTO notes (body) VALUES ('toolong');
INSERT INTO notes (body, doubled) VALUES ('ok', 1);
ALTER DOMAIN short_text ADD CONSTRAINT not_x CHECK (VALUE <> 'x');
INSERT INTO notes (body) VALUES ('x');
-- A user's own event trigger raising an error: it reaches the client as raised.
CREATE FUNCTION no_drops() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN
  IF tg_tag = 'DROP TABLE' THEN
    RAISE EXCEPTION 'drops are disabled' USING HINT = 'ask the DBA', ERRCODE = 'P0002';
  END IF;
END $$;
CREATE EVENT TRIGGER a_no_drops ON ddl_command_start EXECUTE FUNCTION no_drops();
DROP TABLE notes;
DROP EVENT TRIGGER a_no_drops;
-- EXPLAIN, cursors and COPY of a query beside DDL.
EXPLAIN (COSTS OFF) SELECT * FROM measures WHERE at > '2026-03-01';
BEGIN;
DECLARE c CURSOR FOR SELECT * FROM measures ORDER BY at;
FETCH 1 FROM c;
ALTER TABLE measures ADD COLUMN note text;
CLOSE c;
ALTER TABLE measures ADD COLUMN note text;
COMMIT;
COPY (SELECT at, v FROM measures ORDER BY at) TO stdout WITH (FORMAT csv, HEADER);
-- Deadlock-free lock timeouts and statement timeouts report the same way.
SET lock_timeout = '1ms';
SET statement_timeout = '1ms';
SELECT pg_sleep(0.05);
RESET statement_timeout;
RESET lock_timeout;
VACUUM (ANALYZE, VERBOSE false) measures;
-- Temporary objects that reach shared ones are decided like any statement: a temporary
-- sequence whose CASCADE drops a permanent table's default, a LOCK through a temporary view
-- (it locks the view's tables), a table created IF NOT EXISTS where only a temporary one of
-- that name exists (PostgreSQL creates it in public).
CREATE TEMP SEQUENCE tmp_ids;
CREATE TABLE keeper (id int);
ALTER TABLE keeper ALTER COLUMN id SET DEFAULT nextval('tmp_ids');
DROP SEQUENCE tmp_ids CASCADE;
CREATE TEMP VIEW view_lock_v AS SELECT * FROM secrets;
BEGIN;
LOCK TABLE view_lock_v IN ACCESS EXCLUSIVE MODE;
SELECT relation::regclass::text AS locked, mode FROM pg_locks WHERE pid = pg_backend_pid() AND locktype = 'relation' AND relation = 'secrets'::regclass;
COMMIT;
CREATE TEMP TABLE measures_2027 (at date, v int);
CREATE TABLE IF NOT EXISTS measures_2027 PARTITION OF measures FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');
SELECT relname, relpersistence FROM pg_class WHERE relname = 'measures_2027' ORDER BY 2;
CREATE INDEX CONCURRENTLY measures_v ON measures (v);
REINDEX TABLE CONCURRENTLY measures;
DROP INDEX measures_v;
DROP TABLE measures;
