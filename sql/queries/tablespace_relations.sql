-- The relations of the kinds $2 (relkind letters) in the tablespace named $1 (the database's
-- default tablespace recorded as 0), owned by one of the roles named $3 when it has any: what
-- ALTER ... ALL IN TABLESPACE moves, each under ACCESS EXCLUSIVE (the system schemas are left
-- alone). Run as the extension owner (its search path).
SELECT n.nspname::text, c.relname::text
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.reltablespace = (SELECT CASE WHEN t.oid = d.dattablespace THEN 0 ELSE t.oid END
                         FROM pg_catalog.pg_tablespace t, pg_catalog.pg_database d
                         WHERE t.spcname = $1 AND d.datname = pg_catalog.current_database())
  AND c.relkind::text = ANY ($2)
  AND n.nspname <> 'information_schema' AND n.nspname !~ '^pg_'
  AND (pg_catalog.cardinality($3) = 0
       OR c.relowner IN (SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname = ANY ($3)))
ORDER BY 1, 2
