-- The tables a CLUSTER without a table clusters again: those with an index marked clustered
-- that the role named $1 may cluster (it owns them, or is a superuser). Run as the extension
-- owner (its search path).
SELECT DISTINCT n.nspname::text, c.relname::text
FROM pg_catalog.pg_index i
JOIN pg_catalog.pg_class c ON c.oid = i.indrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE i.indisclustered AND pg_catalog.pg_has_role($1::pg_catalog.name, c.relowner, 'USAGE')
ORDER BY 1, 2
