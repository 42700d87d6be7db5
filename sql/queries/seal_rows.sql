-- Every change of a transaction that finished before this statement's snapshot (txid below
-- its xmin) and after the last sealed block; the horizon comes with each row (one snapshot).
-- Unsealed changes are all in the inbox.
SELECT h.horizon, r.txid, (extract(epoch FROM r.changed_at) * 1000000)::bigint AS changed_at_us, r.row_hash
FROM (SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS horizon) h
LEFT JOIN LATERAL (
    SELECT c.txid, c.ordinal, c.changed_at, c.row_hash FROM fence.row_inbox c
    WHERE c.txid >= $1 AND c.txid < h.horizon
) r ON true
ORDER BY r.txid, r.ordinal
