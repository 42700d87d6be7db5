-- Where the last sealed block ended (0 before the first seal).
SELECT coalesce((
    SELECT (c.details -> 'block' ->> 'xid_to')::bigint
    FROM fence.audit_chain c WHERE c.kind = 'row_seal'
    ORDER BY c.seq DESC LIMIT 1
), 0)
