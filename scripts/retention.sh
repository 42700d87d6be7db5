#!/usr/bin/env bash
# Retention of tracked row changes across real months: a server of its own runs 70 days in
# the past (libfaketime) while a table is tracked and changed, then in the present. The old
# month is dropped by fence.drop_row_changes, the retention is chained, and the chain and the
# remaining changes verify; a month dropped by hand is reported as tampering.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
[ -n "${PGPORT:-}" ] || { ensure_deps; install_extension; }
trap stop_server EXIT
start_server retention 54338
FAKETIME_LIB=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1
BINDIR=$("$PG_CONFIG" --bindir)

restart_at() { # restart_at OFFSET: restart the server with its clock shifted ("" = real time)
    runuser -u postgres -- "$BINDIR/pg_ctl" -D "$SERVER_DIR/data" -m fast -w stop >/dev/null
    local fake=()
    [ -n "$1" ] && fake=(LD_PRELOAD="$FAKETIME_LIB" FAKETIME="$1")
    runuser -u postgres -- env RUST_BACKTRACE=1 "${fake[@]}" \
        "$BINDIR/pg_ctl" -D "$SERVER_DIR/data" -l "$SERVER_DIR/server.log" -w start >/dev/null
}
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d retention -c "$1"; }

say "retention: row changes of two months, the older one dropped"
restart_at "-70d"
psql -X -q -d postgres -c "CREATE DATABASE retention"
q "CREATE EXTENSION fence"
q "CREATE TABLE ledger (id int PRIMARY KEY, amount int)"
q "SELECT fence.track_table('ledger')" >/dev/null
q "INSERT INTO ledger SELECT g, 0 FROM generate_series(1, 20) g"
q "UPDATE ledger SET amount = amount + 1"
old_month=$(q "SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM')")
check "the past month is $(TZ=UTC date -d '-70 days' +%Y-%m)" "$old_month" "$(TZ=UTC date -d '-70 days' +%Y-%m)"
q "SELECT fence.seal_changes()" >/dev/null

restart_at ""
q "UPDATE ledger SET amount = amount + 1 WHERE id <= 5"
q "SELECT fence.seal_changes()" >/dev/null
check "both months verify" "$(q "SELECT ok || '/' || changes_checked || '/' || changes_unsealed FROM fence.verify_chain()")" "true/45/0"
check "a future cutoff is refused" \
    "$(q "SELECT count(*) FROM fence.drop_row_changes(now() + interval '1 day')" 2>&1 | grep -c 'in the future')" 1
check "the old month is dropped" \
    "$(q "SELECT month || ':' || changes FROM fence.drop_row_changes(now() - interval '40 days')")" "$old_month:40"
check "its partition is gone" "$(q "SELECT to_regclass('fence.row_changes_${old_month/-/_}') IS NULL")" t
check "the retention is chained" \
    "$(q "SELECT details -> 'months' ->> 0 || '/' || (details -> 'changes' ->> '$old_month') FROM fence.audit_chain WHERE kind = 'row_retention'")" \
    "$old_month/40"
check "the rest verifies" "$(q "SELECT ok || '/' || changes_checked FROM fence.verify_chain()")" "true/5"
check "the row's history keeps the present month" \
    "$(q "SELECT count(*) FROM fence.row_history('ledger', '{\"id\": 1}')")" 1

say "retention: a sleeping sealer takes in a shorter seal interval from a reload"
# within_10s COMMAND...: runs COMMAND every 0.2 s until it succeeds (status 0) or 10 s have passed (1)
within_10s() {
    for _ in $(seq 50); do "$@" && return 0; sleep 0.2; done
    return 1
}
sealer() { q "SELECT pid FROM pg_stat_activity WHERE backend_type = 'fence sealer'"; }
no_sealer() { [ -z "$(sealer)" ]; }
# stop_sealer: ends the running sealer (it stays 20 s after its last work) and waits until it is gone
stop_sealer() {
    q "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE backend_type = 'fence sealer'" >/dev/null
    within_10s no_sealer || true
}
all_sealed() { [ "$(q "SELECT changes_unsealed FROM fence.verify_chain()")" = 0 ]; }
sealed() { within_10s all_sealed && echo sealed || echo "still unsealed"; }
shows_seal_interval() { [ "$(psql -X -q -At -d retention -c "LOAD 'fence'" -c "SHOW fence.seal_interval")" = "$1" ]; }
# seal_interval SETTING SHOWN: postgresql.auto.conf changed and reloaded (fence's library loaded
# first, which defines the setting); waits until new sessions show the setting's new value
seal_interval() {
    psql -X -q -v ON_ERROR_STOP=1 -d retention -c "LOAD 'fence'" -c "ALTER SYSTEM $1" -c "SELECT pg_reload_conf()" >/dev/null
    within_10s shows_seal_interval "$2" || true
}
# The sealer of the sections above stays 20 s after its last seal: it is ended here.
stop_sealer
check "no sealer runs" "$(sealer)" ""
seal_interval "SET fence.seal_interval = 3600" 1h
q "UPDATE ledger SET amount = amount + 1 WHERE id = 1"
check "the writer's sealer seals its change" "$(sealed)" sealed
first=$(sealer)
seal_interval "SET fence.seal_interval = 1" 1s
q "UPDATE ledger SET amount = amount + 1 WHERE id = 2"
check "the same sealer, an hour from its next round, seals the next one within seconds" "$(sealed)/$(sealer)" "sealed/$first"
seal_interval "RESET fence.seal_interval" 2s

say "retention: a change the sealer cannot seal yet keeps it running"
stop_sealer
# A transaction holding a transaction id holds the horizon back for 4 s.
psql -X -q -d retention -c "BEGIN" -c "SELECT txid_current()" -c "SELECT pg_sleep(4)" -c "COMMIT" >/dev/null &
holder=$!
sleep 0.5
q "UPDATE ledger SET amount = amount + 1 WHERE id = 3"
sleep 2.5
check "behind a running transaction, the change waits" "$(q "SELECT changes_unsealed FROM fence.verify_chain()")" 1
wait $holder
check "once it ends, the sealer that kept running seals it" "$(sealed)" sealed

say "retention: the sealer stays while writes come and go, and leaves for DROP DATABASE"
lingering=$(sealer)
sleep 5 # two rounds (2 s) with nothing to seal
check "with nothing to seal for two rounds, the sealer stays" "$(sealer)/${lingering:-none}" "$lingering/$lingering"
psql -X -q -d postgres -c "CREATE DATABASE dropped"
psql -X -q -v ON_ERROR_STOP=1 -d dropped -c "CREATE EXTENSION fence" -c "CREATE TABLE t (id int PRIMARY KEY)" \
    -c "SELECT fence.track_table('t')" -c "INSERT INTO t VALUES (1)" >/dev/null
sealer_in_dropped() {
    [ -n "$(psql -X -q -At -d postgres -c "SELECT pid FROM pg_stat_activity WHERE backend_type = 'fence sealer' AND datname = 'dropped'")" ]
}
within_10s sealer_in_dropped || true
check "a sealer runs in the new database" "$(sealer_in_dropped && echo running)" running
check "DROP DATABASE without FORCE: the sealer steps aside" \
    "$(psql -X -q -At -d postgres -c "DROP DATABASE dropped" 2>&1 && echo dropped)" dropped

say "retention: a month dropped by hand is tampering"
month=$(q "SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY_MM')")
psql -X -q -d retention -c "SET session_replication_role = replica" -c "DROP TABLE fence.row_changes_$month" 2>/dev/null
check "verify_chain reports the missing changes" \
    "$(q "SELECT ok || ' ' || (reason ~ 'sealed changes are missing')::text FROM fence.verify_chain()")" "false true"
