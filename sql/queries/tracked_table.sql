-- The live tracking of a table (its own, or that of the nearest tracked partitioned table it
-- is a partition of), as its fence row trigger names it: the tracking id, the excluded
-- columns, and whether the tracking records another OID than the table's (a restore from a
-- dump: see relink_tracked.sql).
SELECT l.id, l.exclude_columns, l.relid <> l.carrier AS stale
FROM fence.live_tracking($1::regclass) l
WHERE l.id IS NOT NULL
