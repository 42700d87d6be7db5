#!/usr/bin/env bash
# Verification and export of a long chain, against what reading it costs anyway:
#   verify_chain()                  vs  COPY of the chain table + SHA-256 of its bytes
#   COPY (fence.audit_export) out   vs  COPY of the chain table
# on a chain of N events (default 1,000,000) made by crates/fence-cli/examples/chain_gen.rs
# (hashed by fence-core as the extension hashes them: the chain verifies), loaded with COPY.
# Each measure is the median of ROUNDS runs (default 3), every ratio against the baseline of
# the same run.
# Usage: bench/chain_scale.sh [N] [ROUNDS]      Prints a markdown table (target/bench-chain-scale.md).
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
N=${1:-1000000}
ROUNDS=${2:-3}
bench_server chainscale 54366 "shared_buffers = 1GB"
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d chain_scale "$@"; }

say "chain scale: $N events"
psql -X -q -d postgres -c "CREATE DATABASE chain_scale"
q -c "CREATE EXTENSION fence"
cargo build -q --release -p fence-cli --example chain_gen
# The generated events continue the fresh install's chain (its policy event stays: the
# chain verifies with fence's tables), the time from microseconds exactly.
HEAD_SEQ= HEAD_HASH=
read -r HEAD_SEQ HEAD_HASH < <(q -F ' ' -c "SELECT seq, event_hash FROM fence.audit_chain ORDER BY seq DESC LIMIT 1") || true
"$ROOT/target/release/examples/chain_gen" "$N" "${HEAD_SEQ:-0}" ${HEAD_HASH:+"$HEAD_HASH"} > "$WORK/chain.csv"
q -c "CREATE TEMP TABLE staged (seq bigint, time_us bigint, kind text, session_role text, executing_role text, txid bigint, command_tag text, relation text, statement text, statement_hash text, content_hash text, decision text, reason text, risk text, policy_version integer, policy_hash text, details jsonb, prev_hash text, event_hash text)" \
    -c "\\copy staged FROM '$WORK/chain.csv' (FORMAT csv)" \
    -c "INSERT INTO fence.audit_chain SELECT seq, 'epoch'::timestamptz + time_us * interval '1 microsecond', kind, session_role, executing_role, txid, command_tag, relation, statement, statement_hash, content_hash, decision, reason, risk, policy_version, policy_hash, details, prev_hash, event_hash FROM staged"
q -c "VACUUM ANALYZE fence.audit_chain"
check "the generated chain: $N events after the install's" "$(q -c "SELECT count(*) - ${HEAD_SEQ:-0} FROM fence.audit_chain")" "$N"

# seconds CMD...: the wall time of a command, in milliseconds.
ms() { local start; start=$(date +%s%N); "$@" > /dev/null; echo $(( ($(date +%s%N) - start) / 1000000 )); }
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
copy_table() { psql -X -q -d chain_scale -c "COPY fence.audit_chain TO STDOUT" > /dev/null; }
copy_and_hash() { psql -X -q -d chain_scale -c "COPY fence.audit_chain TO STDOUT" | sha256sum > /dev/null; }
verify() { [ "$(q -c "SELECT ok FROM fence.verify_chain()")" = t ] || { echo "the chain does not verify" >&2; exit 1; }; }
export_csv() { psql -X -q -d chain_scale -c "COPY (SELECT * FROM fence.audit_export ORDER BY seq) TO STDOUT WITH (FORMAT csv, HEADER)" > /dev/null; }
declare -A T
for what in copy_table copy_and_hash verify export_csv; do
    say "chain scale: $what, $ROUNDS rounds"
    T[$what]=$(for _ in $(seq 1 "$ROUNDS"); do ms "$what"; done | median)
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }
{
    echo "Chain of $N events, $(date -u +%F), PostgreSQL $("$PG_CONFIG" --version | awk '{print $2}'), medians of $ROUNDS"
    echo
    echo "| measure | time | baseline | ratio | goal |"
    echo "|---|---|---|---|---|"
    echo "| verify_chain() | ${T[verify]} ms | COPY of the table + SHA-256 of its bytes: ${T[copy_and_hash]} ms | $(ratio "${T[verify]}" "${T[copy_and_hash]}") | ≤ 2x |"
    echo "| export (COPY of fence.audit_export, CSV) | ${T[export_csv]} ms | COPY of the table: ${T[copy_table]} ms | $(ratio "${T[export_csv]}" "${T[copy_table]}") | ≤ 1.2x |"
    echo
    echo "verify_chain(): $(awk -v n="$N" -v t="${T[verify]}" 'BEGIN { printf "%d", n / t * 1000 }') events/s"
} | tee "$ROOT/target/bench-chain-scale.md"
