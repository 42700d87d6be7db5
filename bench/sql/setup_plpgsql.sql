-- The hand-built DDL audit many teams run: a transaction table and a DDL table filled by a
-- plpgsql event trigger from pg_event_trigger_ddl_commands() and current_query().
CREATE SCHEMA audit;
CREATE TABLE audit.transactions (
    txid bigint PRIMARY KEY,
    at timestamptz NOT NULL,
    session_user_name text NOT NULL,
    application_name text,
    client_addr inet,
    query text
);
CREATE TABLE audit.ddl (
    id bigserial PRIMARY KEY,
    txid bigint NOT NULL REFERENCES audit.transactions (txid),
    command_tag text,
    object_type text,
    schema_name text,
    object_identity text,
    at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE FUNCTION audit.log_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    INSERT INTO audit.transactions
    VALUES (txid_current(), now(), session_user, current_setting('application_name'), inet_client_addr(), current_query())
    ON CONFLICT (txid) DO NOTHING;
    FOR r IN SELECT * FROM pg_event_trigger_ddl_commands() LOOP
        INSERT INTO audit.ddl (txid, command_tag, object_type, schema_name, object_identity)
        VALUES (txid_current(), r.command_tag, r.object_type, r.schema_name, r.object_identity);
    END LOOP;
END
$$;
CREATE EVENT TRIGGER audit_ddl ON ddl_command_end EXECUTE FUNCTION audit.log_ddl();
