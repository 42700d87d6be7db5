SELECT seq,
       recorded_at AS time_us,
       kind, session_role, executing_role, txid, command_tag, relation, statement,
       statement_hash, content_hash, decision, reason, risk, policy_version,
       policy_hash, details::text, prev_hash, event_hash
FROM fence.audit_chain
ORDER BY seq
