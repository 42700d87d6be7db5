-- sql_drop: the relations the statement dropped, (schema, name) unquoted, with their type and
-- whether the statement named them (not reached through CASCADE).
SELECT schema_name, object_name, object_type, original
FROM pg_catalog.pg_event_trigger_dropped_objects()
WHERE object_type IN ('table', 'index', 'view', 'materialized view', 'sequence', 'foreign table')
