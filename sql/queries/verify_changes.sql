-- Every stored change, sealed or not yet, with every hashed column and the key hashes, in
-- sealing order.
SELECT r.table_id, r.relation, r.operation, r.row_key::text, r.old_key::text, r.old_row::text, r.new_row::text,
       r.actor, r.session_role, r.application_name, r.client_addr, r.backend_pid, r.txid, r.ordinal,
       (extract(epoch FROM r.changed_at) * 1000000)::bigint, r.row_hash, r.key_hash, r.old_key_hash
FROM fence.row_changes r
ORDER BY r.txid, r.ordinal
