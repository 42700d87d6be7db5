#!/usr/bin/env bash
# The differential scanner test: the CLI (libpg_query's copy of PostgreSQL's scanner) and the
# server (its own scanner) must read every text alike — same token values, same content
# hash, or both refuse it. Cases come from crates/fence-cli/examples/scanfuzz.rs with a fixed
# seed: SQL built from comments ended by \r, nested comments, quotes, escapes, continuations,
# dollar quotes, Unicode and long identifiers, half of them mutated at random; each is read
# with standard_conforming_strings on and off. Uses the server in PGHOST/PGPORT
# (scripts/test.sh), or starts its own.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

SEED=${SCANFUZZ_SEED:-20261206}
COUNT=${SCANFUZZ_COUNT:-10000}
DB=fence_scanfuzz
suite_server scanfuzz 54339

say "differential scanner test: $COUNT texts (seed $SEED), standard_conforming_strings on and off"
cargo run -q --example scanfuzz -p fence-cli -- "$SEED" "$COUNT" > "$WORK/cases.csv"
psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
psql -X -q -v ON_ERROR_STOP=1 -d "$DB" >/dev/null <<SQL
CREATE EXTENSION fence;
CREATE TABLE cases (id int, setting text, sql text, cli text);
\copy cases FROM '$WORK/cases.csv' WITH (FORMAT csv)
CREATE FUNCTION server_hash(sql text) RETURNS text LANGUAGE plpgsql AS \$\$
BEGIN
    RETURN fence.content_hash(sql);
EXCEPTION WHEN OTHERS THEN
    RETURN 'error';
END \$\$;
SQL
compare() {
    psql -X -q -At -d "$DB" -c "SET standard_conforming_strings = $1" -c "SET client_min_messages = error" \
        -c "CREATE TABLE result_$1 AS SELECT id, sql, cli, server_hash(sql) AS server FROM cases WHERE setting = '$1'"
    psql -X -q -At -d "$DB" -c "SELECT format('%s texts: %s read by both as SQL, same hash: %s; refused by both: %s; refused by the server only (syntax newer than PostgreSQL %s): %s',
        count(*), count(*) FILTER (WHERE server <> 'error'), count(*) FILTER (WHERE server <> 'error' AND cli = server),
        count(*) FILTER (WHERE server = 'error' AND cli = 'error'), current_setting('server_version_num')::int / 10000,
        count(*) FILTER (WHERE server = 'error' AND cli <> 'error')) FROM result_$1"
}
for setting in on off; do
    echo "  standard_conforming_strings = $setting: $(compare $setting)"
done
# A text the server runs must hash alike in both (or be refused by the server: it never runs).
disagree="(SELECT * FROM result_on UNION ALL SELECT * FROM result_off) r WHERE server <> 'error' AND cli IS DISTINCT FROM server"
disagreements=$(psql -X -q -At -d "$DB" -c "SELECT count(*) FROM $disagree")
psql -X -q -At -d "$DB" -c "SELECT format('  DISAGREE id %s: cli %s, server %s: %L', id, cli, server, left(sql, 200)) FROM $disagree ORDER BY id LIMIT 20"
psql -X -q -d postgres -c "DROP DATABASE $DB"
check "every text the server reads hashes alike in the CLI" "$disagreements" 0
