-- fence 0.1.0 -> 0.2.0: psql views (pending approvals, live exemptions, recent decisions)
-- and a COMMENT on every object.
\echo Use "ALTER EXTENSION fence UPDATE TO '0.2.0'" to load this file. \quit


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
       pg_catalog.date_trunc('second', e.expires_at - pg_catalog.now()) AS expires_in
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

-- What \dx+ fence, \df+ fence.* and \dv fence.* show: one line per object.
COMMENT ON FUNCTION fence.analyze IS
    'One row per statement of the SQL: locks (pg_locks names), rewrite, scan, risk and findings with safe rewrites, judged against this database''s catalog';
COMMENT ON FUNCTION fence.content_hash IS
    'sha256 content hash of a migration (comments and whitespace ignored), as the fence CLI prints it; the value for SET fence.approval';
COMMENT ON FUNCTION fence.approve IS
    'fence_approver: approve (or reject) exactly this migration content; records approver, metadata, the analysis seen and the policy version; returns the content hash';
COMMENT ON FUNCTION fence.revoke_approval IS
    'fence_approver: revoke your own approvals of a content hash, with a reason';
COMMENT ON FUNCTION fence.exempt IS
    'fence_admin: time-boxed exemption by statement hash, content hash, relation or rule, with a written reason; expiry bounded by policy';
COMMENT ON FUNCTION fence.revoke_exemption IS
    'fence_admin: end an exemption early, with a reason';
COMMENT ON FUNCTION fence.set_policy IS
    'fence_admin: validate a policy document (errors name the bad key), fill defaults and append it as the new version';
COMMENT ON FUNCTION fence.verify_chain() IS
    'fence_auditor: recompute every hash of the audit chain; ok, events checked, first bad seq and why, head hash';
COMMENT ON FUNCTION fence.verify_chain(bigint, text) IS
    'fence_auditor: verify_chain() plus: the chain still reaches this anchor (from fence.anchor()) with the same hash';
COMMENT ON FUNCTION fence.anchor IS
    'fence_auditor: the chain head (seq, hash) to keep outside the database; the anchoring is recorded';
COMMENT ON FUNCTION fence.audit_export_range IS
    'fence_auditor: the evidence export for a time window and/or one repository / pull request';
COMMENT ON FUNCTION fence.gate IS 'Event trigger (ddl_command_start): analyzes and decides every DDL statement';
COMMENT ON FUNCTION fence.record IS 'Event trigger (ddl_command_end): records the objects a statement created or altered';
COMMENT ON FUNCTION fence.record_dropped IS 'Event trigger (sql_drop): records the objects a statement dropped';
COMMENT ON FUNCTION fence.record_rewrite IS 'Event trigger (table_rewrite): records the rewrites PostgreSQL performs';
COMMENT ON FUNCTION fence.forbid_change IS 'Trigger: the audit chain is append-only';
COMMENT ON TABLE fence.policy_versions IS 'Every policy document ever set; the highest version is in force';
COMMENT ON TABLE fence.approvals IS 'Approvals and rejections of exact migration content (fence.approve)';
COMMENT ON TABLE fence.exemptions IS 'Time-boxed exemptions (fence.exempt)';
COMMENT ON TABLE fence.audit_chain IS 'The hash chain: every decision, approval, exemption, policy change and executed DDL; verify with fence.verify_chain()';
COMMENT ON TABLE fence.pending_denials IS 'Denials committed by the denial writer and not yet chained (normally empty)';
COMMENT ON VIEW fence.audit_export IS 'fence_auditor: one row per chain event with the evidence fields and every hashed field (CSV export)';
COMMENT ON VIEW fence.stats IS 'Decisions by outcome, risk and rule per time window, last denial, expiring exemptions, unused approvals';
COMMENT ON VIEW fence.pending_approvals IS 'Approved content that has not run yet';
COMMENT ON VIEW fence.live_exemptions IS 'Exemptions in force now, with the time left';
COMMENT ON VIEW fence.recent_decisions IS 'The last 100 decisions, newest first';
