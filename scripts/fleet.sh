#!/usr/bin/env bash
# The fleet on three clusters of one machine: cluster A holds the control database and the
# evidence database, clusters B and C one target each (tenant_b, tenant_c). Checks that one
# approval on the control lets the same migration run on both targets, a revocation stops it,
# an exemption scoped to one target works only there, a policy change applies on both (and a
# target's own set_policy is refused), a target keeps gating while the others are down and
# catches up (grants and evidence), a target's chain cut by its superuser is caught against
# the central copy, a forged event reaches the evidence database and fails there, row changes
# travel with their seals and verify centrally, a target
# refuses a control database whose publication lists fence's own tables, and the evidence
# database refuses a target's rows of another database's chain.
# Prints the approval propagation delay. Starts its own servers (the installed extension).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

CONF="shared_preload_libraries = 'fence'
wal_level = logical
max_replication_slots = 16
max_wal_senders = 16
max_logical_replication_workers = 8
wal_retrieve_retry_interval = '500ms'"
WORK_ERR=$(mktemp)
declare -A DIR PORT=([a]=54381 [b]=54382 [c]=54383)
for c in a b c; do
    unset SERVER_DIR
    start_server "fleet-$c" "${PORT[$c]}" "$CONF"
    DIR[$c]=$SERVER_DIR
done
stop_all() { for c in a b c; do SERVER_DIR=${DIR[$c]} stop_server || true; done; rm -f "$WORK_ERR"; }
trap stop_all EXIT
start() { runuser -u postgres -- "$("$PG_CONFIG" --bindir)/pg_ctl" -D "${DIR[$1]}/data" -l "${DIR[$1]}/server.log" -w start >/dev/null; }
stop() { SERVER_DIR=${DIR[$1]} stop_server; }

# q CLUSTER DB SQL [ROLE]: one value; qe: the error of a statement that must fail.
q() { psql -X -q -At -v ON_ERROR_STOP=1 -h "${DIR[$1]}" -p "${PORT[$1]}" -U "${4:-postgres}" -d "$2" -c "$3"; }
qe() { psql -X -q -At -v ON_ERROR_STOP=1 -h "${DIR[$1]}" -p "${PORT[$1]}" -U "${4:-postgres}" -d "$2" -c "$3" 2>&1 >/dev/null && echo "(no error)" || true; }
conninfo() { echo "host=${DIR[$1]} port=${PORT[$1]} dbname=$2 user=postgres"; }
# wait_for CLUSTER DB SQL EXPECTED: until the query returns EXPECTED (60 s at most).
wait_for() {
    local got
    for _ in $(seq 600); do
        got=$(q "$1" "$2" "$3" 2>/dev/null || true)
        [ "$got" = "$4" ] && return 0
        sleep 0.1
    done
    echo "  FAIL  waited 60 s on $1/$2 for: $3 (got '$got', expected '$4')"
    exit 1
}
# migrate CLUSTER DB SQL [APPROVAL]: runs a migration as the CI role; prints ok or the error.
migrate() {
    PGOPTIONS="${4:+-c fence.approval=$4}" psql -X -q -At -v ON_ERROR_STOP=1 -h "${DIR[$1]}" -p "${PORT[$1]}" -U fleet_ci -d "$2" \
        -c "$3" >/dev/null 2>"$WORK_ERR" && echo ok || sed -n 1p "$WORK_ERR"
}

say "fleet: control and evidence databases (cluster A), targets tenant_b (B) and tenant_c (C)"
for db in control evidence; do q a postgres "CREATE DATABASE $db"; q a "$db" "CREATE EXTENSION fence"; done
q a control "CREATE ROLE fleet_lead LOGIN IN ROLE fence_approver; CREATE ROLE fleet_admin LOGIN IN ROLE fence_admin"
for c in b c; do
    db=tenant_$c
    q "$c" postgres "CREATE DATABASE $db"
    q "$c" "$db" "CREATE EXTENSION fence"
    q "$c" "$db" "CREATE ROLE fleet_ci LOGIN; GRANT CREATE ON SCHEMA public TO fleet_ci"
    q "$c" "$db" "CREATE TABLE accounts (id int, email text); INSERT INTO accounts SELECT g, 'u' || g FROM generate_series(1, 1000) g" fleet_ci
done
check "each database has its own identity" "$(q b tenant_b "SELECT fence.database_id() <> '$(q c tenant_c "SELECT fence.database_id()")'")" t
check "the serving database publishes the grants" "$(q a control "SELECT fence.serve_fleet()")" fence_fleet
for c in b c; do
    check "tenant_$c joins the fleet" "$(q "$c" "tenant_$c" "SELECT fence.join_fleet('$(conninfo a control)')")" fence_fleet
    check "tenant_$c publishes its evidence" "$(q "$c" "tenant_$c" "SELECT fence.publish_evidence()")" fence_evidence
    q a evidence "SELECT fence.collect_evidence('$(conninfo "$c" "tenant_$c")')" >/dev/null
done
for c in b c; do
    wait_for "$c" "tenant_$c" "SELECT count(*) FROM fence.policy_versions WHERE origin IS NOT NULL" 1
done
check "the control database's policy is in force on a target" \
    "$(q b tenant_b "SELECT origin = (SELECT origin FROM fence.fleet_policies LIMIT 1) FROM fence.policy_versions ORDER BY version DESC LIMIT 1")" t
check "a target's own set_policy is refused" \
    "$(qe b tenant_b "SELECT fence.set_policy('{\"mode\": \"off\"}')" | sed -n 1p)" "ERROR:  fence: this database follows the fleet's policy: it is set on the control database"

say "fleet: one approval, both targets"
M1="CREATE INDEX accounts_email_idx ON accounts (email);"
HASH=$(q a control "SELECT fence.content_hash('$M1')")
check "unapproved, the migration is refused on tenant_b" "$(migrate b tenant_b "$M1" | grep -c 'fence: ')" 1
START=$(date +%s%N)
q a control "SELECT fence.approve('$M1', repository => 'acme/app', pull_request => '7')" fleet_lead >/dev/null
for c in b c; do
    wait_for "$c" "tenant_$c" "SELECT count(*) FROM fence.approvals WHERE content_hash = '$HASH' AND origin IS NOT NULL" 1
done
DELAY_MS=$((($(date +%s%N) - START) / 1000000))
echo "  figure: approval propagation to both targets: $DELAY_MS ms (approve committed on the control → visible on both)"
check "approved on the control, it runs on tenant_b" "$(migrate b tenant_b "$M1" "$HASH")" ok
check "the approval arrived as an event of tenant_b's chain (the control's approver)" \
    "$(q b tenant_b "SELECT details ->> 'approved_by' FROM fence.audit_chain WHERE kind = 'approval' AND content_hash = '$HASH'")" fleet_lead
check "a target cannot revoke the control's approval" \
    "$(qe b tenant_b "SELECT fence.revoke_approval('$HASH', 'local')" | sed -n 1p)" \
    "ERROR:  fence: postgres has no active approval of $HASH"
q a control "SELECT fence.revoke_approval('$HASH', 'withdrawn')" fleet_lead >/dev/null
wait_for c tenant_c "SELECT count(*) FROM fence.approvals WHERE content_hash = '$HASH' AND revoked_at IS NOT NULL" 1
check "revoked on the control, it is refused on tenant_c" "$(migrate c tenant_c "$M1" "$HASH" | grep -c 'fence: ')" 1

say "fleet: an exemption scoped to one target; a policy change on both"
M2="CREATE INDEX accounts_id_idx ON accounts (id);"
# A table of the targets only: the control keeps its name, each target binds it to its table.
q a control "SELECT fence.exempt('relation', 'public.accounts', 'hotfix on tenant_b only', now() + interval '1 hour', databases => ARRAY['tenant_b'])" fleet_admin >/dev/null
wait_for b tenant_b "SELECT count(*) FROM fence.exemptions WHERE origin IS NOT NULL AND relid = 'accounts'::regclass" 1
# The control's next grant reaching tenant_c proves the exemption had its turn there.
q a control "SELECT fence.set_policy('{\"approval_threshold\": \"critical\"}', 'fleet-wide: only critical needs an approval')" fleet_admin >/dev/null
wait_for b tenant_b "SELECT count(*) FROM fence.policy_versions WHERE origin IS NOT NULL" 2
check "the exemption scoped to tenant_b is not kept on tenant_c" \
    "$(q c tenant_c "SELECT count(*) FROM fence.exemptions")" 0
check "exempted on tenant_b, the statement runs there" "$(migrate b tenant_b "$M2")" ok
wait_for c tenant_c "SELECT count(*) FROM fence.policy_versions WHERE origin IS NOT NULL" 2
check "the new fleet policy applies on tenant_c (medium risk no longer needs an approval)" "$(migrate c tenant_c "$M2")" ok
check "the fleet's second policy version is in force on both" \
    "$(q b tenant_b "SELECT document ->> 'approval_threshold' FROM fence.policy_versions ORDER BY version DESC LIMIT 1"),$(q c tenant_c "SELECT document ->> 'approval_threshold' FROM fence.policy_versions ORDER BY version DESC LIMIT 1")" critical,critical
for c in b c; do
    check "tenant_$c's chain verifies (grants received match their events)" "$(q "$c" "tenant_$c" "SELECT ok FROM fence.verify_chain()")" t
done

say "fleet: local first — control and evidence down, then back"
q a control "SELECT fence.set_policy('{}', 'back to the defaults')" fleet_admin >/dev/null
M3="CREATE INDEX accounts_email_lower_idx ON accounts (lower(email));"
HASH3=$(q a control "SELECT fence.approve('$M3')" fleet_lead)
wait_for b tenant_b "SELECT count(*) FROM fence.approvals WHERE content_hash = '$HASH3'" 1
wait_for c tenant_c "SELECT count(*) FROM fence.policy_versions WHERE origin IS NOT NULL" 3
stop a
check "cluster A down: tenant_b still runs its approved migration" "$(migrate b tenant_b "$M3" "$HASH3")" ok
check "cluster A down: tenant_c still refuses the unapproved one" "$(migrate c tenant_c "CREATE INDEX accounts_id2_idx ON accounts (id);" | grep -c 'fence: ')" 1
check "tenant_b reports its subscription not connected" \
    "$(q b tenant_b "SELECT active FROM fence.fleet_status() WHERE role = 'target'")" f
start a
for c in b c; do
    head=$(q "$c" "tenant_$c" "SELECT max(seq) || ':' || (SELECT head_hash FROM fence.verify_chain()) FROM fence.audit_chain")
    wait_for a evidence "SELECT checked || ':' || head_hash FROM fence.verify_fleet() WHERE database_name = 'tenant_$c'" "$head"
    check "tenant_$c's whole chain reached the evidence database and verifies there" \
        "$(q a evidence "SELECT ok FROM fence.verify_fleet() WHERE database_name = 'tenant_$c'")" t
done
stop c
HASH4=$(q a control "SELECT fence.approve('$M2')" fleet_lead)
start c
wait_for c tenant_c "SELECT count(*) FROM fence.approvals WHERE content_hash = '$HASH4'" 1
check "tenant_c, down while the control approved, caught up" "$(q c tenant_c "SELECT ok FROM fence.verify_chain()")" t
check "fleet_status on the control: one slot per target, both connected" \
    "$(q a control "SELECT count(*) FILTER (WHERE active) || '/' || count(*) FROM fence.fleet_status() WHERE role = 'control'")" 2/2

say "fleet: row changes travel with their seals"
q b tenant_b "CREATE TABLE ledger (id int PRIMARY KEY, amount int)" fleet_ci
q b tenant_b "SELECT fence.track_table('ledger')" >/dev/null
q b tenant_b "INSERT INTO ledger SELECT g, g * 10 FROM generate_series(1, 50) g" fleet_ci
q b tenant_b "SELECT fence.seal_changes()" >/dev/null
wait_for a evidence "SELECT ok || ',' || changes_checked FROM fence.verify_fleet() WHERE database_name = 'tenant_b'" "true,50"
check "tenant_b's 50 row changes verify centrally against its seals" \
    "$(q a evidence "SELECT count(*) FROM fence.fleet_row_changes WHERE database_id = '$(q b tenant_b "SELECT fence.database_id()")'")" 50

say "fleet: set-up again, on one server, by other roles"
# tenant_c drops its subscription and joins again: what it received is not received twice,
# and new grants arrive.
q c tenant_c "DROP SUBSCRIPTION fence_fleet"
check "tenant_c joins again" "$(q c tenant_c "SELECT fence.join_fleet('$(conninfo a control)')")" fence_fleet
wait_for c tenant_c "SELECT active FROM fence.fleet_status() WHERE role = 'target'" t
HASH5=$(q a control "SELECT fence.approve('CREATE INDEX accounts_email_id_idx ON accounts (email, id);')" fleet_lead)
wait_for c tenant_c "SELECT count(*) FROM fence.approvals WHERE content_hash = '$HASH5'" 1
check "joined again, nothing was received twice and the chain verifies" \
    "$(q c tenant_c "SELECT count(*) FILTER (WHERE origin IS NOT NULL) || ',' || count(DISTINCT (origin, origin_version)) FILTER (WHERE origin IS NOT NULL) FROM fence.policy_versions"),$(q c tenant_c "SELECT ok FROM fence.verify_chain()")" "3,3,t"
check "a set-up inside a transaction block is refused (its slot could not be rolled back)" \
    "$(qe b tenant_b "BEGIN; SELECT fence.collect_evidence('x'); COMMIT" | sed -n 1p)" \
    "ERROR:  fence: the fleet's set-up functions cannot run inside a transaction block"
check "the same target collected a second time (another connection string) is refused" \
    "$(qe a evidence "SELECT fence.collect_evidence('$(conninfo b tenant_b) application_name=again')" | sed -n 1p | sed 's/database [0-9a-f-]* /database <id> /')" \
    "ERROR:  fence: database <id> (tenant_b) is collected here already, by subscription $(q a evidence "SELECT subname FROM pg_subscription s JOIN fence.fleet_sources f ON f.subscription = s.oid WHERE f.database_name = 'tenant_b'"): tenant_b says it is that database"
check "two set-ups in one statement: the second is refused (its slot would wait for the first's writes)" \
    "$(qe b tenant_b "SELECT fence.publish_evidence(), fence.collect_evidence('$(conninfo a evidence)')" | sed -n 1p)" \
    "ERROR:  fence: the fleet's set-up functions cannot run inside a transaction block"
# A control database on the target's own server (its slot is made before anything is written).
q b postgres "CREATE DATABASE local_control"
q b local_control "CREATE EXTENSION fence"
q b local_control "SELECT fence.serve_fleet()" >/dev/null
q b postgres "CREATE DATABASE tenant_b2"
q b tenant_b2 "CREATE EXTENSION fence"
check "a target joins a control database on its own server" \
    "$(timeout 60 psql -X -q -At -h "${DIR[b]}" -p "${PORT[b]}" -U postgres -d tenant_b2 -c "SELECT fence.join_fleet('$(conninfo b local_control)')")" fence_fleet
wait_for b tenant_b2 "SELECT count(*) FROM fence.policy_versions WHERE origin IS NOT NULL" 1
check "any role reads its database's identity; a fence_admin reads the fleet's status" \
    "$(q b tenant_b "SELECT fence.database_id() IS NOT NULL" fleet_ci),$(q a control "SELECT count(*) > 0 FROM fence.fleet_status()" fleet_admin)" "t,t"

say "fleet: a target's superuser rewrites its chain"
# tenant_b cuts the tail of its chain (triggers off): its own chain still verifies ...
q b tenant_b "CREATE TABLE scratch_1 (id int)" fleet_ci
q b tenant_b "CREATE TABLE scratch_2 (id int)" fleet_ci
CENTRAL=$(q b tenant_b "SELECT max(seq) || ',' || (SELECT head_hash FROM fence.verify_chain()) FROM fence.audit_chain")
wait_for a evidence "SELECT checked || ',' || head_hash FROM fence.verify_fleet() WHERE database_name = 'tenant_b'" "$CENTRAL"
q b tenant_b "SET session_replication_role = replica; DELETE FROM fence.audit_chain WHERE seq > (SELECT max(seq) - 2 FROM fence.audit_chain)" 2>/dev/null
check "tenant_b's cut chain verifies on its own" "$(q b tenant_b "SELECT ok FROM fence.verify_chain()")" t
check "... but not against the evidence database's head" \
    "$(q b tenant_b "SELECT ok FROM fence.verify_chain(${CENTRAL%%,*}, '${CENTRAL#*,}')")" f
# ... and goes on from the cut: the rewritten event travels as a conflict.
wait_for a evidence "SELECT checked || ',' || head_hash || ',' || ok || ',' || first_bad_seq FROM fence.verify_fleet() WHERE database_name = 'tenant_b'" \
    "$CENTRAL,false,$((${CENTRAL%%,*} - 1))"
check "the evidence database kept tenant_b's whole chain, and names the rewritten event" \
    "$(q a evidence "SELECT reason FROM fence.verify_fleet() WHERE database_name = 'tenant_b'" | grep -c 'arrived again with another hash')" 1
# tenant_c's superuser forges an event: it travels, and fails centrally.
BAD=$(q c tenant_c "SET session_replication_role = replica; INSERT INTO fence.audit_chain SELECT seq + 1, recorded_at, kind, session_role, executing_role, txid, command_tag, relation, statement, statement_hash, content_hash, 'allow', reason, risk, policy_version, policy_hash, details, prev_hash, event_hash FROM fence.audit_chain ORDER BY seq DESC LIMIT 1 RETURNING seq")
wait_for a evidence "SELECT first_bad_seq FROM fence.verify_fleet() WHERE database_name = 'tenant_c'" "$BAD"
check "verify_fleet names tenant_c and its forged event" \
    "$(q a evidence "SELECT database_name || ' ' || ok || ' ' || first_bad_seq FROM fence.verify_fleet() WHERE database_name = 'tenant_c'")" "tenant_c false $BAD"

say "fleet: hostile ends"
# A control database whose publication lists fence's own tables: a target refuses to join it.
q a postgres "CREATE DATABASE rogue"
q a rogue "CREATE EXTENSION fence"
q a rogue "SELECT fence.serve_fleet()" >/dev/null
q a rogue "ALTER PUBLICATION fence_fleet ADD TABLE fence.approvals" 2>/dev/null
q b postgres "CREATE DATABASE tenant_b3"
q b tenant_b3 "CREATE EXTENSION fence"
check "a target refuses a control whose publication lists fence.approvals" \
    "$(qe b tenant_b3 "SELECT fence.join_fleet('$(conninfo a rogue)')" | sed -n 1p)" \
    "ERROR:  fence: the publication of that database lists fence.approvals,fence.fleet_approvals,fence.fleet_exemptions,fence.fleet_policies, not fence.fleet_approvals,fence.fleet_exemptions,fence.fleet_policies: not subscribed"
check "... and leaves no subscription, and no slot on the control's server" \
    "$(q b tenant_b3 "SELECT count(*) FROM pg_subscription s JOIN pg_database d ON d.oid = s.subdbid WHERE d.datname = 'tenant_b3'"),$(q a rogue "SELECT count(*) FROM pg_replication_slots WHERE database = 'rogue'")" "0,0"
# A control that starts publishing fence.approvals, and a target that refreshes its
# subscription: the rows reach fence.approvals only through the fleet's arrival.
q b local_control "ALTER PUBLICATION fence_fleet ADD TABLE fence.approvals" 2>/dev/null
q b local_control "SELECT fence.approve('CREATE INDEX local_idx ON t (x);')" >/dev/null
q b tenant_b2 "ALTER SUBSCRIPTION fence_fleet REFRESH PUBLICATION" 2>/dev/null
for _ in $(seq 100); do grep -q "fence.approvals is not written by logical replication" "${DIR[b]}/server.log" && break; sleep 0.1; done
check "a refreshed subscription cannot write fence.approvals directly" \
    "$(grep -c "fence.approvals is not written by logical replication" "${DIR[b]}/server.log" | sed 's/^[1-9][0-9]*$/refused/'),$(q b tenant_b2 "SELECT count(*) FROM fence.approvals WHERE origin IS NULL")" "refused,0"
check "a target's superuser cannot delete its copy of the evidence (even as a replica)" \
    "$(qe b tenant_b "SET session_replication_role = replica; DELETE FROM fence.fleet_chain WHERE seq = 1" | grep -c 'append-only')" 1
# tenant_c's superuser writes a row of tenant_b's chain: the evidence database refuses it,
# tenant_b's central record is untouched.
B_ID=$(q b tenant_b "SELECT fence.database_id()")
B_CENTRAL=$(q a evidence "SELECT checked || ',' || head_hash FROM fence.verify_fleet() WHERE database_name = 'tenant_b'")
q c tenant_c "SET session_replication_role = replica; INSERT INTO fence.fleet_chain SELECT '$B_ID', seq + 1000, recorded_at, kind, session_role, executing_role, txid, command_tag, relation, statement, statement_hash, content_hash, decision, reason, risk, policy_version, policy_hash, details, prev_hash, event_hash FROM fence.fleet_chain ORDER BY seq DESC LIMIT 1" 2>/dev/null
for _ in $(seq 100); do grep -q "carries the evidence of database" "${DIR[a]}/server.log" && break; sleep 0.1; done
check "the evidence database refuses a row of tenant_b's chain sent by tenant_c" \
    "$(grep -c "carries the evidence of database .*: a row of database $B_ID was refused" "${DIR[a]}/server.log" | sed 's/^[1-9][0-9]*$/yes/')" yes
check "tenant_b's central record is untouched" \
    "$(q a evidence "SELECT checked || ',' || head_hash FROM fence.verify_fleet() WHERE database_name = 'tenant_b'")" "$B_CENTRAL"

for c in a b c; do
    SERVER_DIR=${DIR[$c]}
    if grep -qE "terminated by signal (6|11)|non-unwinding panic|PANIC:" "$SERVER_DIR/server.log"; then
        echo "cluster $c crashed (see $SERVER_DIR/server.log)"
        exit 1
    fi
done
say "fleet: all checks passed"
