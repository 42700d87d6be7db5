#!/usr/bin/env bash
# Live truth for the commands that cannot run inside a transaction block (the pg_regress
# truth test runs each statement in a rolled-back subtransaction): a blocker session holds
# the weakest lock that conflicts with the predicted one but not with ACCESS SHARE (commands
# look the relation up under ACCESS SHARE first), the command is started in another session,
# and the lock it waits for (pg_locks, granted = false) must be the one fence.analyze
# predicts. A weaker real lock would not wait (observed: nothing), a stronger one shows.
# Uses the server in PGHOST/PGPORT (scripts/test.sh), or starts its own.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

DB=fence_truth_wait
suite_server truthwait 54337

q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" -c "$1"; }
say "live truth of non-transactional commands (the lock each one waits for)"
psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
psql -X -q -v ON_ERROR_STOP=1 -d "$DB" >/dev/null <<'SQL'
CREATE EXTENSION fence;
SELECT fence.set_policy('{"mode": "off"}', 'truth');
CREATE TABLE items (id int PRIMARY KEY, v text);
INSERT INTO items SELECT g, 'v' || g FROM generate_series(1, 1000) g;
CREATE INDEX items_v_idx ON items (v);
CREATE MATERIALIZED VIEW item_counts AS SELECT v, count(*) AS n FROM items GROUP BY v;
CREATE UNIQUE INDEX item_counts_v ON item_counts (v);
CREATE TABLE parts (id int, at date) PARTITION BY RANGE (at);
CREATE TABLE parts_2026 PARTITION OF parts FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
ALTER TABLE items CLUSTER ON items_pkey;
SQL

failures=0
# check_wait BLOCKED_RELATION STATEMENT: the lock STATEMENT waits for on the relation is the
# one fence.analyze predicts.
check_wait() {
    local relation=$1 statement=$2 predicted observed
    predicted=$(q "SELECT l ->> 'mode' FROM fence.analyze(\$q\$$statement\$q\$) a, jsonb_array_elements(a.locks) l
                   WHERE l ->> 'relation' = 'public.$relation'")
    local blocker
    case "$predicted" in
        AccessExclusiveLock) blocker="ACCESS SHARE" ;;
        ExclusiveLock) blocker="ROW SHARE" ;;
        ShareRowExclusiveLock | ShareLock) blocker="ROW EXCLUSIVE" ;;
        *) blocker="SHARE UPDATE EXCLUSIVE" ;;
    esac
    mkfifo "$WORK/hold"
    psql -X -q -d "$DB" < "$WORK/hold" > /dev/null 2>&1 &
    local holder=$!
    exec 3>"$WORK/hold"
    local hold="LOCK TABLE $relation IN $blocker MODE"
    # LOCK TABLE refuses materialized views; ANALYZE in a block holds SHARE UPDATE EXCLUSIVE.
    if [ "$(q "SELECT relkind FROM pg_class WHERE oid = '$relation'::regclass")" = m ]; then hold="ANALYZE $relation"; fi
    echo "BEGIN; $hold; SELECT pg_sleep(30);" >&3
    for _ in $(seq 1 50); do
        [ "$(q "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                WHERE l.relation = '$relation'::regclass AND l.granted AND a.query LIKE '%pg_sleep%'")" -ge 1 ] && break
        sleep 0.1
    done
    PGAPPNAME=truth-waiter psql -X -q -d "$DB" -c "$statement" > /dev/null 2>&1 &
    local waiter=$!
    observed=""
    for _ in $(seq 1 50); do
        observed=$(q "SELECT l.mode FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                      WHERE a.application_name = 'truth-waiter' AND NOT l.granted AND l.relation = '$relation'::regclass")
        [ -n "$observed" ] && break
        sleep 0.1
    done
    # End the blocker's backend now (its pg_sleep would hold the lock for 30 s), then the rest.
    q "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '$DB' AND pid <> pg_backend_pid()
       AND query LIKE '%pg_sleep%'" >/dev/null
    exec 3>&-
    rm -f "$WORK/hold"
    wait "$waiter" 2>/dev/null || true
    wait "$holder" 2>/dev/null || true
    if [ -n "$predicted" ] && [ "$predicted" = "$observed" ]; then
        printf '  ok    %-62s waits for %s on %s\n' "$statement" "$observed" "$relation"
    else
        printf '  FAIL  %-62s predicted %s, observed %s on %s\n' "$statement" "${predicted:-nothing}" "${observed:-nothing}" "$relation"
        failures=$((failures + 1))
    fi
}

check_wait items "VACUUM items"
check_wait items "VACUUM FULL items"
# Without a table list: every table the role may maintain, named (items among them).
check_wait items "VACUUM"
check_wait items "ANALYZE"
check_wait items "CREATE INDEX CONCURRENTLY items_id_v ON items (id, v)"
check_wait items "REINDEX TABLE CONCURRENTLY items"
check_wait items "DROP INDEX CONCURRENTLY items_v_idx"
check_wait item_counts "REFRESH MATERIALIZED VIEW CONCURRENTLY item_counts"
check_wait parts "ALTER TABLE parts DETACH PARTITION parts_2026 CONCURRENTLY"
# Its second transaction finishes the detach under ACCESS EXCLUSIVE on the partition.
q "ALTER TABLE parts ATTACH PARTITION parts_2026 FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')" >/dev/null
check_wait parts_2026 "ALTER TABLE parts DETACH PARTITION parts_2026 CONCURRENTLY"
# A schema's tables, and the tables clustered before: each table in a transaction of its own.
check_wait items "REINDEX SCHEMA public"
check_wait items "CLUSTER"

psql -X -q -d postgres -c "DROP DATABASE $DB"
[ "$failures" -eq 0 ] || { echo "$failures non-transactional commands disagree with fence.analyze"; exit 1; }
say "live truth of non-transactional commands: all agree"
