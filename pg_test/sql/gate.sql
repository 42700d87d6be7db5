-- The gate: risky DDL is refused with the statement, the lock, the findings and the next step.
SET SESSION AUTHORIZATION regress_ci;
ALTER TABLE users ALTER COLUMN email SET NOT NULL;
-- With fence loaded in the session (its ProcessUtility hook runs each statement), an error
-- PostgreSQL raises comes through as it is: no Rust backtrace in its DETAIL, though the
-- server runs with RUST_BACKTRACE=1.
CREATE TABLE users (id int);
\set VERBOSITY terse
-- Below the threshold: allowed (low risk is reported as a NOTICE).
ALTER TABLE users ADD COLUMN plan text DEFAULT 'free';
CREATE TABLE events (id int);
-- A malformed approval value is an error when it is set.
SET fence.approval = 'sha256:XYZ';
SET fence.approval = 'approved-by-bob';
-- The migration role cannot approve.
SELECT fence.approve('ALTER TABLE users ALTER COLUMN email SET NOT NULL');
RESET SESSION AUTHORIZATION;

-- An approver approves the exact content.
SET SESSION AUTHORIZATION regress_approver;
SELECT fence.approve($$
  ALTER TABLE users ALTER COLUMN email SET NOT NULL;
  CREATE INDEX users_email_idx ON users (email);
$$, note => 'reviewed', source => 'github', repository => 'acme/app', pull_request => '42') AS approved
\gset
SELECT :'approved' = fence.content_hash('ALTER TABLE users ALTER COLUMN email SET NOT NULL; CREATE INDEX users_email_idx ON users (email)') AS hash_matches;
RESET SESSION AUTHORIZATION;

SET SESSION AUTHORIZATION regress_ci;
SET fence.approval = :'approved';
-- An edited statement is not covered by the approval.
CREATE INDEX users_email_idx ON users (lower(email));
-- The approved statements run (comments and spacing do not matter).
ALTER TABLE users ALTER COLUMN email   SET NOT NULL; -- approved
CREATE INDEX users_email_idx ON users (email);
-- A different risky statement still is not.
ALTER TABLE users DROP COLUMN nickname;
RESET fence.approval;
RESET SESSION AUTHORIZATION;

-- Separation of duties: an approver's own approval does not let them run it.
GRANT regress_ci TO regress_approver2;
SET SESSION AUTHORIZATION regress_approver2;
SELECT fence.approve('ALTER TABLE users DROP COLUMN nickname') AS own \gset
SET fence.approval = :'own';
ALTER TABLE users DROP COLUMN nickname;
RESET fence.approval;
RESET SESSION AUTHORIZATION;

-- Two approvals for critical risk, and a rejection blocks even approved content.
SELECT fence.set_policy('{"approval_threshold": "medium", "approvals_required": {"medium": 2}}', 'two approvers');
SET SESSION AUTHORIZATION regress_approver;
SELECT fence.approve('ALTER TABLE users DROP COLUMN nickname') AS two \gset
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_ci;
SET fence.approval = :'two';
ALTER TABLE users DROP COLUMN nickname;
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_admin;
SELECT fence.set_policy('{"approvals_required": {"medium": 1}}');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_approver2;
SELECT fence.approve('ALTER TABLE users DROP COLUMN nickname', decision => 'reject', note => 'keep it') IS NOT NULL AS rejected;
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_ci;
SET fence.approval = :'two';
ALTER TABLE users DROP COLUMN nickname;
RESET SESSION AUTHORIZATION;

-- Revoking an approval takes effect at once.
SET SESSION AUTHORIZATION regress_approver;
SELECT fence.approve('ALTER TABLE orders ALTER COLUMN total TYPE float8') AS typ \gset
SELECT fence.revoke_approval(:'typ', 'wrong type');
SELECT fence.revoke_approval(:'typ', 'again');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_ci;
SET fence.approval = :'typ';
ALTER TABLE orders ALTER COLUMN total TYPE float8;
RESET SESSION AUTHORIZATION;

-- Invalid policies are refused, naming the key.
SELECT fence.set_policy('{"mdoe": "warn"}');
SELECT fence.set_policy('{"approval_threshold": "severe"}');
-- Warn mode lets the statement through with a WARNING, recorded as such.
SELECT fence.set_policy('{"mode": "warn"}');
SET SESSION AUTHORIZATION regress_ci;
CREATE INDEX orders_user_idx ON orders (user_id);
RESET SESSION AUTHORIZATION;
SELECT fence.set_policy('{}', 'back to defaults');
SELECT kind, command_tag, decision, reason, risk FROM fence.audit_chain WHERE seq = (SELECT max(seq) - 1 FROM fence.audit_chain);
