-- ddl_command_start of ALTER TYPE ... RENAME VALUE ($1 the type) or DROP INDEX ($2 the
-- indexes): a tracked table whose stored values the rename would change with no row change
-- recorded (a column of the enum, or of a type over it), or whose only key the drop would
-- remove (its replica identity index, without a primary key).
WITH RECURSIVE types(oid) AS (
    SELECT $1::oid WHERE $1 IS NOT NULL
    UNION
    -- Arrays, domains, ranges, multiranges and composite types over a type that holds the enum.
    SELECT t.oid FROM pg_catalog.pg_type t, types s
    WHERE t.typelem = s.oid OR t.typbasetype = s.oid
       OR EXISTS (SELECT 1 FROM pg_catalog.pg_range r WHERE r.rngtypid = t.oid AND r.rngsubtype = s.oid)
       OR EXISTS (SELECT 1 FROM pg_catalog.pg_range r WHERE r.rngmultitypid = t.oid AND r.rngtypid = s.oid)
       OR (t.typrelid <> 0 AND EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
                                       WHERE a.attrelid = t.typrelid AND a.atttypid = s.oid AND NOT a.attisdropped))
)
SELECT tt.relation,
       pg_catalog.format('renaming a value of %s would change the values stored in its column %I with no row change recorded',
                         $1::pg_catalog.regtype, a.attname) AS why
FROM fence.tracked_relations() tt
JOIN pg_catalog.pg_attribute a ON a.attrelid = tt.relid AND a.attnum > 0 AND NOT a.attisdropped
JOIN types s ON s.oid = a.atttypid
UNION ALL
SELECT tt.relation,
       pg_catalog.format('dropping %s would leave it no primary key or replica identity index: every later write to it would fail',
                         x.indexrelid::pg_catalog.regclass)
FROM fence.tracked_relations() tt
JOIN pg_catalog.pg_index x ON x.indrelid = tt.relid AND x.indisreplident
WHERE x.indexrelid = ANY ($2::oid[])
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_index p WHERE p.indrelid = tt.relid AND p.indisprimary)
LIMIT 1
