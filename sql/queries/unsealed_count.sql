SELECT count(*) FROM fence.row_changes r WHERE r.txid >= $1
