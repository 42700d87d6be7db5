-- Exemptions: time-boxed, with a reason, honoured until they expire.
\set VERBOSITY terse
SET SESSION AUTHORIZATION regress_admin;
-- Bad input is refused and nothing is stored.
SELECT fence.exempt('relation', 'public.orders', '', now() + interval '1 hour');
SELECT fence.exempt('relation', 'public.nope', 'incident 7', now() + interval '1 hour');
SELECT fence.exempt('statement', 'abc', 'incident 7', now() + interval '1 hour');
SELECT fence.exempt('rule', 'no_such_rule', 'incident 7', now() + interval '1 hour');
SELECT fence.exempt('table', 'orders', 'incident 7', now() + interval '1 hour');
SELECT fence.exempt('relation', 'orders', 'incident 7', now() - interval '1 minute');
SELECT fence.exempt('relation', 'orders', 'incident 7', now() + interval '30 days');
RESET SESSION AUTHORIZATION;
SELECT count(*) AS stored FROM fence.exemptions;

-- The migration role cannot grant exemptions.
SET SESSION AUTHORIZATION regress_ci;
SELECT fence.exempt('relation', 'orders', 'I want it', now() + interval '1 hour');
RESET SESSION AUTHORIZATION;

-- A relation exemption for 3 seconds.
SET SESSION AUTHORIZATION regress_admin;
SELECT fence.exempt('relation', 'orders', 'incident 7: index needed now', clock_timestamp() + interval '3 seconds') AS exemption_id \gset
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_ci;
CREATE INDEX orders_total_idx ON orders (total);
SELECT pg_sleep(3.5);
CREATE INDEX orders_created_idx ON orders (created_at);
RESET SESSION AUTHORIZATION;

-- A statement exemption, revoked before it is used.
SET SESSION AUTHORIZATION regress_admin;
SELECT fence.exempt('statement', (SELECT statement_hash FROM fence.analyze('CREATE INDEX orders_created_idx ON orders (created_at)')),
                    'approved in chat', now() + interval '1 hour') AS stmt_exemption \gset
SELECT fence.revoke_exemption(:stmt_exemption, 'chat is not a review');
SELECT fence.revoke_exemption(:stmt_exemption, 'twice');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_ci;
CREATE INDEX orders_created_idx ON orders (created_at);
RESET SESSION AUTHORIZATION;

-- A rule exemption covers only statements whose risky findings are all that rule.
SET SESSION AUTHORIZATION regress_admin;
SELECT fence.exempt('rule', 'create_index', 'small tables, off-peak', now() + interval '1 hour') IS NOT NULL AS rule_exempted;
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_ci;
CREATE INDEX orders_created_idx ON orders (created_at);
ALTER TABLE orders ALTER COLUMN created_at SET NOT NULL;
RESET SESSION AUTHORIZATION;

SELECT kind, command_tag, decision, reason, details ? 'exemption_id' AS has_exemption
FROM fence.audit_chain WHERE kind = 'ddl' AND command_tag = 'CREATE INDEX' ORDER BY seq;

-- Bound to what it names: a relation exemption to the table (its OID), not to whichever
-- table takes the name later; a content exemption to the content's own statements; an
-- exemption naming a finding to statements for which that rule alone needs an approval.
SET SESSION AUTHORIZATION regress_ci;
CREATE TABLE ex_a (id int);
CREATE TABLE ex_b (id int);
CREATE TABLE ex_c (id int);
CREATE TABLE ex_d (id int);
-- Not empty: on an empty table what costs time per row is low.
INSERT INTO ex_a VALUES (1);
INSERT INTO ex_b VALUES (1);
INSERT INTO ex_c VALUES (1);
INSERT INTO ex_d VALUES (1);
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_approver;
SELECT fence.approve('ALTER TABLE ex_b RENAME TO ex_a') AS takeover \gset
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_admin;
SELECT fence.exempt('relation', 'ex_a', 'scratch table', now() + interval '1 hour') AS ex_a_exemption \gset
SELECT fence.exempt('content', 'ALTER TABLE ex_d ALTER COLUMN id SET NOT NULL', 'incident 12', now() + interval '1 hour') AS content_exemption \gset
SELECT fence.exempt('content', 'sha256:' || repeat('0', 64), 'unknown content', now() + interval '1 hour');
SELECT fence.exempt('relation', 'ex_c', 'incident 13', now() + interval '1 hour', finding => 'no_such_rule');
SELECT fence.exempt('relation', 'ex_c', 'incident 13', now() + interval '1 hour', finding => 'set_not_null') AS finding_exemption \gset
SELECT scope, relid = 'ex_a'::regclass AS bound_to_ex_a, cardinality(statement_hashes) AS statements, finding
FROM fence.exemptions WHERE id IN (:ex_a_exemption, :content_exemption, :finding_exemption) ORDER BY id;
SELECT target AS content_exemption_hash FROM fence.exemptions WHERE id = :content_exemption \gset
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_ci;
-- ex_a's exemption covers renaming it away; the table that takes its name is not ex_a.
ALTER TABLE ex_a RENAME TO ex_a_old;
SET fence.approval = :'takeover';
ALTER TABLE ex_b RENAME TO ex_a;
RESET fence.approval;
ALTER TABLE ex_a ALTER COLUMN id SET NOT NULL;
ALTER TABLE ex_a_old ALTER COLUMN id SET NOT NULL;
-- The content's own statement is covered, another statement run under its name is not.
SET fence.approval = :'content_exemption_hash';
ALTER TABLE ex_d ALTER COLUMN id SET NOT NULL;
ALTER TABLE ex_d ADD CONSTRAINT ex_d_positive CHECK (id > 0);
RESET fence.approval;
-- The finding: SET NOT NULL on ex_c is covered, a CHECK constraint is not.
ALTER TABLE ex_c ALTER COLUMN id SET NOT NULL;
ALTER TABLE ex_c ADD CONSTRAINT ex_c_positive CHECK (id > 0);
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_admin;
SELECT fence.revoke_exemption(id, 'checks done') FROM fence.exemptions
WHERE id IN (:ex_a_exemption, :content_exemption, :finding_exemption) ORDER BY id;
RESET SESSION AUTHORIZATION;
