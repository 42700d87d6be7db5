-- One database's chain as it reached the evidence database ($1 its database_id), in order,
-- in the columns of chain_rows.sql.
SELECT seq,
       recorded_at AS time_us,
       kind, session_role, executing_role, txid, command_tag, relation, statement,
       statement_hash, content_hash, decision, reason, risk, policy_version,
       policy_hash, details::text, prev_hash, event_hash
FROM fence.fleet_chain
WHERE database_id = $1::uuid
ORDER BY seq
