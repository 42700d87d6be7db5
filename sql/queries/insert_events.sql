-- Appends a transaction's events in one statement: one array per column, element i of each
-- array is event i (hashes computed by fence before the call, the details as jsonb).
INSERT INTO fence.audit_chain (
    seq, recorded_at, kind, session_role, executing_role, txid, command_tag, relation,
    statement, statement_hash, content_hash, decision, reason, risk, policy_version,
    policy_hash, details, prev_hash, event_hash)
SELECT e.seq, e.recorded_at, e.kind, e.session_role, e.executing_role, e.txid, e.command_tag,
       e.relation, e.statement, e.statement_hash, e.content_hash, e.decision, e.reason, e.risk,
       e.policy_version, e.policy_hash, e.details, e.prev_hash, e.event_hash
FROM ROWS FROM (pg_catalog.unnest($1::bigint[]), pg_catalog.unnest($2::timestamptz[]),
                pg_catalog.unnest($3::text[]), pg_catalog.unnest($4::text[]),
                pg_catalog.unnest($5::text[]), pg_catalog.unnest($6::bigint[]),
                pg_catalog.unnest($7::text[]), pg_catalog.unnest($8::text[]),
                pg_catalog.unnest($9::text[]), pg_catalog.unnest($10::text[]),
                pg_catalog.unnest($11::text[]), pg_catalog.unnest($12::text[]),
                pg_catalog.unnest($13::text[]), pg_catalog.unnest($14::text[]),
                pg_catalog.unnest($15::integer[]), pg_catalog.unnest($16::text[]),
                pg_catalog.unnest($17::jsonb[]), pg_catalog.unnest($18::text[]),
                pg_catalog.unnest($19::text[]))
    AS e(seq, recorded_at, kind, session_role, executing_role, txid, command_tag, relation,
         statement, statement_hash, content_hash, decision, reason, risk, policy_version,
         policy_hash, details, prev_hash, event_hash)
