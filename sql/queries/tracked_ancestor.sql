-- The tracked partitioned table $1 is a partition of (at any depth), or NULL.
SELECT (SELECT t.relation
        FROM pg_catalog.pg_partition_ancestors($1::regclass) a(relid)
        JOIN fence.tracked_tables t ON t.relid = a.relid AND t.untracked_at IS NULL
        WHERE a.relid <> $1::regclass
        LIMIT 1)
