#!/usr/bin/env bash
# fence beside the tools people already run, on a server of its own with
# shared_preload_libraries = 'pgaudit, fence':
#   - pgAudit and fence both work (coexistence, both hooks chained);
#   - sqitch, Alembic and node-pg-migrate each run a migration that fence refuses without
#     approval (the tool reports the error and stops cleanly), then applies it once the
#     content hash of the SQL the tool sends is approved and passed with
#     PGOPTIONS='-c fence.approval=...'; the chain shows the tool's application_name.
# Tool installs (Debian packages, a Python venv, npm) are made by ensure_deps / below.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

WORK=$(mktemp -d)
cleanup() {
    rm -rf "$WORK"
    stop_server
}
ensure_deps
trap cleanup EXIT
if [ -n "${PGPORT:-}" ]; then unset PGPORT PGHOST SERVER_DIR; fi
start_server tools 54335 "shared_preload_libraries = 'pgaudit, fence'
pgaudit.log = 'ddl'"
cargo build -q -p fence-cli
FENCE_CLI="$ROOT/target/debug/fence"

q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }
fresh_db() { # fresh_db NAME: a database with fence, a users table owned by tools_ci, roles
    psql -X -q -d postgres -c "CREATE DATABASE $1" -c "GRANT CREATE ON DATABASE $1 TO tools_ci"
    psql -X -q -v ON_ERROR_STOP=1 -d "$1" >/dev/null <<'SQL'
CREATE EXTENSION fence;
GRANT CREATE ON SCHEMA public TO tools_ci;
SET SESSION AUTHORIZATION tools_ci;
CREATE TABLE users (id bigint PRIMARY KEY, email text);
INSERT INTO users SELECT g, 'u' || g || '@example.com' FROM generate_series(1, 100) g;
RESET SESSION AUTHORIZATION;
SQL
}
approve_file() { # approve_file DB FILE: approves the file's content as tools_approver, prints the hash
    psql -X -q -At -v ON_ERROR_STOP=1 -U tools_approver -d "$1" <<SQL
\\set migration \`cat $2\`
SELECT fence.approve(:'migration', source => 'github', repository => 'acme/app', pull_request => '7');
SQL
}
chain_apps() { # the application_name of the tool's decisions
    q "$1" "SELECT string_agg(DISTINCT details -> 'session' ->> 'application_name', ',') FROM fence.audit_chain
            WHERE kind = 'ddl' AND statement ILIKE '%email%SET NOT NULL%' AND decision = '$2'"
}
email_not_null() { q "$1" "SELECT attnotnull FROM pg_attribute WHERE attrelid = 'users'::regclass AND attname = 'email'"; }

psql -X -q -d postgres -c "CREATE ROLE tools_ci LOGIN"

say "coexistence: pgAudit and fence preloaded together"
fresh_db coexist
psql -X -q -d postgres -c "CREATE ROLE tools_approver LOGIN IN ROLE fence_approver"
log_mark=$(wc -l < "$SERVER_DIR/server.log")
psql -X -q -U tools_ci -d coexist -c "ALTER TABLE users ALTER COLUMN email SET NOT NULL" >/dev/null 2>&1 || true
psql -X -q -U tools_ci -d coexist -c "ALTER TABLE users ADD COLUMN note text" >/dev/null 2>&1
new_log() { tail -n +"$((log_mark + 1))" "$SERVER_DIR/server.log"; }
check "pgAudit logged the allowed DDL" "$(new_log | grep -c 'AUDIT: SESSION,.*ALTER TABLE,,,ALTER TABLE users ADD COLUMN note text')" 1
check "fence refused the risky DDL and logged it" "$(new_log | grep -c 'FENCE: decision=deny')" 1
check "fence logged the allowed DDL" "$(new_log | grep -c 'FENCE: decision=allow')" 1
check "preloaded: TRUNCATE is gated" "$(psql -X -q -U tools_ci -d coexist -c 'TRUNCATE users' 2>&1 | grep -c 'fence: blocked TRUNCATE')" 1
check "the chain verifies" "$(q coexist "SELECT ok FROM fence.verify_chain()")" t

say "sqitch"
fresh_db sqitch_app
(
    cd "$WORK" && mkdir sqitch && cd sqitch
    sqitch init app --engine pg >/dev/null
    sqitch config --user user.name 'CI' && sqitch config --user user.email 'ci@example.com'
    sqitch add email_required -n 'emails become mandatory' >/dev/null
    printf 'BEGIN;\nALTER TABLE users ALTER COLUMN email SET NOT NULL;\nCOMMIT;\n' > deploy/email_required.sql
    printf 'BEGIN;\nALTER TABLE users ALTER COLUMN email DROP NOT NULL;\nCOMMIT;\n' > revert/email_required.sql
    printf 'SELECT 1/(attnotnull::int) FROM pg_attribute WHERE attrelid = %s AND attname = %s;\n' "'users'::regclass" "'email'" > verify/email_required.sql
)
target="db:pg://tools_ci@/sqitch_app"
if (cd "$WORK/sqitch" && PGAPPNAME=sqitch sqitch deploy "$target" > "$WORK/sqitch1.out" 2>&1); then status=0; else status=$?; fi
grep -E 'fence: blocked|Deploying|not ok' "$WORK/sqitch1.out" | sed 's/^/        /' | head -n 4 || true
check "sqitch stops cleanly on fence's refusal (exit non-zero)" "$([ "$status" -ne 0 ] && echo stopped)" stopped
check "the refusal reached sqitch's output" "$(grep -q 'fence: blocked ALTER TABLE' "$WORK/sqitch1.out" && echo yes)" yes
check "nothing was applied" "$(email_not_null sqitch_app)" f
hash=$(approve_file sqitch_app "$WORK/sqitch/deploy/email_required.sql")
check "the CLI hashes the deploy script as fence does" "$("$FENCE_CLI" hash "$WORK/sqitch/deploy/email_required.sql" | cut -d' ' -f1)" "$hash"
(cd "$WORK/sqitch" && PGAPPNAME=sqitch PGOPTIONS="-c fence.approval=$hash" sqitch deploy "$target" > "$WORK/sqitch2.out" 2>&1)
check "approved: sqitch deploys it" "$(email_not_null sqitch_app)" t
check "the chain shows sqitch's application_name (denied, then approved)" \
    "$(chain_apps sqitch_app deny)/$(chain_apps sqitch_app allow)" "sqitch/sqitch"

say "Alembic"
fresh_db alembic_app
python3 -m venv "$WORK/venv"
"$WORK/venv/bin/pip" install -q alembic psycopg2-binary
(
    mkdir "$WORK/alembic_proj" && cd "$WORK/alembic_proj"
    "$WORK/venv/bin/alembic" init alembic >/dev/null
    sed -i "s|^sqlalchemy.url = .*|sqlalchemy.url = postgresql+psycopg2://tools_ci@/alembic_app?host=$PGHOST\&port=$PGPORT\&application_name=alembic|" alembic.ini
    "$WORK/venv/bin/alembic" revision -m "emails become mandatory" --rev-id 0001 >/dev/null
    cat > alembic/versions/0001_emails_become_mandatory.py <<'PY'
"""emails become mandatory"""
from alembic import op

revision = "0001"
down_revision = None


def upgrade():
    op.alter_column("users", "email", nullable=False)


def downgrade():
    op.alter_column("users", "email", nullable=True)
PY
)
alembic() { (cd "$WORK/alembic_proj" && "$WORK/venv/bin/alembic" "$@"); }
if alembic upgrade head > "$WORK/alembic1.out" 2>&1; then status=0; else status=$?; fi
check "Alembic stops cleanly on fence's refusal (exit non-zero)" "$([ "$status" -ne 0 ] && echo stopped)" stopped
check "the refusal reached Alembic's output" "$(grep -q 'fence: blocked ALTER TABLE' "$WORK/alembic1.out" && echo yes)" yes
check "nothing was applied" "$(email_not_null alembic_app)" f
alembic upgrade head --sql > "$WORK/alembic.sql" 2>/dev/null
hash=$(approve_file alembic_app "$WORK/alembic.sql")
PGOPTIONS="-c fence.approval=$hash" alembic upgrade head > "$WORK/alembic2.out" 2>&1
check "approved (the SQL of 'alembic upgrade head --sql'): Alembic applies it" "$(email_not_null alembic_app)" t
check "the chain shows Alembic's application_name" "$(chain_apps alembic_app deny)/$(chain_apps alembic_app allow)" "alembic/alembic"

say "node-pg-migrate"
fresh_db npm_app
mkdir -p "$WORK/npm/migrations"
(cd "$WORK/npm" && npm init -y >/dev/null && npm install --silent --no-audit --no-fund node-pg-migrate@7 pg@8 >/dev/null 2>&1)
cat > "$WORK/npm/migrations/1700000000000_emails-become-mandatory.js" <<'JS'
exports.up = (pgm) => {
  pgm.alterColumn('users', 'email', { notNull: true });
};
exports.down = (pgm) => {
  pgm.alterColumn('users', 'email', { notNull: false });
};
JS
npm_migrate() {
    (cd "$WORK/npm" && DATABASE_URL="postgres://tools_ci@localhost/npm_app?host=$PGHOST&port=$PGPORT" \
        PGAPPNAME=node-pg-migrate npx node-pg-migrate "$@")
}
if npm_migrate up > "$WORK/npm1.out" 2>&1; then status=0; else status=$?; fi
check "node-pg-migrate stops cleanly on fence's refusal (exit non-zero)" "$([ "$status" -ne 0 ] && echo stopped)" stopped
check "the refusal reached node-pg-migrate's output" "$(grep -q 'fence: blocked ALTER TABLE' "$WORK/npm1.out" && echo yes)" yes
check "nothing was applied" "$(email_not_null npm_app)" f
# The migration's SQL as --dry-run prints it: between its "### MIGRATION" header and the
# tool's own bookkeeping INSERT.
npm_migrate up --dry-run 2>/dev/null | sed -n '/^### MIGRATION/,/^INSERT INTO/p' | sed '1d;$d' > "$WORK/npm.sql"
sed 's/^/        /' "$WORK/npm.sql"
hash=$(approve_file npm_app "$WORK/npm.sql")
PGOPTIONS="-c fence.approval=$hash" npm_migrate up > "$WORK/npm2.out" 2>&1
check "approved (the SQL of its --dry-run): node-pg-migrate applies it" "$(email_not_null npm_app)" t
check "the chain shows node-pg-migrate's application_name" "$(chain_apps npm_app deny)/$(chain_apps npm_app allow)" \
    "node-pg-migrate/node-pg-migrate"

say "tools: all checks passed"
