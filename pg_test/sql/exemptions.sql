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
