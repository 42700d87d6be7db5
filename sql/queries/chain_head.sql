-- The chain's newest event (read with the latest snapshot by the appender, which holds the
-- chain's append lock).
SELECT c.seq, c.event_hash FROM fence.audit_chain c ORDER BY c.seq DESC LIMIT 1
