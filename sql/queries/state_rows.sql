-- The governance state verify_chain proves from the chain, one row per grant, as text:
-- kind, id, then the fields a decision depends on (see fence_core::state_verify), in the
-- columns a..d by kind: approval (content_hash, statement_hashes, decision, approved_by),
-- exemption (scope, target, reason, finding), policy (document_hash, document).
SELECT 'approval' AS kind, id::text AS id, content_hash AS a, pg_catalog.array_to_json(statement_hashes)::text AS b,
       decision AS c, approved_by AS d, (revoked_at IS NOT NULL)::text AS revoked, NULL AS expires_us,
       NULL AS relid, NULL AS statement_hashes, NULL AS databases
FROM fence.approvals
UNION ALL
SELECT 'exemption', id::text, scope, target, reason, finding, (revoked_at IS NOT NULL)::text,
       (EXTRACT(epoch FROM expires_at) * 1000000)::bigint::text, relid::text,
       pg_catalog.array_to_json(statement_hashes)::text, pg_catalog.array_to_json(databases)::text
FROM fence.exemptions
UNION ALL
SELECT 'policy', version::text, document_hash, document::text, NULL, NULL, NULL, NULL, NULL, NULL, NULL
FROM fence.policy_versions
