#!/usr/bin/env bash
# pg_upgrade of a database with fence from PostgreSQL 15 to a later major (default 17; the
# pinned build, see ensure_pg): before it, a chain with decisions, a live approval and
# exemption, a tracked table with sealed and unsealed changes; after it, the chain verifies
# and goes on, the approval still approves, the exemption is live, the tracked table's history
# is found and its new changes recorded and sealed.
# Usage: scripts/pg_upgrade.sh [MAJOR]   (run by scripts/test.sh with 17 and 18)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
NEW_MAJOR=${1:-17}
ensure_pg "$NEW_MAJOR"
OLD_CONFIG=$(pg_config_for 15)
NEW_CONFIG=$(pg_config_for "$NEW_MAJOR")
# fence built for both versions (each into its own directories) — unless the caller says it has
# (scripts/test.sh, with a server up: a library is not replaced under a running server).
if [ -z "${FENCE_BUILT:-}" ]; then
    PG_CONFIG=$OLD_CONFIG install_extension >/dev/null
    PG_CONFIG=$NEW_CONFIG install_extension >/dev/null
fi

say "pg_upgrade: PostgreSQL 15 -> $NEW_MAJOR with fence"
export PG_CONFIG=$OLD_CONFIG
trap stop_server EXIT
start_server upgrade-old 54371
OLD_DIR=$SERVER_DIR
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d upg "$@"; }
psql -X -q -d postgres -c "CREATE DATABASE upg"
APPROVED='ALTER TABLE ledger ADD COLUMN note text DEFAULT 0::text'
psql -X -q -v ON_ERROR_STOP=1 -d upg >/dev/null <<SQL
CREATE EXTENSION fence;
CREATE ROLE upg_ci LOGIN;
CREATE ROLE upg_approver LOGIN IN ROLE fence_approver;
CREATE ROLE upg_admin LOGIN IN ROLE fence_admin;
GRANT CREATE ON SCHEMA public TO upg_ci;
SET SESSION AUTHORIZATION upg_ci;
CREATE TABLE ledger (id bigint PRIMARY KEY, amount int);
CREATE TABLE other (id int);
RESET SESSION AUTHORIZATION;
SELECT fence.track_table('ledger');
SET SESSION AUTHORIZATION upg_ci;
INSERT INTO ledger SELECT g, g FROM generate_series(1, 50) g;
RESET SESSION AUTHORIZATION;
SELECT fence.seal_changes();
SET SESSION AUTHORIZATION upg_ci;
UPDATE ledger SET amount = amount + 1 WHERE id <= 5;
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION upg_approver;
SELECT fence.approve('$APPROVED');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION upg_admin;
SELECT fence.exempt('relation', 'public.other', 'during the upgrade', now() + interval '1 hour');
RESET SESSION AUTHORIZATION;
SQL
psql -X -q -U upg_ci -d upg -c "DROP TABLE other" >/dev/null 2>&1 || true
check "before: the chain verifies" "$(q -c "SELECT ok FROM fence.verify_chain()")" t
before=$(q -c "SELECT count(*) || '/' || max(event_hash) FROM fence.audit_chain")
# This machine's Debian build of 15 gives every column an option of its own (attoptions
# pg_attver=N) that a vanilla server refuses on restore; it is not fence's: cleared first.
for db in upg postgres template1; do
    psql -X -q -d "$db" -c "UPDATE pg_catalog.pg_attribute SET attoptions = NULL WHERE attoptions::text LIKE '%pg_attver=%'"
done
stop_server

# The new cluster, initialized as the old one was, then pg_upgrade as the postgres role.
export PG_CONFIG=$NEW_CONFIG
# From 18 on initdb turns data checksums on; the old cluster has them off, as pg_upgrade needs.
INITDB_OPTIONS=$([ "$NEW_MAJOR" -ge 18 ] && echo --no-data-checksums || true) start_server upgrade-new 54372
NEW_DIR=$SERVER_DIR
stop_server
runuser -u postgres -- bash -c "cd '$NEW_DIR' && '$("$NEW_CONFIG" --bindir)/pg_upgrade' \
    -b '$("$OLD_CONFIG" --bindir)' -B '$("$NEW_CONFIG" --bindir)' \
    -d '$OLD_DIR/data' -D '$NEW_DIR/data' -p 54371 -P 54372 \
    -o '-c config_file=$OLD_DIR/data/postgresql.conf' -O '-c config_file=$NEW_DIR/data/postgresql.conf' \
    > '$NEW_DIR/pg_upgrade.log' 2>&1" || { tail -n 40 "$NEW_DIR/pg_upgrade.log"; find "$NEW_DIR" -name '*.log' -path '*pg_upgrade_output*' -exec tail -n 20 {} \; ; exit 1; }
runuser -u postgres -- env RUST_BACKTRACE=1 "$("$NEW_CONFIG" --bindir)/pg_ctl" -D "$NEW_DIR/data" \
    -l "$NEW_DIR/server.log" -w start >/dev/null
export PGHOST=$NEW_DIR PGPORT=54372 SERVER_DIR=$NEW_DIR

check "after: the server is PostgreSQL $NEW_MAJOR" "$(q -c "SHOW server_version_num" | cut -c1-2)" "$NEW_MAJOR"
check "after: fence is installed at its version" "$(q -c "SELECT extversion FROM pg_extension WHERE extname = 'fence'")" \
    "$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)"
check "after: the chain kept every event" "$(q -c "SELECT count(*) || '/' || max(event_hash) FROM fence.audit_chain WHERE seq <= $(echo "$before" | cut -d/ -f1)")" "$before"
check "after: the chain and the row changes verify" "$(q -c "SELECT ok FROM fence.verify_chain()")" t
check "after: the tracked table's history is found" "$(q -c "SELECT count(*) FROM fence.row_history('ledger', '{\"id\": 3}')")" 2
check "after: the exemption is live" "$(q -c "SELECT count(*) FROM fence.live_exemptions")" 1
hash=$(q -c "SELECT fence.content_hash('$APPROVED')")
check "after: the approval made before still approves its migration" \
    "$(PGOPTIONS="-c fence.approval=$hash" psql -X -q -At -U upg_ci -d upg -c "$APPROVED" 2>&1 | grep -c ERROR)" 0
psql -X -q -U upg_ci -d upg -c "UPDATE ledger SET amount = 0 WHERE id = 3" >/dev/null
q -c "SELECT fence.seal_changes()" >/dev/null
check "after: a new change is recorded and sealed; the chain goes on and verifies" \
    "$(q -c "SELECT ok AND changes_unsealed = 0 FROM fence.verify_chain()")" t
check "after: the tracked table's history has the new change" "$(q -c "SELECT count(*) FROM fence.row_history('ledger', '{\"id\": 3}')")" 3
say "pg_upgrade: all checks passed"
