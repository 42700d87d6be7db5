-- The tables and materialized views with a column of domain $2 (in schema $1, or the first
-- visible one when $1 is NULL) or of a domain over it: what validating one of its
-- constraints locks and scans (PostgreSQL's get_rels_with_domain).
WITH RECURSIVE domains(oid) AS (
    SELECT t.oid FROM pg_catalog.pg_type t
    WHERE t.typtype = 'd' AND t.typname = $2
      AND CASE WHEN $1 IS NULL THEN pg_catalog.pg_type_is_visible(t.oid)
               ELSE t.typnamespace = (SELECT n.oid FROM pg_catalog.pg_namespace n WHERE n.nspname = $1) END
    UNION
    SELECT t.oid FROM pg_catalog.pg_type t JOIN domains d ON t.typbasetype = d.oid WHERE t.typtype = 'd'
)
SELECT DISTINCT n.nspname::text, c.relname::text
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE a.atttypid IN (SELECT oid FROM domains) AND a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'm')
ORDER BY 1, 2
