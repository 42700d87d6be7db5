-- fence 0.3.0 -> 0.4.0: exemptions bound to what they name (a relation exemption to the
-- table's OID, a content exemption to the content's statements, a finding honoured), content
-- hashes read with the session's scanner settings (fence.content_hash is STABLE), and the
-- tracked tables the row-audit checks protect (fence.tracked_relations), and fence.analyze's
-- look at the lock queue (its lock_queue argument and column), and verify_chain's count of
-- the events parked while another transaction held the chain (events_parked), and the fleet
-- (a database identity; approvals, exemptions and policy from a control database; chains to an
-- evidence database: sql/install/fleet.sql).
\echo Use "ALTER EXTENSION fence UPDATE TO '0.4.0'" to load this file. \quit

ALTER TABLE fence.exemptions ADD COLUMN relid oid, ADD COLUMN statement_hashes text[];
-- A relation exemption granted under 0.3.0 is bound to the table its name resolves to now.
UPDATE fence.exemptions SET relid = pg_catalog.to_regclass(target)
WHERE scope = 'relation' AND revoked_at IS NULL;
-- A content exemption covers the statements an approval of that content recorded (none
-- recorded: it covers nothing, and says so at the next decision).
UPDATE fence.exemptions e
SET statement_hashes = (SELECT a.statement_hashes FROM fence.approvals a
                        WHERE a.content_hash = e.target ORDER BY a.id DESC LIMIT 1)
WHERE e.scope = 'content' AND e.revoked_at IS NULL;

ALTER FUNCTION fence.content_hash(text) STABLE;

-- Every live tracking with its table: the relation whose fence row trigger names it; else
-- (restored from a dump and not relinked yet, or its trigger replaced by the statement being
-- checked) the table of its recorded name — never an unrelated table that took over its old
-- OID. What the row-audit checks protect (sql/queries/row_audit_*.sql).
CREATE FUNCTION fence.tracked_relations(OUT id integer, OUT relation text, OUT relid oid)
RETURNS SETOF record
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT t.id, t.relation,
           CASE WHEN EXISTS (SELECT 1 FROM pg_trigger g
                             WHERE g.tgrelid = t.relid AND g.tgname = 'fence_row_changes'
                               AND fence.trigger_tracking(g.tgargs) = t.id)
                THEN t.relid ELSE to_regclass(t.relation)::oid END
    FROM fence.tracked_tables t
    WHERE t.untracked_at IS NULL
$$;
REVOKE EXECUTE ON FUNCTION fence.tracked_relations() FROM PUBLIC;
COMMENT ON FUNCTION fence.tracked_relations IS 'Internal: each live tracking with its table (by its trigger, else its recorded name), as the row-audit checks protect it';

-- A trigger argument that is not a tracking id (a trigger that replaced fence's, with no
-- argument) reads as no tracking, on PostgreSQL 18 too: there the cast in the subquery's
-- target list ran before its WHERE filtered the argument out; CASE keeps the order.
CREATE OR REPLACE FUNCTION fence.trigger_tracking(tgargs bytea) RETURNS integer
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN CASE WHEN split_part(encode(tgargs, 'escape'), '\000', 1) ~ '^[0-9]{1,9}$'
            THEN split_part(encode(tgargs, 'escape'), '\000', 1)::integer END;

-- fence.analyze(sql, lock_queue => true): the sessions each statement would queue behind now;
-- estimate => true: the planner's estimate of the rows each data step writes.
-- Who may run it stays as it was (an administrator may have revoked it from PUBLIC).
SELECT pg_catalog.set_config('fence_upgrade.analyze_acl', coalesce(p.proacl::text, ''), true)
FROM pg_catalog.pg_proc p WHERE p.oid = 'fence."analyze"(text)'::pg_catalog.regprocedure;
DROP FUNCTION fence."analyze"(text);
CREATE FUNCTION fence."analyze"(
	"sql" TEXT,
	"lock_queue" bool DEFAULT false,
	"estimate" bool DEFAULT false
) RETURNS TABLE (
	"stmt_no" INT,
	"statement" TEXT,
	"command_tag" TEXT,
	"relation" TEXT,
	"lock_mode" TEXT,
	"rewrites" bool,
	"scans" bool,
	"risk" TEXT,
	"locks" jsonb,
	"findings" jsonb,
	"statement_hash" TEXT,
	"queued_behind" jsonb
)
STRICT
LANGUAGE c
AS 'MODULE_PATHNAME', 'analyze_wrapper';
-- As a fresh install grants it: the owner's privilege first, then everyone's; then as 0.3.0
-- had it, when its privileges had been changed.
REVOKE EXECUTE ON FUNCTION fence.analyze FROM PUBLIC;
GRANT EXECUTE ON FUNCTION fence.analyze TO PUBLIC;
DO $upgrade$
DECLARE
    saved text := pg_catalog.current_setting('fence_upgrade.analyze_acl', true);
    grantee text;
BEGIN
    IF saved IS NULL OR saved = '' THEN
        RETURN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.aclexplode(saved::pg_catalog.aclitem[]) a
                   WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE') THEN
        REVOKE EXECUTE ON FUNCTION fence.analyze FROM PUBLIC;
    END IF;
    FOR grantee IN
        SELECT a.grantee::pg_catalog.regrole::text FROM pg_catalog.aclexplode(saved::pg_catalog.aclitem[]) a
        WHERE a.grantee <> 0 AND a.privilege_type = 'EXECUTE' AND a.grantee <> a.grantor
    LOOP
        EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION fence.analyze TO %s', grantee);
    END LOOP;
END
$upgrade$;
COMMENT ON FUNCTION fence.analyze IS
    'One row per statement of the SQL: locks (pg_locks names), rewrite, scan, risk and findings with safe rewrites, judged against this database''s catalog; with lock_queue => true, queued_behind: the sessions each statement would queue behind now; with estimate => true, the planner''s row estimate of each data step';

-- fence.verify_chain() also says how many events wait parked to be chained (events_parked):
-- a transaction that commits while another holds the chain parks its events instead of
-- waiting (chained by the next appender or the sealer). Who may run it stays as it was.
SELECT pg_catalog.set_config('fence_upgrade.verify_acl', coalesce(p.proacl::text, ''), true)
FROM pg_catalog.pg_proc p WHERE p.oid = 'fence.verify_chain()'::pg_catalog.regprocedure;
SELECT pg_catalog.set_config('fence_upgrade.verify_anchor_acl', coalesce(p.proacl::text, ''), true)
FROM pg_catalog.pg_proc p WHERE p.oid = 'fence.verify_chain(bigint, text)'::pg_catalog.regprocedure;
DROP FUNCTION fence.verify_chain();
DROP FUNCTION fence.verify_chain(bigint, text);
CREATE FUNCTION fence."verify_chain"() RETURNS TABLE (
	"ok" bool,
	"checked" bigint,
	"first_bad_seq" bigint,
	"reason" TEXT,
	"head_hash" TEXT,
	"changes_checked" bigint,
	"changes_unsealed" bigint,
	"events_parked" bigint
)
STRICT
LANGUAGE c
AS 'MODULE_PATHNAME', 'verify_chain_wrapper';
CREATE FUNCTION fence."verify_chain"(
	"anchor_seq" bigint,
	"anchor_hash" TEXT
) RETURNS TABLE (
	"ok" bool,
	"checked" bigint,
	"first_bad_seq" bigint,
	"reason" TEXT,
	"head_hash" TEXT,
	"changes_checked" bigint,
	"changes_unsealed" bigint,
	"events_parked" bigint
)
STRICT
LANGUAGE c
AS 'MODULE_PATHNAME', 'verify_chain_against_wrapper';
-- As a fresh install grants them; to whoever else 0.3.0 let run them at the end.
REVOKE EXECUTE ON FUNCTION fence.verify_chain(), fence.verify_chain(bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION fence.verify_chain(), fence.verify_chain(bigint, text) TO fence_auditor, fence_admin;
COMMENT ON FUNCTION fence.verify_chain() IS
    'fence_auditor: recompute every hash of the audit chain; ok, events checked, first bad seq and why, head hash, row changes checked and not yet sealed, events parked and not yet chained';
COMMENT ON FUNCTION fence.verify_chain(bigint, text) IS
    'fence_auditor: verify_chain() plus: the chain still reaches this anchor (from fence.anchor()) with the same hash';
COMMENT ON TABLE fence.pending_denials IS 'Events waiting to be chained: denials committed by the denial writer, and the events of transactions that committed while another held the chain (chained by the next appender or the sealer; normally empty)';
COMMENT ON FUNCTION fence.seal_changes IS 'fence_auditor: chain the parked events and seal the changes of finished transactions into the chain now; returns how many changes';

-- The fleet: where a grant came from (a control database), which databases an exemption
-- applies in; then sql/install/fleet.sql as a fresh install runs it.
ALTER TABLE fence.policy_versions ADD COLUMN origin uuid, ADD COLUMN origin_version integer;
ALTER TABLE fence.approvals ADD COLUMN origin uuid, ADD COLUMN origin_id bigint;
ALTER TABLE fence.exemptions ADD COLUMN databases text[], ADD COLUMN origin uuid, ADD COLUMN origin_id bigint;

-- This database's identity, made at CREATE EXTENSION. A restore of a dump keeps the dumped
-- one: the oldest row is the identity (CREATE EXTENSION in the restore adds a newer row, then
-- the dumped row is loaded).
CREATE TABLE fence.identity (
    database_id uuid NOT NULL PRIMARY KEY,
    created_at timestamptz NOT NULL
);
INSERT INTO fence.identity VALUES (pg_catalog.gen_random_uuid(), pg_catalog.clock_timestamp());

CREATE FUNCTION fence.database_id() RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
RETURN (SELECT database_id FROM fence.identity ORDER BY created_at, database_id LIMIT 1);

-- What this database is in the fleet (none, or several of: control, target, publisher,
-- evidence), since when.
CREATE TABLE fence.fleet_roles (
    role text PRIMARY KEY CHECK (role IN ('control', 'target', 'publisher', 'evidence')),
    since timestamptz NOT NULL
);

-- The control database's grants as they travel (origin = the control's database_id, id and
-- version = theirs there). Written on the control by fleet_share, on a target only by the
-- subscription's apply worker.
CREATE TABLE fence.fleet_policies (
    origin uuid NOT NULL,
    version integer NOT NULL,
    created_at timestamptz NOT NULL,
    created_by text NOT NULL,
    note text,
    document jsonb NOT NULL,
    document_hash text NOT NULL,
    PRIMARY KEY (origin, version)
);

CREATE TABLE fence.fleet_approvals (
    origin uuid NOT NULL,
    id bigint NOT NULL,
    content_hash text NOT NULL,
    statement_hashes text[] NOT NULL,
    content text NOT NULL,
    decision text NOT NULL,
    approved_by text NOT NULL,
    approved_as text NOT NULL,
    note text,
    source text,
    repository text,
    pull_request text,
    commit_sha text,
    external_approver text,
    analysis jsonb NOT NULL,
    policy_version integer NOT NULL,
    created_at timestamptz NOT NULL,
    revoked_at timestamptz,
    revoked_by text,
    revoke_reason text,
    PRIMARY KEY (origin, id)
);

CREATE TABLE fence.fleet_exemptions (
    origin uuid NOT NULL,
    id bigint NOT NULL,
    scope text NOT NULL,
    target text NOT NULL,
    reason text NOT NULL,
    finding text,
    statement_hashes text[],
    databases text[],
    created_by text NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    policy_version integer NOT NULL,
    revoked_at timestamptz,
    revoked_by text,
    revoke_reason text,
    PRIMARY KEY (origin, id)
);

-- Chains as they travel to the evidence database: a publishing target's own events (copied
-- by fleet_evidence), and on the evidence database every collected target's. Inserts only:
-- a later UPDATE or DELETE on the target is never copied over the central record.
CREATE TABLE fence.fleet_chain (
    database_id uuid NOT NULL,
    LIKE fence.audit_chain,
    PRIMARY KEY (database_id, seq)
);

-- Row changes as they travel with their seals: a publishing target's own (each block copied
-- when its seal is chained), and on the evidence database every collected target's. Inserts
-- only: the target's retention does not reach the central copy.
CREATE TABLE fence.fleet_row_changes (
    database_id uuid NOT NULL,
    LIKE fence.row_changes_export,
    PRIMARY KEY (database_id, txid, ordinal)
);

-- The databases whose chains travel: one row per publishing target, as it published.
CREATE TABLE fence.fleet_databases (
    database_id uuid PRIMARY KEY,
    database_name text NOT NULL,
    system_identifier text NOT NULL,
    published_at timestamptz NOT NULL
);

-- On the evidence database: the database whose evidence each subscription carries, bound by
-- fence.collect_evidence() when it subscribes (it asks the target who it is: its
-- fence.database_id(), its name, its server's system identifier). A subscription carries one
-- database's evidence, a database is carried by one subscription: a row naming another
-- database stops that subscription (its apply worker fails, and retries, until the row goes),
-- nothing of the other database's central record is touched.
CREATE TABLE fence.fleet_sources (
    subscription oid PRIMARY KEY,
    database_id uuid NOT NULL UNIQUE,
    database_name text NOT NULL,
    system_identifier text NOT NULL,
    bound_at timestamptz NOT NULL
);

-- An event written again with another hash (its database cut or rewrote its chain from there
-- and goes on): found by a publishing target's copy (and published), or by the evidence
-- database when it arrives. The first stays in fleet_chain; fence.verify_fleet() names the
-- first such seq.
CREATE TABLE fence.fleet_conflicts (
    database_id uuid NOT NULL,
    seq bigint NOT NULL,
    event jsonb NOT NULL,
    received_at timestamptz NOT NULL
);
CREATE INDEX fleet_conflicts_database_idx ON fence.fleet_conflicts (database_id, seq);

CREATE FUNCTION fence.fleet_check_source() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    source oid;
    bound fence.fleet_sources;
    first_hash text;
BEGIN
    -- Written here (a publishing target's own copy, also when an arrival is chained in the
    -- apply worker: a nested trigger), not applied by a subscription.
    IF current_setting('session_replication_role') <> 'replica' OR pg_trigger_depth() > 1 THEN
        RETURN NEW;
    END IF;
    source := (SELECT subid FROM pg_stat_subscription WHERE pid = pg_backend_pid() LIMIT 1);
    IF source IS NULL THEN
        RETURN NEW;
    END IF;
    SELECT * INTO bound FROM fence.fleet_sources WHERE subscription = source;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'fence: subscription % carries evidence fence.collect_evidence() did not bind to a database',
            (SELECT subname FROM pg_subscription WHERE oid = source)
            USING ERRCODE = '42501',
                  HINT = 'Collect a target''s evidence with fence.collect_evidence(conninfo), not with CREATE SUBSCRIPTION.';
    END IF;
    IF bound.database_id <> NEW.database_id THEN
        RAISE EXCEPTION 'fence: subscription % carries the evidence of database % (%): a row of database % was refused',
            (SELECT subname FROM pg_subscription WHERE oid = source), bound.database_id, bound.database_name, NEW.database_id
            USING ERRCODE = '42501',
                  HINT = 'A target publishes only its own chain. Look at that target: its fence.fleet_chain holds rows it did not write.';
    END IF;
    IF TG_TABLE_NAME = 'fleet_conflicts' THEN
        RETURN NEW;
    END IF;
    IF TG_TABLE_NAME = 'fleet_row_changes' THEN
        RETURN CASE WHEN EXISTS (SELECT 1 FROM fence.fleet_row_changes
                                 WHERE database_id = NEW.database_id AND txid = NEW.txid AND ordinal = NEW.ordinal)
                    THEN NULL ELSE NEW END;
    END IF;
    IF TG_TABLE_NAME = 'fleet_databases' THEN
        RETURN CASE WHEN EXISTS (SELECT 1 FROM fence.fleet_databases WHERE database_id = NEW.database_id) THEN NULL ELSE NEW END;
    END IF;
    SELECT event_hash INTO first_hash FROM fence.fleet_chain WHERE database_id = NEW.database_id AND seq = NEW.seq;
    IF NOT FOUND THEN
        RETURN NEW;
    END IF;
    IF first_hash <> NEW.event_hash THEN
        INSERT INTO fence.fleet_conflicts (database_id, seq, event, received_at)
        VALUES (NEW.database_id, NEW.seq, to_jsonb(NEW), clock_timestamp());
    END IF;
    RETURN NULL;
END
$$;
-- Each evidence table: rows a subscription applies are checked against its binding, and it is
-- append-only, also against a publisher that starts publishing updates, deletes or truncates
-- (its apply worker fails on them, the central record stays). ENABLE ALWAYS: the apply worker
-- runs with session_replication_role = replica.
DO $evidence$
DECLARE
    evidence text;
BEGIN
    FOREACH evidence IN ARRAY ARRAY['fleet_chain', 'fleet_databases', 'fleet_conflicts', 'fleet_row_changes'] LOOP
        EXECUTE format('CREATE TRIGGER fleet_source BEFORE INSERT ON fence.%I FOR EACH ROW '
                       'EXECUTE FUNCTION fence.fleet_check_source()', evidence);
        EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE OR DELETE ON fence.%I FOR EACH ROW '
                       'EXECUTE FUNCTION fence.forbid_change()', evidence || '_append_only', evidence);
        EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON fence.%I FOR EACH STATEMENT '
                       'EXECUTE FUNCTION fence.forbid_change()', evidence || '_no_truncate', evidence);
        EXECUTE format('ALTER TABLE fence.%I ENABLE ALWAYS TRIGGER fleet_source', evidence);
        EXECUTE format('ALTER TABLE fence.%I ENABLE ALWAYS TRIGGER %I', evidence, evidence || '_append_only');
        EXECUTE format('ALTER TABLE fence.%I ENABLE ALWAYS TRIGGER %I', evidence, evidence || '_no_truncate');
    END LOOP;
END
$evidence$;

-- fence's own tables are never written by a subscription's worker directly (a subscription
-- refreshed against a publication that lists them): only by fence (fence.fleet_arrived, the
-- chain's append at commit), whatever process it runs in. Only in replica mode (apply workers
-- and restores) is the question asked. Not on fence.audit_chain: a row trigger there costs
-- every chain append about 5 µs (measured), and a row forged into the chain that way needs the
-- target's superuser (to refresh the subscription), who can write the chain anyway.
CREATE FUNCTION fence.forbid_replicated() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF fence.replicated_write() THEN
        RAISE EXCEPTION 'fence: %.% is not written by logical replication (% refused)', TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_OP
            USING ERRCODE = '42501',
                  HINT = 'A subscription of this database lists fence''s own tables: SELECT * FROM fence.fleet_status(); subscribe with fence.join_fleet() / fence.collect_evidence() and never REFRESH PUBLICATION against a publication fence did not make.';
    END IF;
    RETURN CASE TG_OP WHEN 'DELETE' THEN OLD WHEN 'TRUNCATE' THEN NULL ELSE NEW END;
END
$$;
DO $guards$
DECLARE
    guarded text;
BEGIN
    FOREACH guarded IN ARRAY ARRAY['approvals', 'exemptions', 'policy_versions', 'pending_denials', 'tracked_tables',
                                   'identity', 'fleet_roles', 'fleet_sources'] LOOP
        EXECUTE format('CREATE TRIGGER replication_guard BEFORE INSERT OR UPDATE OR DELETE ON fence.%I FOR EACH ROW '
                       'WHEN (pg_catalog.current_setting(''session_replication_role'') = ''replica'') '
                       'EXECUTE FUNCTION fence.forbid_replicated()', guarded);
        EXECUTE format('CREATE TRIGGER replication_guard_truncate BEFORE TRUNCATE ON fence.%I FOR EACH STATEMENT '
                       'WHEN (pg_catalog.current_setting(''session_replication_role'') = ''replica'') '
                       'EXECUTE FUNCTION fence.forbid_replicated()', guarded);
        EXECUTE format('ALTER TABLE fence.%I ENABLE ALWAYS TRIGGER replication_guard', guarded);
        EXECUTE format('ALTER TABLE fence.%I ENABLE ALWAYS TRIGGER replication_guard_truncate', guarded);
    END LOOP;
END
$guards$;

CREATE UNIQUE INDEX approvals_origin_idx ON fence.approvals (origin, origin_id) WHERE origin IS NOT NULL;
CREATE UNIQUE INDEX exemptions_origin_idx ON fence.exemptions (origin, origin_id) WHERE origin IS NOT NULL;
CREATE UNIQUE INDEX policy_versions_origin_idx ON fence.policy_versions (origin, origin_version) WHERE origin IS NOT NULL;

-- On the control database: every approval, exemption and policy version made here (and each
-- revocation) also goes into the fleet_* table its targets receive. Elsewhere: nothing.
CREATE FUNCTION fence.fleet_share() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    travelling jsonb;
BEGIN
    IF NEW.origin IS NOT NULL OR NOT EXISTS (SELECT 1 FROM fence.fleet_roles WHERE role = 'control') THEN
        RETURN NULL;
    END IF;
    travelling := to_jsonb(NEW) || jsonb_build_object('origin', fence.database_id());
    IF TG_TABLE_NAME = 'approvals' THEN
        INSERT INTO fence.fleet_approvals SELECT * FROM jsonb_populate_record(NULL::fence.fleet_approvals, travelling)
        ON CONFLICT (origin, id) DO UPDATE
        SET revoked_at = EXCLUDED.revoked_at, revoked_by = EXCLUDED.revoked_by, revoke_reason = EXCLUDED.revoke_reason;
    ELSIF TG_TABLE_NAME = 'exemptions' THEN
        INSERT INTO fence.fleet_exemptions SELECT * FROM jsonb_populate_record(NULL::fence.fleet_exemptions, travelling)
        ON CONFLICT (origin, id) DO UPDATE
        SET revoked_at = EXCLUDED.revoked_at, revoked_by = EXCLUDED.revoked_by, revoke_reason = EXCLUDED.revoke_reason;
    ELSE
        INSERT INTO fence.fleet_policies SELECT * FROM jsonb_populate_record(NULL::fence.fleet_policies, travelling)
        ON CONFLICT (origin, version) DO NOTHING;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER fleet_share AFTER INSERT OR UPDATE ON fence.approvals
    FOR EACH ROW EXECUTE FUNCTION fence.fleet_share();
CREATE TRIGGER fleet_share AFTER INSERT OR UPDATE ON fence.exemptions
    FOR EACH ROW EXECUTE FUNCTION fence.fleet_share();
CREATE TRIGGER fleet_share AFTER INSERT ON fence.policy_versions
    FOR EACH ROW EXECUTE FUNCTION fence.fleet_share();

-- On a target: what the fence_fleet subscription's workers write into a fleet_* table becomes
-- this database's own grant (fence.fleet_arrived), recorded in its chain. Only that
-- subscription's rows (not another subscription's, not a restore's, which loads both tables as
-- they were dumped).
CREATE FUNCTION fence.fleet_receive() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NEW.origin IS DISTINCT FROM fence.database_id()
       AND (SELECT subid FROM pg_stat_subscription WHERE pid = pg_backend_pid() LIMIT 1)
           = (SELECT oid FROM pg_subscription
              WHERE subname = 'fence_fleet' AND subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())) THEN
        PERFORM fence.fleet_arrived(TG_TABLE_NAME, to_jsonb(NEW));
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER fleet_receive AFTER INSERT OR UPDATE ON fence.fleet_policies
    FOR EACH ROW EXECUTE FUNCTION fence.fleet_receive();
CREATE TRIGGER fleet_receive AFTER INSERT OR UPDATE ON fence.fleet_approvals
    FOR EACH ROW EXECUTE FUNCTION fence.fleet_receive();
CREATE TRIGGER fleet_receive AFTER INSERT OR UPDATE ON fence.fleet_exemptions
    FOR EACH ROW EXECUTE FUNCTION fence.fleet_receive();
-- The apply worker runs with session_replication_role = replica.
ALTER TABLE fence.fleet_policies ENABLE ALWAYS TRIGGER fleet_receive;
ALTER TABLE fence.fleet_approvals ENABLE ALWAYS TRIGGER fleet_receive;
ALTER TABLE fence.fleet_exemptions ENABLE ALWAYS TRIGGER fleet_receive;

-- On a publishing target: each append to the chain is copied to fleet_chain, in the same
-- transaction. Off until fence.publish_evidence() (and after a restore: publish again). A seq
-- copied already (the chain's tail was cut here and is being written again) is not copied
-- again: the evidence database keeps the first, and the new one travels as a conflict.
CREATE FUNCTION fence.fleet_copy_evidence() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    INSERT INTO fence.fleet_conflicts (database_id, seq, event, received_at)
    SELECT f.database_id, a.seq, to_jsonb(a), clock_timestamp()
    FROM appended a JOIN fence.fleet_chain f ON f.database_id = fence.database_id() AND f.seq = a.seq
    WHERE f.event_hash <> a.event_hash;
    INSERT INTO fence.fleet_chain SELECT fence.database_id(), a.* FROM appended a
    ON CONFLICT (database_id, seq) DO NOTHING;
    -- A block of row changes sealed: its changes travel with it.
    INSERT INTO fence.fleet_row_changes
    SELECT fence.database_id(), e.*
    FROM appended a
    JOIN fence.row_changes_export e
      ON e.txid >= (a.details -> 'block' ->> 'xid_from')::bigint AND e.txid < (a.details -> 'block' ->> 'xid_to')::bigint
    WHERE a.kind = 'row_seal'
    ON CONFLICT (database_id, txid, ordinal) DO NOTHING;
    RETURN NULL;
END
$$;
CREATE TRIGGER fleet_evidence AFTER INSERT ON fence.audit_chain REFERENCING NEW TABLE AS appended
    FOR EACH STATEMENT EXECUTE FUNCTION fence.fleet_copy_evidence();
ALTER TABLE fence.audit_chain DISABLE TRIGGER fleet_evidence;

-- The fleet as this database sees it: one row per role it has, per subscription or slot.
CREATE FUNCTION fence.fleet_status(
    OUT role text, OUT name text, OUT active boolean, OUT lag_bytes numeric,
    OUT last_contact timestamptz, OUT policy_version_received integer, OUT detail text)
RETURNS SETOF record
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT 'database', fence.database_id()::text, true, NULL::numeric, NULL::timestamptz,
           (SELECT max(origin_version) FROM fence.policy_versions WHERE origin IS NOT NULL),
           coalesce((SELECT string_agg(r.role, ',' ORDER BY r.role) FROM fence.fleet_roles r), 'standalone')
    UNION ALL
    -- Subscriptions: a target's to the control, the evidence database's to each target.
    SELECT CASE WHEN s.subname = 'fence_fleet' THEN 'target' ELSE 'evidence' END, s.subname::text,
           s.subenabled AND st.pid IS NOT NULL AND r.waiting = 0,
           NULL, st.last_msg_receipt_time,
           CASE WHEN s.subname = 'fence_fleet'
                THEN (SELECT max(version) FROM fence.fleet_policies) END,
           CASE WHEN NOT s.subenabled THEN 'disabled'
                WHEN st.pid IS NULL THEN 'not connected (the worker retries; see the server log)'
                WHEN r.waiting > 0 THEN r.waiting || ' table(s) not synchronized yet (a failing initial copy: see the server log)'
                ELSE 'receiving, up to ' || coalesce(st.latest_end_lsn::text, 'nothing yet') END
           || coalesce('; errors since ' || coalesce(e.stats_reset::text, 'the start') || ': ' || e.apply_error_count
                       || ' applying, ' || e.sync_error_count || ' copying', '')
    FROM pg_subscription s
    LEFT JOIN pg_stat_subscription st ON st.subid = s.oid AND st.relid IS NULL
    LEFT JOIN pg_stat_subscription_stats e ON e.subid = s.oid AND e.apply_error_count + e.sync_error_count > 0
    CROSS JOIN LATERAL (SELECT count(*) FILTER (WHERE srsubstate <> 'r') AS waiting
                        FROM pg_subscription_rel WHERE srsubid = s.oid) r
    WHERE s.subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())
      AND (s.subname = 'fence_fleet' OR s.subname LIKE 'fence\_evidence\_%')
    UNION ALL
    -- Slots: the control's for each target, a publishing target's for the evidence database.
    SELECT CASE WHEN l.slot_name LIKE 'fence\_fleet\_%' THEN 'control' ELSE 'publisher' END, l.slot_name::text,
           l.active,
           CASE WHEN NOT pg_is_in_recovery() THEN pg_wal_lsn_diff(pg_current_wal_lsn(), l.confirmed_flush_lsn) END,
           NULL, NULL,
           CASE WHEN l.active THEN 'subscriber connected' ELSE 'subscriber away: WAL is kept for it' END
    FROM pg_replication_slots l
    WHERE l.database = current_database()
      AND (l.slot_name LIKE 'fence\_fleet\_%' OR l.slot_name LIKE 'fence\_evidence\_%')
$$;

REVOKE EXECUTE ON FUNCTION fence.fleet_share(), fence.fleet_receive(), fence.fleet_copy_evidence(), fence.fleet_check_source(),
    fence.forbid_replicated() FROM PUBLIC;

-- The fleet's set-up statements, their names and connection strings quoted (run by fence's
-- set-up functions, as a superuser): a publication of the grants (control) or of the chain
-- (publishing target, inserts only), the copy of the chain into fleet_chain, and a
-- subscription to a slot the set-up function creates itself (CREATE SUBSCRIPTION creates one
-- only outside a transaction block).
CREATE FUNCTION fence.fleet_ddl(step text, name text, conninfo text, slot text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    CASE step
    -- A publication that exists (restored from a dump without its tables, or altered) is set
    -- back to what fence publishes.
    WHEN 'publish_grants' THEN
        IF EXISTS (SELECT 1 FROM pg_publication WHERE pubname = 'fence_fleet') THEN
            ALTER PUBLICATION fence_fleet SET TABLE fence.fleet_policies, fence.fleet_approvals, fence.fleet_exemptions;
            ALTER PUBLICATION fence_fleet SET (publish = 'insert, update');
        ELSE
            CREATE PUBLICATION fence_fleet FOR TABLE fence.fleet_policies, fence.fleet_approvals, fence.fleet_exemptions
                WITH (publish = 'insert, update');
        END IF;
    WHEN 'publish_evidence' THEN
        IF EXISTS (SELECT 1 FROM pg_publication WHERE pubname = 'fence_evidence') THEN
            ALTER PUBLICATION fence_evidence
                SET TABLE fence.fleet_chain, fence.fleet_databases, fence.fleet_conflicts, fence.fleet_row_changes;
            ALTER PUBLICATION fence_evidence SET (publish = 'insert');
        ELSE
            CREATE PUBLICATION fence_evidence
                FOR TABLE fence.fleet_chain, fence.fleet_databases, fence.fleet_conflicts, fence.fleet_row_changes
                WITH (publish = 'insert');
        END IF;
    WHEN 'copy_evidence' THEN
        ALTER TABLE fence.audit_chain ENABLE ALWAYS TRIGGER fleet_evidence;
    WHEN 'subscribe' THEN
        EXECUTE format('CREATE SUBSCRIPTION %I CONNECTION %L PUBLICATION %I WITH (create_slot = false, slot_name = %L)',
                       name, conninfo, CASE WHEN name = 'fence_fleet' THEN 'fence_fleet' ELSE 'fence_evidence' END, slot);
    END CASE;
END
$$;
REVOKE EXECUTE ON FUNCTION fence.fleet_ddl(text, text, text, text) FROM PUBLIC;

CREATE FUNCTION fence."serve_fleet"() RETURNS TEXT
STRICT
LANGUAGE c
AS 'MODULE_PATHNAME', 'serve_fleet_wrapper';
CREATE FUNCTION fence."join_fleet"(
	"control_conninfo" TEXT
) RETURNS TEXT
STRICT
LANGUAGE c
AS 'MODULE_PATHNAME', 'join_fleet_wrapper';
CREATE FUNCTION fence."publish_evidence"() RETURNS TEXT
STRICT
LANGUAGE c
AS 'MODULE_PATHNAME', 'publish_evidence_wrapper';
CREATE FUNCTION fence."collect_evidence"(
	"target_conninfo" TEXT
) RETURNS TEXT
STRICT
LANGUAGE c
AS 'MODULE_PATHNAME', 'collect_evidence_wrapper';
CREATE FUNCTION fence."verify_fleet"() RETURNS TABLE (
	"database_id" TEXT,
	"database_name" TEXT,
	"ok" bool,
	"checked" bigint,
	"first_bad_seq" bigint,
	"reason" TEXT,
	"head_hash" TEXT,
	"changes_checked" bigint,
	"last_event_at" timestamp with time zone
)
STRICT
LANGUAGE c
AS 'MODULE_PATHNAME', 'verify_fleet_wrapper';
CREATE FUNCTION fence."replicated_write"() RETURNS bool
STRICT
LANGUAGE c
AS 'MODULE_PATHNAME', 'replicated_write_wrapper';
CREATE FUNCTION fence."fleet_arrived"(
	"table" TEXT,
	"row" jsonb
) RETURNS void
STRICT
LANGUAGE c
AS 'MODULE_PATHNAME', 'fleet_arrived_wrapper';
REVOKE EXECUTE ON FUNCTION fence.database_id(), fence.fleet_status(), fence.serve_fleet(), fence.join_fleet(text),
    fence.publish_evidence(), fence.collect_evidence(text), fence.verify_fleet(), fence.fleet_arrived(text, jsonb),
    fence.replicated_write() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION fence.database_id() TO PUBLIC;
GRANT EXECUTE ON FUNCTION fence.fleet_status(), fence.verify_fleet() TO fence_auditor, fence_admin;
GRANT SELECT ON fence.identity, fence.fleet_roles, fence.fleet_policies, fence.fleet_approvals, fence.fleet_exemptions,
    fence.fleet_chain, fence.fleet_databases, fence.fleet_sources, fence.fleet_conflicts,
    fence.fleet_row_changes TO fence_auditor;
SELECT pg_catalog.pg_extension_config_dump('fence.identity', '');
SELECT pg_catalog.pg_extension_config_dump('fence.fleet_roles', '');
SELECT pg_catalog.pg_extension_config_dump('fence.fleet_policies', '');
SELECT pg_catalog.pg_extension_config_dump('fence.fleet_approvals', '');
SELECT pg_catalog.pg_extension_config_dump('fence.fleet_exemptions', '');
SELECT pg_catalog.pg_extension_config_dump('fence.fleet_chain', '');
SELECT pg_catalog.pg_extension_config_dump('fence.fleet_databases', '');
SELECT pg_catalog.pg_extension_config_dump('fence.fleet_sources', '');
SELECT pg_catalog.pg_extension_config_dump('fence.fleet_conflicts', '');
SELECT pg_catalog.pg_extension_config_dump('fence.fleet_row_changes', '');
COMMENT ON TABLE fence.identity IS 'This database''s fleet identity (fence.database_id()), made at CREATE EXTENSION and kept by dump and restore';
COMMENT ON FUNCTION fence.database_id IS 'This database''s identity in the fleet: one uuid made at CREATE EXTENSION';
COMMENT ON TABLE fence.fleet_roles IS 'What this database is in the fleet (control, target, publisher, evidence), since when';
COMMENT ON TABLE fence.fleet_policies IS 'The control database''s policy versions as they travel to its targets (logical replication)';
COMMENT ON TABLE fence.fleet_approvals IS 'The control database''s approvals as they travel to its targets (logical replication)';
COMMENT ON TABLE fence.fleet_exemptions IS 'The control database''s exemptions as they travel to its targets (logical replication)';
COMMENT ON TABLE fence.fleet_chain IS 'Chains as they travel to the evidence database, inserts only: a publishing target''s own, or every collected target''s';
COMMENT ON TABLE fence.fleet_row_changes IS 'Row changes as they travel to the evidence database with their sealed blocks, inserts only';
COMMENT ON TABLE fence.fleet_databases IS 'The databases whose chains travel to the evidence database';
COMMENT ON TABLE fence.fleet_sources IS 'Evidence database: the database whose chain each subscription carries, bound by fence.collect_evidence()';
COMMENT ON TABLE fence.fleet_conflicts IS 'Evidence database: events that arrived again with another hash (their database cut or rewrote its chain); the first stays in fence.fleet_chain';
COMMENT ON FUNCTION fence.replicated_write IS 'Internal: a subscription''s worker is writing into one of fence''s tables directly (not through fence)';
COMMENT ON FUNCTION fence.forbid_replicated IS 'Trigger: fence''s own tables are not written by a subscription''s apply worker directly';
COMMENT ON FUNCTION fence.fleet_check_source IS 'Trigger (evidence database, apply worker): a subscription carries one database''s evidence only';
COMMENT ON FUNCTION fence.fleet_share IS 'Trigger (control database): each approval, exemption and policy version made here goes to the fleet_* tables';
COMMENT ON FUNCTION fence.fleet_receive IS 'Trigger (target, apply worker): each grant received from the control database becomes this database''s own';
COMMENT ON FUNCTION fence.fleet_copy_evidence IS 'Trigger (publishing target): each event appended to the chain is copied to fence.fleet_chain';
COMMENT ON FUNCTION fence.fleet_ddl IS 'Internal: the fleet''s set-up statements, names and connection strings quoted';
COMMENT ON FUNCTION fence.fleet_arrived IS 'Internal: a grant received from the control database becomes this database''s own, recorded in the chain';
COMMENT ON FUNCTION fence.fleet_status IS
    'fence_auditor: this database''s fleet roles and identity, each fence subscription (connected, last contact, policy version received) and slot (subscriber connected, WAL kept)';
COMMENT ON FUNCTION fence.serve_fleet IS 'Superuser: this database becomes the fleet''s control database (its approvals, exemptions and policy reach every target); returns the publication';
COMMENT ON FUNCTION fence.join_fleet IS 'Superuser: this database follows the control database the connection string names; returns the subscription';
COMMENT ON FUNCTION fence.publish_evidence IS 'Superuser: this database''s chain travels (inserts only) to evidence databases that collect it; returns the publication';
COMMENT ON FUNCTION fence.collect_evidence IS 'Superuser: this evidence database receives the chain of the target the connection string names; returns the subscription';
COMMENT ON FUNCTION fence.verify_fleet IS 'fence_auditor: every chain collected in this evidence database recomputed, with the row changes copied against its seals: one row per database, ok, events checked, first bad seq and why, head hash, row changes checked, when its newest event was recorded';
-- fence.exempt(..., databases => ...): an exemption that applies in named databases only.
-- Who may run it stays as it was.
SELECT pg_catalog.set_config('fence_upgrade.exempt_acl', coalesce(p.proacl::text, ''), true)
FROM pg_catalog.pg_proc p WHERE p.oid = 'fence.exempt(text, text, text, timestamptz, text)'::pg_catalog.regprocedure;
DROP FUNCTION fence.exempt(text, text, text, timestamptz, text);
CREATE FUNCTION fence."exempt"(
	"scope" TEXT,
	"target" TEXT,
	"reason" TEXT,
	"expires_at" timestamp with time zone,
	"finding" TEXT DEFAULT NULL,
	"databases" TEXT[] DEFAULT NULL
) RETURNS bigint
LANGUAGE c
AS 'MODULE_PATHNAME', 'exempt_scoped_wrapper';
REVOKE EXECUTE ON FUNCTION fence.exempt FROM PUBLIC;
GRANT EXECUTE ON FUNCTION fence.exempt TO fence_admin;
COMMENT ON FUNCTION fence.exempt IS
    'fence_admin: time-boxed exemption by statement hash, content hash, relation or rule, with a written reason; expiry bounded by policy; with databases, only in those databases of the fleet';

-- The export reads in full: the approvals and the exemption looked up only for the events
-- that name them, time_us converted without numeric arithmetic (same columns, same values).
CREATE FUNCTION fence."time_us"(
	"time" timestamp with time zone
) RETURNS bigint
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'time_us_wrapper';
CREATE OR REPLACE VIEW fence.audit_export AS
SELECT
    c.seq,
    c.recorded_at,
    fence.time_us(c.recorded_at) AS time_us,
    c.kind,
    c.session_role AS actor,
    c.session_role,
    c.executing_role,
    c.txid,
    c.command_tag,
    c.relation,
    c.statement,
    c.statement_hash,
    c.content_hash,
    c.decision AS policy_result,
    c.decision,
    c.reason,
    c.risk AS highest_risk,
    c.risk,
    c.details -> 'findings' AS findings,
    CASE WHEN c.details ->> 'unknown' = 'true' THEN 1 ELSE 0 END AS unknown_statement_count,
    c.policy_version,
    c.policy_hash,
    c.details -> 'claims' ->> 'organization' AS organization,
    COALESCE(CASE WHEN c.details ? 'approval_ids' THEN
                 (SELECT pg_catalog.max(a.repository) FROM fence.approvals a WHERE a.id IN (SELECT pg_catalog.jsonb_array_elements_text(c.details -> 'approval_ids')::bigint)) END,
             c.details -> 'claims' ->> 'repository', c.details ->> 'repository') AS repository,
    COALESCE(CASE WHEN c.details ? 'approval_ids' THEN
                 (SELECT pg_catalog.max(a.pull_request) FROM fence.approvals a WHERE a.id IN (SELECT pg_catalog.jsonb_array_elements_text(c.details -> 'approval_ids')::bigint)) END,
             c.details -> 'claims' ->> 'pull_request', c.details ->> 'pull_request') AS pull_request,
    COALESCE(CASE WHEN c.details ? 'approval_ids' THEN
                 (SELECT pg_catalog.max(a.commit_sha) FROM fence.approvals a WHERE a.id IN (SELECT pg_catalog.jsonb_array_elements_text(c.details -> 'approval_ids')::bigint)) END,
             c.details -> 'claims' ->> 'commit_sha', c.details ->> 'commit_sha') AS commit_sha,
    c.details -> 'claims' ->> 'actor' AS claimed_actor,
    c.details -> 'session' ->> 'application_name' AS application_name,
    c.details -> 'session' ->> 'client_addr' AS client_addr,
    (c.details -> 'session' ->> 'backend_pid')::integer AS backend_pid,
    c.details -> 'claims' ->> 'migration_files' AS migration_files,
    CASE WHEN c.details ? 'approval_ids' THEN
        (SELECT pg_catalog.string_agg(DISTINCT a.approved_by, ',') FROM fence.approvals a WHERE a.id IN (SELECT pg_catalog.jsonb_array_elements_text(c.details -> 'approval_ids')::bigint)) END AS approver,
    CASE WHEN c.details ? 'approval_ids' THEN
        (SELECT pg_catalog.max(a.created_at) FROM fence.approvals a WHERE a.id IN (SELECT pg_catalog.jsonb_array_elements_text(c.details -> 'approval_ids')::bigint)) END AS approval_time,
    CASE WHEN c.details ? 'exemption_id' THEN
        (SELECT ex.reason FROM fence.exemptions ex WHERE ex.id = (c.details ->> 'exemption_id')::bigint) END AS exemption_reason,
    c.details::text AS details,
    c.prev_hash,
    c.event_hash
FROM fence.audit_chain c;
REVOKE EXECUTE ON FUNCTION fence.time_us FROM PUBLIC;
GRANT EXECUTE ON FUNCTION fence.time_us TO PUBLIC;
COMMENT ON FUNCTION fence.time_us IS 'Microseconds since 1970 of a time, as an event''s hashed time_us (the export''s column)';

-- Exemptions in force, with the databases they apply in and where they came from.
CREATE OR REPLACE VIEW fence.live_exemptions AS
SELECT e.id, e.scope, e.target, e.reason, e.finding, e.created_by, e.created_at, e.expires_at,
       pg_catalog.date_trunc('second', e.expires_at - pg_catalog.now()) AS expires_in,
       e.databases, e.origin
FROM fence.exemptions e
WHERE e.revoked_at IS NULL AND e.expires_at > pg_catalog.now();

-- The functions this update replaced (verify_chain, exempt): granted as a fresh install grants
-- them above, and here to whoever else 0.3.0 let run them.
DO $upgrade$
DECLARE
    replaced record;
    saved text;
    grantee text;
BEGIN
    FOR replaced IN
        SELECT * FROM (VALUES
            ('verify_acl', 'fence.verify_chain()', ARRAY['fence_auditor', 'fence_admin']),
            ('verify_anchor_acl', 'fence.verify_chain(bigint, text)', ARRAY['fence_auditor', 'fence_admin']),
            ('exempt_acl', 'fence.exempt(text, text, text, timestamptz, text, text[])', ARRAY['fence_admin'])
        ) r(setting, function, installed)
    LOOP
        saved := pg_catalog.current_setting('fence_upgrade.' || replaced.setting, true);
        CONTINUE WHEN saved IS NULL OR saved = '';
        FOR grantee IN
            SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE a.grantee::pg_catalog.regrole::text END
            FROM pg_catalog.aclexplode(saved::pg_catalog.aclitem[]) a
            WHERE a.privilege_type = 'EXECUTE' AND a.grantee <> a.grantor
              AND (a.grantee = 0 OR a.grantee::pg_catalog.regrole::text <> ALL (replaced.installed))
        LOOP
            EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO %s', replaced.function, grantee);
        END LOOP;
    END LOOP;
END
$upgrade$;
