-- The tables a CLUSTER without a table clusters again: those with an index marked clustered
-- that the role named $1 may cluster (it owns them, or is a superuser; from PostgreSQL 17, it
-- has the MAINTAIN privilege on them). Run as the extension owner (its search path).
SELECT DISTINCT n.nspname::text, c.relname::text
FROM pg_catalog.pg_index i
JOIN pg_catalog.pg_class c ON c.oid = i.indrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE i.indisclustered
  AND CASE WHEN pg_catalog.current_setting('server_version_num')::int >= 170000
           THEN pg_catalog.has_table_privilege($1::pg_catalog.name, c.oid, 'MAINTAIN')
           ELSE pg_catalog.pg_has_role($1::pg_catalog.name, c.relowner, 'USAGE') END
ORDER BY 1, 2
