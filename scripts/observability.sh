#!/usr/bin/env bash
# fence as operators and auditors see it, on a real server:
#   1. the server log: one `FENCE:` key=value line per decision, fence.log_level honoured
#      and reserved to superusers;
#   2. NOTIFY fence_events: a listening session receives the denial (although the denied
#      transaction rolled back), the approval, the exemption and the policy change;
#   3. fence.stats: counts by outcome per window, the last denial, expiring exemptions,
#      approvals not used yet;
#   4. `fence report`: the auditor's export rendered as HTML, checked in headless Chromium.
# Uses the server in PGHOST/PGPORT/SERVER_DIR (scripts/test.sh), or starts its own.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

DB=fence_observability
suite_server observability 54333
cargo build -q -p fence-cli
FENCE_CLI="$ROOT/target/debug/fence"
ROLES="obs_ci, obs_approver, obs_admin, obs_auditor"

q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" "$@"; }

say "observability: setup"
psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $DB" \
    -c "DROP ROLE IF EXISTS $ROLES" -c "CREATE DATABASE $DB"
psql -X -q -v ON_ERROR_STOP=1 -d "$DB" >/dev/null <<'SQL'
CREATE EXTENSION fence;
CREATE ROLE obs_ci LOGIN;
CREATE ROLE obs_approver LOGIN IN ROLE fence_approver;
CREATE ROLE obs_admin LOGIN IN ROLE fence_admin;
CREATE ROLE obs_auditor LOGIN IN ROLE fence_auditor;
GRANT CREATE ON SCHEMA public TO obs_ci;
SET SESSION AUTHORIZATION obs_ci;
CREATE TABLE obs_accounts (id bigint PRIMARY KEY, email text, note text);
INSERT INTO obs_accounts SELECT g, 'a' || g, NULL FROM generate_series(1, 100) g;
SQL

say "2. NOTIFY fence_events reaches a listening session"
mkfifo "$WORK/listen"
psql -X -d "$DB" < "$WORK/listen" > "$WORK/listen.out" 2>&1 &
listener=$!
exec 3>"$WORK/listen"
echo "LISTEN fence_events; SELECT 'listening';" >&3
for _ in $(seq 1 100); do grep -q listening "$WORK/listen.out" && break; sleep 0.1; done

say "1. server log lines"
log_mark=$(wc -l < "$SERVER_DIR/server.log")
PGOPTIONS="-c fence.actor=octocat" psql -X -q -U obs_ci -d "$DB" -c "BEGIN" \
    -c "ALTER TABLE obs_accounts ALTER COLUMN email SET NOT NULL" -c "COMMIT" >/dev/null 2>&1 || true
psql -X -q -U obs_ci -d "$DB" -c "ALTER TABLE obs_accounts ADD COLUMN plan text" >/dev/null 2>&1
new_log() { tail -n +"$((log_mark + 1))" "$SERVER_DIR/server.log"; }
line_format='LOG:  FENCE: decision=(allow|warn|deny) reason=[^ ]+ risk=[^ ]+ rules=[^ ]+ command=("[^"]*"|[^ ]+) relation=[^ ]+ role=[^ ]+ executing_role=[^ ]+ statement_hash=[^ ]+ content_hash=[^ ]+ policy_version=[0-9-]+ actor=[^ ]+$'
new_log | grep 'FENCE:' | sed 's/^/        /'
check "the denial's line" "$(new_log | grep -cE 'FENCE: decision=deny reason=not_approved risk=high rules=set_not_null,access_exclusive_lock command="ALTER TABLE" relation=public.obs_accounts role=obs_ci executing_role=obs_ci statement_hash=sha256:[0-9a-f]{64} content_hash=- policy_version=1 actor=octocat$')" 1
check "every FENCE: line has the fixed form" "$(new_log | grep 'FENCE:' | grep -cvE "$line_format")" 0
check "allowed decisions are logged too (log_level = all)" "$(new_log | grep -c 'FENCE: decision=allow')" 1
check "only a superuser may change fence.log_level" "$(psql -X -q -U obs_ci -d "$DB" \
    -c "SELECT fence.content_hash('SELECT 1')" -c "SET fence.log_level = off" 2>&1 | grep -c 'permission denied')" 1
log_mark=$(wc -l < "$SERVER_DIR/server.log")
psql -X -q -U obs_ci -d "$DB" -c "SET fence.log_level = off" \
    -c "ALTER TABLE obs_accounts ALTER COLUMN email SET NOT NULL" >/dev/null 2>&1 || true
check "set before fence loads, the role's log_level = off is discarded: the denial is logged" \
    "$(new_log | grep -c 'FENCE: decision=deny')" 1
log_mark=$(wc -l < "$SERVER_DIR/server.log")
psql -X -q -d "$DB" -c "SET fence.log_level = deny" -c "CREATE TABLE obs_quiet (id int)" >/dev/null
check "log_level = deny: allowed decisions are not logged" "$(new_log | grep -c 'FENCE:')" 0

psql -X -q -v ON_ERROR_STOP=1 -d "$DB" >/dev/null <<'SQL'
SET SESSION AUTHORIZATION obs_approver;
SELECT fence.approve('ALTER TABLE obs_accounts DROP COLUMN note', note => 'cleanup');
SELECT fence.approve('ALTER TABLE obs_accounts ALTER COLUMN plan SET NOT NULL', note => 'not run yet');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION obs_admin;
SELECT fence.exempt('relation', 'public.obs_accounts', 'incident 42', now() + interval '1 hour');
SELECT fence.set_policy('{"approvals_required": {"critical": 2}}', 'observability');
RESET SESSION AUTHORIZATION;
SQL
approved=$(q -c "SELECT fence.content_hash('ALTER TABLE obs_accounts DROP COLUMN note')")
PGOPTIONS="-c fence.approval=$approved" psql -X -q -U obs_ci -d "$DB" \
    -c "ALTER TABLE obs_accounts DROP COLUMN note" >/dev/null 2>&1
echo "SELECT 'polled';" >&3
for _ in $(seq 1 100); do grep -q polled "$WORK/listen.out" && break; sleep 0.1; done
exec 3>&-
wait "$listener"
notification() { grep -c "Asynchronous notification \"fence_events\" with payload \"{.*\"event\":\"$1\"" "$WORK/listen.out"; }
grep 'Asynchronous notification' "$WORK/listen.out" | cut -c1-160 | sed 's/^/        /'
check "both denials were notified (their transactions rolled back)" "$(notification deny)" 2
check "both approvals were notified" "$(notification approval)" 2
check "the exemption was notified" "$(notification exemption)" 1
check "the policy change was notified" "$(notification policy)" 1
check "no payload names a statement, relation, target, reason or hash (any role may LISTEN)" \
    "$(grep 'Asynchronous notification' "$WORK/listen.out" | grep -cE 'obs_accounts|incident|sha256|ALTER|statement|relation|target|reason')" 0

say "3. fence.stats"
stats() { psql -X -q -At -U obs_auditor -d "$DB" -c "SELECT $1 FROM fence.stats WHERE $2"; }
check "denials in the last hour" "$(stats count "time_window = '1 hour' AND metric = 'outcome' AND key = 'deny'")" \
    "$(q -c "SELECT count(*) FROM fence.audit_chain WHERE decision = 'deny'")"
check "allowed in the last day" "$(stats count "time_window = '24 hours' AND metric = 'outcome' AND key = 'allow'")" \
    "$(q -c "SELECT count(*) FROM fence.audit_chain WHERE decision = 'allow'")"
check "the set_not_null rule counted" "$(stats count "time_window = '7 days' AND metric = 'rule' AND key = 'set_not_null'")" 2
check "the last denial" "$(stats key "metric = 'last_denial'")" public.obs_accounts
check "the exemption expiring within a day" "$(stats key "metric = 'exemption_expiring'")" relation:public.obs_accounts
check "the approval not used yet (and not the used one)" "$(stats count "metric = 'approval_unused'")" \
    "$(q -c "SELECT id FROM fence.approvals WHERE note = 'not run yet'")"

say "4. the evidence report, rendered in headless Chromium"
anchor=$(psql -X -q -At -F: -U obs_auditor -d "$DB" -c "SELECT seq, event_hash FROM fence.anchor()")
psql -X -q -U obs_auditor -d "$DB" \
    -c "COPY (SELECT * FROM fence.audit_export ORDER BY seq) TO STDOUT WITH (FORMAT csv, HEADER)" > "$WORK/evidence.csv"
"$FENCE_CLI" report "$WORK/evidence.csv" --html "$WORK/report.html" --anchor "$anchor" | sed 's/^/        /'
chromium --headless --no-sandbox --disable-gpu --dump-dom "file://$WORK/report.html" > "$WORK/dom.html" 2>/dev/null
counted() { sed -n "s/.*id=\"$1\">\([0-9]*\)<.*/\1/p" "$WORK/dom.html" | head -n 1; }
check "Chromium rendered the verification" "$(grep -c 'Chain verified' "$WORK/dom.html")" 1
check "events shown = rows exported" "$(counted event-count)" "$(q -c "SELECT count(*) FROM fence.audit_chain")"
check "denials shown = denials in the chain" "$(counted denial-count)" "$(q -c "SELECT count(*) FROM fence.audit_chain WHERE decision = 'deny'")"
check "risky migrations shown = risky decisions allowed" "$(counted risky-count)" \
    "$(q -c "SELECT count(*) FROM fence.audit_chain WHERE decision IN ('allow', 'warn') AND risk IN ('medium', 'high', 'critical')")"
check "the timeline chart has bars" "$(grep -c '<rect class="deny"' "$WORK/dom.html")" 1
if [ -n "${FENCE_REPORT_SCREENSHOT:-}" ]; then
    chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1200,1100 \
        --screenshot="$FENCE_REPORT_SCREENSHOT" "file://$WORK/report.html" 2>/dev/null
fi

psql -X -q -d postgres -c "DROP DATABASE $DB" -c "DROP ROLE $ROLES"
say "observability: all checks passed"
