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
    runuser -u postgres -- env -u RUST_BACKTRACE "${fake[@]}" \
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

say "retention: a month dropped by hand is tampering"
month=$(q "SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY_MM')")
psql -X -q -d retention -c "SET session_replication_role = replica" -c "DROP TABLE fence.row_changes_$month" 2>/dev/null
check "verify_chain reports the missing changes" \
    "$(q "SELECT ok || ' ' || (reason ~ 'sealed changes are missing')::text FROM fence.verify_chain()")" "false true"
