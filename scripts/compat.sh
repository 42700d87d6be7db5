#!/usr/bin/env bash
# Do no harm: the compatibility suite. The same SQL (compat/*.sql) runs through two servers
# of our own, one with fence preloaded and installed, one without it, and the whole psql
# output (VERBOSITY verbose: every error field, LINE markers, CONTEXT, LOCATION) must be the
# same once fence's own NOTICE / WARNING lines are removed. On the fenced server each file
# runs in three databases: with the extension under policy warn, with it under the default
# enforce policy (only the files with nothing risky: temporary tables, no-ops, read-only
# transactions — nothing may be refused), and without the extension (the library is loaded
# in every database of the server). Then a hot standby of each server replays DDL and answers
# the same read-only session. Last, what fence recorded of it all is checked: no event about
# a temporary object, no-ops allowed at risk none, READ ONLY decisions kept outside their
# transaction, the standby's chain replayed and verified, nothing written by the standby.
# Run by scripts/test.sh; alone it builds and installs the extension first.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [ -z "${PGPORT:-}" ]; then
    ensure_deps
    install_extension
fi
WORK=$(mktemp -d)
chmod 755 "$WORK"
DIRS=()
cleanup() {
    # Standbys first (they were started last).
    for ((i = ${#DIRS[@]} - 1; i >= 0; i--)); do SERVER_DIR=${DIRS[i]} stop_server || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

# cluster NAME PORT [postgresql.conf lines]: starts a server (lib.sh's start_server) and
# remembers it for the cleanup; prints nothing.
cluster() {
    start_server "$1" "$2" "${3:-}"
    DIRS+=("$SERVER_DIR")
}

# standby_of PRIMARY_DIR PRIMARY_PORT NAME PORT: a streaming hot standby of that server, with
# the same configuration (fence preloaded there too when it is on the primary).
standby_of() {
    local primary=$1 primary_port=$2 dir=/tmp/fence-$3-$4
    local bindir
    bindir=$("$PG_CONFIG" --bindir)
    SERVER_DIR=$dir stop_server 2>/dev/null || true
    rm -rf "$dir" && mkdir -p "$dir" && chown postgres:postgres "$dir"
    runuser -u postgres -- "$bindir/pg_basebackup" -h "$primary" -p "$primary_port" -U postgres -D "$dir/data" -R -X stream -c fast
    cat >> "$dir/data/postgresql.conf" <<CONF
port = $4
unix_socket_directories = '$dir'
hot_standby = on
CONF
    runuser -u postgres -- env RUST_BACKTRACE=1 "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w start >/dev/null
    DIRS+=("$dir")
}

# Removes what only fence prints (its NOTICE / WARNING lines and the fields under them) and
# what differs between any two servers (backend pids).
normalize() {
    awk '
        /^psql:[^ ]*: (NOTICE|WARNING):  [0-9A-Z]+: fence: / { fence = 1; next }
        fence && /^(DETAIL|HINT|LOCATION):  / { next }
        { fence = 0; print }
    ' | sed -E 's/(server process with PID) [0-9]+/\1 N/'
}

# run HOST PORT DB FILE OUT: the file through psql as a client would send it.
run() {
    (cd "$ROOT/compat" && PGHOST=$1 PGPORT=$2 psql -X -v VERBOSITY=verbose -v ON_ERROR_STOP=0 \
        -d "$3" -f "$4" >"$5.raw" 2>&1) || true
    normalize <"$5.raw" >"$5"
}

say "compatibility suite: the same SQL with and without fence"
cluster compat-plain 54361
PLAIN=$SERVER_DIR
cluster compat-fence 54360 "shared_preload_libraries = 'fence'"
FENCED=$SERVER_DIR
export PGHOST=$FENCED PGPORT=54360 PGUSER=postgres
psql -X -q -d postgres -c "CREATE DATABASE warned" -c "CREATE DATABASE enforced" -c "CREATE DATABASE bare"
psql -X -q -d warned -c "CREATE EXTENSION fence" -c "SELECT fence.set_policy('{\"mode\": \"warn\"}', 'compatibility suite')" >/dev/null
psql -X -q -d enforced -c "CREATE EXTENSION fence"
PGHOST=$PLAIN PGPORT=54361 psql -X -q -d postgres -c "CREATE DATABASE warned" -c "CREATE DATABASE enforced" \
    -c "CREATE DATABASE bare"

cases=0 lines=0 differing=0
compare() { # compare FILE DB OUT EXPECTED
    cases=$((cases + 1))
    lines=$((lines + $(wc -l <"$4")))
    if ! diff -u "$4" "$3" >"$3.diff"; then
        differing=$((differing + $(grep -c '^[-+][^-+]' "$3.diff")))
        echo "  FAIL  $1 in $2 differs from the server without fence:"
        head -n 60 "$3.diff"
    else
        printf '  ok    %s in %s\n' "$1" "$2"
    fi
}
for path in "$ROOT"/compat/*.sql; do
    file=$(basename "$path")
    base=$WORK/${file%.sql}
    databases=(warned bare)
    if grep -q '^-- nothing risky' "$path"; then databases+=(enforced); fi
    for db in "${databases[@]}"; do
        run "$PLAIN" 54361 "$db" "$file" "$base.$db.plain"
        run "$FENCED" 54360 "$db" "$file" "$base.$db"
        compare "$file" "$db" "$base.$db" "$base.$db.plain"
        if grep -q 'fence: blocked' "$base.$db.raw"; then
            echo "  FAIL  $file in $db: fence refused a statement"
            grep -A3 'fence: blocked' "$base.$db.raw" | head -n 20
            differing=$((differing + 1))
        fi
    done
done

say "a hot standby of each server replays DDL"
standby_of "$PLAIN" 54361 compat-plain-standby 54363
standby_of "$FENCED" 54360 compat-fence-standby 54362
# DDL on the primaries while the standbys stream, then the same read-only session on each.
for server in "$PLAIN 54361 warned" "$FENCED 54360 warned"; do
    set -- $server
    PGHOST=$1 PGPORT=$2 psql -X -q -d "$3" -c "CREATE TABLE replayed (a int PRIMARY KEY, b text)" \
        -c "INSERT INTO replayed VALUES (1, 'one')" -c "CREATE INDEX replayed_b ON replayed (b)" \
        -c "ALTER TABLE replayed ADD COLUMN c int DEFAULT 3" 2>/dev/null
done
wait_replayed() { # wait_replayed PRIMARY PORT STANDBY SPORT
    local target
    target=$(PGHOST=$1 PGPORT=$2 psql -X -At -d postgres -c "SELECT pg_current_wal_lsn()")
    for _ in $(seq 1 100); do
        if [ "$(PGHOST=$3 PGPORT=$4 psql -X -At -d postgres -c "SELECT pg_last_wal_replay_lsn() >= '$target'")" = t ]; then return 0; fi
        sleep 0.1
    done
    echo "  FAIL  the standby on port $4 did not replay" && exit 1
}
wait_replayed "$PLAIN" 54361 /tmp/fence-compat-plain-standby-54363 54363
wait_replayed "$FENCED" 54360 /tmp/fence-compat-fence-standby-54362 54362
cat >"$WORK/standby.sql" <<'SQL'
SELECT pg_is_in_recovery();
SELECT * FROM replayed;
BEGIN;
LOCK TABLE replayed IN ACCESS SHARE MODE;
SELECT count(*) FROM replayed;
COMMIT;
LOCK TABLE replayed IN ACCESS EXCLUSIVE MODE;
CREATE TABLE on_standby (a int);
CREATE TEMP TABLE tmp_standby (a int);
TRUNCATE replayed;
VACUUM replayed;
ANALYZE replayed;
SET session_replication_role = replica;
BEGIN READ ONLY; SELECT txid_current_if_assigned() IS NULL AS no_txid; COMMIT;
SQL
run /tmp/fence-compat-plain-standby-54363 54363 warned "$WORK/standby.sql" "$WORK/standby.plain"
run /tmp/fence-compat-fence-standby-54362 54362 warned "$WORK/standby.sql" "$WORK/standby.fenced"
compare standby.sql "the standby" "$WORK/standby.fenced" "$WORK/standby.plain"

say "what fence recorded"
q() { psql -X -At -d "$1" -c "$2"; }
# meanwhile TABLE MODE SQL: another session of `enforced` locks TABLE in MODE (LOCK TABLE's
# words), holds it 1.5 s, then runs SQL and commits — in the background; returns once the lock
# is held (up to 5 s; wait for the session after the statement under test).
meanwhile() {
    psql -X -q -d enforced -c "BEGIN" -c "LOCK TABLE $1 IN $2 MODE" -c "SELECT pg_sleep(1.5)" -c "$3" -c "COMMIT" >/dev/null &
    local mode
    mode="$(echo "$2" | sed -E 's/(\w)(\w*)/\U\1\L\2/g; s/ //g')Lock"
    for _ in $(seq 1 100); do
        [ "$(q enforced "SELECT count(*) FROM pg_locks WHERE relation = '$1'::regclass AND mode = '$mode' AND granted")" = 1 ] && return 0
        sleep 0.05
    done
}
private="concat(statement, relation, details::text) ~ '(tmp_|pg_temp)' AND concat(statement, details::text) !~ '(keeper|view_lock_v|measures_2027)'"
check "no event about the session's temporary objects" "$(q warned "SELECT count(*) FROM fence.audit_chain WHERE $private")" 0
check "no event about them under enforce either" "$(q enforced "SELECT count(*) FROM fence.audit_chain WHERE $private")" 0
decided() { q warned "SELECT string_agg(decision || ' ' || risk, ',') FROM fence.audit_chain WHERE kind = 'ddl' AND statement ~ '$1'"; }
check "a temporary sequence's CASCADE (it reaches a permanent default) is decided" "$(decided 'DROP SEQUENCE tmp_ids CASCADE')" "warn high"
check "a LOCK through a temporary view (it locks the view's table) is decided and chained" "$(decided 'LOCK TABLE view_lock_v')" "allow none"
check "IF NOT EXISTS counts only what PostgreSQL would find" "$(decided 'IF NOT EXISTS measures_2027')" "warn medium"
check "no-op drops and IF NOT EXISTS allowed at risk none" \
    "$(q enforced "SELECT count(*) FILTER (WHERE decision = 'allow' AND risk = 'none') || '/' || count(*) FROM fence.audit_chain WHERE statement ~ '(IF EXISTS no_such|IF NOT EXISTS n1)'")" 19/19
check "READ ONLY decisions kept outside their transaction (no transaction id)" \
    "$(q enforced "SELECT count(*) FROM fence.audit_chain WHERE command_tag IN ('LOCK TABLE', 'VACUUM', 'ANALYZE') AND relation = 'public.ro' AND txid IS NULL AND decision = 'allow'")" 5
check "a transaction made READ ONLY after its DDL chains its events at its own commit" \
    "$(q enforced "SELECT count(*) FROM fence.audit_chain WHERE statement = 'CREATE TABLE ro_late (a int)' AND txid IS NOT NULL")" 1
check "DROP / CREATE INDEX CONCURRENTLY first in a session: decided and chained" \
    "$(q enforced "SELECT string_agg(DISTINCT decision || ' ' || risk, ',') FROM fence.audit_chain WHERE statement ~* '(DROP|CREATE) INDEX CONCURRENTLY ro_a'")" "allow none"
check "CREATE OR REPLACE VIEW of views not there yet: made under enforce, decided allow" \
    "$(q enforced "SELECT count(*) FROM pg_views WHERE viewname ~ '^replaced_'")/$(q enforced "SELECT string_agg(DISTINCT decision, ',') FROM fence.audit_chain WHERE statement ~ 'OR REPLACE (RECURSIVE )?VIEW replaced_'")" "4/allow"
# A relation missing when fence decides, created by another session before the statement
# takes its lock (ATTACH PARTITION locks the parent first, then looks the partition up).
q enforced "CREATE TABLE parent_r (a int) PARTITION BY RANGE (a)" >/dev/null
meanwhile parent_r "SHARE UPDATE EXCLUSIVE" "CREATE TABLE part_r (a int)"
attach=$(psql -X -d enforced -c "ALTER TABLE parent_r ATTACH PARTITION part_r FOR VALUES FROM (1) TO (10)" 2>&1 || true)
wait
check "a relation that appears between the decision and the lock is refused" \
    "$(echo "$attach" | grep -c 'fence: blocked ALTER TABLE on part_r: it appeared after the decision')" 1
check "  not attached, and the refusal chained" \
    "$(q enforced "SELECT count(*) FROM pg_inherits WHERE inhrelid = 'part_r'::regclass")$(q enforced "SELECT count(*) FROM fence.audit_chain WHERE reason = 'appeared_after_decision'")" 01
# A table empty when fence decides (an index build on it rated low), filled by another session
# while the statement waits for its lock: the work was not what was decided.
q enforced "CREATE TABLE filled_r (a int)" >/dev/null
meanwhile filled_r "ROW EXCLUSIVE" "INSERT INTO filled_r SELECT g FROM generate_series(1, 10000) g"
build=$(psql -X -d enforced -c "CREATE INDEX filled_r_a ON filled_r (a)" 2>&1 || true)
wait
check "a table filled between the decision and the lock is refused" \
    "$(echo "$build" | grep -c 'fence: blocked CREATE INDEX on public.filled_r: its table was filled after the decision')" 1
check "  no index, and the refusal chained" \
    "$(q enforced "SELECT count(*) FROM pg_class WHERE relname = 'filled_r_a'")$(q enforced "SELECT count(*) FROM fence.audit_chain WHERE reason = 'filled_after_decision'")" 01
# A CASCADE is decided on what it reaches when fence looks; a view made on the table while the
# DROP waits for its lock goes with it undecided: refused at sql_drop.
q enforced "CREATE TABLE grown (a int)" >/dev/null
q enforced "SELECT fence.exempt('relation', 'public.grown', 'compat: cascade backstop', now() + interval '1 hour')" >/dev/null
meanwhile grown "ACCESS SHARE" "CREATE VIEW grown_v AS SELECT a FROM grown"
grown=$(psql -X -d enforced -c "DROP TABLE grown CASCADE" 2>&1 || true)
wait
check "what a CASCADE reaches after the decision is refused" \
    "$(echo "$grown" | grep -c 'fence: blocked DROP TABLE on public.grown_v: it dropped what its decision did not cover')" 1
check "  the table is still there, and the refusal chained" \
    "$(q enforced "SELECT count(*) FROM pg_class WHERE relname IN ('grown', 'grown_v')")$(q enforced "SELECT count(*) FROM fence.audit_chain WHERE reason = 'dropped_beyond_decision'")" 21
# The lock queue, before the statement joins it: a long query holding ACCESS SHARE, then an
# idle-in-transaction writer, are named, and (lock_queue: refuse) the statement refused; under
# the default (warn), named in a WARNING before the statement waits.
q enforced "CREATE TABLE lq (id int)" >/dev/null
q enforced "INSERT INTO lq VALUES (1)" >/dev/null
q enforced "SELECT fence.set_policy('{\"lock_queue\": \"refuse\", \"lock_queue_max_age\": \"1s\"}', 'compat: lock queue')" >/dev/null
psql -X -q -d enforced -c "SELECT count(*), pg_sleep(4) FROM lq" >/dev/null &
sleep 1.5
queued=$(psql -X -d enforced -c "ALTER TABLE lq ADD COLUMN c int" 2>&1 || true)
wait
check "a long query in the way: the ALTER TABLE is refused before it queues" \
    "$(echo "$queued" | grep -c 'fence: blocked ALTER TABLE on public.lq (AccessExclusiveLock, risk low): lock queue')" 1
check "  naming the session, its state and its lock" \
    "$(echo "$queued" | grep -c 'application "psql", active, transaction open [0-9]* s) holds AccessShareLock on public.lq')" 1
mkfifo "$WORK/writer"
psql -X -q -d enforced < "$WORK/writer" >/dev/null 2>&1 &
writer=$!
exec 5>"$WORK/writer"
echo "BEGIN; INSERT INTO lq VALUES (2);" >&5
sleep 1.5
queued=$(psql -X -d enforced -c "CREATE INDEX lq_id ON lq (id)" 2>&1 || true)
check "an idle-in-transaction writer in the way of an index build: named, refused" \
    "$(echo "$queued" | grep -c 'idle in transaction, transaction open [0-9]* s) holds RowExclusiveLock on public.lq')" 1
check "fence.analyze shows the same look when asked (lock_queue => true), nothing when not" \
    "$(q enforced "SELECT (queued_behind -> 0 ->> 'state') || ' ' || (queued_behind -> 0 ->> 'mode') FROM fence.analyze('CREATE INDEX lq_id ON lq (id)', lock_queue => true)")/$(q enforced "SELECT queued_behind IS NULL FROM fence.analyze('CREATE INDEX lq_id ON lq (id)')")" \
    "idle in transaction RowExclusiveLock/t"
q enforced "SELECT fence.set_policy('{\"lock_queue_max_age\": \"1s\"}', 'compat: lock queue warned')" >/dev/null
warned=$(psql -X -d enforced -c "SET lock_timeout = '300ms'" -c "ALTER TABLE lq ADD COLUMN c int" 2>&1 || true)
echo "ROLLBACK;" >&5
exec 5>&-
wait "$writer"
q enforced "SELECT fence.set_policy('{}', 'compat: lock queue done')" >/dev/null
check "  by default only warned, and the statement's own lock_timeout ends the wait" \
    "$(echo "$warned" | grep -c 'WARNING:  fence: ALTER TABLE would queue behind another session')$(echo "$warned" | grep -c 'canceling statement due to lock timeout')" 11
check "  the sessions in the way are in the event" \
    "$(q enforced "SELECT count(*) FROM fence.audit_chain WHERE details -> 'lock_queue' -> 0 ->> 'relation' = 'public.lq'")" 2
# A permanent table made to depend on a temporary type would die with the session, unseen.
q enforced "CREATE TABLE typed_victim (a int, b text)" >/dev/null
typed=$(psql -X -d enforced -c "CREATE TYPE pg_temp.row_ab AS (a int, b text)" \
    -c "ALTER TABLE typed_victim OF pg_temp.row_ab" -c "DISCARD TEMP" 2>&1 || true)
check "a permanent table made to depend on a temporary object is refused" \
    "$(echo "$typed" | grep -c 'fence: blocked ALTER TABLE on table typed_victim: it would depend on a temporary object')" 1
check "  and outlives the session's temporary objects" \
    "$(q enforced "SELECT count(*) FROM pg_class WHERE relname = 'typed_victim'")$(q enforced "SELECT count(*) FROM fence.audit_chain WHERE reason = 'depends_on_temporary'")" 11
check "every chain verifies" \
    "$(q warned "SELECT ok FROM fence.verify_chain()")$(q enforced "SELECT ok FROM fence.verify_chain()")" tt
primary_chain=$(q warned "SELECT count(*) || ' ' || max(event_hash) FROM fence.audit_chain")
wait_replayed "$FENCED" 54360 /tmp/fence-compat-fence-standby-54362 54362
check "the standby holds the primary's chain, replayed" \
    "$(PGHOST=/tmp/fence-compat-fence-standby-54362 PGPORT=54362 q warned "SELECT count(*) || ' ' || max(event_hash) FROM fence.audit_chain")" "$primary_chain"
check "and verifies it" \
    "$(PGHOST=/tmp/fence-compat-fence-standby-54362 PGPORT=54362 q warned "SELECT ok FROM fence.verify_chain()")" t
check "nothing of fence's in the standby's log" \
    "$(grep -cE '(ERROR|WARNING|LOG|FATAL):  fence' /tmp/fence-compat-fence-standby-54362/server.log || true)" 0
check "the same errors on both standbys" \
    "$(grep -c 'ERROR:' /tmp/fence-compat-fence-standby-54362/server.log || true)" \
    "$(grep -c 'ERROR:' /tmp/fence-compat-plain-standby-54363/server.log || true)"
for dir in "$FENCED" /tmp/fence-compat-fence-standby-54362; do
    check "no crash in $(basename "$dir")" "$(grep -cE 'terminated by signal|PANIC:' "$dir/server.log" || true)" 0
done

echo "  compatibility suite: $cases comparisons, $lines lines compared, $differing differing"
[ "$differing" = 0 ]
