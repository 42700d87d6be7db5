#!/usr/bin/env bash
# Builds the installable package for one PostgreSQL major version: a tarball of the files the
# server needs (fence.so, fence.control, the install and upgrade scripts) plus the `fence`
# CLI, laid out from / as Debian's packages of that version lay PostgreSQL out (15: Debian 12's
# own; 16-18: the PostgreSQL project's apt repository, apt.postgresql.org). An extension built
# against one minor release's headers loads into every minor release of that major version.
# Install on a Debian 12 machine with that PostgreSQL:
#   sudo tar -C / -xzf fence-<version>-pg<N>-debian12-amd64.tar.gz
# Usage: scripts/package.sh [--pg N] [--check]
#        scripts/package.sh --cli [--check]
#   --pg N    PostgreSQL 15 (default), 16, 17 or 18 (16-18 are built against the pinned builds
#             of scripts/lib.sh, installed when missing)
#   --check   installs the package's files into a PostgreSQL of that version here and creates
#             the extension on a throwaway server
#   --cli     the `fence` command line alone, as a Python wheel (scripts/wheel.sh; with
#             --check, installed into a fresh virtualenv and run)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

MAJOR=15
CHECK=
CLI=
while [ $# -gt 0 ]; do
    case "$1" in
        --pg) MAJOR=${2:?--pg needs a major version}; shift 2 ;;
        --check) CHECK=1; shift ;;
        --cli) CLI=1; shift ;;
        *) echo "usage: scripts/package.sh [--pg N] [--check] | --cli [--check]" >&2; exit 2 ;;
    esac
done
if [ -n "$CLI" ]; then
    exec "$ROOT/scripts/wheel.sh" ${CHECK:+--check}
fi
ensure_pg "$MAJOR"
PG_CONFIG=$(pg_config_for "$MAJOR")
export PG_CONFIG

VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
NAME="fence-$VERSION-pg$MAJOR-debian12-$(dpkg --print-architecture)"
BUILD="$ROOT/target/package/$NAME.build"
STAGE="$ROOT/target/package/$NAME"
# Where Debian's packages of this version keep extension libraries and SQL files.
LIBDIR=usr/lib/postgresql/$MAJOR/lib
SHAREDIR=usr/share/postgresql/$MAJOR

say "packaging $NAME (release build)"
rm -rf "$BUILD" "$STAGE" && mkdir -p "$BUILD" "$STAGE/$LIBDIR" "$STAGE/$SHAREDIR/extension"
features=()
[ "$MAJOR" = 15 ] || features=(--no-default-features --features "pg$MAJOR")
cargo pgrx package "${features[@]}" --pg-config "$PG_CONFIG" --out-dir "$BUILD" 2>&1 | grep -v '^\s*$' | tail -n 2
# From the build's own paths (pg_config's) to the Debian layout.
cp "$BUILD$("$PG_CONFIG" --pkglibdir)"/fence.so "$STAGE/$LIBDIR/"
cp "$BUILD$("$PG_CONFIG" --sharedir)"/extension/fence* "$STAGE/$SHAREDIR/extension/"
# The first release's install script and every update script, for ALTER EXTENSION fence UPDATE
# from an earlier version (and to install one).
cp sql/releases/fence--*.sql sql/upgrade/fence--*.sql "$STAGE/$SHAREDIR/extension/"
cargo build -q --release -p fence-cli
install -D -m 0755 target/release/fence "$STAGE/usr/local/bin/fence"
# Files only: extracting at / must not touch the metadata of existing directories.
(cd "$STAGE" && find usr -type f | sort) > "$ROOT/target/package/$NAME.files"
tar -C "$STAGE" -czf "$ROOT/target/package/$NAME.tar.gz" -T "$ROOT/target/package/$NAME.files"
sed 's|^|/|' "$ROOT/target/package/$NAME.files"
echo "package: target/package/$NAME.tar.gz"

if [ -n "$CHECK" ]; then
    say "installing the package and creating the extension (PostgreSQL $MAJOR)"
    if [ "$MAJOR" = 15 ]; then
        $SUDO tar -C / -xzf "$ROOT/target/package/$NAME.tar.gz"
        cli=/usr/local/bin/fence
    else
        # The pinned build here is not laid out as Debian's: its files go where its pg_config says.
        unpacked=$(mktemp -d)
        tar -C "$unpacked" -xzf "$ROOT/target/package/$NAME.tar.gz"
        cp "$unpacked/$LIBDIR"/* "$("$PG_CONFIG" --pkglibdir)/"
        cp "$unpacked/$SHAREDIR/extension"/* "$("$PG_CONFIG" --sharedir)/extension/"
        cli=$unpacked/usr/local/bin/fence
    fi
    trap stop_server EXIT
    start_server package 54336
    psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE package_check"
    psql -X -At -v ON_ERROR_STOP=1 -d package_check \
        -c "CREATE EXTENSION fence" \
        -c "SELECT extversion FROM pg_extension WHERE extname = 'fence'" \
        -c "SELECT split_part(current_setting('server_version'), '.', 1)" \
        -c "SELECT ok FROM fence.verify_chain()"
    [ "$(psql -X -At -d package_check -c "SHOW server_version_num")" -ge "${MAJOR}0000" ]
    [ "$("$cli" hash <(echo 'SELECT 1'))" != "" ]
    say "package installs and works on PostgreSQL $MAJOR"
fi
