-- Fixture for the security suite: fence installed, a hostile migration role that owns the
-- application's tables, an application role, and one approver who also migrates.
CREATE EXTENSION fence;
CREATE ROLE sec_mig LOGIN;
CREATE ROLE sec_app LOGIN;
CREATE ROLE sec_dual LOGIN IN ROLE fence_approver;
CREATE ROLE sec_approver LOGIN IN ROLE fence_approver;
GRANT CREATE ON SCHEMA public TO sec_mig, sec_dual;
GRANT CREATE ON DATABASE fence_security TO sec_mig;
SET SESSION AUTHORIZATION sec_mig;
CREATE TYPE account_state AS ENUM ('active', 'banned');
CREATE TABLE victim (id bigint PRIMARY KEY, email text, note text, state account_state NOT NULL DEFAULT 'active',
                     code text DEFAULT 'c' CONSTRAINT victim_code_nn CHECK (code IS NOT NULL));
INSERT INTO victim SELECT g, 'u' || g || '@example.com', NULL, 'active' FROM generate_series(1, 1000) g;
GRANT SELECT, INSERT, UPDATE, DELETE ON victim TO sec_app, sec_dual;
RESET SESSION AUTHORIZATION;
-- The victim's rows are audited (fence.track_table, by a superuser).
SELECT fence.track_table('victim') > 0 AS tracked;
-- A SECURITY DEFINER function owned by a superuser that runs DDL (the kind of helper a DBA
-- leaves behind); the migration role may call it.
CREATE FUNCTION public.admin_helper(stmt text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_catalog AS $$
BEGIN
    EXECUTE stmt;
END $$;
GRANT EXECUTE ON FUNCTION public.admin_helper(text) TO sec_mig;
-- sec_dual approved the very migration it will try to run (separation of duties).
SET SESSION AUTHORIZATION sec_dual;
SELECT fence.approve('ALTER TABLE victim ALTER COLUMN email SET NOT NULL') AS dual_approval \gset
RESET SESSION AUTHORIZATION;
-- A real approval of other content, to try to stretch it over a different statement.
SET SESSION AUTHORIZATION sec_approver;
SELECT fence.approve('ALTER TABLE victim ADD COLUMN ok int') IS NOT NULL AS other_approval;
-- Approvals an attacker tries to stretch over statements they do not contain: a default
-- ending in a backslash (read with standard_conforming_strings on), a CHECK calling an
-- unqualified function, a data backfill.
SELECT fence.approve($$ALTER TABLE victim ALTER COLUMN note SET DEFAULT 'a\'$$) AS backslash_approval \gset
SELECT fence.approve('ALTER TABLE victim ADD CONSTRAINT victim_email_lc CHECK (lower(email) = email)') AS check_approval \gset
SELECT fence.approve($$UPDATE victim SET note = 'free'$$) AS backfill_approval \gset
SELECT fence.approve($a$ALTER TABLE victim ADD COLUMN note2 text DEFAULT $$', DROP COLUMN note --$$$a$) AS default_approval \gset
SELECT fence.approve($$COMMENT ON TABLE victim IS E'legacy cleanup: \x44ROP TABLE victim_precious'$$) AS comment_approval \gset
RESET SESSION AUTHORIZATION;
-- A table the migration role owns and must not drop without an approval of its own.
SET SESSION AUTHORIZATION sec_mig;
CREATE TABLE victim_precious (id int);
-- A partitioned table with rows in its default partition (a new partition scans it).
BEGIN;
CREATE TABLE victim_parts (id int) PARTITION BY RANGE (id);
CREATE TABLE victim_parts_default PARTITION OF victim_parts DEFAULT;
INSERT INTO victim_parts SELECT g FROM generate_series(1, 1000) g;
COMMIT;
INSERT INTO victim_precious VALUES (1);
RESET SESSION AUTHORIZATION;
-- sec_mig may be given the approval names at run time, as CI does.
CREATE TABLE public.approval_names AS SELECT :'dual_approval'::text AS dual_approval,
    :'backslash_approval'::text AS backslash_approval, :'check_approval'::text AS check_approval,
    :'backfill_approval'::text AS backfill_approval, :'default_approval'::text AS default_approval,
    :'comment_approval'::text AS comment_approval;
GRANT SELECT ON public.approval_names TO PUBLIC;
