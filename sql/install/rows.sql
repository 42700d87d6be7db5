-- fence: row-level change audit (fence.track_table). A Rust row trigger records each change
-- of a tracked table into fence.row_changes, hashed in the writing backend; a sealer folds the
-- changes of finished transactions into blocks chained in fence.audit_chain.

-- Tables under audit, one row per tracking period (re-tracking with other excluded columns
-- closes the previous period).
CREATE TABLE fence.tracked_tables (
    id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    relid oid NOT NULL,
    relation text NOT NULL,
    key_columns text[] NOT NULL,
    exclude_columns text[] NOT NULL,
    tracked_by text NOT NULL,
    tracked_at timestamptz NOT NULL,
    untracked_by text,
    untracked_at timestamptz,
    -- One live tracking per table. Checked at the end of each statement (deferrable), so that
    -- one statement may move several trackings to new OIDs that swap (see relink_tracked.sql).
    CONSTRAINT tracked_tables_live EXCLUDE USING btree (relid WITH =) WHERE (untracked_at IS NULL) DEFERRABLE
);

-- The tracking a fence row trigger names: its argument, the tracking's id (track_table installs
-- the trigger so). A dump carries the argument along with the trigger, where a restored table
-- gets a new OID: the trigger, not the OID, says which tracking a table is under.
CREATE FUNCTION fence.trigger_tracking(tgargs bytea) RETURNS integer
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN CASE WHEN split_part(encode(tgargs, 'escape'), '\000', 1) ~ '^[0-9]{1,9}$'
            THEN split_part(encode(tgargs, 'escape'), '\000', 1)::integer END;

-- Every recorded change. Partitioned by month (UTC) of changed_at; partitions are created
-- ahead by fence (track_table, the sealer); the default partition only catches a month whose
-- partition does not exist yet. The row trigger inserts into the month's partition itself
-- (one partition named row_changes_YYYY_MM per month, see create_row_partition) with plain
-- heap and index inserts (src/rows/store.rs over src/ffi/heap.rs): an index here must hold plain columns, with no
-- predicate. The column names are the hashed field names, but for key_hash and old_key_hash:
-- fence.key_hash() of row_key and old_key, what the index holds. Keys and row images are
-- json: keys as the canonical text of their jsonb value, rows as PostgreSQL's to_json of the
-- row; stored as printed and hashed as stored (the query functions return them as jsonb).
-- new_row is the row after an INSERT or UPDATE; old_values what the change replaced: the
-- whole row for a DELETE, only the old values of the columns an UPDATE changed (the rest of
-- the old row is in new_row: fence.old_row() rebuilds it, the query functions return it).
-- The column order is for the readers of every change, the sealer (txid, ordinal, changed_at,
-- row_hash) and the block-range summaries (up to actor): fixed-width columns first, the long
-- texts last, so that reading those few columns skips the row images.
CREATE TABLE fence.row_changes (
    changed_at timestamptz NOT NULL,
    txid bigint NOT NULL,
    ordinal integer NOT NULL,
    table_id integer NOT NULL,
    backend_pid integer NOT NULL,
    row_hash text NOT NULL,
    key_hash bigint,
    old_key_hash bigint,
    actor text COLLATE "C" NOT NULL,
    relation text NOT NULL,
    operation text NOT NULL,
    row_key json,
    old_key json,
    old_values json,
    new_row json,
    session_role text NOT NULL,
    application_name text NOT NULL,
    client_addr text NOT NULL
) PARTITION BY RANGE (changed_at);
CREATE TABLE fence.row_changes_default PARTITION OF fence.row_changes DEFAULT;

-- Every stored change with every hashed field as its hash takes it (time in microseconds since
-- the Unix epoch, keys and images as stored), its hash and its key hashes, in the column order
-- fence.verify_chain() reads them: what `fence verify-rows` checks offline, from a CSV export,
-- against the seals of an exported chain.
CREATE VIEW fence.row_changes_export AS
SELECT r.table_id, r.relation, r.operation, r.row_key::text AS row_key, r.old_key::text AS old_key,
       r.old_values::text AS old_values, r.new_row::text AS new_row, r.actor, r.session_role, r.application_name,
       r.client_addr, r.backend_pid, r.txid, r.ordinal,
       (extract(epoch FROM r.changed_at) * 1000000)::bigint AS changed_at_us, r.row_hash, r.key_hash, r.old_key_hash
FROM fence.row_changes r;

-- One block-range index per partition serves every reader: a row's history and its state at a time (key_hash,
-- and key_hash IS NULL for TRUNCATEs), UPDATEs that gave a row a new key (old_key_hash), one
-- actor's changes in a window (actor, changed_at), the sealer's read of the changes since the
-- last seal (txid). A writer adds no index entry: a range is summarized once it is full (by
-- the sealer, see summarize_row_ranges; autovacuum too), and the ranges still being filled
-- are read whole. Bloom filters for the keys and actors, min/max for time and transaction.
-- Each partition has its own, created with it, not one declared on fence.row_changes: pg_dump
-- dumps a partition's index with the partition, and a restore would create it a second time
-- when the partition is attached under an index of the extension's.
CREATE FUNCTION fence.create_row_summary_index(part regclass) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    EXECUTE format('CREATE INDEX %I ON %s USING brin (changed_at, txid, table_id, key_hash int8_bloom_ops, '
                   'old_key_hash int8_bloom_ops (n_distinct_per_range = 16), actor text_bloom_ops (n_distinct_per_range = 16)) '
                   'WITH (pages_per_range = 32)',
                   (SELECT c.relname FROM pg_class c WHERE c.oid = part) || '_summary_idx', part);
END
$$;
SELECT fence.create_row_summary_index('fence.row_changes_default');

-- Where the last sealed block ended (0 before the first seal): every change of a transaction
-- below it is sealed.
CREATE FUNCTION fence.sealed_until() RETURNS bigint
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce((
        SELECT (c.details -> 'block' ->> 'xid_to')::bigint
        FROM fence.audit_chain c WHERE c.kind = 'row_seal'
        ORDER BY c.seq DESC LIMIT 1
    ), 0)
$$;

-- Seals and retentions are read back from the chain (the chain is their only record).
CREATE INDEX audit_chain_rows_idx ON fence.audit_chain (kind, seq) WHERE kind IN ('row_seal', 'row_retention');

CREATE TRIGGER row_changes_append_only BEFORE UPDATE OR DELETE ON fence.row_changes
    FOR EACH ROW EXECUTE FUNCTION fence.forbid_change();
CREATE TRIGGER row_changes_no_truncate BEFORE TRUNCATE ON fence.row_changes
    FOR EACH STATEMENT EXECUTE FUNCTION fence.forbid_change();

-- The row trigger fence.track_table installs (AFTER INSERT/UPDATE/DELETE FOR EACH ROW and
-- AFTER TRUNCATE FOR EACH STATEMENT, ENABLE ALWAYS).
CREATE FUNCTION fence.record_row_change() RETURNS trigger
LANGUAGE c AS 'MODULE_PATHNAME', 'fence_row_change';

-- The live tracking of a table: the one its own fence row trigger names, else the nearest
-- ancestor's (PostgreSQL clones a partitioned table's row trigger onto its partitions);
-- `carrier` is the table whose trigger names it. Its relid is the carrier's OID, but after a
-- restore from a dump, until fence moves it (relink_tracked.sql). No row when not tracked.
CREATE FUNCTION fence.live_tracking(tbl regclass,
    OUT id integer, OUT carrier oid, OUT relid oid, OUT relation text, OUT exclude_columns text[])
LANGUAGE sql STABLE STRICT SET search_path = pg_catalog, pg_temp AS $$
    SELECT t.id, a.relid, t.relid, t.relation, t.exclude_columns
    FROM (SELECT tbl AS relid, 0::bigint AS depth
          UNION ALL
          SELECT p.relid, p.depth FROM pg_partition_ancestors(tbl) WITH ORDINALITY p(relid, depth)) a
    JOIN pg_trigger g ON g.tgrelid = a.relid AND g.tgname = 'fence_row_changes' AND g.tgparentid = 0
                       AND g.tgfoid = 'fence.record_row_change()'::regprocedure
    JOIN fence.tracked_tables t ON t.id = fence.trigger_tracking(g.tgargs) AND t.untracked_at IS NULL
    ORDER BY a.depth
    LIMIT 1
$$;

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

-- The tracking periods of a table (the table_id of its recorded changes): those recorded under
-- the OID of its live tracking, up to that one (later periods under that OID, after a restore,
-- are other tables'); for a table not tracked now, those recorded under its OID. A table has
-- one or two periods as a rule: planned for a thousand (the default), the query functions'
-- search for an old key turned into a sequential scan of the month (15 -> 300 ms).
CREATE FUNCTION fence.tracking_periods(tbl regclass) RETURNS SETOF integer
LANGUAGE sql STABLE STRICT ROWS 2 SET search_path = pg_catalog, pg_temp AS $$
    SELECT t.id
    FROM fence.tracked_tables t
    LEFT JOIN fence.live_tracking(tbl) l ON l.carrier = tbl
    WHERE t.relid = coalesce(l.relid, tbl) AND t.id <= coalesce(l.id, t.id)
$$;

-- The index key of a row key: the first 8 bytes of sha256 of its text, as a bigint (what
-- the row trigger stores in key_hash and old_key_hash).
CREATE FUNCTION fence.key_hash(row_key jsonb) RETURNS bigint
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN ('x' || left(encode(sha256(row_key::text::bytea), 'hex'), 16))::bit(64)::bigint;

-- The whole row a change replaced: an UPDATE's new row with the old values of the columns it
-- changed put back, a DELETE's stored row; NULL for INSERT and TRUNCATE.
CREATE FUNCTION fence.old_row(operation text, old_values json, new_row json) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN operation = 'UPDATE' THEN new_row::jsonb || old_values::jsonb ELSE old_values::jsonb END;

-- Changes of one row (by its key as jsonb, e.g. '{"id": 7}'), oldest first: the changes
-- recorded under that key, UPDATEs that moved the row away from it, and TRUNCATEs.
CREATE FUNCTION fence.row_history(tbl regclass, row_key jsonb)
RETURNS TABLE (
    changed_at timestamptz, operation text, row_key jsonb, old_key jsonb, old_row jsonb, new_row jsonb,
    actor text, session_role text, application_name text, client_addr text, backend_pid integer,
    txid bigint, ordinal integer, relation text
)
LANGUAGE sql STABLE STRICT SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    WITH ids AS (SELECT fence.tracking_periods($1) AS id)
    SELECT c.changed_at, c.operation, c.row_key::jsonb, c.old_key::jsonb, fence.old_row(c.operation, c.old_values, c.new_row),
           c.new_row::jsonb, c.actor, c.session_role, c.application_name, c.client_addr, c.backend_pid, c.txid, c.ordinal, c.relation
    FROM (
        SELECT * FROM fence.row_changes c
        WHERE c.table_id IN (SELECT id FROM ids) AND c.key_hash = fence.key_hash($2) AND c.row_key::jsonb = $2
        UNION ALL
        SELECT * FROM fence.row_changes c
        WHERE c.old_key_hash = fence.key_hash($2) AND c.old_key::jsonb = $2 AND c.table_id IN (SELECT id FROM ids)
        UNION ALL
        SELECT * FROM fence.row_changes c WHERE c.table_id IN (SELECT id FROM ids) AND c.key_hash IS NULL
    ) c
    ORDER BY c.changed_at, c.txid, c.ordinal
$$;

-- The row as it was at a time: the image after its last change at or before `at`, else the
-- image before its first change after `at`; NULL when it did not exist then (or no change of
-- it was ever recorded: it is then as it is now).
CREATE FUNCTION fence.row_as_of(tbl regclass, row_key jsonb, at timestamptz) RETURNS jsonb
LANGUAGE plpgsql STABLE STRICT SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    change record;
BEGIN
    SELECT h.operation, h.row_key, h.new_row INTO change
    FROM fence.row_history(tbl, row_key) h WHERE h.changed_at <= at
    ORDER BY h.changed_at DESC, h.txid DESC, h.ordinal DESC LIMIT 1;
    IF FOUND THEN
        -- DELETE, TRUNCATE, or an UPDATE that gave the row another key: gone.
        RETURN CASE WHEN change.operation IN ('INSERT', 'UPDATE') AND change.row_key = row_as_of.row_key
                    THEN change.new_row END;
    END IF;
    -- Before its first later change: the image that change replaced, unless that change
    -- created the row under this key (INSERT, or an UPDATE that moved it here).
    SELECT h.operation, coalesce(h.old_key, h.row_key) AS before_key, h.old_row INTO change
    FROM fence.row_history(tbl, row_key) h WHERE h.changed_at > at
    ORDER BY h.changed_at, h.txid, h.ordinal LIMIT 1;
    RETURN CASE WHEN FOUND AND change.operation IN ('UPDATE', 'DELETE') AND change.before_key = row_as_of.row_key
                THEN change.old_row END;
END
$$;

-- Everything one actor (fence.actor, or the session role when none was set) changed in a
-- time window [since, until), in order.
CREATE FUNCTION fence.changes_by(actor text, since timestamptz, until timestamptz DEFAULT 'infinity')
RETURNS TABLE (
    changed_at timestamptz, relation text, operation text, row_key jsonb, old_row jsonb, new_row jsonb,
    session_role text, application_name text, client_addr text, backend_pid integer, txid bigint
)
LANGUAGE sql STABLE STRICT SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT c.changed_at, c.relation, c.operation, c.row_key::jsonb, fence.old_row(c.operation, c.old_values, c.new_row),
           c.new_row::jsonb, c.session_role, c.application_name, c.client_addr, c.backend_pid, c.txid
    FROM fence.row_changes c
    WHERE c.actor = $1 COLLATE "C" AND c.changed_at >= $2 AND c.changed_at < $3
    ORDER BY c.changed_at, c.txid, c.ordinal
$$;

-- The row audit at a glance, for monitoring: tables tracked now, changes not sealed yet and
-- the oldest of them (a sealer that stopped shows here first), the last seal.
CREATE FUNCTION fence.row_audit_status(
    OUT tracked_tables integer, OUT unsealed_changes bigint, OUT oldest_unsealed_at timestamptz,
    OUT last_seal_at timestamptz, OUT last_seal_changes bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT (SELECT count(*)::integer FROM fence.tracked_tables t WHERE t.untracked_at IS NULL),
           u.changes, u.oldest, s.recorded_at, (s.details -> 'block' ->> 'changes')::bigint
    FROM (SELECT count(*) AS changes, min(c.changed_at) AS oldest
          FROM fence.row_changes c WHERE c.txid >= fence.sealed_until()) u
    LEFT JOIN LATERAL (SELECT a.recorded_at, a.details FROM fence.audit_chain a WHERE a.kind = 'row_seal'
                       ORDER BY a.seq DESC LIMIT 1) s ON true
$$;

-- Internal helpers of fence's Rust functions (no grants: only the owner runs them; the DDL
-- they run is fence's own and is not gated — fence chains the tracking, sealing and
-- retention events instead).
CREATE FUNCTION fence.install_row_triggers(tbl regclass, tracking integer) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    ours oid := 'fence.record_row_change()'::regprocedure;
BEGIN
    IF EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = tbl AND tgname IN ('fence_row_changes', 'fence_row_truncate')
               AND tgfoid <> ours) THEN
        RAISE EXCEPTION 'fence: % already has a trigger named fence_row_changes or fence_row_truncate', tbl
            USING ERRCODE = '42710', HINT = 'Rename that trigger, then track the table again.';
    END IF;
    -- The trigger names the tracking (its argument): a new tracking period gets a new trigger.
    IF EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = tbl AND tgname = 'fence_row_changes'
               AND fence.trigger_tracking(tgargs) IS DISTINCT FROM tracking) THEN
        EXECUTE format('DROP TRIGGER fence_row_changes ON %s', tbl);
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = tbl AND tgname = 'fence_row_changes') THEN
        EXECUTE format('CREATE TRIGGER fence_row_changes AFTER INSERT OR UPDATE OR DELETE ON %s '
                       'FOR EACH ROW EXECUTE FUNCTION fence.record_row_change(%s)', tbl, tracking);
        -- Fires under session_replication_role = replica too (restores, logical apply); on a
        -- partitioned table this reaches the trigger's clones on the partitions.
        EXECUTE format('ALTER TABLE %s ENABLE ALWAYS TRIGGER fence_row_changes', tbl);
    END IF;
    PERFORM fence.install_truncate_triggers(tbl, tracking);
END
$$;

-- The TRUNCATE trigger of a tracked table and of each of its partitions, naming the tracking:
-- PostgreSQL clones a partitioned table's row trigger onto each partition, present and future,
-- but not a statement trigger, so each partition gets its own (a TRUNCATE of one partition is
-- recorded too). Run when the table is tracked and after every CREATE TABLE or ALTER TABLE that
-- may have added partitions under it (ddl_command_end).
CREATE FUNCTION fence.install_truncate_triggers(tbl regclass, tracking integer) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    ours oid := 'fence.record_row_change()'::regprocedure;
    rel regclass;
BEGIN
    FOR rel IN SELECT r FROM (SELECT tbl AS r UNION SELECT p.relid FROM pg_partition_tree(tbl) p) t
               WHERE NOT EXISTS (SELECT 1 FROM pg_trigger g WHERE g.tgrelid = t.r AND g.tgname = 'fence_row_truncate'
                                 AND g.tgfoid = ours AND fence.trigger_tracking(g.tgargs) = tracking)
    LOOP
        -- A trigger of that name doing something else would leave the table's TRUNCATEs
        -- unrecorded: the statement that brought the partition in fails.
        IF EXISTS (SELECT 1 FROM pg_trigger g WHERE g.tgrelid = rel AND g.tgname = 'fence_row_truncate'
                   AND g.tgfoid <> ours) THEN
            RAISE EXCEPTION 'fence: % already has a trigger named fence_row_truncate', rel
                USING ERRCODE = '42710', HINT = 'Rename that trigger: the table''s TRUNCATEs must be recorded.';
        END IF;
        IF EXISTS (SELECT 1 FROM pg_trigger g WHERE g.tgrelid = rel AND g.tgname = 'fence_row_truncate') THEN
            EXECUTE format('DROP TRIGGER fence_row_truncate ON %s', rel);
        END IF;
        EXECUTE format('CREATE TRIGGER fence_row_truncate AFTER TRUNCATE ON %s '
                       'FOR EACH STATEMENT EXECUTE FUNCTION fence.record_row_change(%s)', rel, tracking);
        EXECUTE format('ALTER TABLE %s ENABLE ALWAYS TRIGGER fence_row_truncate', rel);
    END LOOP;
END
$$;

CREATE FUNCTION fence.remove_row_triggers(tbl regclass) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    rel regclass;
BEGIN
    -- The row trigger's clones on partitions go with it.
    EXECUTE format('DROP TRIGGER IF EXISTS fence_row_changes ON %s', tbl);
    FOR rel IN SELECT tbl UNION SELECT p.relid FROM pg_partition_tree(tbl) p LOOP
        IF EXISTS (SELECT 1 FROM pg_trigger g WHERE g.tgrelid = rel AND g.tgname = 'fence_row_truncate') THEN
            EXECUTE format('DROP TRIGGER fence_row_truncate ON %s', rel);
        END IF;
    END LOOP;
END
$$;

-- The partition of one month (UTC); false when it exists, or when the default partition
-- already holds changes of that month (they stay there: creating it would fail).
CREATE FUNCTION fence.create_row_partition(month_start timestamptz) RETURNS boolean
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' AS $$
DECLARE
    name text := 'row_changes_' || to_char(month_start, 'YYYY_MM');
    month_end timestamptz := month_start + interval '1 month';
BEGIN
    IF to_regclass('fence.' || name) IS NOT NULL
       OR EXISTS (SELECT 1 FROM fence.row_changes_default d
                  WHERE d.changed_at >= month_start AND d.changed_at < month_end) THEN
        RETURN false;
    END IF;
    EXECUTE format('CREATE TABLE fence.%I PARTITION OF fence.row_changes FOR VALUES FROM (%L) TO (%L)',
                   name, month_start, month_end);
    PERFORM fence.create_row_summary_index(('fence.' || quote_ident(name))::regclass);
    RETURN true;
END
$$;

-- Summarizes the full block ranges of a partition of fence.row_changes (its block-range
-- index) from heap block `from_block` on: the ranges a seal just read. The last two ranges are
-- left to the next seal: writers may still be filling them, and each insert into a summarized
-- range updates its summary. Stops at the first range whose lock it would wait for (a VACUUM
-- of the partition is running, and summarizes them too). Returns the ranges summarized.
CREATE FUNCTION fence.summarize_row_ranges(part regclass, from_block bigint) RETURNS integer
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET lock_timeout = '100ms' AS $$
DECLARE
    idx regclass;
    per_range bigint;
    range_start bigint;
    summarized integer := 0;
BEGIN
    SELECT i.indexrelid, coalesce((SELECT o.option_value::bigint FROM pg_options_to_table(c.reloptions) o
                                   WHERE o.option_name = 'pages_per_range'), 128)
    INTO idx, per_range
    FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
    WHERE i.indrelid = part AND a.amname = 'brin';
    IF NOT FOUND THEN
        RETURN 0;
    END IF;
    FOR range_start IN SELECT generate_series(from_block / per_range * per_range,
                                              pg_relation_size(part) / current_setting('block_size')::bigint - 2 * per_range,
                                              per_range)
    LOOP
        BEGIN
            summarized := summarized + brin_summarize_range(idx, range_start);
        EXCEPTION WHEN lock_not_available THEN
            RETURN summarized;
        END;
    END LOOP;
    RETURN summarized;
END
$$;

-- The changes of one month's partition, and how many are not sealed (txid >= watermark).
CREATE FUNCTION fence.row_partition_counts(name text, watermark bigint, OUT changes bigint, OUT unsealed bigint)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    EXECUTE format('SELECT count(*), count(*) FILTER (WHERE txid >= $1) FROM fence.%I', name)
        INTO changes, unsealed USING watermark;
END
$$;

CREATE FUNCTION fence.drop_row_partition(name text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    EXECUTE format('DROP TABLE fence.%I', name);
END
$$;
