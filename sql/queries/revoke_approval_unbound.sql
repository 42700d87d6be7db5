-- $1 content hash, $2 revoking role (only its own approvals), $3 time, $4 reason (before ALTER
-- EXTENSION fence UPDATE to 0.4.0: no fleet origin columns)
UPDATE fence.approvals
SET revoked_at = $3, revoked_by = $2, revoke_reason = $4
WHERE content_hash = $1 AND approved_by = $2 AND revoked_at IS NULL
RETURNING id
