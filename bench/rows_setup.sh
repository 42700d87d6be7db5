# The databases of the row-audit benchmarks (bench/rows.sh, bench/rows_profile.sh), sourced
# after bench_server: pgbench at scale 10 (1,000,000 accounts), one database per variant —
# none, the plpgsql jsonb audit trigger (bench/sql/rows_plpgsql.sql), fence.track_table on the
# three keyed tables.
BENCH="$ROOT/bench"
PGBENCH="$("$PG_CONFIG" --bindir)/pgbench"
q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }

# R1's statement for pgbench: one single-row UPDATE of a random account.
cat > "$WORK/update.sql" <<'SQL'
\set aid random(1, 1000000)
UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid = :aid;
SQL

setup() { # setup VARIANT: a fresh pgbench database at scale 10 with the variant's audit
    local db="rows_$1"
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" 2>/dev/null
    "$PGBENCH" -q -i -s 10 "$db" >/dev/null 2>&1
    case $1 in
        plpgsql) q -d "$db" -f "$BENCH/sql/rows_plpgsql.sql" >/dev/null ;;
        # fence: one change by a rare actor before the load, for changes_by over a wide window.
        fence) q -d "$db" -c "CREATE EXTENSION fence" \
                 -c "SELECT fence.track_table(t) FROM unnest('{pgbench_accounts,pgbench_tellers,pgbench_branches}'::regclass[]) t" \
                 -c "BEGIN" -c "SET LOCAL fence.actor = 'night-shift'" \
                 -c "UPDATE pgbench_branches SET bbalance = bbalance + 1 WHERE bid = 1" -c "COMMIT" >/dev/null ;;
    esac
    q -d "$db" -c "VACUUM ANALYZE" -c "CHECKPOINT"
}
