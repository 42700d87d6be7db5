SELECT version, document::text, document_hash
FROM fence.policy_versions
ORDER BY version DESC
LIMIT 1
