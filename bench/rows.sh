#!/usr/bin/env bash
# Row-level change audit: the cost of recording every change, measured side by side in one
# run on a server of its own, against the same workload with no trigger and with the common
# plpgsql jsonb audit trigger (bench/sql/rows_plpgsql.sql: to_jsonb(OLD/NEW) into a table with
# a bigserial key):
#   R1  100,000 single-row UPDATEs (autocommit, one client) on a 1,000,000-row table
#       (pgbench_accounts at scale 10): throughput, p50 and p99 latency;
#   R2  the pgbench TPC-B-like mixed write load (UPDATE accounts / tellers / branches, SELECT,
#       INSERT history) with 8 clients, ROUNDS x SECONDS seconds, the three keyed tables tracked.
# Overhead = (mean time per transaction with the audit / without) - 1; the goal is fence's
# overhead at most half of the plpgsql trigger's. fence's sealer runs during the load (its
# cost is included); afterwards the chain and every change are verified. Throughput on shared
# vCPUs moves with the neighbours, so each run also reports the server's CPU time per
# transaction (every postgres process: backends, fence's sealer, vacuum, checkpointer;
# from /proc, the run time of live processes to the nanosecond, the clients excluded). Each
# round's window ends after fence's last seal, a VACUUM and a checkpoint: a round pays for the
# dead rows it left and the pages it wrote, and no autovacuum or checkpoint lands in another
# variant's round (autovacuum is off; a single autovacuum took up to a third of a round's CPU).
# Shared machines are noisy, and their speed drifts over minutes: the load is cut into short
# rounds and the three variants take turns round by round, in an order rotated each round
# (R1: the 100,000 UPDATEs PASSES times, default 3, each pass in CHUNKS rounds of 100,000 /
# CHUNKS UPDATEs, default 10: a round lasts under two seconds, so R1 needs many; R2: ROUNDS
# rounds of SECONDS seconds, default 10 x 10). Each variant's throughput and CPU per transaction are over all of
# its rounds (total transactions / total time), its latencies over all of its transactions; the
# ratio fence / plpgsql is also given round by round (the three variants of a round ran
# minutes apart at most), with its median.
# Usage: [PASSES=N] [CHUNKS=N] [ROUNDS=N] bench/rows.sh [SECONDS]   Prints a markdown table and fence /
# plpgsql round by round (target/bench-rows.md).
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
SECONDS_R2=${1:-10}
ROUNDS=${ROUNDS:-10}
CHUNKS=${CHUNKS:-10}
PASSES=${PASSES:-3}
# No checkpoint or autovacuum of its own accord: each round ends with a VACUUM and a
# checkpoint (see run).
bench_server rowsbench 54361 "max_connections = 40
checkpoint_timeout = 1h
autovacuum = off
max_wal_size = 20GB"
source "$ROOT/bench/rows_setup.sh"

# cpu_us: CPU time (µs) the server has used so far: the postmaster and its live children
# (backends, fence's sealer, autovacuum, checkpointer: the scheduler's run time of each, to
# the nanosecond), plus every child it has reaped (their total, in clock ticks).
cpu_us() {
    local postmaster total pid
    postmaster=$(head -n 1 "$SERVER_DIR/data/postmaster.pid")
    total=$(awk -v hz="$(getconf CLK_TCK)" '{ printf "%d", ($16 + $17) * 1e6 / hz }' "/proc/$postmaster/stat")
    for pid in "$postmaster" $(pgrep -P "$postmaster"); do
        total=$((total + $(awk '{ printf "%d", $1 / 1000 }' "/proc/$pid/schedstat" 2>/dev/null || echo 0)))
    done
    echo "$total"
}

# run VARIANT NAME PGBENCH-ARGS...: one round; its throughput, transactions, server CPU per
# transaction (µs) and per-transaction log kept
run() {
    local variant=$1 name=$2
    shift 2
    local dir="$WORK/$variant-$name" round before after done_tx
    mkdir -p "$dir" && chown postgres "$dir"
    round=$(find "$dir" -name 'out.*' | wc -l)
    before=$(cpu_us)
    (cd "$dir" && "$PGBENCH" -n -l --log-prefix="tx$round" "$@" "rows_$variant" > "out.$round" 2>&1) ||
        { cat "$dir/out.$round"; exit 1; }
    # fence seals what the run recorded (the other variants run an empty statement alike);
    # a VACUUM of the database cleans what the round left (the updated tables' dead rows, the
    # audit tables' new pages: their visibility map, fence's block-range summaries) and a
    # checkpoint writes out what the round dirtied (its WAL, heap and index pages), so that
    # each round pays for its own work and none lands at random in another round;
    # then the exited backends are reaped.
    if [ "$variant" = fence ]; then q -d rows_fence -c "SELECT fence.seal_changes()" >/dev/null; else q -d "rows_$variant" -c "SELECT 1" >/dev/null; fi
    q -d "rows_$variant" -c "VACUUM" -c "CHECKPOINT"
    sleep 1
    after=$(cpu_us)
    sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p' "$dir/out.$round" >> "$dir/tps"
    done_tx=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$dir/out.$round")
    echo "$done_tx" >> "$dir/tx"
    awk -v t="$((after - before))" -v n="$done_tx" 'BEGIN { printf "%.1f\n", t / n }' >> "$dir/cpu"
}

median() { sort -n "$1" | awk '{ t[NR] = $1 } END { print t[int((NR + 1) / 2)] }'; }

# summary VARIANT NAME -> "tps p50_ms p99_ms cpu_us": throughput and CPU per transaction over
# all of the variant's rounds (total transactions / total time), latency percentiles over all
# of its transactions
summary() {
    local dir="$WORK/$1-$2" tps cpu n p50 p99
    tps=$(paste "$dir/tps" "$dir/tx" | awk '{ t += $2 / $1; n += $2 } END { printf "%.1f", n / t }')
    cpu=$(paste "$dir/cpu" "$dir/tx" | awk '{ c += $1 * $2; n += $2 } END { printf "%.1f", c / n }')
    cat "$dir"/tx[0-9]* | awk '{print $3}' | sort -n > "$dir/lat"
    n=$(wc -l < "$dir/lat")
    p50=$(sed -n "$(( (n + 1) / 2 ))p" "$dir/lat")
    p99=$(sed -n "$(( (n * 99 + 99) / 100 ))p" "$dir/lat")
    awk -v t="$tps" -v a="$p50" -v b="$p99" -v c="$cpu" 'BEGIN { printf "%s %.3f %.3f %s\n", t, a / 1000, b / 1000, c }'
}

# order ROUND -> the three variants, rotated by the round's number (none first, then plpgsql
# first, then fence first, ...): no variant always runs right after the same other one.
order() {
    local variants=(none plpgsql fence) shift=$(($1 % 3))
    echo "${variants[@]:shift} ${variants[@]:0:shift}"
}

for variant in none plpgsql fence; do
    say "rows: setting up $variant"
    setup "$variant"
done
for round in $(seq $((PASSES * CHUNKS))); do
    for variant in $(order "$round"); do
        say "rows: R1 round $round/$((PASSES * CHUNKS)), $variant"
        run "$variant" r1 -c 1 -t $((100000 / CHUNKS)) -f "$WORK/update.sql"
    done
done
for round in $(seq "$ROUNDS"); do
    for variant in $(order "$round"); do
        say "rows: R2 round $round/$ROUNDS, $variant"
        run "$variant" r2 -c 8 -j 2 -T "$SECONDS_R2" -b tpcb-like
    done
done
declare -A R1 R2
for variant in none plpgsql fence; do
    R1[$variant]=$(summary "$variant" r1)
    R2[$variant]=$(summary "$variant" r2)
done

say "rows: fence's chain and changes after the load"
# What autovacuum would have done by now: statistics for the planner.
q -d rows_fence -c "SELECT fence.seal_changes()" -c "ANALYZE" >/dev/null
started=$(date +%s.%N)
verified=$(q -d rows_fence -c "SELECT ok || ' ' || changes_checked || ' ' || changes_unsealed FROM fence.verify_chain()")
verify_s=$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
seals=$(q -d rows_fence -c "SELECT count(*) FROM fence.audit_chain WHERE kind = 'row_seal'")
# The auditor's three questions on the changes just recorded (milliseconds, one session).
queries=$(psql -X -q -d rows_fence <<'SQL' | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | paste -sd' '
\timing on
SELECT count(*) FROM fence.row_history('pgbench_accounts', '{"aid": 4242}');
SELECT fence.row_as_of('pgbench_accounts', '{"aid": 4242}', now() - interval '10 seconds') IS NULL;
SELECT count(*) FROM fence.changes_by('postgres', now() - interval '2 seconds');
SELECT count(*) FROM fence.changes_by('night-shift', now() - interval '1 day');
SQL
)

overhead() { # overhead TPS_BASE TPS -> percent
    awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (a / b - 1) * 100 }'
}
table() { # table NAME ASSOC-NAME
    local -n results=$2
    read -r tn p50n p99n cn <<<"${results[none]}"
    read -r tp p50p p99p cp <<<"${results[plpgsql]}"
    read -r tf p50f p99f cf <<<"${results[fence]}"
    local op of
    op=$(overhead "$tn" "$tp")
    of=$(overhead "$tn" "$tf")
    echo "| $1 | no trigger | $(printf '%.0f' "$tn") | $p50n | $p99n | — | $cn | — |"
    echo "| $1 | plpgsql jsonb trigger | $(printf '%.0f' "$tp") | $p50p | $p99p | +$op% | $cp | +$(awk -v a="$cp" -v b="$cn" 'BEGIN { printf "%.1f", a - b }') |"
    echo "| $1 | fence.track_table | $(printf '%.0f' "$tf") | $p50f | $p99f | +$of% | $cf | +$(awk -v a="$cf" -v b="$cn" 'BEGIN { printf "%.1f", a - b }') |"
    echo "| $1 | **fence / plpgsql** | | | | **$(awk -v a="$of" -v b="$op" 'BEGIN { printf "%.2f", a / b }')** | | **$(awk -v f="$cf" -v p="$cp" -v n="$cn" 'BEGIN { printf "%.2f", (f - n) / (p - n) }')** |"
}
# round_ratios NAME tps|cpu -> fence / plpgsql of each round, one per line (the three variants of a
# round ran back to back: a slow spell of the shared vCPUs weighs on all three)
round_ratios() {
    paste "$WORK/none-$1/$2" "$WORK/plpgsql-$1/$2" "$WORK/fence-$1/$2" | awk -v kind="$2" '{
        if (kind == "tps") r = ($1 / $3 - 1) / ($1 / $2 - 1); else r = ($3 - $1) / ($2 - $1)
        printf "%.2f\n", r }'
}
# ratios NAME -> "time 0.41 0.55 0.48 (median 0.48), CPU 0.50 0.47 0.61 (median 0.50)"
ratios() {
    round_ratios "$1" tps > "$WORK/$1.time"
    round_ratios "$1" cpu > "$WORK/$1.cpu"
    echo "time $(paste -sd' ' "$WORK/$1.time") (median $(median "$WORK/$1.time")), CPU $(paste -sd' ' "$WORK/$1.cpu") (median $(median "$WORK/$1.cpu"))"
}
{
    echo "Row-level change audit, $(date -u +%F), $(nproc) vCPU, PostgreSQL $("$PG_CONFIG" --version | awk '{print $2}'), fsync off; R1 ${PASSES}x100k in $((PASSES * CHUNKS)) rounds, R2 in $ROUNDS rounds of ${SECONDS_R2}s, the variants taking turns"
    echo
    echo "| scenario | audit | tps | p50 ms | p99 ms | time overhead | server CPU µs/tx | extra CPU µs/tx |"
    echo "|---|---|---|---|---|---|---|---|"
    table "R1 ${PASSES}x100k single-row UPDATEs, 1 client" R1
    table "R2 TPC-B-like, 8 clients, $((ROUNDS * SECONDS_R2))s" R2
    echo
    echo "fence / plpgsql in each round: R1 $(ratios r1); R2 $(ratios r2)"
    echo
    echo "Goal: fence's overhead at most half of the plpgsql trigger's (fence / plpgsql <= 0.50), in time and in CPU."
    echo
    echo "fence after the load: verify_chain ok/changes checked/unsealed = $verified (${verify_s} s); $seals seals in the chain"
    echo "row_history / row_as_of / changes_by (last 2 s) / changes_by (a rare actor, one day) over those changes, ms: $queries"
} | tee "$ROOT/target/bench-rows.md"
