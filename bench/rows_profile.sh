#!/usr/bin/env bash
# Row-level change audit, counted instead of timed: the instructions PostgreSQL executes per
# single-row UPDATE (R1's statement) with no trigger, with the plpgsql jsonb audit trigger and
# with fence.track_table — valgrind's callgrind on a single-user backend, deterministic where
# the shared vCPUs' timings are not (bench/rows.sh times the same workloads).
#   per UPDATE = (count for 1,200 UPDATEs - count for 200) / 1,000, each run on the warmed
#   database; fence's runs end with fence.seal_changes(), so its sealer is counted too.
# Also per UPDATE: the trigger's share (AfterTriggerEndQuery), fence's sealer (fence.seal_changes():
# the seal and the summaries of the block ranges it read), and sha256:
# under valgrind sha256 runs without the CPU's SHA instructions, roughly 10x its real cost,
# so it is printed apart (subtract most of it for the hardware figure).
# Usage: bench/rows_profile.sh     Prints a markdown table (target/bench-rows-profile.md).
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
command -v valgrind >/dev/null || { echo "valgrind is missing (scripts/lib.sh installs it)"; exit 1; }
bench_server rowsprofile 54362 "max_connections = 40"
source "$ROOT/bench/rows_setup.sh"

for variant in none plpgsql fence; do
    say "rows profile: setting up and warming $variant"
    setup "$variant"
    "$PGBENCH" -n -c 1 -t 5000 -f "$WORK/update.sql" "rows_$variant" >/dev/null
    if [ "$variant" = fence ]; then q -d rows_fence -c "SELECT fence.seal_changes()" >/dev/null; fi
    q -d "rows_$variant" -c "CHECKPOINT"
done
stop_server

mkdir -p "$WORK/cg" && chown postgres "$WORK/cg"
# count VARIANT N: callgrind's output for N UPDATEs of random accounts (the same ones for every
# variant), then fence's seal, in a single-user backend.
count() {
    local script="$WORK/cg/$1.$2.sql" out="$WORK/cg/$1.$2.out"
    awk -v n="$2" 'BEGIN { srand(11); for (i = 0; i < n; i++)
        printf "UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid = %d\n", int(rand() * 1000000) + 1 }' > "$script"
    if [ "$1" = fence ]; then echo "SELECT fence.seal_changes()" >> "$script"; fi
    runuser -u postgres -- valgrind --tool=callgrind --callgrind-out-file="$out" \
        "$("$PG_CONFIG" --bindir)/postgres" --single -D "$SERVER_DIR/data" "rows_$1" < "$script" > "$out.log" 2>&1
    grep -q ERROR "$out.log" && { grep -m3 ERROR "$out.log"; exit 1; }
    echo "$out"
}
# inclusive OUT FUNCTION: instructions spent in FUNCTION and what it called (0 if absent).
inclusive() {
    callgrind_annotate --inclusive=yes "$1" 2>/dev/null |
        awk -v f="$2" 'index($0, ":" f " [") { gsub(",", "", $1); print $1; found = 1; exit } END { if (!found) print 0 }'
}
total() { awk '/^(summary|totals):/ { print $2; exit }' "$1"; }
# per_update SMALL LARGE VALUE-FUNCTION [ARG]: the per-UPDATE difference of a measure.
per_update() { echo $(( ($($3 "$2" ${4:+"$4"}) - $($3 "$1" ${4:+"$4"})) / 1000 )); }

declare -A ALL TRIGGER SEALER SHA
for variant in none plpgsql fence; do
    say "rows profile: callgrind, $variant (200 and 1,200 UPDATEs)"
    small=$(count "$variant" 200)
    large=$(count "$variant" 1200)
    ALL[$variant]=$(per_update "$small" "$large" total)
    TRIGGER[$variant]=$(per_update "$small" "$large" inclusive AfterTriggerEndQuery)
    SEALER[$variant]=$(per_update "$small" "$large" inclusive seal_changes_wrapper)
    SHA[$variant]=$(per_update "$small" "$large" inclusive sha2::sha256::compress256)
done

{
    echo "Row-level change audit, instructions per single-row UPDATE (callgrind), $(date -u +%F), PostgreSQL $("$PG_CONFIG" --version | awk '{print $2}')"
    echo
    echo "| audit | all | over no trigger | trigger | fence's sealer | of which sha256 (software under valgrind) |"
    echo "|---|---|---|---|---|---|"
    for variant in none plpgsql fence; do
        label=$variant
        [ "$variant" = none ] && label="no trigger"
        [ "$variant" = plpgsql ] && label="plpgsql jsonb trigger"
        [ "$variant" = fence ] && label="fence.track_table"
        echo "| $label | ${ALL[$variant]} | $(( ALL[$variant] - ALL[none] )) | ${TRIGGER[$variant]} | ${SEALER[$variant]} | ${SHA[$variant]} |"
    done
    echo
    echo "fence / plpgsql, trigger + sealer: $(awk -v f=$((TRIGGER[fence] + SEALER[fence])) -v p="${TRIGGER[plpgsql]}" 'BEGIN { printf "%.2f", f / p }')" \
         "(sha256 as counted; at hardware speed about $(awk -v f=$((TRIGGER[fence] + SEALER[fence] - SHA[fence] * 9 / 10)) -v p="${TRIGGER[plpgsql]}" 'BEGIN { printf "%.2f", f / p }'))"
} | tee "$ROOT/target/bench-rows-profile.md"
