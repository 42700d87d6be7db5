#!/usr/bin/env bash
# The command line as a CI job uses it, against real parts:
# - `fence analyze --db` on a server with fence: the server's analysis (its catalog: a
#   binary-coercible type change, real sizes), marked server-analyzed, inline ignores and
#   fence.toml applied, nothing run (the table and the chain unchanged); a database without
#   fence falls back to the offline analysis and says so; the server's syntax error is the
#   command's (exit 2);
# - SARIF output valid against the SARIF 2.1.0 schema (the one @microsoft/jest-sarif ships,
#   from the npm registry, its sha256 checked) with Python's jsonschema (from PyPI, pinned);
# - GitLab code-quality output with the fields GitLab reads.
# Uses the server in PGHOST/PGPORT (scripts/test.sh), or starts its own.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

SARIF_PACKAGE="@microsoft/jest-sarif 1.0.0-beta.0"
SARIF_TARBALL=https://registry.npmjs.org/@microsoft/jest-sarif/-/jest-sarif-1.0.0-beta.0.tgz
SARIF_SCHEMA_SHA256=2d99159ae54a3eea97f81781cff48780548657c35949f4b7f25e99a2ba4de4f8
JSONSCHEMA="jsonschema==4.23.0"

suite_server cli 54336
unset PGDATABASE
say "the command line: --db on a real server, SARIF against its schema, GitLab code quality"
cargo build -q -p fence-cli
FENCE="$ROOT/target/debug/fence"
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }

q postgres "DROP DATABASE IF EXISTS fence_cli" && q postgres "CREATE DATABASE fence_cli"
q postgres "DROP DATABASE IF EXISTS fence_cli_plain" && q postgres "CREATE DATABASE fence_cli_plain"
q fence_cli "CREATE EXTENSION fence"
q fence_cli "CREATE TABLE accounts (id bigint PRIMARY KEY, name varchar(20), note text);
             INSERT INTO accounts SELECT g, 'n' || g, 'x' FROM generate_series(1, 200000) g; ANALYZE accounts"
CONNINFO="host=${PGHOST:-/tmp} port=${PGPORT} dbname=fence_cli user=${PGUSER:-postgres}"

cat > "$WORK/V1__widen.sql" <<'SQL'
-- varchar(20) to varchar(40) keeps every stored value: the server knows, offline cannot.
ALTER TABLE accounts ALTER COLUMN name TYPE varchar(40);
-- fence:ignore create_index the index is built in the maintenance window
CREATE INDEX accounts_note ON accounts (note);
ALTER TABLE accounts ADD COLUMN flag boolean;
SQL
events() { q fence_cli "SELECT count(*) FROM fence.audit_chain"; }
before_events=$(events)
before_def=$(q fence_cli "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'accounts'::regclass AND attname = 'name'")

offline=$("$FENCE" analyze --format json "$WORK/V1__widen.sql")
live=$("$FENCE" analyze --db "$CONNINFO" --format json "$WORK/V1__widen.sql")
field() { python3 -c "import json,sys; rows=json.loads(sys.argv[1]); print($2)" "$1"; }
check "offline: the type change is a rewrite (no catalog)" "$(field "$offline" 'rows[0]["rewrites"]')" True
check "--db: the server's catalog knows varchar(20) -> varchar(40) rewrites nothing" "$(field "$live" 'rows[0]["rewrites"]')" False
check "--db: lines come from the file" "$(field "$live" '[r["line"] for r in rows]')" "[2, 4, 5]"
check "--db: the inline ignore applies, with its reason" \
    "$(field "$live" '[(i["rule"], i["reason"]) for i in rows[1]["ignored"]]')" \
    "[('create_index', 'the index is built in the maintenance window')]"
check "--db: the server's statement hashes are the CLI's" "$(field "$live" '[r["statement_hash"] for r in rows]')" "$(field "$offline" '[r["statement_hash"] for r in rows]')"
text=$("$FENCE" analyze --db "$CONNINFO" "$WORK/V1__widen.sql")
case "$text" in *"server-analyzed by fence.analyze()"*) check "--db: the text report says the server analyzed it" yes yes ;;
    *) check "--db: the text report says the server analyzed it" "$text" "server-analyzed" ;; esac
check "--db ran nothing: the column is unchanged" \
    "$(q fence_cli "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'accounts'::regclass AND attname = 'name'")" "$before_def"
check "--db ran nothing: no index, no column" \
    "$(q fence_cli "SELECT count(*) FROM pg_class WHERE relname = 'accounts_note'")/$(q fence_cli "SELECT count(*) FROM pg_attribute WHERE attrelid = 'accounts'::regclass AND attname = 'flag'")" "0/0"
check "--db ran nothing: the chain has no new event" "$(events)" "$before_events"

# fence.toml beside the files: excluded rules and the risk threshold apply to the server's analysis.
mkdir -p "$WORK/repo/db"
cp "$WORK/V1__widen.sql" "$WORK/repo/db/"
printf 'max_risk = "none"\nexclude_rules = ["alter_column_type"]\n' > "$WORK/repo/fence.toml"
status=0
(cd "$WORK/repo/db" && "$FENCE" analyze --db "$CONNINFO" --format json V1__widen.sql > "$WORK/toml.json") || status=$?
check "--db with fence.toml: its max_risk decides the exit status" "$status" 1
check "--db with fence.toml: excluded rules are left out" \
    "$(field "$(cat "$WORK/toml.json")" 'sorted({f["rule"] for r in rows for f in r["findings"]})')" "['access_exclusive_lock']"

# A database without fence: said, and the offline analysis instead.
plain=$("$FENCE" analyze --db "host=${PGHOST:-/tmp} port=${PGPORT} dbname=fence_cli_plain user=${PGUSER:-postgres}" --format json "$WORK/V1__widen.sql" 2>"$WORK/plain.err")
check "a database without fence: the offline analysis" "$(field "$plain" 'rows[0]["rewrites"]')" True
case "$(cat "$WORK/plain.err")" in *"has no fence extension"*) check "a database without fence: said on stderr" yes yes ;;
    *) check "a database without fence: said on stderr" "$(cat "$WORK/plain.err")" "has no fence extension" ;; esac

# The server's syntax error is the command's: exit 2, with the server's message.
printf 'ALTER TABLE accounts ADD COLUMN;\n' > "$WORK/broken.sql"
status=0
"$FENCE" analyze --db "$CONNINFO" "$WORK/broken.sql" > /dev/null 2> "$WORK/broken.err" || status=$?
check "--db: a syntax error exits 2" "$status" 2
case "$(cat "$WORK/broken.err")" in *"syntax error"*) check "--db: the server's syntax error is shown" yes yes ;;
    *) check "--db: the server's syntax error is shown" "$(cat "$WORK/broken.err")" "syntax error" ;; esac

# SARIF 2.1.0: validated against the schema, offline and server-analyzed output alike.
CACHE="$ROOT/target/cli-check"
mkdir -p "$CACHE"
SCHEMA="$CACHE/sarif-2.1.0-rtm.5.json"
if [ ! -f "$SCHEMA" ] || [ "$(sha256sum < "$SCHEMA" | cut -d' ' -f1)" != "$SARIF_SCHEMA_SHA256" ]; then
    python3 -c "import sys, urllib.request; urllib.request.urlretrieve(sys.argv[1], sys.argv[2])" "$SARIF_TARBALL" "$WORK/jest-sarif.tgz"
    tar xzf "$WORK/jest-sarif.tgz" -C "$WORK" package/lib/schemas/sarif-2.1.0-rtm.5.json
    cp "$WORK/package/lib/schemas/sarif-2.1.0-rtm.5.json" "$SCHEMA"
fi
check "the SARIF 2.1.0 schema from $SARIF_PACKAGE (sha256)" "$(sha256sum < "$SCHEMA" | cut -d' ' -f1)" "$SARIF_SCHEMA_SHA256"
if [ ! -x "$CACHE/venv/bin/python" ] || ! "$CACHE/venv/bin/python" -c "import jsonschema" 2>/dev/null; then
    python3 -m venv "$CACHE/venv"
    "$CACHE/venv/bin/pip" install -q --disable-pip-version-check "$JSONSCHEMA"
fi
cat > "$WORK/mixed.sql" <<'SQL'
CREATE INDEX accounts_name ON accounts (name);
ALTER TABLE accounts ADD COLUMN c int; -- fence:ignore access_exclusive_lock short, lock_timeout is set
MERGE INTO accounts a USING accounts b ON a.id = b.id WHEN MATCHED THEN DELETE RETURNING a.id;
SQL
validate() {
    "$CACHE/venv/bin/python" - "$SCHEMA" "$1" <<'PY'
import json, sys
import jsonschema
schema = json.load(open(sys.argv[1]))
log = json.load(open(sys.argv[2]))
errors = sorted(jsonschema.Draft4Validator(schema).iter_errors(log), key=str)
for e in errors[:5]:
    print(f"  {list(e.absolute_path)}: {e.message}")
results = log["runs"][0]["results"]
print(f"valid {len(errors) == 0} results {len(results)} suppressed {sum(1 for r in results if r.get('suppressions'))}")
PY
}
"$FENCE" analyze --format sarif "$WORK/mixed.sql" > "$WORK/offline.sarif" || true
check "SARIF (offline, with a suppressed finding and a newer-syntax error) is valid SARIF 2.1.0" \
    "$(validate "$WORK/offline.sarif" | tail -n 1)" "valid True results 3 suppressed 1"
"$FENCE" analyze --db "$CONNINFO" --format sarif "$WORK/V1__widen.sql" > "$WORK/live.sarif" || true
check "SARIF (server-analyzed) is valid SARIF 2.1.0" "$(validate "$WORK/live.sarif" | tail -n 1 | cut -d' ' -f1-2)" "valid True"

# GitLab code quality: every issue has what GitLab reads, severities from its list, stable
# fingerprints.
"$FENCE" analyze --format gitlab "$WORK/mixed.sql" > "$WORK/gl.json" || true
check "GitLab code quality: the fields GitLab reads" "$(python3 - "$WORK/gl.json" <<'PY'
import json, sys
issues = json.load(open(sys.argv[1]))
ok = all(isinstance(i["description"], str) and i["check_name"] and len(i["fingerprint"]) == 64
         and i["severity"] in ("info", "minor", "major", "critical", "blocker")
         and i["location"]["path"] and i["location"]["lines"]["begin"] >= 1 for i in issues)
print(ok, len(issues), len({i["fingerprint"] for i in issues}), sorted({i["check_name"] for i in issues}))
PY
)" "True 2 2 ['create_index', 'pg_version']"
