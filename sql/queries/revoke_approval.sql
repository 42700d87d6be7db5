-- $1 content hash, $2 revoking role (only its own approvals, made in this database: one
-- received from the fleet's control database is revoked there), $3 time, $4 reason
UPDATE fence.approvals
SET revoked_at = $3, revoked_by = $2, revoke_reason = $4
WHERE content_hash = $1 AND approved_by = $2 AND revoked_at IS NULL AND origin IS NULL
RETURNING id
