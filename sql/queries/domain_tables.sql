-- The tables and materialized views with a column of the domain with the OID $1 (resolved as
-- the caller by drop_roots.sql) or of a domain over it: what validating one of its
-- constraints locks and scans (PostgreSQL's get_rels_with_domain). Run as the extension owner
-- (its search path).
WITH RECURSIVE domains(oid) AS (
    SELECT t.oid FROM pg_catalog.pg_type t WHERE t.typtype = 'd' AND t.oid = $1
    UNION
    SELECT t.oid FROM pg_catalog.pg_type t JOIN domains d ON t.typbasetype = d.oid WHERE t.typtype = 'd'
)
SELECT DISTINCT n.nspname::text, c.relname::text
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE a.atttypid IN (SELECT oid FROM domains) AND a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'm')
ORDER BY 1, 2
