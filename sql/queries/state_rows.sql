-- The governance state verify_chain proves from the chain, one row per grant, as text:
-- kind, id, then the fields a decision depends on (see fence_core::state_verify).
SELECT 'approval', id::text, content_hash, pg_catalog.array_to_json(statement_hashes)::text, decision,
       approved_by, (revoked_at IS NOT NULL)::text, NULL, NULL, NULL
FROM fence.approvals
UNION ALL
SELECT 'exemption', id::text, scope, target, reason, finding, (revoked_at IS NOT NULL)::text,
       (EXTRACT(epoch FROM expires_at) * 1000000)::bigint::text, relid::text,
       pg_catalog.array_to_json(statement_hashes)::text
FROM fence.exemptions
UNION ALL
SELECT 'policy', version::text, document_hash, document::text, NULL, NULL, NULL, NULL, NULL, NULL
FROM fence.policy_versions
