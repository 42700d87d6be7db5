#!/usr/bin/env bash
# The gate, counted instead of timed: the instructions a backend executes per DDL statement
# with fence and without, under valgrind's callgrind (deterministic where the shared vCPUs'
# timings are not; bench/run.sh times the same paths).
#   allow     CREATE TABLE, a transaction each (risk none: decided, recorded, chained)
#   approved  CREATE INDEX on a 20,000-row table, a transaction each, the migration approved
#             (SET fence.approval): the approval looked up and matched
#   deny      the same CREATE INDEX without approval: refused, the denial written by fence's
#             denial writer (a background worker: its instructions are counted beside)
#   chaining  events parked while another transaction held the chain, then chained by
#             fence.seal_changes(): per event
#   P1        bench/run.sh's P1 migration (CREATE TABLE, ADD COLUMN ... DEFAULT, CREATE INDEX,
#             COMMENT, DROP TABLE), a transaction each, approved: per statement, with no
#             extension, fence and the hand-built plpgsql event-trigger audit
# per statement = (count for 120 statements - count for 20) / 100, each run in a new backend
# of a postmaster running under callgrind (every process it forks is counted, one file each).
# Usage: bench/gate_profile.sh     Prints a markdown table (target/bench-gate-profile.md).
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
command -v valgrind >/dev/null || { echo "valgrind is missing (scripts/lib.sh installs it)"; exit 1; }
# No autovacuum worker in the counts; the sealer waits an hour between rounds (the parked
# events are chained by fence.seal_changes(), counted).
bench_server gateprofile 54364 "autovacuum = off
fence.seal_interval = 3600"
q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }

say "gate profile: databases with and without fence"
q -d postgres -c "CREATE DATABASE gate_none" -c "CREATE DATABASE gate_fence" -c "CREATE DATABASE gate_plpgsql" \
    -c "CREATE ROLE bench_ci LOGIN"
for db in gate_none gate_fence gate_plpgsql; do
    q -d "$db" -c "GRANT CREATE ON SCHEMA public TO bench_ci" \
        -c "CREATE TABLE big (id int, c int); INSERT INTO big SELECT g, g FROM generate_series(1, 20000) g; ANALYZE big" \
        -c "ALTER TABLE big OWNER TO bench_ci"
done
q -d gate_fence -c "CREATE EXTENSION fence"
q -d gate_plpgsql -f "$ROOT/bench/sql/setup_plpgsql.sql" > /dev/null
q -d gate_plpgsql -c "GRANT ALL ON SCHEMA audit TO bench_ci" -c "GRANT ALL ON ALL TABLES IN SCHEMA audit TO bench_ci" \
    -c "GRANT ALL ON ALL SEQUENCES IN SCHEMA audit TO bench_ci"
# The migration role runs the statements; another role approves.
q -d postgres -c "CREATE ROLE bench_approver LOGIN IN ROLE fence_approver"
declare -A HASH PARKED SEAL_B
# The approved runs' migrations, approved by their content.
statements() { # statements KIND N
    for i in $(seq 1 "$2"); do
        case $1 in
            allow) echo "CREATE TABLE t_${2}_$i (id int);" ;;
            index) echo "CREATE INDEX big_${2}_$i ON big (c);" ;;
            p1) # N statements: N / 5 rounds of P1's five
                [ $((i % 5)) = 0 ] || continue
                echo "CREATE TABLE m_${2}_$i (id int PRIMARY KEY, v text);"
                echo "ALTER TABLE m_${2}_$i ADD COLUMN c int DEFAULT 0;"
                echo "CREATE INDEX m_${2}_${i}_v_idx ON m_${2}_$i (v);"
                echo "COMMENT ON TABLE m_${2}_$i IS 'm';"
                echo "DROP TABLE m_${2}_$i;" ;;
        esac
    done
}
for n in 20 120; do
    for kind in index p1; do
        statements $kind "$n" > "$WORK/${kind}_$n.sql"
        HASH[${kind}_$n]=$(q -U bench_approver -d gate_fence -c "SELECT fence.approve(\$m\$$(cat "$WORK/${kind}_$n.sql")\$m\$)")
    done
done
stop_server

mkdir -p "$WORK/cg" && chown postgres "$WORK/cg"
BINDIR=$("$PG_CONFIG" --bindir)
say "gate profile: the server under callgrind"
runuser -u postgres -- env RUST_BACKTRACE=1 valgrind --tool=callgrind --callgrind-out-file="$WORK/cg/cg.%p" \
    "$BINDIR/postgres" -D "$SERVER_DIR/data" > "$WORK/valgrind.log" 2>&1 &
VALGRIND=$!
# A fast shutdown of the postmaster ends every process under callgrind.
trap 'kill -INT "$(head -n 1 "$SERVER_DIR/data/postmaster.pid" 2>/dev/null)" 2>/dev/null; wait "$VALGRIND" 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 1 300); do "$BINDIR/pg_isready" -q -h "$SERVER_DIR" -p "$PGPORT" && break; sleep 0.5; done

total() { awk '/^(summary|totals):/ { print $2; exit }' "$1"; }
# run DB SCRIPT [ROLE]: the instructions of the backend that ran SCRIPT as ROLE (bench_ci by
# default), and of the background workers that started meanwhile: "backend workers".
run() {
    local before pid
    before=$(ls "$WORK/cg")
    pid=$( (echo "SELECT pg_backend_pid();"; cat "$2") | psql -X -q -At -U "${3:-bench_ci}" -d "$1" 2>/dev/null | sed -n 1p)
    # The backend writes its counts as it exits (the totals last); workers as they finish.
    for _ in $(seq 1 600); do
        grep -qE '^(summary|totals):' "$WORK/cg/cg.$pid" 2>/dev/null && break
        sleep 0.2
    done
    sleep 2
    local workers=0
    for f in $(ls "$WORK/cg"); do
        case "$before" in *"$f"*) continue ;; esac
        [ "$f" = "cg.$pid" ] && continue
        local t
        t=$(total "$WORK/cg/$f")
        workers=$((workers + ${t:-0}))
    done
    echo "$(total "$WORK/cg/cg.$pid") $workers"
}
# per DB KIND [SED]: instructions per statement (backend, workers) between 20 and 120
# statements (SED renames what they create).
per() {
    local s_b s_w l_b l_w
    statements "$2" 20 | sed "${3:-}" > "$WORK/run_20.sql"
    statements "$2" 120 | sed "${3:-}" > "$WORK/run_120.sql"
    read -r s_b s_w < <(run "$1" "$WORK/run_20.sql")
    read -r l_b l_w < <(run "$1" "$WORK/run_120.sql")
    echo "$(( (l_b - s_b) / 100 )) $(( (l_w - s_w) / 100 ))"
}

declare -A B W
say "gate profile: allow (CREATE TABLE)"
read -r B[allow_none] W[allow_none] < <(per gate_none allow)
read -r B[allow_fence] W[allow_fence] < <(per gate_fence allow)
say "gate profile: approved (CREATE INDEX on 20,000 rows)"
read -r B[index_none] W[index_none] < <(per gate_none index "s/big_/bn_/")
for n in 20 120; do
    for kind in index p1; do
        { echo "SET fence.approval = '${HASH[${kind}_$n]}';"; cat "$WORK/${kind}_$n.sql"; } > "$WORK/approved_${kind}_$n.sql"
    done
done
# approved KIND: instructions per statement of the approved runs (backend, workers).
approved() {
    local s_b s_w l_b l_w
    read -r s_b s_w < <(run gate_fence "$WORK/approved_$1_20.sql")
    read -r l_b l_w < <(run gate_fence "$WORK/approved_$1_120.sql")
    echo "$(( (l_b - s_b) / 100 )) $(( (l_w - s_w) / 100 ))"
}
read -r B[approved] W[approved] < <(approved index)
say "gate profile: the P1 migration's statements (no extension, plpgsql audit, fence approved)"
read -r B[p1_none] _ < <(per gate_none p1)
read -r B[p1_plpgsql] _ < <(per gate_plpgsql p1)
read -r B[p1_fence] W[p1_fence] < <(approved p1)
say "gate profile: deny (the same CREATE INDEX, not approved)"
read -r B[deny] W[deny] < <(per gate_fence index "s/big_/bd_/")
say "gate profile: chaining parked events (fence.seal_changes())"
for n in 20 120; do
    # Another session holds the chain while n CREATE TABLEs commit: each parks its event.
    (echo "BEGIN; LOCK TABLE fence.audit_chain IN EXCLUSIVE MODE; SELECT pg_sleep(600);") | psql -X -q -d gate_fence > /dev/null 2>&1 &
    holder=$!
    for _ in $(seq 1 100); do
        [ "$(q -d gate_fence -c "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'audit_chain' AND l.mode = 'ExclusiveLock' AND l.granted")" = 1 ] && break
        sleep 0.2
    done
    statements allow "$n" | sed "s/t_/p_/" | psql -X -q -d gate_fence > /dev/null
    q -d gate_fence -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(600)%' AND pid <> pg_backend_pid()" > /dev/null
    wait "$holder" 2>/dev/null || true
    PARKED[$n]=$(q -d gate_fence -c "SELECT events_parked FROM fence.verify_chain()")
    echo "SELECT fence.seal_changes();" > "$WORK/seal_$n.sql"
    read -r SEAL_B[$n] _ < <(run gate_fence "$WORK/seal_$n.sql" postgres)
done
chained=$(( (SEAL_B[120] - SEAL_B[20]) / (PARKED[120] - PARKED[20]) ))
# The plpgsql audit's rows say its statements ran (a query of its own, after every counted
# run: its backend would be counted as a worker of the next run).
[ "$(q -d gate_plpgsql -c "SELECT count(*) > 0 FROM audit.ddl")" = t ] || { echo "the plpgsql audit recorded nothing"; exit 1; }

{
    echo "The gate, instructions per DDL statement (callgrind), $(date -u +%F), PostgreSQL $("$PG_CONFIG" --version | awk '{print $2}'), fence release build"
    echo
    echo "| path | no extension | fence: backend | over no extension | fence: background workers |"
    echo "|---|---|---|---|---|"
    echo "| allow: CREATE TABLE, risk none | ${B[allow_none]} | ${B[allow_fence]} | $(( B[allow_fence] - B[allow_none] )) | ${W[allow_fence]} |"
    echo "| approved: CREATE INDEX (20,000 rows), approval matched | ${B[index_none]} | ${B[approved]} | $(( B[approved] - B[index_none] )) | ${W[approved]} |"
    echo "| deny: the same CREATE INDEX, refused | ${B[index_none]} (runs it) | ${B[deny]} | | ${W[deny]} (the denial writer) |"
    echo "| P1 migration's statements, approved (a transaction each) | ${B[p1_none]} | ${B[p1_fence]} | $(( B[p1_fence] - B[p1_none] )) | ${W[p1_fence]} |"
    echo "| the same, plpgsql event-trigger audit instead of fence | ${B[p1_none]} | ${B[p1_plpgsql]} | $(( B[p1_plpgsql] - B[p1_none] )) | |"
    echo
    echo "Chaining a parked event (fence.seal_changes(), ${PARKED[20]} and ${PARKED[120]} parked): $chained instructions per event."
} | tee "$ROOT/target/bench-gate-profile.md"
