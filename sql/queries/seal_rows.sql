-- Every change of a transaction that finished before this statement's snapshot (txid below
-- its xmin) and after the last sealed block; the horizon comes with each row (one snapshot).
SELECT h.horizon, r.txid, r.changed_at, r.row_hash
FROM (SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS horizon) h
LEFT JOIN LATERAL (
    SELECT c.txid, c.ordinal, c.changed_at, c.row_hash FROM fence.row_changes c
    WHERE c.txid >= $1 AND c.txid < h.horizon
) r ON true
ORDER BY r.txid, r.ordinal
