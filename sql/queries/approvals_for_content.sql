-- $1 content hash named by fence.approval, $2 the executed statement's hash (NULL when its
-- text is unknown), $3 the hashes of every statement the client sent (empty for a top-level
-- statement). An approval covers the statement when it contains the statement itself, or
-- everything the client sent (DDL run by an approved DO block or function call).
SELECT id, decision, approved_by,
       ($2 = ANY (statement_hashes)
        OR (pg_catalog.cardinality($3) > 0 AND $3 <@ statement_hashes)) AS covers
FROM fence.approvals
WHERE content_hash = $1 AND revoked_at IS NULL
ORDER BY id
