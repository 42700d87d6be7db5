-- Parked events, oldest first, removed in the transaction that chains them (the caller holds
-- the chain's append lock). A row holds one event (a denial) or a transaction's events (an
-- array). At most 1000 rows and 64 MB of events at a time (at least one row): a batch never
-- makes an INSERT's arrays too large.
DELETE FROM fence.pending_denials
WHERE id IN (SELECT s.id
             FROM (SELECT id, sum(pg_catalog.octet_length(event::text)) OVER (ORDER BY id) AS upto
                   FROM fence.pending_denials ORDER BY id LIMIT 1000) s
             WHERE s.upto <= 67108864
                OR s.id = (SELECT min(id) FROM fence.pending_denials))
RETURNING id, event::text
