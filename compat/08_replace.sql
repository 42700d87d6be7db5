-- nothing risky: also run under the enforce policy, where nothing may be refused.
-- CREATE OR REPLACE of a view that does not exist yet creates it (a migration tool's
-- idempotent views): fence must not take the view it finds at the end for one that appeared.
CREATE TABLE replaced_base (id int, total numeric);
CREATE OR REPLACE VIEW replaced_v AS SELECT id FROM replaced_base;
SELECT * FROM replaced_v;
BEGIN;
CREATE OR REPLACE VIEW replaced_v2 AS SELECT id, total FROM replaced_base;
CREATE OR REPLACE VIEW replaced_v2 AS SELECT id, total, 1 AS one FROM replaced_base;
CREATE OR REPLACE RECURSIVE VIEW replaced_r (n) AS SELECT 1 UNION ALL SELECT n + 1 FROM replaced_r WHERE n < 3;
COMMIT;
SELECT * FROM replaced_r;
CREATE OR REPLACE TEMP VIEW tmp_replaced AS SELECT 1 AS one;
CREATE OR REPLACE VIEW replaced_bad AS SELECT nope FROM replaced_base;
DO $$ BEGIN EXECUTE 'CREATE OR REPLACE VIEW replaced_do AS SELECT 2 AS two'; END $$;
SELECT * FROM replaced_do;
-- CREATE SCHEMA with elements: each element is decided (new objects only here: allowed).
CREATE SCHEMA shop_s
    CREATE TABLE items (id int PRIMARY KEY, name text)
    CREATE VIEW item_names AS SELECT name FROM items
    CREATE INDEX items_name ON items (name);
SELECT count(*) FROM shop_s.item_names;
