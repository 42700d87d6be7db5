#!/usr/bin/env bash
# DDL that automation runs by design, under the enforce policy: pg_cron's scheduled
# VACUUM FULL and pg_partman's maintenance (partition creation, retention by DETACH + DROP),
# run by pg_cron as the role `regress_maint`, pass without an approval because the policy's
# `automation` entries name that role and those rules — and each decision is chained with
# the entry that allowed it. The same role running a rule no entry names, and another role
# running a named rule, are refused (and their denials chained). Real pg_cron and pg_partman
# from Debian, on a server of its own with `shared_preload_libraries = 'pg_cron, fence'`.
# Run by scripts/test.sh; alone it builds and installs the extension first.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [ -z "${PGPORT:-}" ]; then
    ensure_deps
    install_extension
fi
trap stop_server EXIT
say "automation: pg_cron and pg_partman maintenance under an automation policy"
start_server automation 54370 "shared_preload_libraries = 'pg_cron, fence'
cron.database_name = 'app'
cron.use_background_workers = on"
psql -X -q -d postgres -c "CREATE DATABASE app"
psql -X -q -v ON_ERROR_STOP=1 -d app >/dev/null 2>&1 <<'SQL'
CREATE EXTENSION pg_cron;
CREATE SCHEMA partman;
CREATE EXTENSION pg_partman SCHEMA partman;
CREATE EXTENSION fence;
SELECT fence.set_policy('{"mode": "warn"}', 'set-up');
CREATE ROLE regress_maint LOGIN;
CREATE ROLE regress_app LOGIN;
CREATE TABLE events (id bigint, created_at timestamptz NOT NULL, v text) PARTITION BY RANGE (created_at);
ALTER TABLE events OWNER TO regress_maint;
CREATE TABLE stats (id int PRIMARY KEY, v text);
INSERT INTO stats SELECT g, 'v' FROM generate_series(1, 1000) g;
ALTER TABLE stats OWNER TO regress_maint;
CREATE TABLE maint_copy (id int);
ALTER TABLE maint_copy OWNER TO regress_maint;
-- A SECURITY DEFINER function of the maintenance role lends its entry to nobody.
CREATE FUNCTION drop_maint_copy() RETURNS void SECURITY DEFINER LANGUAGE plpgsql AS $$ BEGIN DROP TABLE public.maint_copy; END $$;
ALTER FUNCTION drop_maint_copy() OWNER TO regress_maint;
CREATE TABLE app_stats (id int PRIMARY KEY);
INSERT INTO app_stats VALUES (1);
ALTER TABLE app_stats OWNER TO regress_app;
GRANT ALL ON SCHEMA partman TO regress_maint;
GRANT ALL ON ALL TABLES IN SCHEMA partman TO regress_maint;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA partman TO regress_maint;
GRANT CREATE ON SCHEMA public TO regress_maint;
-- The partitions belong to the role that maintains them.
SET ROLE regress_maint;
SELECT partman.create_parent('public.events', 'created_at', 'native', 'daily', p_premake := 2,
                             p_start_partition := (now() - interval '5 days')::text);
RESET ROLE;
-- Retention: partitions older than two days go; two more days are made ahead.
UPDATE partman.part_config SET retention = '2 days', retention_keep_table = false, premake = 4,
    infinite_time_partitions = true
WHERE parent_table = 'public.events';
-- The documented policy (README, "Automation"): enforce, and two automation entries.
SELECT fence.set_policy($$
{"mode": "enforce",
 "automation": [
   {"name": "scheduled maintenance", "roles": ["regress_maint"], "rules": ["vacuum_full", "reindex", "cluster"]},
   {"name": "pg_partman", "roles": ["regress_maint"],
    "rules": ["create_partition", "detach_partition", "drop_table", "lock_table", "many_access_exclusive"]}
 ]}$$, 'automation suite');
SELECT cron.schedule_in_database('vacuum-full', '* * * * *', 'VACUUM FULL stats', 'app', 'regress_maint');
SELECT cron.schedule_in_database('partman', '* * * * *', 'SELECT partman.run_maintenance()', 'app', 'regress_maint');
SELECT cron.schedule_in_database('not-named', '* * * * *', 'ALTER TABLE stats ALTER COLUMN v SET NOT NULL', 'app', 'regress_maint');
SELECT cron.schedule_in_database('other-role', '* * * * *', 'VACUUM FULL app_stats', 'app', 'regress_app');
SELECT cron.schedule_in_database('definer', '* * * * *', 'SELECT drop_maint_copy()', 'app', 'regress_app');
SQL
children_before=$(psql -X -At -d app -c "SELECT count(*) FROM pg_inherits WHERE inhparent = 'events'::regclass")

q() { psql -X -At -d app -c "$1"; }
echo "  waiting for pg_cron's next minute (up to 75 s)"
for _ in $(seq 1 150); do
    [ "$(q "SELECT count(DISTINCT jobid) FROM cron.job_run_details WHERE status IN ('succeeded', 'failed')")" = 5 ] && break
    sleep 0.5
done
q "SELECT '  ' || j.jobname || ': ' || d.status || coalesce(' (' || left(d.return_message, 160) || ')', '') FROM cron.job_run_details d JOIN cron.job j USING (jobid) ORDER BY d.runid"
status() { q "SELECT d.status FROM cron.job_run_details d JOIN cron.job j USING (jobid) WHERE j.jobname = '$1' ORDER BY d.runid LIMIT 1"; }
check "pg_cron ran VACUUM FULL as regress_maint" "$(status vacuum-full)" succeeded
check "pg_cron ran pg_partman's maintenance" "$(status partman)" succeeded
check "a rule no entry names is refused" "$(status not-named)" failed
check "  with fence's refusal" \
    "$(q "SELECT return_message LIKE '%fence: blocked ALTER TABLE on public.stats%' FROM cron.job_run_details d JOIN cron.job j USING (jobid) WHERE j.jobname = 'not-named' LIMIT 1")" t
check "another role running a named rule is refused" "$(status other-role)" failed
check "  also through a SECURITY DEFINER function of the maintenance role" "$(status definer)" failed
children_after=$(q "SELECT count(*) FROM pg_inherits WHERE inhparent = 'events'::regclass")
# pg_partman counts the days made ahead from the current time, rounded: after noon it makes
# one more (day + 5), so only that day + 4 exists is asserted, not that nothing lies beyond it.
check "partman made partitions ahead and dropped the old ones ($children_before -> $children_after)" \
    "$(q "SELECT count(*) FILTER (WHERE c.relname < 'events_p' || to_char(now() - interval '2 days', 'YYYY_MM_DD')) || ' old, four days ahead: ' || bool_or(c.relname = 'events_p' || to_char(now() + interval '4 days', 'YYYY_MM_DD')) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'events'::regclass AND c.relname <> 'events_default'")" \
    "0 old, four days ahead: true"
q "SELECT '  ' || command_tag || ' ' || coalesce(relation, '-') || ' ' || risk || ' ' || decision || ' ' || reason || ' ' || left(statement, 90) FROM fence.audit_chain WHERE kind = 'ddl' AND session_role = 'regress_maint' ORDER BY seq"
decisions() { q "SELECT string_agg(DISTINCT command_tag || ':' || decision || ':' || reason || ':' || coalesce(details->>'automation', '-'), ' ' ORDER BY command_tag || ':' || decision || ':' || reason || ':' || coalesce(details->>'automation', '-')) FROM fence.audit_chain WHERE kind = 'ddl' AND session_role = '$1' AND $2"; }
check "VACUUM FULL chained as allowed by its entry" "$(decisions regress_maint "command_tag = 'VACUUM'")" \
    "VACUUM:allow:automation:scheduled maintenance"
check "partman's new partitions chained (new tables: risk none, no approval needed)" \
    "$(decisions regress_maint "relation LIKE 'public.events%' AND command_tag = 'CREATE TABLE'")" \
    "CREATE TABLE:allow:below_threshold:-"
# Attaching one locks the default partition ACCESS EXCLUSIVE (and scans it): after the
# retention's drops in the same transaction, that can rate medium (many_access_exclusive),
# which pg_partman's entry allows.
check "  attached, each allowed (below the threshold or by pg_partman's entry)" \
    "$(q "SELECT count(*) > 0 AND bool_and(decision = 'allow' AND (reason = 'below_threshold' OR details ->> 'automation' = 'pg_partman'))
          AND bool_and(details -> 'locks' @> '[{\"relation\": \"public.events_default\", \"mode\": \"AccessExclusiveLock\"}]')
          FROM fence.audit_chain WHERE kind = 'ddl' AND session_role = 'regress_maint' AND command_tag = 'ALTER TABLE' AND statement LIKE '%ATTACH PARTITION%'")" t
check "its retention's drops chained as allowed by pg_partman's entry" \
    "$(decisions regress_maint "command_tag = 'DROP TABLE'")" "DROP TABLE:allow:automation:pg_partman"
check "nothing of regress_maint refused but the unnamed rule" \
    "$(q "SELECT string_agg(DISTINCT command_tag || ' ' || reason, ',') FROM fence.audit_chain WHERE session_role = 'regress_maint' AND decision = 'deny'")" \
    "ALTER TABLE not_approved"
check "the other role's VACUUM FULL and its call of the definer function refused and chained" \
    "$(decisions regress_app "decision = 'deny'")" "DROP TABLE:deny:not_approved:- VACUUM:deny:not_approved:-"
check "the chain verifies" "$(q "SELECT ok FROM fence.verify_chain()")" t
check "no crash" "$(grep -cE 'terminated by signal|PANIC:' "$SERVER_DIR/server.log" || true)" 0
