-- The gate (ddl_command_start) and the recorders (sql_drop, table_rewrite,
-- ddl_command_end): C functions in Rust that read the server's own parse tree and the
-- event-trigger information functions.

CREATE FUNCTION fence.gate() RETURNS event_trigger
LANGUAGE c AS 'MODULE_PATHNAME', 'fence_gate';

CREATE FUNCTION fence.record() RETURNS event_trigger
LANGUAGE c AS 'MODULE_PATHNAME', 'fence_record';

CREATE FUNCTION fence.record_dropped() RETURNS event_trigger
LANGUAGE c AS 'MODULE_PATHNAME', 'fence_dropped';

CREATE FUNCTION fence.record_rewrite() RETURNS event_trigger
LANGUAGE c AS 'MODULE_PATHNAME', 'fence_rewrite';

CREATE EVENT TRIGGER fence_gate ON ddl_command_start EXECUTE FUNCTION fence.gate();
CREATE EVENT TRIGGER fence_dropped ON sql_drop EXECUTE FUNCTION fence.record_dropped();
CREATE EVENT TRIGGER fence_rewrite ON table_rewrite EXECUTE FUNCTION fence.record_rewrite();
CREATE EVENT TRIGGER fence_record ON ddl_command_end EXECUTE FUNCTION fence.record();
