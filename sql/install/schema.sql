-- fence: tables and roles. Loaded first (bootstrap).

-- A restore of a dump (pg_restore, psql < dump.sql, in one transaction or in parallel) runs
-- CREATE EXTENSION fence with row_security off (as pg_dump's scripts set it; sessions leave it
-- on), before it loads fence's tables.
-- With fence's event triggers on, the restore's own DDL would start a new chain and the
-- dumped chain could not be loaded on top of it: refuse, before anything is lost, and say how
-- to restore (event triggers off: the dumped chain is loaded as it was and verifies).
DO $restore$
BEGIN
    IF pg_catalog.current_setting('row_security') = 'off'
       AND pg_catalog.current_setting('session_replication_role') <> 'replica' THEN
        RAISE EXCEPTION 'fence: CREATE EXTENSION fence is running in a restore of a dump (row_security is off, as dump scripts set it): with fence on, the restore''s own DDL would start a new audit chain and the dumped chain could not be loaded'
            USING ERRCODE = '55000',
                  HINT = 'Restore with fence''s event triggers off, so the dumped chain is loaded as it was: PGOPTIONS=''-c session_replication_role=replica'' pg_restore -d newdb dump (or psql). Installing fence from a script that turns row_security off? SET row_security = on before CREATE EXTENSION fence.';
    END IF;
END
$restore$;

DO $roles$
DECLARE
    role_name text;
BEGIN
    FOREACH role_name IN ARRAY ARRAY['fence_admin', 'fence_approver', 'fence_auditor'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = role_name) THEN
            EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', role_name);
        END IF;
    END LOOP;
END
$roles$;

-- Every policy document ever set; the highest version is in force.
CREATE TABLE fence.policy_versions (
    version integer PRIMARY KEY,
    created_at timestamptz NOT NULL,
    created_by text NOT NULL,
    note text,
    document jsonb NOT NULL,
    document_hash text NOT NULL,
    -- A version received from the fleet's control database (see fleet.sql): its identity
    -- and its version number there.
    origin uuid,
    origin_version integer
);

-- Approvals (and rejections) of exact migration content.
CREATE TABLE fence.approvals (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    content_hash text NOT NULL CHECK (content_hash ~ '^sha256:[0-9a-f]{64}$'),
    statement_hashes text[] NOT NULL,
    content text NOT NULL,
    decision text NOT NULL CHECK (decision IN ('approve', 'reject')),
    approved_by text NOT NULL,
    approved_as text NOT NULL,
    note text,
    source text,
    repository text,
    pull_request text,
    commit_sha text,
    external_approver text,
    analysis jsonb NOT NULL,
    policy_version integer NOT NULL REFERENCES fence.policy_versions (version),
    created_at timestamptz NOT NULL,
    revoked_at timestamptz,
    revoked_by text,
    revoke_reason text,
    -- An approval received from the fleet's control database: its identity and the
    -- approval's id there (ids made here and there never mix: id is always this database's).
    origin uuid,
    origin_id bigint
);
CREATE INDEX approvals_content_hash_idx ON fence.approvals (content_hash);

-- Time-boxed exemptions granted by fence_admin. A relation exemption is bound to the table
-- (relid), not to its name; a content exemption covers the content's statements
-- (statement_hashes) only; with a finding, only statements for which that rule alone needs
-- an approval.
CREATE TABLE fence.exemptions (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    scope text NOT NULL CHECK (scope IN ('statement', 'relation', 'rule', 'content')),
    target text NOT NULL,
    reason text NOT NULL CHECK (pg_catalog.length(pg_catalog.btrim(reason)) > 0),
    finding text,
    relid oid,
    statement_hashes text[],
    created_by text NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL CHECK (expires_at > created_at),
    policy_version integer NOT NULL REFERENCES fence.policy_versions (version),
    revoked_at timestamptz,
    revoked_by text,
    revoke_reason text,
    -- The databases (names or fence.database_id() values) the exemption applies in; NULL: all.
    databases text[],
    -- An exemption received from the fleet's control database: its identity and the id there.
    origin uuid,
    origin_id bigint
);
CREATE INDEX exemptions_target_idx ON fence.exemptions (scope, target);

-- The hash chain: event_hash = sha256(prev_hash || canonical payload of the row).
CREATE TABLE fence.audit_chain (
    seq bigint PRIMARY KEY CHECK (seq > 0),
    recorded_at timestamptz NOT NULL,
    kind text NOT NULL,
    session_role text NOT NULL,
    executing_role text NOT NULL,
    txid bigint,
    command_tag text,
    relation text,
    statement text,
    statement_hash text,
    content_hash text,
    decision text,
    reason text,
    risk text,
    policy_version integer,
    policy_hash text,
    details jsonb NOT NULL,
    prev_hash text NOT NULL,
    event_hash text NOT NULL
);

-- Events waiting to be chained: denials written by fence's background worker in its own
-- transaction while the denied transaction aborts (the worker moves them into the chain at
-- once; a row stays here only if the chain was busy), and the events of a transaction that
-- committed while another held the chain (it parks them instead of waiting). The next
-- appender, or the sealer worker, chains them in id order. No head row and no shared keys:
-- a writer can never wait on the session it reports on.
CREATE TABLE fence.pending_denials (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event jsonb NOT NULL
);

-- For fence.stats: decisions by time window (index-only scans), the last denial, and
-- whether an approval's content has run.
CREATE INDEX audit_chain_recorded_at_idx ON fence.audit_chain (recorded_at) INCLUDE (kind, decision, risk);
CREATE INDEX audit_chain_denials_idx ON fence.audit_chain (seq) WHERE decision = 'deny';
CREATE INDEX audit_chain_content_hash_idx ON fence.audit_chain (content_hash) WHERE content_hash IS NOT NULL;

CREATE FUNCTION fence.forbid_change() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RAISE EXCEPTION '%.% is append-only: % is not allowed', TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_OP
        USING ERRCODE = '42501',
              HINT = 'Rows are added by fence only; auditors verify with SELECT * FROM fence.verify_chain().';
END
$$;

CREATE TRIGGER audit_chain_append_only BEFORE UPDATE OR DELETE ON fence.audit_chain
    FOR EACH ROW EXECUTE FUNCTION fence.forbid_change();
CREATE TRIGGER audit_chain_no_truncate BEFORE TRUNCATE ON fence.audit_chain
    FOR EACH STATEMENT EXECUTE FUNCTION fence.forbid_change();
