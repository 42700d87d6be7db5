-- ddl_command_end of a statement that created or attached a partition: the tracked tables at
-- or above each table it created or altered get a TRUNCATE trigger on every partition that
-- has none.
SELECT fence.install_truncate_triggers(t.relid::regclass)
FROM pg_catalog.pg_event_trigger_ddl_commands() c
CROSS JOIN LATERAL (SELECT c.objid::regclass AS relid
                    UNION SELECT a.relid FROM pg_catalog.pg_partition_ancestors(c.objid) a(relid)) a
JOIN fence.tracked_tables t ON t.relid = a.relid AND t.untracked_at IS NULL
WHERE c.object_type = 'table'
