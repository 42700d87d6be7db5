INSERT INTO fence.exemptions (scope, target, reason, finding, created_by, created_at, expires_at, policy_version,
                              relid, statement_hashes, databases)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
RETURNING id
