-- Before ALTER EXTENSION fence UPDATE to 0.4.0 (a newer library, the old table): an exemption
-- as releases before 0.4.0 stored it; the update binds it (see fence--0.3.0--0.4.0.sql).
INSERT INTO fence.exemptions (scope, target, reason, finding, created_by, created_at, expires_at, policy_version)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
RETURNING id
