-- Evidence export: one row per chain event with the joined approval / exemption evidence
-- and every field needed to recompute the hashes offline.
CREATE VIEW fence.audit_export AS
SELECT
    c.seq,
    c.recorded_at,
    (EXTRACT(epoch FROM c.recorded_at) * 1000000)::bigint AS time_us,
    c.kind,
    c.session_role AS actor,
    c.session_role,
    c.executing_role,
    c.txid,
    c.command_tag,
    c.relation,
    c.statement,
    c.statement_hash,
    c.content_hash,
    c.decision AS policy_result,
    c.decision,
    c.reason,
    c.risk AS highest_risk,
    c.risk,
    c.details -> 'findings' AS findings,
    CASE WHEN c.details ->> 'unknown' = 'true' THEN 1 ELSE 0 END AS unknown_statement_count,
    c.policy_version,
    c.policy_hash,
    c.details ->> 'organization' AS organization,
    COALESCE(ap.repository, c.details ->> 'repository') AS repository,
    COALESCE(ap.pull_request, c.details ->> 'pull_request') AS pull_request,
    COALESCE(ap.commit_sha, c.details ->> 'commit_sha') AS commit_sha,
    c.details -> 'migration_files' AS migration_files,
    ap.approvers AS approver,
    ap.approved_at AS approval_time,
    ex.reason AS exemption_reason,
    c.details::text AS details,
    c.prev_hash,
    c.event_hash
FROM fence.audit_chain c
LEFT JOIN LATERAL (
    SELECT pg_catalog.string_agg(DISTINCT a.approved_by, ',') AS approvers,
           pg_catalog.max(a.created_at) AS approved_at,
           pg_catalog.max(a.repository) AS repository,
           pg_catalog.max(a.pull_request) AS pull_request,
           pg_catalog.max(a.commit_sha) AS commit_sha
    FROM fence.approvals a
    WHERE a.id IN (SELECT pg_catalog.jsonb_array_elements_text(c.details -> 'approval_ids')::bigint)
) ap ON true
LEFT JOIN fence.exemptions ex ON ex.id = (c.details ->> 'exemption_id')::bigint;
