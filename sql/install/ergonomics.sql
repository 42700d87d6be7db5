-- Views for psql sessions (0.2.0): what is waiting, what is live, what just happened.

-- Approvals whose content has not run yet (no decision was allowed by them).
CREATE VIEW fence.pending_approvals AS
SELECT a.content_hash,
       pg_catalog.string_agg(a.approved_by, ', ' ORDER BY a.id) AS approved_by,
       pg_catalog.count(*) AS approvals,
       pg_catalog.max(a.created_at) AS last_approved_at,
       pg_catalog.cardinality(pg_catalog.max(a.statement_hashes)) AS statements,
       pg_catalog.max(a.repository) AS repository,
       pg_catalog.max(a.pull_request) AS pull_request,
       pg_catalog.max(a.note) AS note,
       pg_catalog.min(a.id) AS first_id
FROM fence.approvals a
WHERE a.decision = 'approve' AND a.revoked_at IS NULL
  AND NOT EXISTS (SELECT 1 FROM fence.audit_chain c WHERE c.content_hash = a.content_hash AND c.reason = 'approved')
GROUP BY a.content_hash;

-- Exemptions in force now.
CREATE VIEW fence.live_exemptions AS
SELECT e.id, e.scope, e.target, e.reason, e.finding, e.created_by, e.created_at, e.expires_at,
       pg_catalog.date_trunc('second', e.expires_at - pg_catalog.now()) AS expires_in,
       e.databases, e.origin
FROM fence.exemptions e
WHERE e.revoked_at IS NULL AND e.expires_at > pg_catalog.now();

-- The last 100 decisions, newest first, one line each.
CREATE VIEW fence.recent_decisions AS
SELECT c.seq, c.recorded_at, c.session_role AS role, c.command_tag, c.relation, c.decision,
       c.reason, c.risk,
       (SELECT pg_catalog.string_agg(DISTINCT f ->> 'rule', ',')
        FROM pg_catalog.jsonb_array_elements(c.details -> 'findings') f
        WHERE f ->> 'risk' <> 'none') AS rules,
       pg_catalog.left(c.statement, 120) AS statement
FROM fence.audit_chain c
WHERE c.decision IS NOT NULL
ORDER BY c.seq DESC
LIMIT 100;

GRANT SELECT ON fence.pending_approvals, fence.live_exemptions, fence.recent_decisions
    TO fence_auditor, fence_admin, fence_approver;
