-- The tables whose foreign keys reference the table with the OID $1, and whether a delete
-- there writes to them (ON DELETE CASCADE / SET NULL / SET DEFAULT) rather than only checking
-- them (NO ACTION / RESTRICT: their rows are read FOR KEY SHARE). Run as the extension owner.
SELECT n.nspname::text, c.relname::text, pg_catalog.bool_or(k.confdeltype IN ('c', 'n', 'd')) AS writes
FROM pg_catalog.pg_constraint k
JOIN pg_catalog.pg_class c ON c.oid = k.conrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE k.contype = 'f' AND k.confrelid = $1 AND k.conrelid <> $1
GROUP BY 1, 2
ORDER BY 1, 2
