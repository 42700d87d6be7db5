-- $1 content hash named by fence.approval, $2 the executed statement's hash. An approval
-- covers the statement when the approved text contains it: as one of its statements, or
-- written inside one of its strings (a DO block's EXECUTE, a function body).
SELECT id, decision, approved_by, $2 = ANY (statement_hashes) AS covers
FROM fence.approvals
WHERE content_hash = $1 AND revoked_at IS NULL
ORDER BY id
