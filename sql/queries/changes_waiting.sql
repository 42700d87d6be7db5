-- Whether any change visible now lies beyond the last sealed block ($1): the sealer's last
-- look, with a new snapshot, before it leaves.
SELECT 1 FROM fence.row_changes c WHERE c.txid >= $1 LIMIT 1
