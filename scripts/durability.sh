#!/usr/bin/env bash
# The audit chain under load and failure, on a real server:
#   1. concurrency: 8 sessions (some REPEATABLE READ / SERIALIZABLE) commit DDL while a 9th
#      holds a DDL transaction open; none waits for it; seq is contiguous, nothing is lost or
#      duplicated, the chain verifies; a commit while another transaction holds the chain
#      parks its events without waiting, and the sealer killed mid-chaining loses and doubles
#      nothing;
#   2. evidence: the auditor's CSV export re-verifies offline with `fence verify-csv` (also
#      against an anchor, and filtered by repository), and a tampered CSV fails; tracked row
#      changes re-verify offline against the chain's seals with `fence verify-rows`;
#   3. pg_dump / pg_restore into a fresh database: the chain, approvals, exemptions and
#      policies come back, verify, and the chain goes on; a tracked table's recorded changes
#      come back and verify, its history is found under its new OID, and its changes go on
#      being recorded; the usual restores (pg_restore, -j, --single-transaction, psql < dump)
#      fail loudly before anything is lost, naming the recipe; a TEMPLATE copy and a restored
#      base backup verify with the same head;
#   4. kill -9 of a backend and an immediate shutdown during concurrent DDL: after recovery
#      every committed CREATE TABLE has its event and every event its table; the chain verifies.
# Uses the server in PGHOST/PGPORT/SERVER_DIR (scripts/test.sh), or starts its own.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

DB=fence_durability
suite_server durability 54332
cargo build -q -p fence-cli
FENCE_CLI="$ROOT/target/debug/fence"
ROLES="dur_ci, dur_approver, dur_admin, dur_auditor"

q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "${2:-$DB}" -c "$1"; }

say "durability: setup"
psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $DB" \
    -c "DROP DATABASE IF EXISTS ${DB}_restored" -c "DROP ROLE IF EXISTS $ROLES" -c "CREATE DATABASE $DB"
psql -X -q -v ON_ERROR_STOP=1 -d "$DB" >/dev/null <<'SQL'
CREATE EXTENSION fence;
CREATE ROLE dur_ci LOGIN;
CREATE ROLE dur_approver LOGIN IN ROLE fence_approver;
CREATE ROLE dur_admin LOGIN IN ROLE fence_admin;
CREATE ROLE dur_auditor LOGIN IN ROLE fence_auditor;
GRANT CREATE ON SCHEMA public TO dur_ci;
SET SESSION AUTHORIZATION dur_ci;
CREATE TABLE accounts (id bigint PRIMARY KEY, email text);
CREATE TABLE probe (id int, note text);
INSERT INTO probe VALUES (1, NULL);
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION dur_approver;
SELECT fence.approve('ALTER TABLE accounts ALTER COLUMN email SET NOT NULL', repository => 'acme/app', pull_request => '7');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION dur_admin;
SELECT fence.exempt('relation', 'public.accounts', 'backfill window', now() + interval '1 day');
SELECT fence.set_policy('{"approvals_required": {"critical": 2}, "max_lock_timeout": "5s"}', 'durability');
RESET SESSION AUTHORIZATION;
SQL

say "1. concurrency: 8 sessions x 30 DDL transactions beside a DDL transaction held open"
mkfifo "$WORK/hold"
psql -X -q -U dur_ci -d "$DB" < "$WORK/hold" > "$WORK/hold.out" 2>&1 &
holder=$!
exec 3>"$WORK/hold"
echo "BEGIN; CREATE TABLE held_open (id int); SELECT 'held';" >&3
isolations=("read\ committed" "repeatable\ read" "serializable")
for s in $(seq 1 8); do
    iso=${isolations[$((s % 3))]}
    {
        for i in $(seq 1 30); do
            echo "CREATE TABLE c_${s}_${i} (id int);"
            echo "BEGIN; ALTER TABLE c_${s}_${i} ADD COLUMN note text; COMMENT ON TABLE c_${s}_${i} IS 'session $s'; COMMIT;"
        done
    } > "$WORK/session_$s.sql"
    PGOPTIONS="-c default_transaction_isolation=$iso -c lock_timeout=2s" \
        timeout 300 psql -X -q -v ON_ERROR_STOP=1 -U dur_ci -d "$DB" -f "$WORK/session_$s.sql" > "$WORK/session_$s.out" 2>&1 &
done
start=$(date +%s)
for pid in $(jobs -p); do
    [ "$pid" = "$holder" ] && continue
    wait "$pid" || { cat "$WORK"/session_*.out; exit 1; }
done
elapsed=$(( $(date +%s) - start ))
held_open=$(q "SELECT count(*) FROM pg_stat_activity WHERE datname = '$DB' AND state = 'idle in transaction'")
check "8 sessions done in ${elapsed}s while the held transaction is still open" "$held_open" 1
echo "COMMIT;" >&3
exec 3>&-
wait "$holder"
# Sessions that committed while another held the chain parked their events: the next
# appender or the sealer (every fence.seal_interval, 2 s) chains them.
for _ in $(seq 1 30); do [ "$(q "SELECT events_parked FROM fence.verify_chain()")" = 0 ] && break; sleep 0.5; done
check "every parked event chained within 15 s, by the sealer or the next appender" "$(q "SELECT events_parked FROM fence.verify_chain()")" 0
check "contiguous seq" "$(q "SELECT min(seq) = 1 AND max(seq) = count(*) FROM fence.audit_chain")" t
check "every DDL recorded once (8 x 30 x 3 + 1)" \
    "$(q "SELECT count(*) FROM fence.audit_chain WHERE kind = 'ddl' AND (relation LIKE 'public.c\_%' OR statement LIKE 'CREATE TABLE c\_%' OR statement LIKE '%held_open%')")" 721
check "no statement recorded twice" \
    "$(q "SELECT count(*) FROM (SELECT statement FROM fence.audit_chain WHERE statement LIKE '%c\_%' GROUP BY statement HAVING count(*) > 1) d")" 0
check "chain verifies" "$(q "SELECT ok FROM fence.verify_chain()")" t

say "1b. a policy change reaches a session that already read the old policy"
mkfifo "$WORK/other"
psql -X -U dur_ci -d "$DB" < "$WORK/other" > "$WORK/other.out" 2>&1 &
other=$!
exec 4>"$WORK/other"
echo "SET lock_timeout = '1s'; ALTER TABLE probe ALTER COLUMN note SET NOT NULL; SELECT 'first done';" >&4
for _ in $(seq 1 100); do grep -q "first done" "$WORK/other.out" && break; sleep 0.1; done
q "SELECT fence.set_policy('{\"mode\": \"warn\", \"max_lock_timeout\": \"5s\"}', 'durability: warn')" >/dev/null
echo "ALTER TABLE probe ALTER COLUMN note SET NOT NULL;" >&4
exec 4>&-
wait "$other"
check "first refused under enforce" "$(grep -c 'fence: blocked ALTER TABLE' "$WORK/other.out")" 1
check "then only warned under the new policy, in the same session" "$(grep -c 'fence: warning for ALTER TABLE' "$WORK/other.out")" 1
q "SELECT fence.set_policy('{\"max_lock_timeout\": \"5s\"}', 'durability: enforce again')" >/dev/null

say "2. evidence: the auditor's CSV export verifies offline"
export_csv() { psql -X -q -U dur_auditor -d "$DB" -c "COPY ($1) TO STDOUT WITH (FORMAT csv, HEADER)"; }
cli() { # cli ARGS...: runs the CLI, shows its output, leaves its exit status in CLI_STATUS
    "$FENCE_CLI" "$@" > "$WORK/cli.out" && CLI_STATUS=0 || CLI_STATUS=$?
    sed 's/^/        /' "$WORK/cli.out"
}
anchor=$(psql -X -q -At -F: -U dur_auditor -d "$DB" -c "SELECT seq, event_hash FROM fence.anchor()")
export_csv "SELECT * FROM fence.audit_export ORDER BY seq" > "$WORK/evidence.csv"
cli verify-csv "$WORK/evidence.csv" --anchor "$anchor"
check "verify-csv with the anchor" "$CLI_STATUS" 0
check "the same head as verify_chain()" "$(sed 's/.*head //' "$WORK/cli.out")" "$(q "SELECT head_hash FROM fence.verify_chain()")"
sed '0,/ADD COLUMN note text/s//ADD COLUMN note varchar/' "$WORK/evidence.csv" > "$WORK/tampered.csv"
cli verify-csv "$WORK/tampered.csv"
check "a tampered CSV fails (exit 1)" "$CLI_STATUS" 1
head -n -3 "$WORK/evidence.csv" > "$WORK/cut.csv"
cli verify-csv "$WORK/cut.csv" --anchor "$(q "SELECT seq || ':' || event_hash FROM fence.audit_chain ORDER BY seq DESC LIMIT 1")"
check "a CSV with its tail cut fails against the anchor (exit 1)" "$CLI_STATUS" 1
export_csv "SELECT * FROM fence.audit_export_range(repository => 'acme/app')" > "$WORK/acme.csv"
cli verify-csv "$WORK/acme.csv" --segments
check "an export filtered by repository verifies as segments" "$CLI_STATUS" 0
# Tracked row changes, in a database of their own: exported beside the chain and re-checked
# offline against its seals.
ROWS_DB=${DB}_rows
psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $ROWS_DB" -c "CREATE DATABASE $ROWS_DB"
psql -X -q -v ON_ERROR_STOP=1 -d "$ROWS_DB" >/dev/null <<'SQL'
CREATE EXTENSION fence;
CREATE TABLE ledger (id int PRIMARY KEY, memo text);
SELECT fence.track_table('ledger');
INSERT INTO ledger SELECT g, 'line ' || g FROM generate_series(1, 30) g;
BEGIN;
SET LOCAL fence.actor = 'night-shift';
UPDATE ledger SET memo = memo || ', "quoted" é' WHERE id <= 10;
COMMIT;
DELETE FROM ledger WHERE id > 25;
SELECT fence.seal_changes();
INSERT INTO ledger VALUES (99, 'after the seal');
SQL
export_rows() { psql -X -q -U dur_auditor -d "$ROWS_DB" -c "COPY ($1) TO STDOUT WITH (FORMAT csv, HEADER)"; }
export_rows "SELECT * FROM fence.audit_export ORDER BY seq" > "$WORK/rows_chain.csv"
export_rows "SELECT * FROM fence.row_changes_export ORDER BY txid, ordinal" > "$WORK/changes.csv"
cli verify-rows "$WORK/rows_chain.csv" "$WORK/changes.csv"
check "verify-rows: every change matches its seal" "$CLI_STATUS" 0
# 30 INSERTs, 10 UPDATEs, 5 DELETEs and one more INSERT (the sealer may have sealed it since)
check "verify-rows checks every change" "$(sed -n 's/^ok: [0-9]* events and \([0-9]*\) row changes verified.*/\1/p' "$WORK/cli.out")" 46
sed '0,/line 3"/s//line 4"/' "$WORK/changes.csv" > "$WORK/altered.csv"
cli verify-rows "$WORK/rows_chain.csv" "$WORK/altered.csv"
check "an altered change fails (exit 1), named" "$CLI_STATUS/$(grep -c 'does not match its hash' "$WORK/cli.out")" 1/1
sed '5d' "$WORK/changes.csv" > "$WORK/removed.csv"
cli verify-rows "$WORK/rows_chain.csv" "$WORK/removed.csv"
check "a removed change fails its block (exit 1)" "$CLI_STATUS/$(grep -c 'changes stored, .* sealed (changes removed' "$WORK/cli.out")" 1/1
psql -X -q -d postgres -c "DROP DATABASE $ROWS_DB"

say "3. pg_dump / pg_restore into a fresh database"
# A tracked table with recorded changes: the restore gives it a new OID.
psql -X -q -v ON_ERROR_STOP=1 -d "$DB" >/dev/null <<'SQL'
SET SESSION AUTHORIZATION dur_admin;
SELECT fence.track_table('accounts');
SET SESSION AUTHORIZATION dur_ci;
INSERT INTO accounts VALUES (1, 'a@example.com'), (2, 'b@example.com');
UPDATE accounts SET email = 'a2@example.com' WHERE id = 1;
RESET SESSION AUTHORIZATION;
SELECT fence.seal_changes();
SQL
history="SELECT count(*) FROM fence.row_history('accounts', '{\"id\": 1}')"
counts="SELECT (SELECT count(*) FROM fence.audit_chain) || '/' || (SELECT count(*) FROM fence.approvals) || '/' ||
               (SELECT count(*) FROM fence.exemptions) || '/' || (SELECT count(*) FROM fence.policy_versions)"
before=$(q "$counts")
pg_dump -Fc -d "$DB" -f "$WORK/dump"
psql -X -q -d postgres -c "CREATE DATABASE ${DB}_restored"
PGOPTIONS='-c session_replication_role=replica' pg_restore --exit-on-error -d "${DB}_restored" "$WORK/dump"
check "chain/approvals/exemptions/policies restored ($before)" "$(q "$counts" "${DB}_restored")" "$before"
check "the restored chain verifies" "$(q "SELECT ok FROM fence.verify_chain()" "${DB}_restored")" t
check "the restored head is the original head" "$(q "SELECT head_hash FROM fence.verify_chain()" "${DB}_restored")" \
    "$(q "SELECT head_hash FROM fence.verify_chain()")"
check "the restored row changes verify" "$(q "SELECT changes_checked || '/' || changes_unsealed FROM fence.verify_chain()" "${DB}_restored")" \
    "$(q "SELECT changes_checked || '/' || changes_unsealed FROM fence.verify_chain()")"
check "a restored table's history is found under its new OID" "$(q "$history" "${DB}_restored")" 2
# Exempted, so that only the check after the statement stands in its way.
exemption=$(q "SELECT fence.exempt('relation', 'accounts', 'the restore check', now() + interval '1 hour')" "${DB}_restored")
psql -X -q -d "${DB}_restored" -c "SET lock_timeout = '2s'" -c "CREATE OR REPLACE TRIGGER fence_row_changes AFTER INSERT OR UPDATE OR DELETE
    ON accounts FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger()" > "$WORK/replace.out" 2>&1 || true
q "SELECT fence.revoke_exemption($exemption, 'checked')" "${DB}_restored" >/dev/null
grep -q 'row audit of a tracked table' "$WORK/replace.out" || sed 's/^/        | /' "$WORK/replace.out"
check "before its first change, fence's trigger on the restored table cannot be replaced" \
    "$(grep -c 'row audit of a tracked table' "$WORK/replace.out")" 1
psql -X -q -v ON_ERROR_STOP=1 -U dur_ci -d "${DB}_restored" -c "UPDATE accounts SET email = 'a3@example.com' WHERE id = 1"
check "its first change moves its tracking to the new OID, chained" \
    "$(q "SELECT (SELECT relid = 'accounts'::regclass FROM fence.tracked_tables WHERE untracked_at IS NULL) || '/' ||
             (SELECT count(*) FROM fence.audit_chain WHERE kind = 'row_tracking' AND details ->> 'action' = 'relink')" "${DB}_restored")" true/1
check "and is recorded in the same history" "$(q "$history" "${DB}_restored")" 3
psql -X -q -v ON_ERROR_STOP=1 -d "${DB}_restored" >/dev/null <<'SQL'
SET SESSION AUTHORIZATION dur_approver;
SELECT fence.approve('ALTER TABLE accounts DROP COLUMN email');
RESET SESSION AUTHORIZATION;
CREATE TABLE after_restore (id int);
SQL
q "SELECT fence.seal_changes()" "${DB}_restored" >/dev/null
check "the restored chain goes on and verifies" "$(q "SELECT ok || '/' || changes_unsealed FROM fence.verify_chain()" "${DB}_restored")" true/0
check "and the policy in force is the restored one" \
    "$(q "SELECT document ->> 'max_lock_timeout' FROM fence.policy_versions ORDER BY version DESC LIMIT 1" "${DB}_restored")" 5s
psql -X -q -d postgres -c "DROP DATABASE ${DB}_restored"

say "3b. every other way a database is moved: the usual restores fail loudly before anything is lost"
# Restored with fence's event triggers on, the restore's own DDL would start a new chain and
# the dumped one could not be loaded: CREATE EXTENSION fence refuses, naming the recipe.
restore_refused() { # restore_refused NAME COMMAND... (COMMAND restores into $TARGET)
    local name=$1
    shift
    psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $TARGET" -c "CREATE DATABASE $TARGET"
    local output
    output=$("$@" 2>&1) && status=0 || status=$?
    check "$name: fence refuses, saying how to restore" \
        "$(printf '%s\n' "$output" | grep -q "fence: CREATE EXTENSION fence is running in a restore" && printf '%s\n' "$output" | grep -q "session_replication_role=replica" && echo yes)" yes
    check "$name: nothing of fence half-restored" "$(q "SELECT count(*) FROM pg_extension WHERE extname = 'fence'" "$TARGET")" 0
}
TARGET=${DB}_usual
restore_refused "pg_restore" pg_restore -d "$TARGET" "$WORK/dump"
restore_refused "pg_restore -j 2" pg_restore -j 2 -d "$TARGET" "$WORK/dump"
restore_refused "pg_restore --single-transaction" pg_restore --single-transaction -d "$TARGET" "$WORK/dump"
check "pg_restore --single-transaction: the whole restore rolled back" \
    "$(q "SELECT count(*) FROM pg_class WHERE relname = 'accounts'" "$TARGET")" 0
pg_dump -d "$DB" -f "$WORK/dump.sql"
restore_refused "pg_dump | psql" psql -X -q -d "$TARGET" -f "$WORK/dump.sql"
psql -X -q -d postgres -c "DROP DATABASE $TARGET"
psql -X -q -d postgres -c "CREATE DATABASE ${DB}_copy TEMPLATE $DB"
check "CREATE DATABASE ... TEMPLATE: the copy's chain verifies" "$(q "SELECT ok FROM fence.verify_chain()" "${DB}_copy")" t
check "CREATE DATABASE ... TEMPLATE: the same head" "$(q "SELECT head_hash FROM fence.verify_chain()" "${DB}_copy")" \
    "$(q "SELECT head_hash FROM fence.verify_chain()")"
psql -X -q -d postgres -c "DROP DATABASE ${DB}_copy"
# A base backup restored as a server of its own (not a standby) holds the chain as it was.
backup=/tmp/fence-durability-backup-54342
SERVER_DIR=$backup stop_server 2>/dev/null || true
rm -rf "$backup" && mkdir -p "$backup" && chown postgres:postgres "$backup"
runuser -u postgres -- "$("$PG_CONFIG" --bindir)/pg_basebackup" -h "$PGHOST" -p "$PGPORT" -U postgres \
    -D "$backup/data" -X stream -c fast
printf "port = 54342\nunix_socket_directories = '%s'\n" "$backup" >> "$backup/data/postgresql.conf"
runuser -u postgres -- "$("$PG_CONFIG" --bindir)/pg_ctl" -D "$backup/data" -l "$backup/server.log" -w start >/dev/null
check "a restored base backup: its chain verifies, with the same head" \
    "$(PGHOST=$backup PGPORT=54342 q "SELECT ok || ' ' || head_hash FROM fence.verify_chain()")" \
    "$(q "SELECT ok || ' ' || head_hash FROM fence.verify_chain()")"
SERVER_DIR=$backup stop_server
rm -rf "$backup"

say "1c. a commit while another transaction holds the chain: parked, without waiting; the sealer killed mid-chaining"
mkfifo "$WORK/chain_holder"
psql -X -q -d "$DB" < "$WORK/chain_holder" > "$WORK/chain_holder.out" 2>&1 &
chain_holder=$!
exec 5>"$WORK/chain_holder"
echo "BEGIN; LOCK TABLE fence.audit_chain IN EXCLUSIVE MODE; SELECT 'chain held';" >&5
for _ in $(seq 1 100); do grep -q "chain held" "$WORK/chain_holder.out" && break; sleep 0.1; done
start=$(date +%s%N)
PGOPTIONS="-c statement_timeout=5s" psql -X -q -v ON_ERROR_STOP=1 -U dur_ci -d "$DB" -c "CREATE TABLE parked_one (id int)"
waited_ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "the commit did not wait for the chain (${waited_ms} ms)" "$([ "$waited_ms" -lt 3000 ] && echo yes)" yes
check "its event is parked (verify_chain's events_parked), not in the chain yet" \
    "$(q "SELECT events_parked FROM fence.verify_chain()")/$(q "SELECT count(*) FROM fence.audit_chain WHERE statement LIKE '%parked_one%'")" "1/0"
# The sealer is stopped mid-chaining: it holds the chain (released by the first holder) and
# waits to remove the parked event, blocked by a lock on the parking table; then kill -9.
mkfifo "$WORK/park_holder"
psql -X -q -d "$DB" < "$WORK/park_holder" > "$WORK/park_holder.out" 2>&1 5>&- &
park_holder=$!
exec 6>"$WORK/park_holder"
echo "BEGIN; LOCK TABLE fence.pending_denials IN EXCLUSIVE MODE; SELECT 'parking held';" >&6
for _ in $(seq 1 100); do grep -q "parking held" "$WORK/park_holder.out" && break; sleep 0.1; done
echo "COMMIT;" >&5
exec 5>&-
wait "$chain_holder"
sealer=
for _ in $(seq 1 100); do
    sealer=$(q "SELECT pid FROM pg_stat_activity WHERE backend_type = 'fence sealer' AND wait_event_type = 'Lock'" postgres)
    [ -n "$sealer" ] && break
    sleep 0.1
done
check "the sealer holds the chain and waits to take the parked event" \
    "$(q "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE l.pid = ${sealer:-0} AND c.relname = 'audit_chain' AND l.mode = 'ExclusiveLock' AND l.granted")" 1
kill -9 "$sealer"
exec 6>&-
wait "$park_holder" 2>/dev/null || true
wait_ready
check "after kill -9 of the sealer mid-chaining: the event is still parked, nothing chained" \
    "$(q "SELECT events_parked FROM fence.verify_chain()")/$(q "SELECT count(*) FROM fence.audit_chain WHERE statement LIKE '%parked_one%'")" "1/0"
q "SELECT fence.seal_changes()" > /dev/null
check "chained once by the next seal, the chain verifies" \
    "$(q "SELECT events_parked FROM fence.verify_chain()")/$(q "SELECT count(*) FROM fence.audit_chain WHERE statement LIKE '%parked_one%'")/$(q "SELECT ok FROM fence.verify_chain()")" "0/1/t"

# Crash tests: sessions create tables k_<round>_<s>_<i>, one per transaction, until stopped.
crash_load() { # crash_load ROUND
    for s in 1 2 3 4; do
        (for i in $(seq 1 5000); do echo "CREATE TABLE k_$1_${s}_$i (id int);"; done) > "$WORK/crash_$s.sql"
        PGAPPNAME=crash-load psql -X -q -U dur_ci -d "$DB" -f "$WORK/crash_$s.sql" > /dev/null 2>&1 &
    done
    sleep 2
    check "round $1: DDL under way" "$(q "SELECT count(*) > 0 FROM pg_class WHERE relname LIKE 'k\_$1\_%'")" t
}
crash_check() { # crash_check WHAT
    wait_ready
    jobs -p | xargs -r kill 2>/dev/null || true
    wait 2>/dev/null || true
    # Events parked when the crash came are still parked: chained now.
    q "SELECT fence.seal_changes()" > /dev/null
    check "$1: nothing left parked" "$(q "SELECT events_parked FROM fence.verify_chain()")" 0
    local tables events
    tables=$(q "SELECT count(*) FROM pg_class WHERE relname LIKE 'k\_%' AND relkind = 'r'")
    events=$(q "SELECT count(*) FROM fence.audit_chain WHERE statement LIKE 'CREATE TABLE k\_%'")
    check "$1: committed tables ($tables) = their chain events" "$events" "$tables"
    check "$1: no event without its table" "$(q "SELECT count(*) FROM fence.audit_chain c WHERE c.statement LIKE 'CREATE TABLE k\_%'
        AND to_regclass(split_part(split_part(c.statement, 'CREATE TABLE ', 2), ' ', 1)) IS NULL")" 0
    check "$1: chain verifies" "$(q "SELECT ok FROM fence.verify_chain()")" t
    check "$1: contiguous seq" "$(q "SELECT max(seq) = count(*) FROM fence.audit_chain")" t
}

say "4. kill -9 of a migrating backend (the server restarts every backend)"
crash_load 1
victim=$(q "SELECT pid FROM pg_stat_activity WHERE application_name = 'crash-load' LIMIT 1" postgres)
kill -9 "$victim"
crash_check "after kill -9"

say "   immediate shutdown during concurrent DDL"
crash_load 2
restart_server immediate
crash_check "after immediate shutdown"

psql -X -q -d postgres -c "DROP DATABASE $DB" -c "DROP ROLE $ROLES"
say "durability: all checks passed"
