-- The tables and views the view with the OID $1 reads, at every level (a query naming the
-- view is rewritten into one reading them: ACCESS SHARE on each). Run as the extension owner.
WITH RECURSIVE reads(relid) AS (
    SELECT $1::pg_catalog.oid
    UNION
    SELECT d.refobjid
    FROM reads x
    JOIN pg_catalog.pg_class v ON v.oid = x.relid AND v.relkind = 'v'
    JOIN pg_catalog.pg_rewrite w ON w.ev_class = v.oid AND w.rulename = '_RETURN'
    JOIN pg_catalog.pg_depend d
      ON d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass::pg_catalog.oid AND d.objid = w.oid
     AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass::pg_catalog.oid AND d.refobjid <> v.oid
)
SELECT n.nspname::text, c.relname::text
FROM reads x
JOIN pg_catalog.pg_class c ON c.oid = x.relid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE x.relid <> $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
ORDER BY 1, 2
