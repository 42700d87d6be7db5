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

-- Row-level change audit: admins choose the tables and the retention; auditors (and admins)
-- query the history. Sealing is what the sealer does anyway: both may ask for it now.
GRANT EXECUTE ON FUNCTION fence.track_table, fence.untrack_table, fence.drop_row_changes TO fence_admin;
GRANT EXECUTE ON FUNCTION fence.row_history, fence.row_as_of, fence.changes_by, fence.seal_changes, fence.key_hash, fence.old_row,
    fence.row_audit_status TO fence_auditor, fence_admin;
GRANT SELECT ON fence.tracked_tables TO fence_admin;

-- The fleet: set up by superusers only (no grant); its state and its evidence for auditors.
GRANT EXECUTE ON FUNCTION fence.database_id() TO PUBLIC;
-- Pure arithmetic, called by the export view for whoever reads it.
GRANT EXECUTE ON FUNCTION fence.time_us TO PUBLIC;
GRANT EXECUTE ON FUNCTION fence.fleet_status(), fence.verify_fleet() TO fence_auditor, fence_admin;

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
SELECT pg_catalog.pg_extension_config_dump('fence.tracked_tables', '');
SELECT pg_catalog.pg_extension_config_dump('fence.tracked_tables_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('fence.row_changes_default', '');
SELECT pg_catalog.pg_extension_config_dump('fence.identity', '');
SELECT pg_catalog.pg_extension_config_dump('fence.fleet_roles', '');
SELECT pg_catalog.pg_extension_config_dump('fence.fleet_policies', '');
SELECT pg_catalog.pg_extension_config_dump('fence.fleet_approvals', '');
SELECT pg_catalog.pg_extension_config_dump('fence.fleet_exemptions', '');
SELECT pg_catalog.pg_extension_config_dump('fence.fleet_chain', '');
SELECT pg_catalog.pg_extension_config_dump('fence.fleet_databases', '');
SELECT pg_catalog.pg_extension_config_dump('fence.fleet_sources', '');
SELECT pg_catalog.pg_extension_config_dump('fence.fleet_conflicts', '');
SELECT pg_catalog.pg_extension_config_dump('fence.fleet_row_changes', '');

-- What \dx+ fence, \df+ fence.* and \dv fence.* show: one line per object.
COMMENT ON FUNCTION fence.analyze IS
    'One row per statement of the SQL: locks (pg_locks names), rewrite, scan, risk and findings with safe rewrites, judged against this database''s catalog; with lock_queue => true, queued_behind: the sessions each statement would queue behind now; with estimate => true, the planner''s row estimate of each data step';
COMMENT ON FUNCTION fence.content_hash IS
    'sha256 content hash of a migration (comments and whitespace ignored), as the fence CLI prints it; the value for SET fence.approval';
COMMENT ON FUNCTION fence.approve IS
    'fence_approver: approve (or reject) exactly this migration content; records approver, metadata, the analysis seen and the policy version; returns the content hash';
COMMENT ON FUNCTION fence.revoke_approval IS
    'fence_approver: revoke your own approvals of a content hash, with a reason';
COMMENT ON FUNCTION fence.exempt IS
    'fence_admin: time-boxed exemption by statement hash, content hash, relation or rule, with a written reason; expiry bounded by policy; with databases, only in those databases of the fleet';
COMMENT ON FUNCTION fence.revoke_exemption IS
    'fence_admin: end an exemption early, with a reason';
COMMENT ON FUNCTION fence.set_policy IS
    'fence_admin: validate a policy document (errors name the bad key), fill defaults and append it as the new version';
COMMENT ON FUNCTION fence.verify_chain() IS
    'fence_auditor: recompute every hash of the audit chain; ok, events checked, first bad seq and why, head hash, row changes checked and not yet sealed, events parked and not yet chained';
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
COMMENT ON FUNCTION fence.forbid_change IS 'Trigger: fence''s audit tables are append-only';
COMMENT ON TABLE fence.policy_versions IS 'Every policy document ever set; the highest version is in force';
COMMENT ON TABLE fence.approvals IS 'Approvals and rejections of exact migration content (fence.approve)';
COMMENT ON TABLE fence.exemptions IS 'Time-boxed exemptions (fence.exempt)';
COMMENT ON TABLE fence.audit_chain IS 'The hash chain: every decision, approval, exemption, policy change and executed DDL; verify with fence.verify_chain()';
COMMENT ON TABLE fence.pending_denials IS 'Events waiting to be chained: denials committed by the denial writer, and the events of transactions that committed while another held the chain (chained by the next appender or the sealer; normally empty)';
COMMENT ON FUNCTION fence.time_us IS 'Microseconds since 1970 of a time, as an event''s hashed time_us (the export''s column)';
COMMENT ON VIEW fence.audit_export IS 'fence_auditor: one row per chain event with the evidence fields and every hashed field (CSV export)';
COMMENT ON VIEW fence.stats IS 'Decisions by outcome, risk and rule per time window, last denial, expiring exemptions, unused approvals';
COMMENT ON VIEW fence.pending_approvals IS 'Approved content that has not run yet';
COMMENT ON VIEW fence.live_exemptions IS 'Exemptions in force now, with the time left';
COMMENT ON VIEW fence.recent_decisions IS 'The last 100 decisions, newest first';
COMMENT ON FUNCTION fence.track_table IS
    'fence_admin: record every INSERT/UPDATE/DELETE/TRUNCATE of a table (minus excluded columns) in fence.row_changes, sealed into the chain';
COMMENT ON FUNCTION fence.untrack_table IS 'fence_admin: stop recording a table''s changes (its history stays); recorded in the chain';
COMMENT ON FUNCTION fence.drop_row_changes IS
    'fence_admin: drop the sealed row changes of every month that ended before a time; the retention is chained';
COMMENT ON FUNCTION fence.seal_changes IS 'fence_auditor: chain the parked events and seal the changes of finished transactions into the chain now; returns how many changes';
COMMENT ON FUNCTION fence.row_history IS 'fence_auditor: every recorded change of one row (key as jsonb, e.g. ''{"id": 7}''), oldest first';
COMMENT ON FUNCTION fence.key_hash IS 'fence_auditor: the index key of a row key (fence.row_changes.key_hash): sha256 of its text, first 8 bytes';
COMMENT ON FUNCTION fence.old_row IS 'fence_auditor: the whole row a change replaced, from its stored old_values and new_row';
COMMENT ON FUNCTION fence.row_as_of IS 'fence_auditor: a row as it was at a time (jsonb), from its recorded changes';
COMMENT ON FUNCTION fence.row_audit_status IS
    'fence_auditor: tables tracked, changes not sealed yet and the oldest of them, the last seal (for monitoring)';
COMMENT ON FUNCTION fence.changes_by IS 'fence_auditor: everything one actor changed in a time window';
COMMENT ON FUNCTION fence.record_row_change IS 'Trigger (installed by fence.track_table): records one row change';
COMMENT ON FUNCTION fence.sealed_until IS 'Internal: where the last sealed block of row changes ended';
COMMENT ON FUNCTION fence.install_row_triggers IS 'Internal: creates fence''s row triggers on a table, naming its tracking';
COMMENT ON FUNCTION fence.trigger_tracking IS 'Internal: the tracking id a fence row trigger names (its argument)';
COMMENT ON FUNCTION fence.tracked_relations IS 'Internal: each live tracking with its table (by its trigger, else its recorded name), as the row-audit checks protect it';
COMMENT ON FUNCTION fence.live_tracking IS 'Internal: the live tracking of a table, as its fence row trigger (or an ancestor''s) names it';
COMMENT ON FUNCTION fence.tracking_periods IS 'Internal: the tracking periods (table_id) of a table''s recorded changes';
COMMENT ON FUNCTION fence.create_row_summary_index IS 'Internal: the block-range index of one partition of fence.row_changes';
COMMENT ON FUNCTION fence.install_truncate_triggers IS 'Internal: the TRUNCATE trigger of a tracked table and of each of its partitions';
COMMENT ON FUNCTION fence.remove_row_triggers IS 'Internal: drops fence''s row triggers from a table';
COMMENT ON FUNCTION fence.create_row_partition IS 'Internal: creates the partition of fence.row_changes for one month';
COMMENT ON FUNCTION fence.row_partition_counts IS 'Internal: changes and unsealed changes of one partition';
COMMENT ON FUNCTION fence.summarize_row_ranges IS 'Internal: summarizes the full block ranges of a partition of fence.row_changes (the sealer)';
COMMENT ON FUNCTION fence.drop_row_partition IS 'Internal: drops one month''s partition (fence.drop_row_changes)';
COMMENT ON TABLE fence.tracked_tables IS 'Tables under row-level change audit, one row per tracking period';
COMMENT ON TABLE fence.row_changes IS 'Every row change of the tracked tables, partitioned by month; sealed into the chain in blocks';
COMMENT ON TABLE fence.row_changes_default IS 'Row changes of a month whose partition did not exist yet (normally empty)';
COMMENT ON TABLE fence.identity IS 'This database''s fleet identity (fence.database_id()), made at CREATE EXTENSION and kept by dump and restore';
COMMENT ON FUNCTION fence.database_id IS 'This database''s identity in the fleet: one uuid made at CREATE EXTENSION';
COMMENT ON TABLE fence.fleet_roles IS 'What this database is in the fleet (control, target, publisher, evidence), since when';
COMMENT ON TABLE fence.fleet_policies IS 'The control database''s policy versions as they travel to its targets (logical replication)';
COMMENT ON TABLE fence.fleet_approvals IS 'The control database''s approvals as they travel to its targets (logical replication)';
COMMENT ON TABLE fence.fleet_exemptions IS 'The control database''s exemptions as they travel to its targets (logical replication)';
COMMENT ON TABLE fence.fleet_chain IS 'Chains as they travel to the evidence database, inserts only: a publishing target''s own, or every collected target''s';
COMMENT ON TABLE fence.fleet_row_changes IS 'Row changes as they travel to the evidence database with their sealed blocks, inserts only';
COMMENT ON TABLE fence.fleet_databases IS 'The databases whose chains travel to the evidence database';
COMMENT ON TABLE fence.fleet_sources IS 'Evidence database: the database whose chain each subscription carries, bound by fence.collect_evidence()';
COMMENT ON TABLE fence.fleet_conflicts IS 'Evidence database: events that arrived again with another hash (their database cut or rewrote its chain); the first stays in fence.fleet_chain';
COMMENT ON FUNCTION fence.replicated_write IS 'Internal: a subscription''s worker is writing into one of fence''s tables directly (not through fence)';
COMMENT ON FUNCTION fence.forbid_replicated IS 'Trigger: fence''s own tables are not written by a subscription''s apply worker directly';
COMMENT ON FUNCTION fence.fleet_check_source IS 'Trigger (evidence database, apply worker): a subscription carries one database''s evidence only';
COMMENT ON FUNCTION fence.fleet_share IS 'Trigger (control database): each approval, exemption and policy version made here goes to the fleet_* tables';
COMMENT ON FUNCTION fence.fleet_receive IS 'Trigger (target, apply worker): each grant received from the control database becomes this database''s own';
COMMENT ON FUNCTION fence.fleet_copy_evidence IS 'Trigger (publishing target): each event appended to the chain is copied to fence.fleet_chain';
COMMENT ON FUNCTION fence.fleet_ddl IS 'Internal: the fleet''s set-up statements, names and connection strings quoted';
COMMENT ON FUNCTION fence.fleet_arrived IS 'Internal: a grant received from the control database becomes this database''s own, recorded in the chain';
COMMENT ON FUNCTION fence.fleet_status IS
    'fence_auditor: this database''s fleet roles and identity, each fence subscription (connected, last contact, policy version received) and slot (subscriber connected, WAL kept)';
COMMENT ON FUNCTION fence.serve_fleet IS 'Superuser: this database becomes the fleet''s control database (its approvals, exemptions and policy reach every target); returns the publication';
COMMENT ON FUNCTION fence.join_fleet IS 'Superuser: this database follows the control database the connection string names; returns the subscription';
COMMENT ON FUNCTION fence.publish_evidence IS 'Superuser: this database''s chain travels (inserts only) to evidence databases that collect it; returns the publication';
COMMENT ON FUNCTION fence.collect_evidence IS 'Superuser: this evidence database receives the chain of the target the connection string names; returns the subscription';
COMMENT ON FUNCTION fence.verify_fleet IS 'fence_auditor: every chain collected in this evidence database recomputed, with the row changes copied against its seals: one row per database, ok, events checked, first bad seq and why, head hash, row changes checked, when its newest event was recorded';
COMMENT ON VIEW fence.row_changes_export IS 'fence_auditor: every row change with its hashed fields, hash and key hashes (CSV export for fence verify-rows)';
