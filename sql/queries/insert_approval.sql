INSERT INTO fence.approvals (
    content_hash, statement_hashes, content, decision, approved_by, approved_as, note, source,
    repository, pull_request, commit_sha, external_approver, analysis, policy_version, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
RETURNING id
