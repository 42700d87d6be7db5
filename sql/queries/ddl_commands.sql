SELECT object_type, schema_name, object_identity, command_tag
FROM pg_catalog.pg_event_trigger_ddl_commands()
