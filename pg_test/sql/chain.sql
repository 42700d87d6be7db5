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
SELECT seq - :before AS n, command_tag, details->'objects'->0->>'identity' AS object,
       details->'objects'->0->>'object_type' AS object_type, details->'objects'->0->>'schema' AS schema,
       details->'objects'->0->>'command_tag' AS object_command
FROM fence.audit_chain WHERE seq > :before ORDER BY seq;

-- The DDL trail: who (roles, claims, session), what (objects created, dropped, rewritten,
-- and whether the predicted rewrite happened).
SELECT fence.set_policy('{"mode": "warn"}', 'trail test') AS v \gset
SELECT max(seq) AS before FROM fence.audit_chain \gset
SET fence.actor = 'octocat';
SET application_name = 'regress-migrator';
CREATE TABLE trail (id int PRIMARY KEY, v varchar(10));
INSERT INTO trail VALUES (1, 'x');
ALTER TABLE trail ALTER COLUMN v TYPE int USING length(v);
CREATE VIEW trail_v AS SELECT * FROM trail;
ALTER TABLE trail ADD COLUMN c int DEFAULT 1;
ALTER TABLE trail ADD COLUMN r float8 DEFAULT random();
DROP TABLE trail CASCADE;
RESET fence.actor;
RESET application_name;
SELECT seq - :before AS n, command_tag, details -> 'session' ->> 'application_name' AS app,
       details -> 'session' ->> 'client_addr' AS client, (details -> 'session' ->> 'backend_pid')::int = pg_backend_pid() AS my_pid,
       details -> 'claims' ->> 'actor' AS claimed, txid IS NOT NULL AS has_txid,
       details -> 'rewrites' AS predicted, details -> 'actual_rewrites' -> 0 ->> 'reason' AS actual, details ->> 'rewrite_prediction' AS prediction,
       (SELECT string_agg(d ->> 'object_type', ',' ORDER BY d ->> 'object_type') FROM jsonb_array_elements(details -> 'dropped') d) AS dropped
FROM fence.audit_chain WHERE seq > :before ORDER BY seq;
SELECT fence.set_policy('{}', 'back to defaults') = :v + 1 AS restored;

-- The export carries the evidence fields and the hashes.
SELECT seq, kind, actor, command_tag, policy_result, highest_risk, approver, exemption_reason IS NOT NULL AS exempted,
       event_hash ~ '^sha256:' AS hashed
FROM fence.audit_export WHERE kind IN ('ddl', 'approval') AND (approver IS NOT NULL OR exemption_reason IS NOT NULL)
ORDER BY seq;

-- Exports by time window and by repository / pull request, as the auditor; anchors.
SET SESSION AUTHORIZATION regress_auditor;
SELECT count(*) > 0 AS some, bool_and(repository = 'acme/app') AS only_acme FROM fence.audit_export_range(repository => 'acme/app');
SELECT count(*) AS none_in_future FROM fence.audit_export_range(from_time => now() + interval '1 day');
-- The export's time_us is each event's hashed time, exactly (fence.time_us, not numeric).
SELECT bool_and(time_us = (extract(epoch FROM recorded_at) * 1000000)::bigint) AS time_us_exact,
       fence.time_us('2026-12-07 03:42:52.123456+00') AS known_us, fence.time_us(NULL) AS null_us
FROM fence.audit_export;
SELECT seq AS anchor_seq, event_hash AS anchor_hash FROM fence.anchor() \gset
RESET SESSION AUTHORIZATION;
SELECT kind, details ->> 'anchored_seq' = :'anchor_seq' AS records_what_it_returned
FROM fence.audit_chain ORDER BY seq DESC LIMIT 1;
SELECT ok FROM fence.verify_chain(:anchor_seq, :'anchor_hash');
SELECT ok, reason FROM fence.verify_chain(:anchor_seq, 'sha256:' || repeat('e', 64));
SELECT fence.verify_chain(1, 'not-a-hash');

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
-- Cutting the tail: the chain's own links still verify, but rows granted in the cut part no
-- longer have their events (when it held none, only the anchor shows the cut).
CREATE TEMP TABLE tail AS SELECT * FROM fence.audit_chain WHERE seq >= :anchor_seq;
DELETE FROM fence.audit_chain WHERE seq >= :anchor_seq;
SELECT ok, reason FROM fence.verify_chain();
SELECT ok, first_bad_seq = :anchor_seq AS at_anchor, reason LIKE '% but the anchor is event % (tail cut)' AS tail_cut
FROM fence.verify_chain(:anchor_seq, :'anchor_hash');
INSERT INTO fence.audit_chain SELECT * FROM tail;
RESET session_replication_role;
SELECT ok FROM fence.verify_chain();
SELECT ok FROM fence.verify_chain(:anchor_seq, :'anchor_hash');

-- What decisions depend on is proven from the chain too: a superuser's edit of a policy
-- version, an approval, a revocation or an exemption fails verification, naming the row.
SET SESSION AUTHORIZATION regress_lead;
SELECT fence.approve('ALTER TABLE chain_t ADD COLUMN revoked_one int') AS revoked_one \gset
SELECT fence.revoke_approval(:'revoked_one', 'no longer wanted');
RESET SESSION AUTHORIZATION;
SELECT fence.exempt('rule', 'set_not_null', 'incident', now() + interval '1 hour') AS tamper_exemption \gset
SELECT ok FROM fence.verify_chain();
BEGIN;
UPDATE fence.policy_versions SET document = document || '{"mode": "off"}'
WHERE version = (SELECT max(version) FROM fence.policy_versions);
SELECT ok, reason FROM fence.verify_chain();
ROLLBACK;
BEGIN;
UPDATE fence.policy_versions SET document = document || '{"mode": "off"}', document_hash = 'sha256:x'
WHERE version = (SELECT max(version) FROM fence.policy_versions);
SELECT ok, reason FROM fence.verify_chain();
ROLLBACK;
BEGIN;
UPDATE fence.policy_versions SET document = document || '{"mode": "off"}' WHERE version = 1;
SELECT ok, reason FROM fence.verify_chain();
ROLLBACK;
BEGIN;
UPDATE fence.approvals SET revoked_at = NULL WHERE content_hash = :'revoked_one';
SELECT ok, reason LIKE '%was revoked in the chain but is live in fence.approvals' AS unrevoked FROM fence.verify_chain();
ROLLBACK;
BEGIN;
UPDATE fence.approvals SET statement_hashes = statement_hashes || 'sha256:other'::text
WHERE id = (SELECT min(id) FROM fence.approvals);
SELECT ok, reason LIKE '%differs from its approval event%' AS stretched FROM fence.verify_chain();
ROLLBACK;
BEGIN;
DELETE FROM fence.approvals WHERE id = (SELECT min(id) FROM fence.approvals);
SELECT ok, reason LIKE '%is missing from its table (deleted)' AS deleted FROM fence.verify_chain();
ROLLBACK;
BEGIN;
UPDATE fence.exemptions SET expires_at = expires_at + interval '1 year' WHERE id = :tamper_exemption;
SELECT ok, reason LIKE 'exemption % differs from its exemption event%' AS stretched FROM fence.verify_chain();
ROLLBACK;
BEGIN;
UPDATE fence.exemptions SET revoked_at = now(), revoked_by = 'nobody', revoke_reason = 'x' WHERE id = :tamper_exemption;
SELECT ok, reason LIKE '%no revocation is chained' AS unchained_revocation FROM fence.verify_chain();
ROLLBACK;
SELECT fence.revoke_exemption(:tamper_exemption, 'tamper checks done');
SELECT ok FROM fence.verify_chain();
