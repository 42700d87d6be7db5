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
    c.details -> 'claims' ->> 'organization' AS organization,
    COALESCE(ap.repository, c.details -> 'claims' ->> 'repository', c.details ->> 'repository') AS repository,
    COALESCE(ap.pull_request, c.details -> 'claims' ->> 'pull_request', c.details ->> 'pull_request') AS pull_request,
    COALESCE(ap.commit_sha, c.details -> 'claims' ->> 'commit_sha', c.details ->> 'commit_sha') AS commit_sha,
    c.details -> 'claims' ->> 'actor' AS claimed_actor,
    c.details -> 'session' ->> 'application_name' AS application_name,
    c.details -> 'session' ->> 'client_addr' AS client_addr,
    (c.details -> 'session' ->> 'backend_pid')::integer AS backend_pid,
    c.details -> 'claims' ->> 'migration_files' AS migration_files,
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

-- The export for a time window and/or one repository / pull request. Rows of a filtered
-- export are not contiguous: `fence verify-csv --segments` checks each row's hash and the
-- links between consecutive rows.
CREATE FUNCTION fence.audit_export_range(
    from_time timestamptz DEFAULT '-infinity',
    to_time timestamptz DEFAULT 'infinity',
    repository text DEFAULT NULL,
    pull_request text DEFAULT NULL
) RETURNS SETOF fence.audit_export
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT e.*
    FROM fence.audit_export e
    WHERE e.recorded_at >= from_time AND e.recorded_at < to_time
      AND (audit_export_range.repository IS NULL OR e.repository = audit_export_range.repository)
      AND (audit_export_range.pull_request IS NULL OR e.pull_request = audit_export_range.pull_request)
    ORDER BY e.seq
$$;
