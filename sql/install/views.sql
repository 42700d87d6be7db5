-- Evidence export: one row per chain event with the joined approval / exemption evidence
-- and every field needed to recompute the hashes offline. Read in full by every export: the
-- approvals and the exemption are looked up only for the events that name them, and time_us
-- is converted without numeric arithmetic.
CREATE VIEW fence.audit_export AS
SELECT
    c.seq,
    c.recorded_at,
    fence.time_us(c.recorded_at) AS time_us,
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
    COALESCE(CASE WHEN c.details ? 'approval_ids' THEN
                 (SELECT pg_catalog.max(a.repository) FROM fence.approvals a WHERE a.id IN (SELECT pg_catalog.jsonb_array_elements_text(c.details -> 'approval_ids')::bigint)) END,
             c.details -> 'claims' ->> 'repository', c.details ->> 'repository') AS repository,
    COALESCE(CASE WHEN c.details ? 'approval_ids' THEN
                 (SELECT pg_catalog.max(a.pull_request) FROM fence.approvals a WHERE a.id IN (SELECT pg_catalog.jsonb_array_elements_text(c.details -> 'approval_ids')::bigint)) END,
             c.details -> 'claims' ->> 'pull_request', c.details ->> 'pull_request') AS pull_request,
    COALESCE(CASE WHEN c.details ? 'approval_ids' THEN
                 (SELECT pg_catalog.max(a.commit_sha) FROM fence.approvals a WHERE a.id IN (SELECT pg_catalog.jsonb_array_elements_text(c.details -> 'approval_ids')::bigint)) END,
             c.details -> 'claims' ->> 'commit_sha', c.details ->> 'commit_sha') AS commit_sha,
    c.details -> 'claims' ->> 'actor' AS claimed_actor,
    c.details -> 'session' ->> 'application_name' AS application_name,
    c.details -> 'session' ->> 'client_addr' AS client_addr,
    (c.details -> 'session' ->> 'backend_pid')::integer AS backend_pid,
    c.details -> 'claims' ->> 'migration_files' AS migration_files,
    CASE WHEN c.details ? 'approval_ids' THEN
        (SELECT pg_catalog.string_agg(DISTINCT a.approved_by, ',') FROM fence.approvals a WHERE a.id IN (SELECT pg_catalog.jsonb_array_elements_text(c.details -> 'approval_ids')::bigint)) END AS approver,
    CASE WHEN c.details ? 'approval_ids' THEN
        (SELECT pg_catalog.max(a.created_at) FROM fence.approvals a WHERE a.id IN (SELECT pg_catalog.jsonb_array_elements_text(c.details -> 'approval_ids')::bigint)) END AS approval_time,
    CASE WHEN c.details ? 'exemption_id' THEN
        (SELECT ex.reason FROM fence.exemptions ex WHERE ex.id = (c.details ->> 'exemption_id')::bigint) END AS exemption_reason,
    c.details::text AS details,
    c.prev_hash,
    c.event_hash
FROM fence.audit_chain c;

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

-- What operators watch: decisions by outcome, risk and rule over the last hour, day and
-- week; the last denial; exemptions expiring within a day; approvals whose content has not
-- run yet. Each part reads only its window (indexes on recorded_at, denials, content_hash).
CREATE VIEW fence.stats AS
WITH windows (time_window, since) AS (
    VALUES ('1 hour', pg_catalog.now() - interval '1 hour'),
           ('24 hours', pg_catalog.now() - interval '24 hours'),
           ('7 days', pg_catalog.now() - interval '7 days')
),
decisions AS (
    SELECT w.time_window, c.seq, c.decision, c.risk
    FROM windows w
    JOIN fence.audit_chain c ON c.recorded_at >= w.since
    WHERE c.decision IN ('allow', 'warn', 'deny')
)
SELECT time_window, 'outcome' AS metric, decision AS key, pg_catalog.count(*) AS count, NULL::text AS detail
FROM decisions GROUP BY time_window, decision
UNION ALL
SELECT time_window, 'risk', risk, pg_catalog.count(*), NULL FROM decisions GROUP BY time_window, risk
UNION ALL
SELECT d.time_window, 'rule', f ->> 'rule', pg_catalog.count(*), NULL
FROM decisions d
JOIN fence.audit_chain c ON c.seq = d.seq
CROSS JOIN LATERAL pg_catalog.jsonb_array_elements(c.details -> 'findings') f
WHERE f ->> 'risk' <> 'none'
GROUP BY d.time_window, f ->> 'rule'
UNION ALL
(SELECT 'all', 'last_denial', c.relation, c.seq,
        pg_catalog.format('%s: %s by %s at %s', c.reason, pg_catalog.left(c.statement, 200), c.session_role, c.recorded_at)
 FROM fence.audit_chain c WHERE c.decision = 'deny' ORDER BY c.seq DESC LIMIT 1)
UNION ALL
SELECT 'next 24 hours', 'exemption_expiring', e.scope || ':' || e.target, e.id,
       pg_catalog.format('expires %s: %s', e.expires_at, e.reason)
FROM fence.exemptions e
WHERE e.revoked_at IS NULL AND e.expires_at > pg_catalog.now() AND e.expires_at <= pg_catalog.now() + interval '24 hours'
UNION ALL
SELECT 'all', 'approval_unused', a.content_hash, a.id,
       pg_catalog.format('approved by %s at %s', a.approved_by, a.created_at)
FROM fence.approvals a
WHERE a.decision = 'approve' AND a.revoked_at IS NULL
  AND NOT EXISTS (SELECT 1 FROM fence.audit_chain c WHERE c.content_hash = a.content_hash AND c.reason = 'approved');
