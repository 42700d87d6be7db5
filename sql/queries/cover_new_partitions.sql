-- ddl_command_end of a statement that created or attached a partition: the tracked table at or
-- above each table it created or altered gets a TRUNCATE trigger on every partition that has
-- none.
SELECT fence.install_truncate_triggers(l.carrier::regclass, l.id)
FROM pg_catalog.pg_event_trigger_ddl_commands() c
CROSS JOIN LATERAL fence.live_tracking(c.objid::regclass) l
WHERE c.object_type = 'table' AND l.id IS NOT NULL
