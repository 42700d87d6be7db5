#!/usr/bin/env bash
# The upgrade paths: install every released version (0.1.0 from its script, later ones through
# the released update scripts, as PostgreSQL does: sql/releases/), record approvals,
# exemptions, allowed and denied DDL, run ALTER EXTENSION fence UPDATE, and check that the
# schema equals a fresh install of the current version and that the chain still verifies
# (and goes on). Uses the server in PGHOST/PGPORT (scripts/test.sh), or starts its own.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

# Every released version: the first release's, and each released update script's target.
RELEASES=$(ls sql/releases | sed -n 's/^fence--\([0-9.]*\)\.sql$/\1/p; s/^fence--[0-9.]*--\([0-9.]*\)\.sql$/\1/p' | sort -V)
CURRENT=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
OLD=fence_upgrade_old
NEW=fence_upgrade_new
suite_server upgrade 54334
ROLES="upg_ci, upg_approver, upg_admin"
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }

# Everything that makes up fence's schema, one line per fact, independent of OIDs.
fingerprint() {
    psql -X -q -At -v ON_ERROR_STOP=1 -d "$1" <<'SQL'
SELECT 'rel ' || c.relname || ' ' || c.relkind::text || ' ' || coalesce(c.relacl::text, '') || ' ' || coalesce(obj_description(c.oid, 'pg_class'), '')
FROM pg_class c WHERE c.relnamespace = 'fence'::regnamespace
UNION ALL
SELECT 'col ' || a.attrelid::regclass || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || ' ' || a.attnotnull
       || ' ' || coalesce(pg_get_expr(d.adbin, d.adrelid), '') || ' ' || a.attidentity::text
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE c.relnamespace = 'fence'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT 'index ' || pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
WHERE c.relnamespace = 'fence'::regnamespace
UNION ALL
SELECT 'constraint ' || conrelid::regclass || ' ' || pg_get_constraintdef(oid) FROM pg_constraint
WHERE connamespace = 'fence'::regnamespace
UNION ALL
SELECT 'view ' || c.relname || ' ' || pg_get_viewdef(c.oid) FROM pg_class c
WHERE c.relnamespace = 'fence'::regnamespace AND c.relkind = 'v'
UNION ALL
SELECT 'function ' || p.oid::regprocedure || ' ' || coalesce(p.proacl::text, '') || ' ' || coalesce(obj_description(p.oid, 'pg_proc'), '')
       || ' ' || md5(pg_get_functiondef(p.oid))
FROM pg_proc p WHERE p.pronamespace = 'fence'::regnamespace
UNION ALL
SELECT 'trigger ' || tgrelid::regclass || ' ' || pg_get_triggerdef(oid) FROM pg_trigger
WHERE NOT tgisinternal AND tgrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'fence'::regnamespace)
UNION ALL
SELECT 'event trigger ' || evtname || ' ' || evtevent || ' ' || evtfoid::regproc || ' ' || evtenabled::text FROM pg_event_trigger
UNION ALL
SELECT 'config ' || t.relname || ' ' || coalesce(e.extcondition[t.n], '')
FROM pg_extension e, LATERAL (SELECT c::regclass::text AS relname, n FROM unnest(e.extconfig) WITH ORDINALITY AS u(c, n)) t
WHERE e.extname = 'fence'
UNION ALL
SELECT 'member ' || pg_describe_object(classid, objid, objsubid) FROM pg_depend
WHERE refclassid = 'pg_extension'::regclass AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'fence') AND deptype = 'e'
ORDER BY 1;
SQL
}
upgrade_from() {
    local PREVIOUS=$1
    say "upgrade: fence $PREVIOUS -> $CURRENT"
    psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $OLD" \
        -c "DROP DATABASE IF EXISTS $NEW" -c "DROP ROLE IF EXISTS $ROLES" -c "CREATE DATABASE $OLD" -c "CREATE DATABASE $NEW"
    psql -X -q -v ON_ERROR_STOP=1 -d "$OLD" >/dev/null 2>&1 <<SQL
CREATE EXTENSION fence VERSION '$PREVIOUS';
CREATE ROLE upg_ci LOGIN;
CREATE ROLE upg_approver LOGIN IN ROLE fence_approver;
CREATE ROLE upg_admin LOGIN IN ROLE fence_admin;
GRANT CREATE ON SCHEMA public TO upg_ci;
SET SESSION AUTHORIZATION upg_ci;
CREATE TABLE accounts (id bigint PRIMARY KEY, email text);
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION upg_approver;
SELECT fence.approve('ALTER TABLE accounts ALTER COLUMN email SET NOT NULL');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION upg_admin;
SELECT fence.exempt('relation', 'public.accounts', 'before the upgrade', now() + interval '1 hour');
RESET SESSION AUTHORIZATION;
SQL
    psql -X -q -U upg_ci -d "$OLD" -c "ALTER TABLE accounts DROP COLUMN email" >/dev/null 2>&1 || true
    check "installed $PREVIOUS" "$(q "$OLD" "SELECT extversion FROM pg_extension WHERE extname = 'fence'")" "$PREVIOUS"
    before=$(q "$OLD" "SELECT count(*) || '/' || max(event_hash) FROM fence.audit_chain")
    q "$OLD" "ALTER EXTENSION fence UPDATE" >/dev/null
    check "updated to $CURRENT" "$(q "$OLD" "SELECT extversion FROM pg_extension WHERE extname = 'fence'")" "$CURRENT"
    q "$NEW" "CREATE EXTENSION fence" >/dev/null

    fingerprint "$OLD" > "$WORK/upgraded.txt"
    fingerprint "$NEW" > "$WORK/fresh.txt"
    if ! diff -u "$WORK/fresh.txt" "$WORK/upgraded.txt" > "$WORK/schema.diff"; then
        head -n 40 "$WORK/schema.diff"
    fi
    [ "$(wc -l < "$WORK/fresh.txt")" -gt 100 ] || { echo "schema fingerprint too small"; exit 1; }
    check "the upgraded schema equals a fresh install ($(wc -l < "$WORK/fresh.txt") facts)" "$(wc -l < "$WORK/schema.diff")" 0
    check "the chain kept every event" "$(q "$OLD" "SELECT count(*) || '/' || max(event_hash) FROM fence.audit_chain WHERE seq <= $(echo "$before" | cut -d/ -f1)")" "$before"
    check "the chain verifies after the update" "$(q "$OLD" "SELECT ok FROM fence.verify_chain()")" t
    check "the approval made under $PREVIOUS is pending" "$(q "$OLD" "SELECT approvals FROM fence.pending_approvals")" 1
    check "the exemption made under $PREVIOUS is live" "$(q "$OLD" "SELECT count(*) FROM fence.live_exemptions")" 1
    psql -X -q -U upg_ci -d "$OLD" -c "CREATE TABLE after_update (id int)" >/dev/null
    check "the chain goes on and verifies" "$(q "$OLD" "SELECT ok FROM fence.verify_chain()")" t
    psql -X -q -d postgres -c "DROP DATABASE $OLD" -c "DROP DATABASE $NEW" -c "DROP ROLE $ROLES"
}

[ "$(echo "$RELEASES" | wc -w)" -ge 3 ] || { echo "found no released versions in sql/releases"; exit 1; }
for release in $RELEASES; do
    upgrade_from "$release"
done
say "upgrade: all checks passed"
