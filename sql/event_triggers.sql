-- The gate (ddl_command_start) and the recorder (ddl_command_end): C functions in Rust
-- that read the server's own parse tree and pg_event_trigger_ddl_commands().

CREATE FUNCTION fence.gate() RETURNS event_trigger
LANGUAGE c AS 'MODULE_PATHNAME', 'fence_gate';

CREATE FUNCTION fence.record() RETURNS event_trigger
LANGUAGE c AS 'MODULE_PATHNAME', 'fence_record';

CREATE EVENT TRIGGER fence_gate ON ddl_command_start EXECUTE FUNCTION fence.gate();
CREATE EVENT TRIGGER fence_record ON ddl_command_end EXECUTE FUNCTION fence.record();
