-- With fence preloaded (here: session_preload_libraries for two roles), the ProcessUtility
-- hook also gates the commands event triggers never see, and records changes to fence's
-- event triggers and to session_replication_role.
\set VERBOSITY terse
CREATE ROLE regress_preloaded LOGIN;
ALTER ROLE regress_preloaded SET session_preload_libraries = 'fence';
GRANT CREATE ON SCHEMA public TO regress_preloaded;
CREATE ROLE regress_super SUPERUSER LOGIN;
ALTER ROLE regress_super SET session_preload_libraries = 'fence';
CREATE TABLE mark2 AS SELECT max(seq) AS seq FROM fence.audit_chain;

\c - regress_preloaded
CREATE TABLE maint (id int PRIMARY KEY, v text);
INSERT INTO maint SELECT g, 'v' FROM generate_series(1, 100) g;
TRUNCATE maint;
BEGIN;
LOCK TABLE maint IN ACCESS EXCLUSIVE MODE;
ROLLBACK;
BEGIN;
LOCK TABLE maint IN ROW EXCLUSIVE MODE;
COMMIT;
VACUUM maint;
VACUUM FULL maint;
VACUUM (FULL false, ANALYZE) maint;
CLUSTER maint USING maint_pkey;
REINDEX TABLE maint;
REINDEX TABLE CONCURRENTLY maint;
-- The same approvals work for them.
\c - regress_approver
SELECT fence.approve('VACUUM FULL maint; TRUNCATE maint;') AS maint_ok \gset
\c - regress_preloaded
SET fence.approval = :'maint_ok';
-- (VACUUM FULL first: once truncated, the table is empty and rewriting it is low.)
VACUUM FULL maint;
TRUNCATE maint;
RESET fence.approval;

-- A superuser may switch fence's guards off, but not silently.
\c - regress_super
SET session_replication_role = replica;
RESET session_replication_role;
BEGIN;
ALTER EVENT TRIGGER fence_gate DISABLE;
ALTER EVENT TRIGGER fence_gate ENABLE;
ALTER EVENT TRIGGER fence_record OWNER TO regress_super;
ALTER EVENT TRIGGER fence_record OWNER TO postgres;
COMMIT;

-- Without preloading, these commands are not gated (even once fence is loaded in the
-- session by a DDL statement), and everything else works as before.
\c - regress_ci
CREATE TABLE not_preloaded (id int);
TRUNCATE not_preloaded;
VACUUM FULL not_preloaded;

\c - postgres
SELECT kind, session_role, command_tag, decision, reason,
       coalesce(details ->> 'guard', '') AS guard, coalesce(details ->> 'state', '') AS state
FROM fence.audit_chain WHERE seq > (SELECT seq FROM mark2) ORDER BY seq;
SELECT ok FROM fence.verify_chain();
