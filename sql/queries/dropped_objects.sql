-- sql_drop: every object the statement dropped (CASCADE included).
SELECT object_type, schema_name AS schema, object_identity AS identity
FROM pg_catalog.pg_event_trigger_dropped_objects()
