-- Every change after the last sealed block ($1), in sealing order, with this statement's
-- snapshot xmin (the horizon) on each row (one snapshot): a change below the horizon belongs
-- to a finished transaction and is sealed now; one at or above it waits for a later seal.
-- Also where each change is stored (partition, tuple id): the sealer then summarizes the
-- block ranges it read (fence.summarize_row_ranges). OFFSET 0 keeps the horizon computed once.
SELECT h.horizon, r.txid, r.changed_at, r.row_hash, r.tableoid, r.ctid
FROM (SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS horizon OFFSET 0) h
LEFT JOIN LATERAL (
    SELECT c.txid, c.ordinal, c.changed_at, c.row_hash, c.tableoid, c.ctid
    FROM fence.row_changes c
    WHERE c.txid >= $1
) r ON true
ORDER BY r.txid, r.ordinal
