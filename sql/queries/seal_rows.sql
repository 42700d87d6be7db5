-- Every change of a transaction that finished before this statement's snapshot (txid below
-- its xmin) and after the last sealed block, in sealing order. Where the last block ended
-- and the horizon come with each row: both are read with the one snapshot the sealer takes
-- after it holds the chain's append lock (no seal committed meanwhile can be missed).
-- Also where each change is stored (partition, tuple id): the sealer then summarizes the
-- block ranges it read (fence.summarize_row_ranges). OFFSET 0 keeps both values computed once
-- (not re-evaluated for every row of the scan).
SELECT s.sealed_until, s.horizon, r.txid, r.changed_at, r.row_hash, r.tableoid, r.ctid
FROM (SELECT fence.sealed_until() AS sealed_until,
             pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS horizon
      OFFSET 0) s
LEFT JOIN LATERAL (
    SELECT c.txid, c.ordinal, c.changed_at, c.row_hash, c.tableoid, c.ctid
    FROM fence.row_changes c
    WHERE c.txid >= s.sealed_until AND c.txid < s.horizon
) r ON true
ORDER BY r.txid, r.ordinal
