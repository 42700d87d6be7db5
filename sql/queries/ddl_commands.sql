-- ddl_command_end: every object the statement created or altered.
SELECT object_type, schema_name AS schema, object_identity AS identity, command_tag
FROM pg_catalog.pg_event_trigger_ddl_commands()
