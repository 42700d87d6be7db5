-- Privileges: the migration role needs none. Writes happen only through fence's functions,
-- which switch to the extension owner internally after checking the caller's role.

REVOKE ALL ON ALL TABLES IN SCHEMA fence FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA fence FROM PUBLIC;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA fence FROM PUBLIC;
GRANT USAGE ON SCHEMA fence TO PUBLIC;

-- Anyone may analyze and hash migrations (CI does, before asking for approval).
GRANT EXECUTE ON FUNCTION fence.analyze, fence.content_hash TO PUBLIC;

GRANT EXECUTE ON FUNCTION fence.approve, fence.revoke_approval TO fence_approver;
GRANT SELECT ON fence.approvals, fence.policy_versions TO fence_approver;

GRANT EXECUTE ON FUNCTION fence.exempt, fence.revoke_exemption, fence.set_policy TO fence_admin;
GRANT SELECT ON fence.exemptions, fence.approvals, fence.policy_versions, fence.stats TO fence_admin;

GRANT EXECUTE ON FUNCTION fence.verify_chain(), fence.verify_chain(bigint, text), fence.anchor()
    TO fence_auditor, fence_admin;
GRANT EXECUTE ON FUNCTION fence.audit_export_range TO fence_auditor, fence_admin;
GRANT SELECT ON ALL TABLES IN SCHEMA fence TO fence_auditor;

-- Policy version 1: the defaults (enforce; medium risk and above need an approval).
SELECT fence.set_policy('{}'::jsonb, 'installed with the extension');

-- pg_dump dumps fence's state with the database (a restore recreates version 1 itself).
-- Restore with event triggers off, as a superuser:
--   PGOPTIONS='-c session_replication_role=replica' pg_restore -d newdb dump
SELECT pg_catalog.pg_extension_config_dump('fence.policy_versions', 'WHERE version > 1');
SELECT pg_catalog.pg_extension_config_dump('fence.approvals', '');
SELECT pg_catalog.pg_extension_config_dump('fence.approvals_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('fence.exemptions', '');
SELECT pg_catalog.pg_extension_config_dump('fence.exemptions_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('fence.audit_chain', '');
SELECT pg_catalog.pg_extension_config_dump('fence.pending_denials', '');
SELECT pg_catalog.pg_extension_config_dump('fence.pending_denials_id_seq', '');
