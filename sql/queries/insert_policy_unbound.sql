-- $1 created_at, $2 created_by, $3 note, $4 document, $5 document hash (fence.policy_versions
-- before ALTER EXTENSION fence UPDATE to 0.4.0: no fleet origin columns).
INSERT INTO fence.policy_versions (version, created_at, created_by, note, document, document_hash)
SELECT COALESCE(max(version), 0) + 1, $1, $2, $3, $4, $5
FROM fence.policy_versions
RETURNING version
