-- Every change of a transaction that finished before this statement's snapshot (txid below
-- its xmin) and after the last sealed block ($1), in sealing order; the horizon comes with
-- each row (one snapshot). Also where each change is stored (partition, tuple id): the sealer
-- then summarizes the block ranges it read (fence.summarize_row_ranges). OFFSET 0 keeps the
-- horizon computed once, not again for every row the scan checks.
SELECT h.horizon, r.txid, r.changed_at, r.row_hash, r.tableoid, r.ctid
FROM (SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS horizon OFFSET 0) h
LEFT JOIN LATERAL (
    SELECT c.txid, c.ordinal, c.changed_at, c.row_hash, c.tableoid, c.ctid
    FROM fence.row_changes c
    WHERE c.txid >= $1 AND c.txid < h.horizon
) r ON true
ORDER BY r.txid, r.ordinal
