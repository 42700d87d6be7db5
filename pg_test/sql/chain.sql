-- The audit chain: contiguous, linked, verified; tampering by a superuser is detected.
\set VERBOSITY terse
SELECT min(seq) = 1 AND max(seq) = count(*) AS contiguous FROM fence.audit_chain;
SELECT bool_and(prev_hash = lag) AS linked
FROM (SELECT prev_hash, lag(event_hash, 1, 'sha256:' || repeat('0', 64)) OVER (ORDER BY seq) FROM fence.audit_chain) s;
SELECT ok, first_bad_seq, reason FROM fence.verify_chain();
SELECT kind, count(*) FROM fence.audit_chain GROUP BY kind ORDER BY kind;

-- Rolled-back DDL leaves no event; a savepoint's rollback drops only its own events.
SELECT max(seq) AS before FROM fence.audit_chain \gset
BEGIN;
CREATE TABLE rolled_back (id int);
ROLLBACK;
BEGIN;
CREATE TABLE kept (id int);
SAVEPOINT s;
CREATE TABLE undone (id int);
ROLLBACK TO SAVEPOINT s;
COMMIT;
SELECT seq - :before AS n, command_tag, details->'objects'->0->>'identity' AS object
FROM fence.audit_chain WHERE seq > :before ORDER BY seq;

-- The export carries the evidence fields and the hashes.
SELECT seq, kind, actor, command_tag, policy_result, highest_risk, approver, exemption_reason IS NOT NULL AS exempted,
       event_hash ~ '^sha256:' AS hashed
FROM fence.audit_export WHERE kind IN ('ddl', 'approval') AND (approver IS NOT NULL OR exemption_reason IS NOT NULL)
ORDER BY seq;

-- Tampering, as superuser with fence's triggers off (session_replication_role = replica).
CREATE TEMP TABLE saved AS SELECT * FROM fence.audit_chain WHERE seq = 5;
SET session_replication_role = replica;
UPDATE fence.audit_chain SET statement = 'harmless' WHERE seq = 5;
SELECT ok, first_bad_seq, reason FROM fence.verify_chain();
UPDATE fence.audit_chain SET statement = (SELECT statement FROM saved) WHERE seq = 5;
UPDATE fence.audit_chain SET recorded_at = recorded_at + interval '1 second' WHERE seq = 6;
SELECT ok, first_bad_seq, reason FROM fence.verify_chain();
UPDATE fence.audit_chain SET recorded_at = recorded_at - interval '1 second' WHERE seq = 6;
SELECT ok, first_bad_seq FROM fence.verify_chain();
DELETE FROM fence.audit_chain WHERE seq = 5;
SELECT ok, first_bad_seq, reason FROM fence.verify_chain();
INSERT INTO fence.audit_chain SELECT * FROM saved;
SELECT ok FROM fence.verify_chain();
INSERT INTO fence.audit_chain
SELECT max(seq) + 1, now(), 'ddl', 'regress_approver', 'regress_approver', NULL, 'DROP TABLE', 'public.users',
       'DROP TABLE users', NULL, NULL, 'allow', 'approved', 'high', 1, NULL, '{}',
       (SELECT event_hash FROM fence.audit_chain ORDER BY seq DESC LIMIT 1), 'sha256:' || repeat('f', 64)
FROM fence.audit_chain;
SELECT ok, first_bad_seq = (SELECT max(seq) FROM fence.audit_chain) AS forged_is_last, reason FROM fence.verify_chain();
DELETE FROM fence.audit_chain WHERE seq = (SELECT max(seq) FROM fence.audit_chain);
-- Swapping two events' contents (reordering).
CREATE TEMP TABLE pair AS SELECT * FROM fence.audit_chain WHERE seq IN (3, 4);
UPDATE fence.audit_chain c SET statement = p.statement, kind = p.kind, command_tag = p.command_tag
FROM pair p WHERE c.seq = 3 AND p.seq = 4;
SELECT ok, first_bad_seq FROM fence.verify_chain();
UPDATE fence.audit_chain c SET statement = p.statement, kind = p.kind, command_tag = p.command_tag
FROM pair p WHERE c.seq = 3 AND p.seq = 3;
RESET session_replication_role;
SELECT ok FROM fence.verify_chain();
