-- The partitions of $1 at any depth (none for a table that is not partitioned).
SELECT p.relid::oid AS relid FROM pg_catalog.pg_partition_tree($1::regclass) p WHERE p.relid <> $1::regclass
