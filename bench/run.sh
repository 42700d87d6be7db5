#!/usr/bin/env bash
# fence's benchmarks, measured side by side in one run on a server of their own:
#   P1  one 2,000-statement migration (CREATE TABLE, ADD COLUMN with a constant default,
#       CREATE INDEX, COMMENT, DROP TABLE) with no extension, fence (enforce, allowed by an
#       approval), the hand-built plpgsql event-trigger audit, and pgAudit (log = 'ddl');
#       once as one transaction (P1a) and once with a transaction per statement (P1b);
#   P5  8 sessions x 250 DDL transactions, fence and the plpgsql audit vs no extension
#       (throughput);
#   and fence's own figures: fence.analyze and the CLI on 10,000 statements (the CLI against
#   squawk, installed from PyPI for the comparison only), verify_chain, CSV export.
# Each figure is the median of RUNS runs (default 5) with its min-max spread; ratios are
# against the no-extension baseline of the same run. Builds fence in release mode.
# Usage: bench/run.sh [RUNS]      Prints a markdown table (also saved to target/bench.md).
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
RUNS=${1:-5}
BENCH="$ROOT/bench"
bench_server bench 54360 "shared_preload_libraries = 'pgaudit'
max_connections = 40"

q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
now_ms() { date +%s%3N; }

# The P1 migration: 400 x (CREATE TABLE, ADD COLUMN ... DEFAULT, CREATE INDEX, COMMENT, DROP).
for i in $(seq 1 400); do
    echo "CREATE TABLE m_$i (id int PRIMARY KEY, v text);"
    echo "ALTER TABLE m_$i ADD COLUMN c int DEFAULT 0;"
    echo "CREATE INDEX m_${i}_v_idx ON m_$i (v);"
    echo "COMMENT ON TABLE m_$i IS 'bench table $i';"
    echo "DROP TABLE m_$i;"
done > "$WORK/migration.sql"
# P5: one file per session, 250 transactions each.
for s in $(seq 1 8); do
    for i in $(seq 1 250); do
        echo "BEGIN; CREATE TABLE p_${s}_$i (id int); COMMENT ON TABLE p_${s}_$i IS 'p5'; COMMIT;"
    done > "$WORK/p5_$s.sql"
done
# 10,000 statements for fence.analyze.
for round in 1 2 3 4 5; do sed "s/m_/a${round}_/g" "$WORK/migration.sql"; done > "$WORK/analyze.sql"

fresh_db() { # fresh_db NAME SCENARIO: a new database set up for the scenario, then a checkpoint
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1" 2>/dev/null
    q -d "$1" -f "$BENCH/sql/setup_$2.sql" >/dev/null
    q -d postgres -c "CHECKPOINT"
}

p1() { # p1 SCENARIO single|each -> milliseconds
    local db="bench_$1" options="" single=""
    fresh_db "$db" "$1"
    if [ "$1" = fence ]; then
        local hash
        hash=$(q -U bench_approver -d "$db" <<<"\\set migration \`cat $WORK/migration.sql\`
SELECT fence.approve(:'migration');")
        options="-c fence.approval=$hash"
    fi
    [ "$2" = single ] && single="-1"
    local start end
    start=$(now_ms)
    PGOPTIONS="$options" q -d "$db" $single -f "$WORK/migration.sql" >"$WORK/p1.out" 2>&1 || { echo failed; return; }
    end=$(now_ms)
    echo $((end - start))
}

p5() { # p5 SCENARIO -> transactions per second
    local db="bench_p5_$1"
    fresh_db "$db" "$1"
    local start end pids=()
    start=$(now_ms)
    for s in $(seq 1 8); do
        q -d "$db" -f "$WORK/p5_$s.sql" >/dev/null &
        pids+=($!)
    done
    wait "${pids[@]}" || { echo failed; return; }
    end=$(now_ms)
    [ "$(q -d "$db" -c "SELECT count(*) FROM pg_class WHERE relname LIKE 'p\_%'")" = 2000 ] || { echo failed; return; }
    echo $((2000 * 1000 / (end - start)))
}

stats() { # stats VALUES... -> "median min max"; a failed sample stops the benchmark
    if printf '%s\n' "$@" | grep -qv '^[0-9][0-9]*$'; then
        echo "a benchmark run failed: $*" >&2
        exit 1
    fi
    printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)], v[1], v[NR] }'
}

declare -A RESULTS
declare -A SAMPLES
# measure "KEY COMMAND..." ...: RUNS rounds; each round runs every command once, in turn,
# so that drift of the machine hits every scenario alike.
measure() {
    local spec key
    for _ in $(seq 1 "$RUNS"); do
        for spec in "$@"; do
            read -r key cmd <<<"$spec"
            SAMPLES[$key]="${SAMPLES[$key]:-} $($cmd)"
        done
    done
    for spec in "$@"; do
        read -r key _ <<<"$spec"
        # shellcheck disable=SC2086
        RESULTS[$key]=$(stats ${SAMPLES[$key]})
    done
}

say "P1: 2,000-statement migration, $RUNS rounds of every scenario"
for mode in single each; do
    measure "p1_${mode}_none p1 none $mode" "p1_${mode}_fence p1 fence $mode" \
        "p1_${mode}_plpgsql p1 plpgsql $mode" "p1_${mode}_pgaudit p1 pgaudit $mode"
    for scenario in none fence plpgsql pgaudit; do
        echo "  P1 $mode $scenario: ${RESULTS[p1_${mode}_$scenario]} (median min max, ms)"
    done
done

say "P5: 8 sessions x 250 DDL transactions, $RUNS rounds"
measure "p5_none p5 none" "p5_fence p5 fence" "p5_plpgsql p5 plpgsql"
for scenario in none fence plpgsql; do
    echo "  P5 $scenario: ${RESULTS[p5_$scenario]} (median min max, transactions/s)"
done
P5_VERIFIED=$(q -d bench_p5_fence -c "SELECT ok FROM fence.verify_chain()")

say "fence's own figures"
# per_second COUNT COMMAND...: runs the command once, prints COUNT items per second of it.
per_second() {
    local count=$1 start end
    shift
    start=$(now_ms)
    "$@" >/dev/null || { echo failed; return; }
    end=$(now_ms)
    echo $((count * 1000 / (end - start + 1)))
}
printf '%s\n' "\\set sql \`cat $WORK/analyze.sql\`" "SELECT count(*) FROM fence.analyze(:'sql');" >"$WORK/analyze_call.sql"
CHAIN_EVENTS=$(q -d bench_p5_fence -c "SELECT count(*) FROM fence.audit_chain")
cargo build -q --release -p fence-cli
python3 -m venv "$WORK/venv" && "$WORK/venv/bin/pip" install -q squawk-cli
squawk_run() { "$WORK/venv/bin/squawk" "$WORK/analyze.sql" 2>&1 || true; } # exits 1 on findings
analyze_rate() { per_second 10000 q -d bench_fence -f "$WORK/analyze_call.sql"; }
cli_rate() { per_second 10000 "$ROOT/target/release/fence" analyze "$WORK/analyze.sql" --format json; }
squawk_rate() { per_second 10000 squawk_run; }
verify_rate() { per_second "$CHAIN_EVENTS" q -d bench_p5_fence -c "SELECT ok FROM fence.verify_chain()"; }
export_rate() {
    per_second "$CHAIN_EVENTS" q -d bench_p5_fence \
        -c "COPY (SELECT * FROM fence.audit_export ORDER BY seq) TO STDOUT WITH (FORMAT csv, HEADER)"
}
measure "analyze analyze_rate" "cli cli_rate" "squawk squawk_rate" "verify verify_rate" "export export_rate"

row() { # row NAME KEY BASELINE_KEY UNIT GOAL [higher]
    read -r median min max <<<"${RESULTS[$2]}"
    local ratio="" base=""
    if [ -n "$3" ]; then
        read -r base _ _ <<<"${RESULTS[$3]}"
        ratio=$(awk -v a="$median" -v b="$base" 'BEGIN { printf "%.2fx", a / b }')
        base="$base $4"
    fi
    printf '| %s | %s | %s %s | %s–%s | %s | %s |\n' "$1" "$base" "$median" "$4" "$min" "$max" "$ratio" "$5"
}

{
    echo "| benchmark | baseline (no extension) | median | spread (min–max) | ratio | goal |"
    echo "|---|---|---|---|---|---|"
    for mode in single each; do
        label=$([ "$mode" = single ] && echo "P1a one transaction" || echo "P1b a transaction per statement")
        row "$label: fence (enforce, approved)" "p1_${mode}_fence" "p1_${mode}_none" ms "≤ 1.10x, below plpgsql"
        row "$label: plpgsql event-trigger audit" "p1_${mode}_plpgsql" "p1_${mode}_none" ms ""
        row "$label: pgAudit (log = ddl)" "p1_${mode}_pgaudit" "p1_${mode}_none" ms ""
    done
    row "P5 8 sessions x 250 DDL transactions: fence (chain verifies: $P5_VERIFIED)" p5_fence p5_none "tx/s" "≥ 0.8x"
    row "P5 8 sessions x 250 DDL transactions: plpgsql event-trigger audit" p5_plpgsql p5_none "tx/s" ""
    row "fence.analyze (in the server), 10,000 statements" analyze "" "statements/s" ""
    row "fence analyze (CLI, offline), 10,000 statements, vs squawk" cli squawk "statements/s" "≥ 1.00x squawk"
    row "verify_chain, $CHAIN_EVENTS events" verify "" "events/s" ""
    row "CSV export (COPY audit_export), $CHAIN_EVENTS events" export "" "rows/s" ""
} | tee "$ROOT/target/bench.md"
echo
echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.1f GB", $2 / 1048576 }' /proc/meminfo), $(psql -X -At -d postgres -c 'SELECT version()' | cut -d, -f1); $RUNS runs each"
