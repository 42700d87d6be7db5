-- What a statement drops beyond what it names (CASCADE), and names it does not find: the
-- statement runs as without fence (under warn here), never refused after the fact.
CREATE TABLE dc (a int, b int);
CREATE VIEW dc_v AS SELECT b FROM dc;
ALTER TABLE dc DROP COLUMN b CASCADE;
CREATE TABLE dc_pk (id int PRIMARY KEY, n text);
CREATE VIEW dc_grouped AS SELECT id, n FROM dc_pk GROUP BY id;
ALTER TABLE dc_pk DROP CONSTRAINT dc_pk_pkey CASCADE;
CREATE MATERIALIZED VIEW dc_mv AS SELECT a FROM dc;
ALTER TABLE dc DROP COLUMN a CASCADE;
BEGIN;
CREATE TABLE dc_new (a int, b int);
CREATE VIEW dc_new_v AS SELECT a, b FROM dc_new;
ALTER TABLE dc_new DROP COLUMN a CASCADE, DROP COLUMN b CASCADE;
COMMIT;
-- A missing unqualified name, and a relation of that name in a schema off the search path
-- dropped with the statement (by CASCADE, or named with its schema).
CREATE SCHEMA reporting;
CREATE TABLE orders (id int);
CREATE VIEW reporting.legacy_report AS SELECT * FROM orders;
DROP TABLE IF EXISTS legacy_report, orders CASCADE;
CREATE SCHEMA other_s;
CREATE TABLE other_s.t (id int);
DROP TABLE IF EXISTS t, other_s.t;
