-- fence.analyze: lock modes exactly as PostgreSQL 15 takes them, rewrites, scans, risk.
SELECT stmt_no, command_tag, relation, lock_mode, rewrites, scans, risk,
       (SELECT string_agg(f->>'rule', ',' ORDER BY f->>'rule') FROM jsonb_array_elements(findings) f) AS rules
FROM fence.analyze($$
ALTER TABLE users ADD COLUMN a int;
ALTER TABLE users ADD COLUMN b int DEFAULT 0;
ALTER TABLE users ADD COLUMN c timestamptz DEFAULT now();
ALTER TABLE users ADD COLUMN d float8 DEFAULT random();
ALTER TABLE users ADD COLUMN e timestamptz DEFAULT clock_timestamp();
ALTER TABLE users ADD COLUMN f text NOT NULL;
ALTER TABLE users ADD COLUMN g bigserial;
ALTER TABLE users ALTER COLUMN email TYPE varchar(200);
ALTER TABLE users ALTER COLUMN email SET NOT NULL;
ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id);
ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;
ALTER TABLE orders ADD CONSTRAINT orders_total_check CHECK (total >= 0);
ALTER TABLE orders ADD CONSTRAINT orders_total_check CHECK (total >= 0) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT orders_total_check;
ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);
ALTER TABLE users ADD PRIMARY KEY USING INDEX users_email_idx;
CREATE INDEX orders_created_idx ON orders (created_at);
CREATE INDEX CONCURRENTLY orders_created_idx ON orders (created_at);
DROP INDEX users_pkey;
DROP INDEX CONCURRENTLY users_pkey;
DROP TABLE orders;
ALTER TABLE users DROP COLUMN nickname;
ALTER TABLE users RENAME COLUMN email TO email_address;
ALTER TABLE users RENAME TO customers;
CREATE TABLE audit_log (id int, user_id bigint REFERENCES users (id));
COMMENT ON TABLE users IS 'people';
CREATE FUNCTION one() RETURNS int LANGUAGE sql AS 'SELECT 1';
CREATE TRIGGER t AFTER UPDATE ON users FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger()
$$)
ORDER BY stmt_no;

-- Every relation a statement locks, the foreign key's referenced table included.
SELECT locks FROM fence.analyze('ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (user_id) REFERENCES users (id)');
SELECT locks FROM fence.analyze('DROP INDEX users_pkey');

-- A finding carries its message and safe rewrite.
SELECT f->>'rule' AS rule, f->>'risk' AS risk, f->>'message' AS message, f->>'safe_rewrite' AS safe_rewrite
FROM fence.analyze('ALTER TABLE users ALTER COLUMN email SET NOT NULL'), jsonb_array_elements(findings) f
WHERE f->>'rule' = 'set_not_null';

-- Tables created earlier in the script (or transaction) are harmless to lock.
SELECT stmt_no, command_tag, risk FROM fence.analyze($$
CREATE TABLE fresh (id int);
ALTER TABLE fresh ALTER COLUMN id SET NOT NULL;
CREATE INDEX ON fresh (id)
$$) ORDER BY stmt_no;
BEGIN;
CREATE TABLE fresh_in_tx (id int);
SELECT risk FROM fence.analyze('ALTER TABLE fresh_in_tx ALTER COLUMN id TYPE bigint');
ROLLBACK;

-- Content hashes: comments and whitespace do not matter, literals and identifiers do.
SELECT fence.content_hash('ALTER TABLE users ADD COLUMN x int; -- note') =
       fence.content_hash(E'alter   table users\n add column x int;') AS same_ignoring_comments;
SELECT fence.content_hash('ALTER TABLE users ADD COLUMN x int DEFAULT 1') =
       fence.content_hash('ALTER TABLE users ADD COLUMN x int DEFAULT 2') AS same_with_other_literal;
SELECT fence.content_hash('SELECT 1') ~ '^sha256:[0-9a-f]{64}$' AS well_formed;

-- Cross-check vectors shared with fence-core's tests (crates/fence-core/tests/vectors.json).
\set vectors `cat crates/fence-core/tests/vectors.json`
SELECT v->>'name' AS vector, fence.content_hash(v->>'sql') = v->>'content_hash' AS matches
FROM jsonb_array_elements(:'vectors'::jsonb) v ORDER BY 1;

-- Unparseable input: an error with the position in the analyzed text.
SELECT * FROM fence.analyze(E'ALTER TABLE users ADD COLUMN x int;\nALTER TABLEE users DROP COLUMN x');
SELECT fence.content_hash('SELECT ''unterminated');
-- Script structure, settings and data statements are recognized (not "unclassified").
SELECT stmt_no, command_tag, risk, findings FROM fence.analyze($$
BEGIN;
SET lock_timeout = '2s';
CREATE TABLE backfill_demo (id int);
INSERT INTO backfill_demo SELECT generate_series(1, 10);
UPDATE backfill_demo SET id = id + 1;
COMMIT;
$$);
-- Risk grows with the table's real size (planner estimates) and, for a large table's
-- ACCESS EXCLUSIVE lock, with lock_timeout unset (a SET in the script counts).
CREATE TABLE big_ledger (id bigint, note text);
UPDATE pg_class SET reltuples = 5e6, relpages = 40000 WHERE oid = 'big_ledger'::regclass;
SELECT stmt_no, risk, (SELECT string_agg(f ->> 'rule' || ':' || (f ->> 'risk'), ',') FROM jsonb_array_elements(findings) f) AS findings
FROM fence.analyze($$
ALTER TABLE big_ledger ALTER COLUMN note SET NOT NULL;
ALTER TABLE big_ledger ADD COLUMN memo text;
SET lock_timeout = '2s';
ALTER TABLE big_ledger ADD COLUMN memo2 text;
$$);
-- The function a vector drops with CASCADE, and one depending on it: the server sees the
-- CASCADE take something, as the offline analysis assumes (a CASCADE the catalog shows taking
-- nothing is harmless: compat/05_noop.sql).
CREATE FUNCTION vector_nothing(integer) RETURNS integer LANGUAGE sql IMMUTABLE RETURN $1;
CREATE FUNCTION vector_caller() RETURNS integer LANGUAGE sql BEGIN ATOMIC SELECT vector_nothing(1); END;
-- The analysis vectors shared with the CLI's tests: fence.analyze agrees with the offline
-- analysis on lock, risk and rules for each statement.
\set analysis_vectors `cat crates/fence-core/tests/analysis_vectors.json`
SELECT v ->> 'name' AS vector, count(*) AS statements, count(*) FILTER (WHERE NOT agree) AS disagreements
FROM jsonb_array_elements(:'analysis_vectors'::jsonb) v,
LATERAL (
    SELECT (e.value ->> 'lock_mode') IS NOT DISTINCT FROM a.lock_mode
           AND e.value ->> 'risk' = a.risk
           AND e.value ->> 'rules' = coalesce((SELECT string_agg(f ->> 'rule', ',' ORDER BY n)
                                              FROM jsonb_array_elements(a.findings) WITH ORDINALITY x(f, n)
                                              WHERE f ->> 'risk' <> 'none'), '') AS agree
    FROM fence.analyze(v ->> 'sql') a
    JOIN jsonb_array_elements(v -> 'statements') WITH ORDINALITY e(value, n) ON e.n = a.stmt_no
) s
GROUP BY 1 ORDER BY 1;
-- An empty table (known from its files, not from statistics): what costs time per row is
-- low; a table with rows but never analyzed (statistics of 0 pages) is not taken for empty.
CREATE TABLE empty_ledger (id int, note text);
SELECT stmt_no, risk, (SELECT string_agg(f ->> 'rule' || ':' || (f ->> 'risk'), ',') FROM jsonb_array_elements(findings) f) AS findings
FROM fence.analyze($$
CREATE INDEX ON empty_ledger (id);
ALTER TABLE empty_ledger ALTER COLUMN note SET NOT NULL;
DROP TABLE empty_ledger;
$$) ORDER BY stmt_no;
INSERT INTO empty_ledger VALUES (1, 'one');
SELECT relpages AS statistics_pages FROM pg_class WHERE relname = 'empty_ledger';
SELECT risk FROM fence.analyze('CREATE INDEX ON empty_ledger (id)');
-- An empty parent whose inheritance child has rows: ALTER TABLE recurses into the child.
CREATE TABLE empty_parent (id int);
CREATE TABLE full_child () INHERITS (empty_parent);
INSERT INTO full_child VALUES (1);
SELECT risk FROM fence.analyze('ALTER TABLE empty_parent ALTER COLUMN id TYPE bigint');
-- A migration's data step: with estimate => true, the planner's estimate of the rows it
-- writes (planned in a subtransaction that is rolled back: nothing is written, no lock
-- stays), a batched rewrite from 100,000 rows; code is classified too.
CREATE TABLE backfill_big (id int PRIMARY KEY, plan text);
INSERT INTO backfill_big SELECT g, NULL FROM generate_series(1, 150000) g;
ANALYZE backfill_big;
BEGIN;
SELECT stmt_no, command_tag, lock_mode, scans, risk,
       (SELECT string_agg(f ->> 'rule' || ':' || (f ->> 'risk'), ',') FROM jsonb_array_elements(findings) f) AS findings
FROM fence.analyze(estimate => true, sql => $$
UPDATE backfill_big SET plan = 'free' WHERE plan IS NULL;
UPDATE backfill_big SET plan = 'free' WHERE id < 1000;
DELETE FROM backfill_big WHERE id = 5;
INSERT INTO backfill_big SELECT id + 200000, plan FROM backfill_big;
EXPLAIN UPDATE backfill_big SET plan = 'free';
DO $do$ BEGIN PERFORM 1; END $do$;
$$) ORDER BY stmt_no;
SELECT count(*) AS write_locks_left FROM pg_locks
WHERE pid = pg_backend_pid() AND relation = 'backfill_big'::regclass AND mode <> 'AccessShareLock';
COMMIT;
-- Planning evaluates functions: a statement calling code that is not PostgreSQL's own is not
-- planned (no NOTICE from it below), and fence.approve never plans.
CREATE FUNCTION noisy_one() RETURNS int IMMUTABLE LANGUAGE plpgsql AS $f$ BEGIN RAISE NOTICE 'noisy_one ran'; RETURN 1; END $f$;
SELECT stmt_no, scans, risk FROM fence.analyze('UPDATE backfill_big SET plan = ''x'' WHERE id > noisy_one()', estimate => true);
SELECT stmt_no, risk FROM fence.analyze('WITH gone AS (DELETE FROM backfill_big RETURNING id) SELECT count(*) FROM gone', estimate => true);
-- Without estimate => true nothing is planned: a WHERE-less write of a table is the finding.
SELECT stmt_no, scans, risk FROM fence.analyze('UPDATE backfill_big SET plan = ''x''; UPDATE backfill_big SET plan = ''y'' WHERE plan IS NULL');
-- SECURITY LABEL: a relation's label locks it; a large object's names no relation.
SELECT command_tag, lock_mode FROM fence.analyze('SECURITY LABEL ON TABLE backfill_big IS ''x''; SECURITY LABEL ON LARGE OBJECT 1 IS ''x''') ORDER BY stmt_no;
