-- The control database starts serving: the policy in force, and every approval and exemption
-- made here so far, go to the fleet_* tables its targets receive.
WITH policies AS (
    INSERT INTO fence.fleet_policies
    SELECT fence.database_id(), version, created_at, created_by, note, document, document_hash
    FROM fence.policy_versions
    WHERE origin IS NULL
    ORDER BY version DESC
    LIMIT 1
    ON CONFLICT (origin, version) DO NOTHING
    RETURNING 1
), approvals AS (
    INSERT INTO fence.fleet_approvals
    SELECT fence.database_id(), id, content_hash, statement_hashes, content, decision, approved_by, approved_as, note,
           source, repository, pull_request, commit_sha, external_approver, analysis, policy_version, created_at,
           revoked_at, revoked_by, revoke_reason
    FROM fence.approvals
    WHERE origin IS NULL
    ON CONFLICT (origin, id) DO NOTHING
    RETURNING 1
), exemptions AS (
    INSERT INTO fence.fleet_exemptions
    SELECT fence.database_id(), id, scope, target, reason, finding, statement_hashes, databases, created_by,
           created_at, expires_at, policy_version, revoked_at, revoked_by, revoke_reason
    FROM fence.exemptions
    WHERE origin IS NULL
    ON CONFLICT (origin, id) DO NOTHING
    RETURNING 1
)
SELECT (SELECT count(*) FROM policies) AS policies, (SELECT count(*) FROM approvals) AS approvals,
       (SELECT count(*) FROM exemptions) AS exemptions
