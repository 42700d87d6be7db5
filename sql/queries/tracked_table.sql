-- The live tracking of a table: its own, or that of the nearest tracked partitioned table it
-- is a partition of (pg_partition_ancestors lists nothing for a table outside a partition
-- tree, and the partition itself first otherwise).
SELECT t.id, t.exclude_columns
FROM (SELECT $1::regclass AS relid, 0::bigint AS depth
      UNION ALL
      SELECT a.relid, a.depth FROM pg_catalog.pg_partition_ancestors($1::regclass) WITH ORDINALITY a(relid, depth)) a
JOIN fence.tracked_tables t ON t.relid = a.relid AND t.untracked_at IS NULL
ORDER BY a.depth
LIMIT 1
