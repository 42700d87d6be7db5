-- An approval (or its revocation) received from the control database ($1: the fleet_approvals
-- row as jsonb) becomes this database's own, under the policy version in force here ($2).
-- Returns the local id, whether the row is new, and whether it is revoked now; no row when
-- nothing changed.
INSERT INTO fence.approvals AS a (
    content_hash, statement_hashes, content, decision, approved_by, approved_as, note, source, repository,
    pull_request, commit_sha, external_approver, analysis, policy_version, created_at, revoked_at, revoked_by,
    revoke_reason, origin, origin_id)
SELECT r.content_hash, r.statement_hashes, r.content, r.decision, r.approved_by, r.approved_as, r.note, r.source,
       r.repository, r.pull_request, r.commit_sha, r.external_approver, r.analysis, $2, r.created_at, r.revoked_at,
       r.revoked_by, r.revoke_reason, r.origin, r.id
FROM pg_catalog.jsonb_populate_record(NULL::fence.fleet_approvals, $1) r
ON CONFLICT (origin, origin_id) WHERE origin IS NOT NULL DO UPDATE
SET revoked_at = EXCLUDED.revoked_at, revoked_by = EXCLUDED.revoked_by, revoke_reason = EXCLUDED.revoke_reason
WHERE a.revoked_at IS NULL AND EXCLUDED.revoked_at IS NOT NULL
RETURNING a.id, (a.xmax = 0) AS inserted, (a.revoked_at IS NOT NULL) AS revoked
