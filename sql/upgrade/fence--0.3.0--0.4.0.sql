-- fence 0.3.0 -> 0.4.0: exemptions bound to what they name (a relation exemption to the
-- table's OID, a content exemption to the content's statements, a finding honoured), content
-- hashes read with the session's scanner settings (fence.content_hash is STABLE), and the
-- tracked tables the row-audit checks protect (fence.tracked_relations), and fence.analyze's
-- look at the lock queue (its lock_queue argument and column), and verify_chain's count of
-- the events parked while another transaction held the chain (events_parked).
\echo Use "ALTER EXTENSION fence UPDATE TO '0.4.0'" to load this file. \quit

ALTER TABLE fence.exemptions ADD COLUMN relid oid, ADD COLUMN statement_hashes text[];
-- A relation exemption granted under 0.3.0 is bound to the table its name resolves to now.
UPDATE fence.exemptions SET relid = pg_catalog.to_regclass(target)
WHERE scope = 'relation' AND revoked_at IS NULL;
-- A content exemption covers the statements an approval of that content recorded (none
-- recorded: it covers nothing, and says so at the next decision).
UPDATE fence.exemptions e
SET statement_hashes = (SELECT a.statement_hashes FROM fence.approvals a
                        WHERE a.content_hash = e.target ORDER BY a.id DESC LIMIT 1)
WHERE e.scope = 'content' AND e.revoked_at IS NULL;

ALTER FUNCTION fence.content_hash(text) STABLE;

-- Every live tracking with its table: the relation whose fence row trigger names it; else
-- (restored from a dump and not relinked yet, or its trigger replaced by the statement being
-- checked) the table of its recorded name — never an unrelated table that took over its old
-- OID. What the row-audit checks protect (sql/queries/row_audit_*.sql).
CREATE FUNCTION fence.tracked_relations(OUT id integer, OUT relation text, OUT relid oid)
RETURNS SETOF record
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT t.id, t.relation,
           CASE WHEN EXISTS (SELECT 1 FROM pg_trigger g
                             WHERE g.tgrelid = t.relid AND g.tgname = 'fence_row_changes'
                               AND fence.trigger_tracking(g.tgargs) = t.id)
                THEN t.relid ELSE to_regclass(t.relation)::oid END
    FROM fence.tracked_tables t
    WHERE t.untracked_at IS NULL
$$;
REVOKE EXECUTE ON FUNCTION fence.tracked_relations() FROM PUBLIC;
COMMENT ON FUNCTION fence.tracked_relations IS 'Internal: each live tracking with its table (by its trigger, else its recorded name), as the row-audit checks protect it';

-- A trigger argument that is not a tracking id (a trigger that replaced fence's, with no
-- argument) reads as no tracking, on PostgreSQL 18 too: there the cast in the subquery's
-- target list ran before its WHERE filtered the argument out; CASE keeps the order.
CREATE OR REPLACE FUNCTION fence.trigger_tracking(tgargs bytea) RETURNS integer
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN CASE WHEN split_part(encode(tgargs, 'escape'), '\000', 1) ~ '^[0-9]{1,9}$'
            THEN split_part(encode(tgargs, 'escape'), '\000', 1)::integer END;

-- fence.analyze(sql, lock_queue => true): the sessions each statement would queue behind now;
-- estimate => true: the planner's estimate of the rows each data step writes.
-- Who may run it stays as it was (an administrator may have revoked it from PUBLIC).
SELECT pg_catalog.set_config('fence_upgrade.analyze_acl', coalesce(p.proacl::text, ''), true)
FROM pg_catalog.pg_proc p WHERE p.oid = 'fence."analyze"(text)'::pg_catalog.regprocedure;
DROP FUNCTION fence."analyze"(text);
CREATE FUNCTION fence."analyze"(
	"sql" TEXT,
	"lock_queue" bool DEFAULT false,
	"estimate" bool DEFAULT false
) RETURNS TABLE (
	"stmt_no" INT,
	"statement" TEXT,
	"command_tag" TEXT,
	"relation" TEXT,
	"lock_mode" TEXT,
	"rewrites" bool,
	"scans" bool,
	"risk" TEXT,
	"locks" jsonb,
	"findings" jsonb,
	"statement_hash" TEXT,
	"queued_behind" jsonb
)
STRICT
LANGUAGE c
AS 'MODULE_PATHNAME', 'analyze_wrapper';
-- As a fresh install grants it: the owner's privilege first, then everyone's; then as 0.3.0
-- had it, when its privileges had been changed.
REVOKE EXECUTE ON FUNCTION fence.analyze FROM PUBLIC;
GRANT EXECUTE ON FUNCTION fence.analyze TO PUBLIC;
DO $upgrade$
DECLARE
    saved text := pg_catalog.current_setting('fence_upgrade.analyze_acl', true);
    grantee text;
BEGIN
    IF saved IS NULL OR saved = '' THEN
        RETURN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.aclexplode(saved::pg_catalog.aclitem[]) a
                   WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE') THEN
        REVOKE EXECUTE ON FUNCTION fence.analyze FROM PUBLIC;
    END IF;
    FOR grantee IN
        SELECT a.grantee::pg_catalog.regrole::text FROM pg_catalog.aclexplode(saved::pg_catalog.aclitem[]) a
        WHERE a.grantee <> 0 AND a.privilege_type = 'EXECUTE' AND a.grantee <> a.grantor
    LOOP
        EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION fence.analyze TO %s', grantee);
    END LOOP;
END
$upgrade$;
COMMENT ON FUNCTION fence.analyze IS
    'One row per statement of the SQL: locks (pg_locks names), rewrite, scan, risk and findings with safe rewrites, judged against this database''s catalog; with lock_queue => true, queued_behind: the sessions each statement would queue behind now; with estimate => true, the planner''s row estimate of each data step';

-- fence.verify_chain() also says how many events wait parked to be chained (events_parked):
-- a transaction that commits while another holds the chain parks its events instead of
-- waiting (chained by the next appender or the sealer). Who may run it stays as it was.
SELECT pg_catalog.set_config('fence_upgrade.verify_acl', coalesce(p.proacl::text, ''), true)
FROM pg_catalog.pg_proc p WHERE p.oid = 'fence.verify_chain()'::pg_catalog.regprocedure;
SELECT pg_catalog.set_config('fence_upgrade.verify_anchor_acl', coalesce(p.proacl::text, ''), true)
FROM pg_catalog.pg_proc p WHERE p.oid = 'fence.verify_chain(bigint, text)'::pg_catalog.regprocedure;
DROP FUNCTION fence.verify_chain();
DROP FUNCTION fence.verify_chain(bigint, text);
CREATE FUNCTION fence."verify_chain"() RETURNS TABLE (
	"ok" bool,
	"checked" bigint,
	"first_bad_seq" bigint,
	"reason" TEXT,
	"head_hash" TEXT,
	"changes_checked" bigint,
	"changes_unsealed" bigint,
	"events_parked" bigint
)
STRICT
LANGUAGE c
AS 'MODULE_PATHNAME', 'verify_chain_wrapper';
CREATE FUNCTION fence."verify_chain"(
	"anchor_seq" bigint,
	"anchor_hash" TEXT
) RETURNS TABLE (
	"ok" bool,
	"checked" bigint,
	"first_bad_seq" bigint,
	"reason" TEXT,
	"head_hash" TEXT,
	"changes_checked" bigint,
	"changes_unsealed" bigint,
	"events_parked" bigint
)
STRICT
LANGUAGE c
AS 'MODULE_PATHNAME', 'verify_chain_against_wrapper';
-- As a fresh install grants them, then to whoever else 0.3.0 let run them.
REVOKE EXECUTE ON FUNCTION fence.verify_chain(), fence.verify_chain(bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION fence.verify_chain(), fence.verify_chain(bigint, text) TO fence_auditor, fence_admin;
DO $upgrade$
DECLARE
    saved text;
    grantee text;
    fn text;
BEGIN
    FOREACH fn IN ARRAY ARRAY['verify_acl:fence.verify_chain()', 'verify_anchor_acl:fence.verify_chain(bigint, text)'] LOOP
        saved := pg_catalog.current_setting('fence_upgrade.' || split_part(fn, ':', 1), true);
        CONTINUE WHEN saved IS NULL OR saved = '';
        FOR grantee IN
            SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE a.grantee::pg_catalog.regrole::text END
            FROM pg_catalog.aclexplode(saved::pg_catalog.aclitem[]) a
            WHERE a.privilege_type = 'EXECUTE' AND a.grantee <> a.grantor
              AND a.grantee NOT IN ('fence_auditor'::pg_catalog.regrole, 'fence_admin'::pg_catalog.regrole)
        LOOP
            EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO %s', split_part(fn, ':', 2), grantee);
        END LOOP;
    END LOOP;
END
$upgrade$;
COMMENT ON FUNCTION fence.verify_chain() IS
    'fence_auditor: recompute every hash of the audit chain; ok, events checked, first bad seq and why, head hash, row changes checked and not yet sealed, events parked and not yet chained';
COMMENT ON FUNCTION fence.verify_chain(bigint, text) IS
    'fence_auditor: verify_chain() plus: the chain still reaches this anchor (from fence.anchor()) with the same hash';
COMMENT ON TABLE fence.pending_denials IS 'Events waiting to be chained: denials committed by the denial writer, and the events of transactions that committed while another held the chain (chained by the next appender or the sealer; normally empty)';
COMMENT ON FUNCTION fence.seal_changes IS 'fence_auditor: chain the parked events and seal the changes of finished transactions into the chain now; returns how many changes';
