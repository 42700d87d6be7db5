#!/usr/bin/env bash
# The security suite: every block of pg_test/security/attacks.sql is a bypass attempt run in
# one transaction as a hostile role. Each must fail with its SQLSTATE, leave fence's state
# unchanged (pg_test/security/digest.sql), add nothing to the chain but its own denial, and
# — when it reached the gate — leave that denial in the chain although its transaction
# rolled back. Uses the server in PGHOST/PGPORT (scripts/test.sh), or starts its own.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

DB=fence_security
DIR=pg_test/security
suite_server security 54331
ROLES="sec_mig, sec_app, sec_dual, sec_approver"

q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" "$@"; }

say "security suite ($DIR)"
psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $DB" -c "DROP ROLE IF EXISTS $ROLES" -c "CREATE DATABASE $DB"
psql -X -q -v ON_ERROR_STOP=1 -d "$DB" -f "$DIR/setup.sql" >/dev/null

# Split the attacks file into one file per block.
awk -v dir="$WORK" '
    /^-- attack: / { n++; file = sprintf("%s/%03d.sql", dir, n) }
    n > 0 { print > file }
' "$DIR/attacks.sql"

attempts=0
failures=0
for block in "$WORK"/*.sql; do
    name=$(sed -n 's/^-- attack: //p' "$block")
    role=$(sed -n 's/^-- as: //p' "$block")
    expect=$(sed -n 's/^-- expect: //p' "$block")
    gated=$(sed -n 's/^-- gated: //p' "$block")
    attempts=$((attempts + 1))

    mark=$(q -c "SELECT coalesce(max(seq), 0) FROM fence.audit_chain")
    before=$(q -v mark="$mark" -f "$DIR/digest.sql")
    output=$(psql -X -q -v ON_ERROR_STOP=1 -v VERBOSITY=verbose --single-transaction \
        -U "$role" -d "$DB" -f "$block" 2>&1) && status=0 || status=$?
    after=$(q -v mark="$mark" -f "$DIR/digest.sql")
    new_events=$(q -c "SELECT count(*) FROM fence.audit_chain WHERE seq > $mark")
    new_denials=$(q -c "SELECT count(*) FROM fence.audit_chain WHERE seq > $mark AND kind = 'ddl' AND decision = 'deny'")
    verified=$(q -c "SELECT ok FROM fence.verify_chain()")
    sqlstate=$(printf '%s\n' "$output" | sed -n 's/^.*ERROR:  \([0-9A-Z]\{5\}\): .*$/\1/p' | head -n 1)

    problems=()
    [ "$status" -ne 0 ] || problems+=("it succeeded")
    [ "$sqlstate" = "$expect" ] || problems+=("SQLSTATE ${sqlstate:-none}, expected $expect")
    [ "$before" = "$after" ] || problems+=("fence's state changed")
    [ "$new_events" = "$new_denials" ] || problems+=("$((new_events - new_denials)) chain events other than denials")
    if [ "$gated" = yes ] && [ "$new_denials" -lt 1 ]; then problems+=("its denial is not in the chain"); fi
    if [ "$gated" = no ] && [ "$new_denials" -ne 0 ]; then problems+=("unexpected denial recorded"); fi
    [ "$verified" = t ] || problems+=("the chain no longer verifies")

    if [ ${#problems[@]} -eq 0 ]; then
        printf '  refused  %-70s %s%s\n' "$name" "$sqlstate" "$([ "$gated" = yes ] && echo ', denial chained')"
    else
        failures=$((failures + 1))
        printf '  FAILED   %s: %s\n' "$name" "$(IFS=';'; echo "${problems[*]}")"
        printf '%s\n' "$output" | cut -c1-200 | sed 's/^/           | /' | head -n 8
    fi
done

# Attacks that need a second session: decisions read approvals, exemptions and policy as
# of now, not as of a REPEATABLE READ transaction's snapshot taken before a revocation.
session_attack() {
    local name=$1 setup=$2 revoke=$3 attempt=$4
    attempts=$((attempts + 1))
    psql -X -q -d "$DB" -c "$setup" >/dev/null
    mkfifo "$WORK/session.in"
    psql -X -q -v VERBOSITY=verbose -U sec_mig -d "$DB" < "$WORK/session.in" > "$WORK/session.out" 2>&1 &
    local session=$!
    exec 4>"$WORK/session.in"
    echo "BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT 'snapshot taken';" >&4
    for _ in $(seq 1 100); do grep -q 'snapshot taken' "$WORK/session.out" && break; sleep 0.1; done
    psql -X -q -d "$DB" -c "$revoke" >/dev/null
    echo "$attempt" >&4
    echo "ROLLBACK;" >&4
    exec 4>&-
    wait "$session"
    rm -f "$WORK/session.in"
    if grep -q 'ERROR:  42501: fence: blocked' "$WORK/session.out"; then
        printf '  refused  %-70s 42501\n' "$name"
    else
        failures=$((failures + 1))
        printf '  FAILED   %s: it was not refused\n' "$name"
        sed 's/^/           | /' "$WORK/session.out" | head -n 8
    fi
}
stmt="ALTER TABLE victim ALTER COLUMN note SET NOT NULL"
session_attack "an approval revoked after a REPEATABLE READ snapshot still counts" \
    "SET SESSION AUTHORIZATION sec_approver; SELECT fence.approve(\$\$$stmt\$\$)" \
    "SET SESSION AUTHORIZATION sec_approver; SELECT fence.revoke_approval(fence.content_hash(\$\$$stmt\$\$), 'revoked')" \
    "SELECT set_config('fence.approval', fence.content_hash(\$\$$stmt\$\$), true); $stmt;"
session_attack "an exemption revoked after a REPEATABLE READ snapshot still counts" \
    "SELECT fence.exempt('relation', 'public.victim_precious', 'incident', now() + interval '1 hour')" \
    "SELECT fence.revoke_exemption(max(id), 'over') FROM fence.exemptions" \
    "ALTER TABLE victim_precious ALTER COLUMN id SET NOT NULL;"

# A decision that reads the catalog before the statement's lock: what made the statement a
# no-op is renamed away (or into place) by another session while it waits for that lock. The
# statement is allowed as a no-op; when it does something after all, it is refused when it
# ends (reason not_a_noop), and nothing it did stays.
# race_attack NAME SETUP HOLDER RACER CHECK: SETUP as the superuser; HOLDER (sec_mig) holds a
# lock the RACER (sec_mig) waits for, then commits its change; CHECK must then print 0.
race_attack() {
    local name=$1 setup=$2 holder=$3 racer=$4 check=$5
    attempts=$((attempts + 1))
    psql -X -q -d "$DB" -c "SET client_min_messages = warning" -c "$setup" >/dev/null
    mkfifo "$WORK/holder.in"
    psql -X -q -U sec_mig -d "$DB" < "$WORK/holder.in" > "$WORK/holder.out" 2>&1 &
    local holder_pid=$!
    exec 4>"$WORK/holder.in"
    echo "BEGIN; $holder SELECT 'held';" >&4
    for _ in $(seq 1 100); do grep -q 'held' "$WORK/holder.out" && break; sleep 0.1; done
    psql -X -q -v VERBOSITY=verbose -U sec_mig -d "$DB" -c "$racer" > "$WORK/race.out" 2>&1 &
    local racer_pid=$!
    for _ in $(seq 1 100); do
        [ "$(q -c "SELECT count(*) FROM pg_stat_activity WHERE query = \$r\$$racer\$r\$ AND wait_event_type = 'Lock'")" = 1 ] && break
        sleep 0.1
    done
    echo "COMMIT;" >&4
    exec 4>&-
    wait "$holder_pid" "$racer_pid" || true
    rm -f "$WORK/holder.in"
    local left
    left=$(q -c "$check")
    if grep -q 'ERROR:  42501: fence: blocked' "$WORK/race.out" && grep -q 'fence decided this' "$WORK/race.out" && [ "$left" = 0 ]; then
        printf '  refused  %-70s 42501\n' "$name"
    else
        failures=$((failures + 1))
        printf '  FAILED   %s: not refused (check: %s)\n' "$name" "$left"
        sed 's/^/           | /' "$WORK/race.out" | head -n 8
    fi
}
race_attack "CREATE INDEX IF NOT EXISTS while its index is renamed away" \
    "CREATE TABLE victim_race (c int); CREATE INDEX race_idx ON victim_race (c);
     INSERT INTO victim_race SELECT g FROM generate_series(1, 100000) g; ANALYZE victim_race;
     ALTER TABLE victim_race OWNER TO sec_mig" \
    "LOCK TABLE victim_race IN ROW EXCLUSIVE MODE; ALTER INDEX race_idx RENAME TO race_idx_away;" \
    "CREATE INDEX IF NOT EXISTS race_idx ON victim_race (c)" \
    "SELECT count(*) FROM pg_class WHERE relname = 'race_idx'"
race_attack "DROP TRIGGER IF EXISTS while a trigger is renamed into its name" \
    "CREATE FUNCTION race_audit() RETURNS trigger LANGUAGE plpgsql AS \$f\$BEGIN RETURN NEW; END\$f\$;
     CREATE TABLE victim_trig (c int); ALTER TABLE victim_trig OWNER TO sec_mig;
     CREATE TRIGGER kept_audit AFTER INSERT ON victim_trig FOR EACH ROW EXECUTE FUNCTION race_audit()" \
    "ALTER TRIGGER kept_audit ON victim_trig RENAME TO old_audit;" \
    "DROP TRIGGER IF EXISTS old_audit ON victim_trig" \
    "SELECT 1 - count(*) FROM pg_trigger WHERE tgrelid = 'victim_trig'::regclass AND NOT tgisinternal"
# An index ON ONLY a partitioned table builds nothing; a plain table renamed into its name
# while it waits (an approved rename) would get a blocking build.
swap="ALTER TABLE race_parted RENAME TO race_parted_old; ALTER TABLE race_big RENAME TO race_parted;"
race_attack "CREATE INDEX ON ONLY a partitioned table swapped for a plain one by rename" \
    "CREATE TABLE race_parted (v int) PARTITION BY RANGE (v);
     CREATE TABLE race_parted_1 PARTITION OF race_parted FOR VALUES FROM (0) TO (1000);
     CREATE TABLE race_big (v int); INSERT INTO race_big SELECT g FROM generate_series(1, 100000) g;
     ANALYZE race_big; ALTER TABLE race_parted OWNER TO sec_mig; ALTER TABLE race_big OWNER TO sec_mig;
     SET SESSION AUTHORIZATION sec_approver; SELECT fence.approve(\$m\$$swap\$m\$)" \
    "SELECT set_config('fence.approval', fence.content_hash(\$m\$$swap\$m\$), true); $swap" \
    "CREATE INDEX race_v ON ONLY race_parted (v)" \
    "SELECT count(*) FROM pg_class WHERE relname = 'race_v'"
# ADD COLUMN IF NOT EXISTS of a column the table has is skipped; renamed away while it waits,
# the column would be added with its UNIQUE index built under ACCESS EXCLUSIVE.
move="ALTER TABLE race_cols RENAME COLUMN c TO c_old;"
race_attack "ADD COLUMN IF NOT EXISTS ... UNIQUE while the column is renamed away" \
    "CREATE TABLE race_cols (id int, c int); INSERT INTO race_cols SELECT g, g FROM generate_series(1, 100000) g;
     ANALYZE race_cols; ALTER TABLE race_cols OWNER TO sec_mig;
     SET SESSION AUTHORIZATION sec_approver; SELECT fence.approve(\$m\$$move\$m\$)" \
    "SELECT set_config('fence.approval', fence.content_hash(\$m\$$move\$m\$), true); $move" \
    "ALTER TABLE race_cols ADD COLUMN IF NOT EXISTS c int UNIQUE" \
    "SELECT count(*) FROM pg_attribute WHERE attrelid = 'race_cols'::regclass AND attname = 'c'"

# A denial is durable before the refusal can be interrupted: every denial the server logged
# is in the chain or parked, however the denied statement was cut short.
interrupted_attack() {
    local name=$1 interrupt=$2
    attempts=$((attempts + 1))
    local log_mark before after logged
    log_mark=$(wc -l < "$SERVER_DIR/server.log")
    before=$(q -c "SELECT (SELECT count(*) FROM fence.audit_chain WHERE decision = 'deny') + (SELECT count(*) FROM fence.pending_denials)")
    eval "$interrupt"
    after=$(q -c "SELECT (SELECT count(*) FROM fence.audit_chain WHERE decision = 'deny') + (SELECT count(*) FROM fence.pending_denials)")
    logged=$(tail -n +"$((log_mark + 1))" "$SERVER_DIR/server.log" | grep -c 'FENCE: decision=deny' || true)
    if [ "$logged" -gt 0 ] && [ "$((after - before))" -eq "$logged" ]; then
        printf '  refused  %-70s %s denials, all recorded\n' "$name" "$logged"
    else
        failures=$((failures + 1))
        printf '  FAILED   %s: %s denials logged, %s recorded\n' "$name" "$logged" "$((after - before))"
    fi
}
timeouts() {
    # Timeouts swept across the time the gate and the denial writer take (a few ms to tens).
    for ms in 1 2 3 4 5 6 8 10 12 15 20 25 30; do
        for _ in 1 2; do
            psql -X -q -U sec_mig -d "$DB" -c "SET statement_timeout = '${ms}ms'" \
                -c "ALTER TABLE victim ALTER COLUMN note SET NOT NULL" >/dev/null 2>&1 || true
        done
    done
}
interrupted_attack "a statement_timeout (1-30 ms) fires while the denial is being written" timeouts
cancels() {
    # A second session of the same role cancels the first whenever it waits on fence's writer.
    psql -X -q -U sec_mig -d "$DB" >/dev/null 2>&1 <<'SQL' &
DO $$ BEGIN
    FOR i IN 1..600 LOOP
        PERFORM pg_cancel_backend(pid) FROM pg_stat_activity
        WHERE usename = 'sec_mig' AND pid <> pg_backend_pid() AND state = 'active' AND query LIKE 'ALTER%';
        PERFORM pg_sleep(0.005);
    END LOOP;
END $$;
SQL
    local canceller=$!
    for _ in 1 2 3 4 5; do
        psql -X -q -U sec_mig -d "$DB" -c "ALTER TABLE victim ALTER COLUMN note SET NOT NULL" >/dev/null 2>&1 || true
    done
    wait "$canceller" || true
}
interrupted_attack "pg_cancel_backend from a second session of the same role" cancels

# A flood of one refused statement costs log2(n) denial writers, not n; the chain has the
# first refusal and every power of two with the count so far, the server log every refusal.
attempts=$((attempts + 1))
log_mark=$(wc -l < "$SERVER_DIR/server.log")
before=$(q -c "SELECT (SELECT count(*) FROM fence.audit_chain WHERE decision = 'deny') + (SELECT count(*) FROM fence.pending_denials)")
for _ in $(seq 1 40); do echo "ALTER TABLE victim ALTER COLUMN note SET NOT NULL;"; done > "$WORK/flood.sql"
psql -X -q -U sec_mig -d "$DB" -f "$WORK/flood.sql" >/dev/null 2>&1 || true
after=$(q -c "SELECT (SELECT count(*) FROM fence.audit_chain WHERE decision = 'deny') + (SELECT count(*) FROM fence.pending_denials)")
logged=$(tail -n +"$((log_mark + 1))" "$SERVER_DIR/server.log" | grep -c 'FENCE: decision=deny' || true)
counted=$(q -c "SELECT max((details -> 'repeat' ->> 'count')::int) FROM (SELECT details FROM fence.audit_chain UNION ALL SELECT event -> 'details' FROM fence.pending_denials) d")
if [ "$logged" -eq 40 ] && [ "$((after - before))" -eq 6 ] && [ "$counted" = 32 ]; then
    printf '  refused  %-70s %s\n' "a flood of 40 refusals of one statement in one session" "40 logged, 6 written (count 32 chained)"
else
    failures=$((failures + 1))
    printf '  FAILED   flood: %s logged, %s written, count %s\n' "$logged" "$((after - before))" "$counted"
fi

# Event triggers silenced by a setting however it was made — a granted SET privilege, ALTER
# ROLE ... SET, PGOPTIONS, set_config — and not only by a SET statement: the ProcessUtility
# hook (fence preloaded in the database's sessions) gates the DDL itself and chains it, unless
# a superuser runs it: then it goes to the server log (the documented restore runs so).
silenced_attack() {
    local name=$1 role=$2 options=$3 sql=$4 want=$5 logged=${6:-}
    attempts=$((attempts + 1))
    local mark output got log_mark
    mark=$(q -c "SELECT coalesce(max(seq), 0) FROM fence.audit_chain")
    log_mark=$(wc -l < "$SERVER_DIR/server.log")
    # From standard input: each statement in a transaction of its own.
    output=$(PGOPTIONS="$options" psql -X -q -v VERBOSITY=verbose -U "$role" -d "$DB" <<<"$sql" 2>&1) || true
    got=$(q -c "SELECT coalesce(string_agg(kind || ':' || coalesce(decision, details ->> 'guard') || ':' || coalesce(details ->> 'source', '-'), ' ' ORDER BY seq), '') FROM fence.audit_chain WHERE seq > $mark AND kind IN ('ddl', 'guard_change')")
    if [ -n "$logged" ] && ! tail -n +"$((log_mark + 1))" "$SERVER_DIR/server.log" | grep -qF "$logged"; then
        got="$got (not in the server log: $logged)"
    fi
    if [ "$got" = "$want" ] && { [[ "$want" != *deny* ]] || grep -q 'ERROR:  42501: fence: blocked' <<<"$output"; }; then
        printf '  refused  %-70s %s\n' "$name" "$want"
    else
        failures=$((failures + 1))
        printf '  FAILED   %s: chain got "%s", expected "%s"\n' "$name" "$got" "$want"
        printf '%s\n' "$output" | cut -c1-200 | sed 's/^/           | /' | head -n 6
    fi
}
risky="ALTER TABLE victim ALTER COLUMN note SET NOT NULL"
major=$(q -c "SELECT current_setting('server_version_num')::int / 10000")
settings=("session_replication_role replica")
[ "$major" -ge 17 ] && settings+=("event_triggers off")
psql -X -q -d postgres -c "ALTER DATABASE $DB SET session_preload_libraries = 'fence'"
for entry in "${settings[@]}"; do
    set -- $entry
    setting=$1 value=$2
    psql -X -q -d "$DB" -c "GRANT SET ON PARAMETER $setting TO sec_mig"
    silenced_attack "$setting = $value by a granted SET privilege: the hook gates" sec_mig "" \
        "SET $setting = $value; $risky" "guard_change:$setting:- ddl:deny:-"
    psql -X -q -d "$DB" -c "REVOKE SET ON PARAMETER $setting FROM sec_mig" -c "ALTER ROLE sec_mig IN DATABASE $DB SET $setting = $value"
    silenced_attack "$setting = $value by ALTER ROLE ... SET: the hook gates" sec_mig "" "$risky" "ddl:deny:-"
    silenced_attack "  and chains what it allows, with where the setting came from" sec_mig "" \
        "CREATE TABLE silenced_by_${setting} (id int)" "ddl:allow:- guard_change:$setting:database user"
    psql -X -q -d "$DB" -c "ALTER ROLE sec_mig IN DATABASE $DB RESET $setting"
    silenced_attack "$setting = $value by a superuser's PGOPTIONS: in the server log" postgres "-c $setting=$value" \
        "CREATE TABLE silenced_by_client (id int)" "" "CREATE TABLE runs while $setting = $value (set by client)"
    silenced_attack "$setting = $value by a superuser's set_config: in the server log" postgres "" \
        "SELECT set_config('$setting', '$value', false); DROP TABLE silenced_by_client" "" \
        "DROP TABLE runs while $setting = $value (set by session)"
done

echo
echo "security suite: $attempts bypass attempts, $((attempts - failures)) refused with nothing changed, $failures failed"
psql -X -q -d postgres -c "DROP DATABASE $DB" -c "DROP ROLE $ROLES"
[ "$failures" -eq 0 ]
