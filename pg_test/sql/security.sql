-- The migration role cannot touch fence's state or switch it off.
\set VERBOSITY terse
SET SESSION AUTHORIZATION regress_ci;
INSERT INTO fence.approvals (content_hash, statement_hashes, content, decision, approved_by, approved_as, analysis, policy_version, created_at)
VALUES ('sha256:' || repeat('0', 64), '{}', 'x', 'approve', 'regress_approver', 'regress_approver', '[]', 1, now());
UPDATE fence.approvals SET revoked_at = NULL;
DELETE FROM fence.exemptions;
INSERT INTO fence.policy_versions VALUES (99, now(), 'regress_ci', NULL, '{"mode": "off"}', 'x');
UPDATE fence.audit_chain SET decision = 'allow';
DELETE FROM fence.audit_chain;
TRUNCATE fence.audit_chain;
SELECT count(*) FROM fence.audit_chain;
SELECT fence.set_policy('{"mode": "off"}');
SELECT * FROM fence.verify_chain();
ALTER EVENT TRIGGER fence_gate DISABLE;
DROP EVENT TRIGGER fence_gate;
SET session_replication_role = replica;
DROP EXTENSION fence;
-- DDL smuggled through a DO block is gated on the statement it runs.
DO $$ BEGIN EXECUTE 'ALTER TABLE users ALTER COLUMN nickname SET NOT NULL'; END $$;
CREATE FUNCTION sneaky() RETURNS void LANGUAGE plpgsql SECURITY DEFINER AS $$ BEGIN ALTER TABLE users ALTER COLUMN nickname SET NOT NULL; END $$;
SELECT sneaky();
-- Several statements in one query string: each is gated on its own text.
ALTER TABLE users ADD COLUMN ok1 int\; ALTER TABLE users ALTER COLUMN nickname SET NOT NULL;
RESET SESSION AUTHORIZATION;

-- Even the table owner (superuser) cannot edit the chain while its guard triggers are on.
UPDATE fence.audit_chain SET decision = 'allow' WHERE seq = 1;
DELETE FROM fence.audit_chain WHERE seq = 1;
-- Auditors read and verify.
SET SESSION AUTHORIZATION regress_auditor;
SELECT ok, checked > 0 AS checked_some, first_bad_seq FROM fence.verify_chain();
SELECT count(*) > 0 AS exported FROM fence.audit_export;
INSERT INTO fence.audit_chain SELECT * FROM fence.audit_chain LIMIT 1;
RESET SESSION AUTHORIZATION;
