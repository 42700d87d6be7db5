-- $1 created_at, $2 created_by, $3 note, $4 document, $5 document hash; a version received
-- from the fleet's control database: $6 its identity, $7 its version number there.
INSERT INTO fence.policy_versions (version, created_at, created_by, note, document, document_hash, origin,
                                   origin_version)
SELECT COALESCE(max(version), 0) + 1, $1, $2, $3, $4, $5, $6::uuid, $7
FROM fence.policy_versions
RETURNING version
