-- A target starts publishing its evidence: its identity, and its chain so far, go to the
-- tables the evidence database receives, with the row changes of every sealed block (later
-- events and blocks follow through fleet_evidence).
WITH me AS (
    INSERT INTO fence.fleet_databases (database_id, database_name, system_identifier, published_at)
    SELECT fence.database_id(), pg_catalog.current_database(), s.system_identifier::text, pg_catalog.clock_timestamp()
    FROM pg_catalog.pg_control_system() s
    ON CONFLICT (database_id) DO NOTHING
    RETURNING 1
), events AS (
    INSERT INTO fence.fleet_chain
    SELECT fence.database_id(), c.* FROM fence.audit_chain c
    ON CONFLICT (database_id, seq) DO NOTHING
    RETURNING 1
), changes AS (
    INSERT INTO fence.fleet_row_changes
    SELECT fence.database_id(), e.*
    FROM fence.row_changes_export e
    WHERE e.txid < (SELECT max((c.details -> 'block' ->> 'xid_to')::bigint) FROM fence.audit_chain c WHERE c.kind = 'row_seal')
    ON CONFLICT (database_id, txid, ordinal) DO NOTHING
    RETURNING 1
)
SELECT (SELECT count(*) FROM events) AS events, (SELECT count(*) FROM changes) AS changes
