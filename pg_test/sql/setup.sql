-- Install fence and the roles the suite uses.
CREATE EXTENSION fence;
SELECT extname, extversion FROM pg_extension WHERE extname = 'fence';
SELECT count(*) AS fence_roles FROM pg_roles WHERE rolname IN ('fence_admin', 'fence_approver', 'fence_auditor');
SELECT evtname, evtevent FROM pg_event_trigger ORDER BY evtname;
SELECT version, created_by, document->>'mode' AS mode, document->>'approval_threshold' AS threshold
FROM fence.policy_versions;

CREATE ROLE regress_ci LOGIN;
CREATE ROLE regress_approver LOGIN IN ROLE fence_approver;
CREATE ROLE regress_approver2 LOGIN IN ROLE fence_approver;
CREATE ROLE regress_admin LOGIN IN ROLE fence_admin;
CREATE ROLE regress_auditor LOGIN IN ROLE fence_auditor;
GRANT CREATE ON SCHEMA public TO regress_ci;

SET SESSION AUTHORIZATION regress_ci;
CREATE TABLE users (id bigint PRIMARY KEY, email text, nickname text);
INSERT INTO users SELECT g, 'user' || g || '@example.com', NULL FROM generate_series(1, 1000) g;
CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint, total numeric, created_at timestamptz DEFAULT now());
INSERT INTO orders SELECT g, g % 1000 + 1, g, now() FROM generate_series(1, 1000) g;
RESET SESSION AUTHORIZATION;
