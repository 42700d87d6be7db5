-- One database's row changes as they reached the evidence database ($1 its database_id), in
-- the columns of fence.row_changes_export, in sealing order.
SELECT * FROM fence.fleet_row_changes WHERE database_id = $1::uuid ORDER BY txid, ordinal
