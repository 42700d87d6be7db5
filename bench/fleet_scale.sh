#!/usr/bin/env bash
# Central verification of a fleet: fence.verify_fleet() on an evidence database holding the
# chains of three databases of N events each (default 100,000; made by
# crates/fence-cli/examples/chain_gen.rs, hashed as the extension hashes them, loaded into
# fence.fleet_chain as the subscriptions would), against what reading them costs anyway (COPY
# of fence.fleet_chain + SHA-256 of its bytes). Medians of ROUNDS runs (default 3).
# Usage: bench/fleet_scale.sh [N] [ROUNDS]      Prints a markdown table (target/bench-fleet-scale.md).
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
N=${1:-100000}
ROUNDS=${2:-3}
bench_server fleetscale 54367 "shared_buffers = 1GB"
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d evidence "$@"; }

say "fleet scale: 3 chains of $N events"
psql -X -q -d postgres -c "CREATE DATABASE evidence"
q -c "CREATE EXTENSION fence"
cargo build -q --release -p fence-cli --example chain_gen
"$ROOT/target/release/examples/chain_gen" "$N" > "$WORK/chain.csv"
q -c "CREATE TEMP TABLE staged (seq bigint, time_us bigint, kind text, session_role text, executing_role text, txid bigint, command_tag text, relation text, statement text, statement_hash text, content_hash text, decision text, reason text, risk text, policy_version integer, policy_hash text, details jsonb, prev_hash text, event_hash text)" \
    -c "\\copy staged FROM '$WORK/chain.csv' (FORMAT csv)" \
    -c "INSERT INTO fence.fleet_databases SELECT gen_random_uuid(), 'tenant_' || n, '7000000000000000000', now() FROM generate_series(1, 3) n" \
    -c "INSERT INTO fence.fleet_chain SELECT d.database_id, seq, 'epoch'::timestamptz + time_us * interval '1 microsecond', kind, session_role, executing_role, txid, command_tag, relation, statement, statement_hash, content_hash, decision, reason, risk, policy_version, policy_hash, details, prev_hash, event_hash FROM fence.fleet_databases d, staged"
q -c "VACUUM ANALYZE fence.fleet_chain"
check "three chains of $N events, each verifies" "$(q -c "SELECT count(*) FILTER (WHERE ok AND checked = $N) FROM fence.verify_fleet()")" 3

ms() { local start; start=$(date +%s%N); "$@" > /dev/null; echo $(( ($(date +%s%N) - start) / 1000000 )); }
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
copy_and_hash() { psql -X -q -d evidence -c "COPY fence.fleet_chain TO STDOUT" | sha256sum > /dev/null; }
verify() { [ "$(q -c "SELECT count(*) FILTER (WHERE ok) FROM fence.verify_fleet()")" = 3 ] || { echo "a chain does not verify" >&2; exit 1; }; }
declare -A T
for what in copy_and_hash verify; do
    say "fleet scale: $what, $ROUNDS rounds"
    T[$what]=$(for _ in $(seq 1 "$ROUNDS"); do ms "$what"; done | median)
done
{
    echo "Three chains of $N events on one evidence database, $(date -u +%F), PostgreSQL $("$PG_CONFIG" --version | awk '{print $2}'), medians of $ROUNDS"
    echo
    echo "| measure | time | baseline | ratio | rate |"
    echo "|---|---|---|---|---|"
    echo "| verify_fleet() | ${T[verify]} ms | COPY of fence.fleet_chain + SHA-256 of its bytes: ${T[copy_and_hash]} ms | $(awk -v a="${T[verify]}" -v b="${T[copy_and_hash]}" 'BEGIN { printf "%.2fx", a / b }') | $(awk -v n="$((3 * N))" -v t="${T[verify]}" 'BEGIN { printf "%d events/s", n / t * 1000 }') |"
} | tee "$ROOT/target/bench-fleet-scale.md"
