-- $1 id, $2 revoking role, $3 time, $4 reason; only an exemption made in this database (one
-- received from the fleet's control database is revoked there)
UPDATE fence.exemptions
SET revoked_at = $3, revoked_by = $2, revoke_reason = $4
WHERE id = $1 AND revoked_at IS NULL AND origin IS NULL
RETURNING scope, target
