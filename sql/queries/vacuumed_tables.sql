-- The tables a VACUUM or ANALYZE without a table list processes when the role named $1 runs
-- it: tables and materialized views (system catalogs included, shared ones only for a
-- superuser) it may maintain — it owns them or the database, or is a superuser; from
-- PostgreSQL 17 it has the MAINTAIN privilege. Run as the extension owner (its search path).
SELECT n.nspname::text, c.relname::text
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'm') AND n.nspname !~ '^pg_toast'
  AND (NOT c.relisshared OR (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = $1))
  AND CASE WHEN pg_catalog.current_setting('server_version_num')::int >= 170000
           THEN pg_catalog.has_table_privilege($1::pg_catalog.name, c.oid, 'MAINTAIN')
           ELSE pg_catalog.pg_has_role($1::pg_catalog.name, c.relowner, 'USAGE')
                OR pg_catalog.pg_has_role($1::pg_catalog.name,
                       (SELECT d.datdba FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database()),
                       'USAGE') END
ORDER BY 1, 2
