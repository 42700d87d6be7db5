-- The tables, views, materialized views, foreign tables and sequences the roles named $1 own
-- in this database: what REASSIGN OWNED gives a new owner, each under ACCESS EXCLUSIVE
-- (tables first). Run as the extension owner.
SELECT n.nspname::text, c.relname::text
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_roles r ON r.oid = c.relowner
WHERE r.rolname = ANY ($1)
  AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
  AND n.nspname <> 'information_schema' AND n.nspname !~ '^pg_'
ORDER BY c.relkind = 'S', 1, 2
