-- What dropping the schemas or extensions named $2, the types or relations with the OIDs $3
-- (of kind $1: 'schema', 'extension', 'type', 'relation'; resolved as the caller by
-- drop_roots.sql), what the roles named $2 own in this database ('owned': DROP OWNED), or the
-- objects at the catalog addresses ($4[i], $3[i]) ('object') takes with it, following
-- PostgreSQL's dependency rules: whatever depends on a dropped object normally,
-- automatically, internally or as an extension member goes too, and an object whose internal
-- part goes (a view's rule, a table's row type) goes whole. A column reached (of a dropped
-- type or domain) leaves its table altered, not dropped; so does a constraint, trigger,
-- default, index or policy reached. Then one row counting the named objects found. Run as the extension owner (its search path: the catalog's own operators).
WITH RECURSIVE roots(classid, objid) AS (
    SELECT 'pg_catalog.pg_namespace'::pg_catalog.regclass::pg_catalog.oid, n.oid
    FROM pg_catalog.pg_namespace n WHERE $1 = 'schema' AND n.nspname = ANY ($2)
    UNION ALL
    SELECT 'pg_catalog.pg_extension'::pg_catalog.regclass::pg_catalog.oid, e.oid
    FROM pg_catalog.pg_extension e WHERE $1 = 'extension' AND e.extname = ANY ($2)
    UNION ALL
    SELECT 'pg_catalog.pg_type'::pg_catalog.regclass::pg_catalog.oid, t
    FROM pg_catalog.unnest($3) t WHERE $1 = 'type'
    UNION ALL
    SELECT 'pg_catalog.pg_class'::pg_catalog.regclass::pg_catalog.oid, t
    FROM pg_catalog.unnest($3) t WHERE $1 = 'relation'
    UNION ALL
    SELECT x.classid, x.objid FROM ROWS FROM (pg_catalog.unnest($4::pg_catalog.oid[]), pg_catalog.unnest($3)) x(classid, objid) WHERE $1 = 'object'
    UNION ALL
    SELECT s.classid, s.objid FROM pg_catalog.pg_shdepend s
    JOIN pg_catalog.pg_roles r ON r.oid = s.refobjid
    WHERE $1 = 'owned' AND s.deptype = 'o' AND r.rolname = ANY ($2)
      AND s.refclassid = 'pg_catalog.pg_authid'::pg_catalog.regclass::pg_catalog.oid
      AND s.dbid = (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database())
),
reached(classid, objid, objsubid) AS (
    SELECT classid, objid, 0 FROM roots
    UNION
    SELECT x.classid, x.objid, x.objsubid
    FROM reached r
    CROSS JOIN LATERAL (
        SELECT d.classid, d.objid, d.objsubid FROM pg_catalog.pg_depend d
        WHERE d.refclassid = r.classid AND d.refobjid = r.objid
          AND (r.objsubid = 0 OR d.refobjsubid = r.objsubid) AND d.deptype IN ('n', 'a', 'e', 'x', 'i')
        UNION ALL
        SELECT d.refclassid, d.refobjid, 0 FROM pg_catalog.pg_depend d
        WHERE d.classid = r.classid AND d.objid = r.objid AND d.deptype = 'i'
    ) x
),
relations(relid, dropped) AS (
    SELECT r.objid, r.objsubid = 0 FROM reached r
    WHERE r.classid = 'pg_catalog.pg_class'::pg_catalog.regclass::pg_catalog.oid
    UNION ALL SELECT k.conrelid, false FROM reached r JOIN pg_catalog.pg_constraint k
        ON r.classid = 'pg_catalog.pg_constraint'::pg_catalog.regclass::pg_catalog.oid AND k.oid = r.objid
    UNION ALL SELECT t.tgrelid, false FROM reached r JOIN pg_catalog.pg_trigger t
        ON r.classid = 'pg_catalog.pg_trigger'::pg_catalog.regclass::pg_catalog.oid AND t.oid = r.objid
    UNION ALL SELECT a.adrelid, false FROM reached r JOIN pg_catalog.pg_attrdef a
        ON r.classid = 'pg_catalog.pg_attrdef'::pg_catalog.regclass::pg_catalog.oid AND a.oid = r.objid
    UNION ALL SELECT p.polrelid, false FROM reached r JOIN pg_catalog.pg_policy p
        ON r.classid = 'pg_catalog.pg_policy'::pg_catalog.regclass::pg_catalog.oid AND p.oid = r.objid
    UNION ALL SELECT w.ev_class, false FROM reached r JOIN pg_catalog.pg_rewrite w
        ON r.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass::pg_catalog.oid AND w.oid = r.objid
    -- DROP OWNED takes the roles out of the policies that name them (or drops a policy left
    -- with no role): ACCESS EXCLUSIVE on its table.
    UNION ALL SELECT p.polrelid, false FROM pg_catalog.pg_shdepend s
        JOIN pg_catalog.pg_roles o ON o.oid = s.refobjid
        JOIN pg_catalog.pg_policy p
          ON s.classid = 'pg_catalog.pg_policy'::pg_catalog.regclass::pg_catalog.oid AND p.oid = s.objid
        WHERE $1 = 'owned' AND s.deptype = 'r' AND o.rolname = ANY ($2)
          AND s.dbid = (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database())
    -- An index dropped (of an expression or operator class that goes): ACCESS EXCLUSIVE on
    -- its table.
    UNION ALL SELECT i.indrelid, false FROM reached r JOIN pg_catalog.pg_index i
        ON r.classid = 'pg_catalog.pg_class'::pg_catalog.regclass::pg_catalog.oid AND i.indexrelid = r.objid
)
SELECT n.nspname::text, c.relname::text, pg_catalog.bool_or(x.dropped) AS dropped, NULL::bigint AS found
FROM relations x
JOIN pg_catalog.pg_class c ON c.oid = x.relid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
GROUP BY 1, 2
UNION ALL
-- Last, a row without a relation: how many of the named objects exist (what DROP OWNED
-- takes, for it); none: the statement drops nothing (IF EXISTS skips what is missing).
SELECT NULL, NULL, NULL, (SELECT pg_catalog.count(*) FROM roots)
ORDER BY 1, 2
