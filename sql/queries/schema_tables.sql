-- The tables and materialized views of the schema named $1, whose indexes REINDEX SCHEMA
-- rebuilds (one table at a time). Run as the extension owner (its search path).
SELECT n.nspname::text, c.relname::text
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relkind IN ('r', 'm') AND c.relhasindex
ORDER BY 2
