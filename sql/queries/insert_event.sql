-- Appends one event (hashes computed by fence, the details as jsonb); small commits use this, large ones
-- insert_events.sql.
INSERT INTO fence.audit_chain (
    seq, recorded_at, kind, session_role, executing_role, txid, command_tag, relation,
    statement, statement_hash, content_hash, decision, reason, risk, policy_version,
    policy_hash, details, prev_hash, event_hash)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
