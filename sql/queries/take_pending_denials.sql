-- Denials not yet chained, oldest first; removed in the transaction that chains them
-- (the caller holds the chain's append lock).
DELETE FROM fence.pending_denials
WHERE id IN (SELECT id FROM fence.pending_denials ORDER BY id LIMIT 1000)
RETURNING id, event::text
