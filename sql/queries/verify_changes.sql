-- Every stored change, sealed or not yet, with every hashed field and the key hashes, in
-- sealing order.
SELECT * FROM fence.row_changes_export ORDER BY txid, ordinal
