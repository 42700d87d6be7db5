#!/usr/bin/env bash
# The whole test suite: formatting and lints, fence-core's unit tests, then the extension
# built, installed and exercised by pg_regress, the security suite (scripts/security.sh), the
# differential scanner test of the CLI against the server (scripts/scanfuzz.sh) and
# the concurrency / evidence / dump / crash checks (scripts/durability.sh), the row-change
# retention across months on a clock-shifted server of its own (scripts/retention.sh), the log /
# notify / stats / report checks (scripts/observability.sh), the upgrade from every released
# version (scripts/upgrade.sh) against a throwaway PostgreSQL 15 server; the compatibility
# suite (scripts/compat.sh: the same SQL with and without fence, and a hot standby) and
# pg_cron / pg_partman maintenance under an automation policy (scripts/automation.sh); then the migration
# tools and pgAudit beside a preloaded fence on a server of their own (scripts/tools.sh); the
# command line against a real server, SARIF against its schema (scripts/cli.sh); the fleet on
# three clusters of its own (scripts/fleet.sh: control, evidence, two targets);
# then PostgreSQL 16, 17 and 18 (pinned builds from PyPI, scripts/lib.sh ensure_pg): the extension
# built for each, its regress, security and live-truth suites on a server of that version;
# last, the release package of each version is built, installed and checked (scripts/package.sh --pg N --check). Then the CLI's Python wheel (scripts/package.sh --cli --check, which runs scripts/wheel.sh).
# The module floors of src/ and the released scripts' checksums are checked first.
# Exits non-zero on any failure; the server is stopped however the run ends.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ensure_deps
cd "$ROOT"

say "cargo fmt --check / cargo clippy"
cargo fmt --all --check
cargo clippy --workspace --all-targets --quiet -- -D warnings

say "architecture (scripts/architecture.py) and frozen releases (sql/releases/SHA256SUMS)"
python3 scripts/architecture.py
(cd sql/releases && sha256sum --quiet --strict -c SHA256SUMS && [ "$(ls fence--*.sql | wc -l)" = "$(wc -l < SHA256SUMS)" ]) \
    || { echo "a released script in sql/releases was edited, added or removed"; exit 1; }

say "fence-core and fence-cli tests"
cargo test -p fence-core -p fence-cli --quiet

install_extension

say "pg_regress suite (pg_test/)"
trap stop_server EXIT
start_server test 54330
run_regress

# Never crash the server: a panic must become an ERROR (the durability suite's own kill -9
# is signal 9, and checked after it separately).
crashes() { grep -cE "terminated by signal (6|11)|non-unwinding panic|PANIC:" "$SERVER_DIR/server.log" || true; }
if [ "$(crashes)" != 0 ]; then
    grep -E -B2 -A2 "terminated by signal (6|11)|non-unwinding panic|PANIC:" "$SERVER_DIR/server.log" | head -n 20
    exit 1
fi

"$ROOT/scripts/security.sh"
"$ROOT/scripts/scanfuzz.sh"
"$ROOT/scripts/durability.sh"
"$ROOT/scripts/observability.sh"
"$ROOT/scripts/upgrade.sh"
"$ROOT/scripts/truth_wait.sh"
"$ROOT/scripts/retention.sh"
[ "$(crashes)" = 0 ] || { echo "the server crashed (see $SERVER_DIR/server.log)"; exit 1; }
"$ROOT/scripts/compat.sh"
"$ROOT/scripts/automation.sh"
[ "$(crashes)" = 0 ] || { echo "the server crashed (see $SERVER_DIR/server.log)"; exit 1; }
"$ROOT/scripts/tools.sh"
"$ROOT/scripts/cli.sh"
"$ROOT/scripts/fleet.sh"

# The other supported versions (PostgreSQL 16-18, pinned builds): the extension built for each
# (Cargo feature pgN), installed into that version, and on a server of that version its
# pg_regress suite (with the live-truth file), the security suite, the live truth of the
# non-transactional commands, the upgrade from every release, the fleet, and (17 on) the event_triggers
# setting recorded and a pg_upgrade from 15.
for major in 16 17 18; do
    ensure_pg "$major"
    (
        PG_CONFIG=$(pg_config_for "$major")
        export PG_CONFIG
        install_extension
        trap stop_server EXIT
        start_server "pg$major" $((54350 + major))
        run_regress
        "$ROOT/scripts/security.sh"
        "$ROOT/scripts/truth_wait.sh"
        "$ROOT/scripts/upgrade.sh"
        "$ROOT/scripts/fleet.sh"
        if [ "$major" -ge 17 ]; then
            # A superuser may silence event triggers with event_triggers = off (17 on): not silently.
            psql -X -q -d postgres -c "CREATE DATABASE fence_guard"
            psql -X -q -d fence_guard -c "CREATE EXTENSION fence" -c 'SET "Event_Triggers" = off' -c "RESET event_triggers" 2>/dev/null
            check "PostgreSQL $major: event_triggers switched off and on again is in the chain" \
                "$(psql -X -At -d fence_guard -c "SELECT string_agg(details ->> 'state', ',' ORDER BY seq) FROM fence.audit_chain WHERE kind = 'guard_change' AND details ->> 'guard' = 'event_triggers'")" "off,on"
            check "PostgreSQL $major: the chain verifies" "$(psql -X -At -d fence_guard -c "SELECT ok FROM fence.verify_chain()")" t
            # pg_upgrade from 15 (scripts/pg_upgrade.sh: clusters of its own).
            FENCE_BUILT=1 "$ROOT/scripts/pg_upgrade.sh" "$major"
        fi
        [ "$(crashes)" = 0 ] || { echo "the PostgreSQL $major server crashed (see $SERVER_DIR/server.log)"; exit 1; }
    )
done

# The release package of each version, installed and checked.
for major in 15 16 17 18; do
    "$ROOT/scripts/package.sh" --pg "$major" --check
done
# The CLI as a Python wheel, installed into a fresh virtualenv and run.
"$ROOT/scripts/package.sh" --cli --check
say "all tests passed"
