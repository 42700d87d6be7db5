-- An exemption (or its revocation) received from the control database ($1: the
-- fleet_exemptions row as jsonb), under the policy version in force here ($2): kept only when
-- it applies in this database (databases names it, by name or fence.database_id(), or is
-- NULL); a relation exemption is bound to the table its name resolves to here. Returns the
-- local id, relid and expiry (microseconds since 1970), whether the row is new and whether it is revoked now; no row when
-- nothing changed.
INSERT INTO fence.exemptions AS e (
    scope, target, reason, finding, relid, statement_hashes, created_by, created_at, expires_at, policy_version,
    revoked_at, revoked_by, revoke_reason, databases, origin, origin_id)
SELECT r.scope, r.target, r.reason, r.finding,
       CASE WHEN r.scope = 'relation' THEN pg_catalog.to_regclass(r.target)::oid END,
       r.statement_hashes, r.created_by, r.created_at, r.expires_at, $2, r.revoked_at, r.revoked_by,
       r.revoke_reason, r.databases, r.origin, r.id
FROM pg_catalog.jsonb_populate_record(NULL::fence.fleet_exemptions, $1) r
WHERE r.databases IS NULL
   OR pg_catalog.current_database() = ANY (r.databases)
   OR fence.database_id()::text = ANY (r.databases)
ON CONFLICT (origin, origin_id) WHERE origin IS NOT NULL DO UPDATE
SET revoked_at = EXCLUDED.revoked_at, revoked_by = EXCLUDED.revoked_by, revoke_reason = EXCLUDED.revoke_reason
WHERE e.revoked_at IS NULL AND EXCLUDED.revoked_at IS NOT NULL
RETURNING e.id, e.relid, (EXTRACT(epoch FROM e.expires_at) * 1000000)::bigint AS expires_us, (e.xmax = 0) AS inserted,
          (e.revoked_at IS NOT NULL) AS revoked
