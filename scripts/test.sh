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
# tools and pgAudit beside a preloaded fence on a server of their own (scripts/tools.sh);
# last, the release package is built, installed and checked (scripts/package.sh --check).
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
rm -rf target/regress && mkdir -p target/regress
psql -X -q -d postgres -c "CREATE DATABASE fence_regress"
status=0
"$("$PG_CONFIG" --pkglibdir)/pgxs/src/test/regress/pg_regress" \
    --use-existing --host="$PGHOST" --port="$PGPORT" --user=postgres \
    --inputdir=pg_test --outputdir=target/regress --dbname=fence_regress \
    --schedule=pg_test/schedule || status=$?
if [ $status -ne 0 ]; then
    cat target/regress/regression.diffs 2>/dev/null | head -n 300
    exit $status
fi

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
"$ROOT/scripts/package.sh" --check
say "all tests passed"
