-- Whether any change visible now lies beyond the last sealed block ($1): a change whose
-- transaction finished after the sealer's snapshot, or one the sealer could not seal while
-- another session held the chain.
SELECT 1 FROM fence.row_changes c WHERE c.txid >= $1 LIMIT 1
