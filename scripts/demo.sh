#!/usr/bin/env bash
# Set up everything on a fresh machine (Debian packages, cargo-pgrx, build, install), start a
# throwaway PostgreSQL of our own (15, or the version --pg names: 16, 17, 18) and walk through
# fence's whole loop.
# Usage: scripts/demo.sh [--pg N] [--keep]   (--keep leaves the demo server running)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KEEP=
MAJOR=15
while [ $# -gt 0 ]; do
    case "$1" in
        --keep) KEEP=--keep ;;
        --pg) MAJOR=${2:?--pg takes a major version: 15, 16, 17 or 18}; shift ;;
        *) echo "usage: scripts/demo.sh [--pg N] [--keep]"; exit 2 ;;
    esac
    shift
done
ensure_pg "$MAJOR"
PG_CONFIG=$(pg_config_for "$MAJOR")
export PG_CONFIG
install_extension
start_server demo 54340
if [ "$KEEP" != "--keep" ]; then trap stop_server EXIT; fi

as() { local role=$1; shift; psql -X -q -v ON_ERROR_STOP=1 -U "$role" -d demo "$@"; }
MIGRATION="$ROOT/demo/migration.sql"

say "1. a DBA installs fence; roles: ci_deployer (migrations), alice (approver), dana (admin), audra (auditor)"
psql -X -q -d postgres -c "CREATE DATABASE demo"
as postgres <<'SQL'
CREATE EXTENSION fence;
CREATE ROLE ci_deployer LOGIN;
CREATE ROLE alice LOGIN IN ROLE fence_approver;
CREATE ROLE dana LOGIN IN ROLE fence_admin;
CREATE ROLE audra LOGIN IN ROLE fence_auditor;
GRANT CREATE ON SCHEMA public TO ci_deployer;
SQL
as ci_deployer <<'SQL'
CREATE TABLE users (id bigint PRIMARY KEY, email text);
INSERT INTO users SELECT g, 'user' || g || '@example.com' FROM generate_series(1, 200000) g;
CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint, status text, created_at timestamptz DEFAULT now());
INSERT INTO orders SELECT g, g % 200000 + 1, 'paid', now() FROM generate_series(1, 200000) g;
ANALYZE users, orders;
SQL
cat "$MIGRATION"

say "2. CI runs the migration without approval: refused"
CI_CONTEXT="-c fence.repository=acme/shop -c fence.pull_request=42 -c fence.actor=github-actions"
PGOPTIONS="$CI_CONTEXT" as ci_deployer -1 -f "$MIGRATION" || echo "(psql stopped: the migration was rolled back as a whole)"

say "2b. the transaction rolled back, yet the denial is in the audit chain (written by fence's background worker)"
as audra -c "SELECT seq, session_role, command_tag, decision, reason, left(statement, 50) AS statement, details -> 'claims' ->> 'pull_request' AS claimed_pr FROM fence.audit_chain WHERE decision = 'deny' ORDER BY seq"

say "3. the reviewer reads fence.analyze of that exact migration"
as alice -v migration="$(cat "$MIGRATION")" <<'SQL'
SELECT stmt_no, command_tag, relation, lock_mode, rewrites, scans, risk,
       (SELECT string_agg(f->>'rule', ', ') FROM jsonb_array_elements(findings) f) AS rules
FROM fence.analyze(:'migration');
SQL

say "4. alice (fence_approver) approves exactly this content"
HASH=$(as alice -At -v migration="$(cat "$MIGRATION")" <<<"SELECT fence.approve(:'migration', note => 'reviewed in PR #42', source => 'github', repository => 'acme/shop', pull_request => '42')")
echo "content hash: $HASH"

say "5. CI runs it with PGOPTIONS='-c fence.approval=$HASH': allowed"
PGOPTIONS="-c fence.approval=$HASH $CI_CONTEXT" as ci_deployer -1 -f "$MIGRATION"

say "6. an edited statement is not covered by the approval"
PGOPTIONS="-c fence.approval=$HASH" as ci_deployer -c "ALTER TABLE users ALTER COLUMN plan SET NOT NULL" 2>&1 | head -n 1 || true

say "7. dana (fence_admin) exempts public.orders for 5 seconds: an index build goes through, then the exemption expires"
as dana -c "SELECT fence.exempt('relation', 'public.orders', 'incident 812: checkout needs this index now', clock_timestamp() + interval '5 seconds') AS exemption_id"
as ci_deployer -c "CREATE INDEX orders_created_idx ON orders (created_at)"
sleep 6
as ci_deployer -c "CREATE INDEX orders_status_idx ON orders (status)" 2>&1 | head -n 1 || true

say "8. audra (fence_auditor) verifies the chain"
as audra -c "SELECT * FROM fence.verify_chain()"

say "8b. the evidence report: the export verified offline and rendered as one HTML page"
cargo build -q -p fence-cli
ANCHOR=$(as audra -At -F: -c "SELECT seq, event_hash FROM fence.anchor()")
as audra -c "COPY (SELECT * FROM fence.audit_export ORDER BY seq) TO STDOUT WITH (FORMAT csv, HEADER)" > "$SERVER_DIR/evidence.csv"
"$ROOT/target/debug/fence" verify-csv "$SERVER_DIR/evidence.csv" --anchor "$ANCHOR"
"$ROOT/target/debug/fence" report "$SERVER_DIR/evidence.csv" --anchor "$ANCHOR" --html "$SERVER_DIR/report.html"

say "9. someone alters an audit row as superuser (triggers off): verify names the first bad event"
as postgres <<'SQL'
SET session_replication_role = replica;
UPDATE fence.audit_chain SET statement = 'ALTER TABLE users ADD COLUMN harmless int'
WHERE seq = (SELECT min(seq) FROM fence.audit_chain WHERE reason = 'approved');
SQL
as audra -c "SELECT * FROM fence.verify_chain()"

say "10. the evidence export (CSV) after the tampering, as audra; full export in $SERVER_DIR/evidence.csv"
as audra -c "COPY (SELECT seq, kind, actor, command_tag, relation, policy_result, highest_risk, approver, exemption_reason, left(event_hash, 19) AS event_hash FROM fence.audit_export ORDER BY seq) TO STDOUT WITH (FORMAT csv, HEADER)"
as audra -c "COPY (SELECT * FROM fence.audit_export ORDER BY seq) TO STDOUT WITH (FORMAT csv, HEADER)" > "$SERVER_DIR/evidence.csv"

if [ "$KEEP" = "--keep" ]; then
    say "demo server left running: PGHOST=$PGHOST PGPORT=$PGPORT psql -U postgres demo"
else
    say "done (demo server stopped)"
fi
