-- $1 id, $2 revoking role, $3 time, $4 reason (before ALTER EXTENSION fence UPDATE to 0.4.0)
UPDATE fence.exemptions
SET revoked_at = $3, revoked_by = $2, revoke_reason = $4
WHERE id = $1 AND revoked_at IS NULL
RETURNING scope, target
