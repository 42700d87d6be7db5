#!/usr/bin/env bash
# Builds the installable package: a tarball of the files PostgreSQL 15 needs (fence.so,
# fence.control, the install and upgrade scripts) plus the `fence` CLI, laid out from /.
# Install on a Debian 12 machine with PostgreSQL 15 (postgresql-15 from Debian):
#   sudo tar -C / -xzf fence-<version>-pg15-debian12-amd64.tar.gz
# Usage: scripts/package.sh [--check]   (--check installs the package here and creates the
#                                        extension on a throwaway server)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
NAME="fence-$VERSION-pg15-debian12-$(dpkg --print-architecture)"
STAGE="$ROOT/target/package/$NAME"

ensure_deps
say "packaging $NAME (release build)"
rm -rf "$STAGE" && mkdir -p "$STAGE"
cargo pgrx package --pg-config "$PG_CONFIG" --out-dir "$STAGE" 2>&1 | grep -v '^\s*$' | tail -n 2
# The first release's install script and every update script, for ALTER EXTENSION fence UPDATE
# from an earlier version (and to install one).
cp sql/releases/fence--*.sql sql/upgrade/fence--*.sql "$STAGE$("$PG_CONFIG" --sharedir)/extension/"
cargo build -q --release -p fence-cli
install -D -m 0755 target/release/fence "$STAGE/usr/local/bin/fence"
# Files only: extracting at / must not touch the metadata of existing directories.
(cd "$STAGE" && find usr -type f | sort) > "$ROOT/target/package/$NAME.files"
tar -C "$STAGE" -czf "$ROOT/target/package/$NAME.tar.gz" -T "$ROOT/target/package/$NAME.files"
sed 's|^|/|' "$ROOT/target/package/$NAME.files"
echo "package: target/package/$NAME.tar.gz"

if [ "${1:-}" = "--check" ]; then
    say "installing the package and creating the extension"
    $SUDO tar -C / -xzf "$ROOT/target/package/$NAME.tar.gz"
    trap stop_server EXIT
    start_server package 54336
    psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE package_check"
    psql -X -At -v ON_ERROR_STOP=1 -d package_check \
        -c "CREATE EXTENSION fence" \
        -c "SELECT extversion FROM pg_extension WHERE extname = 'fence'" \
        -c "SELECT ok FROM fence.verify_chain()"
    [ "$(/usr/local/bin/fence hash <(echo 'SELECT 1'))" != "" ]
    say "package installs and works"
fi
