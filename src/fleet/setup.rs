//! Setting up the fleet, one function per end: `serve_fleet()` on the control database,
//! `join_fleet()` on each target, `publish_evidence()` on each target and `collect_evidence()`
//! on the evidence database. Each needs a superuser (PostgreSQL's rule for subscriptions and
//! for what a publication exposes), is recorded in the chain, and can be repeated.

use std::panic::AssertUnwindSafe;

use pgrx::PgTryBuilder;
use serde_json::{json, Value};

use crate::db::owner::as_owner;
use crate::db::{self, queries, Arg};
use crate::errors;
use crate::ffi::replication::Remote;
use crate::ffi::{security, xact};
use crate::governance::policy;
use crate::session;

/// The control database's publication and the one a target's evidence travels in.
const GRANTS: &str = "fence_fleet";
const EVIDENCE: &str = "fence_evidence";

/// What a set-up needs of this server.
struct Server {
    wal_level: String,
    database_id: String,
    subscription_exists: bool,
}

fn server(function: &str, name: &str) -> Server {
    if !security::superuser_session() {
        errors::forbidden(format!("{function} needs a superuser"))
            .detail("It creates a publication or subscription, which PostgreSQL lets only a superuser own for tables of every role.")
            .raise();
    }
    if !db::fleet_ready() {
        errors::prerequisite("fence's tables predate the fleet").hint("ALTER EXTENSION fence UPDATE;").raise();
    }
    let row = as_owner(|| {
        db::select_first(queries::FLEET_PREREQUISITES, &[name.into()], |row| Server {
            wal_level: row.text("wal_level"),
            database_id: row.text("database_id"),
            subscription_exists: row.get::<bool>("subscription_exists") == Some(true),
        })
    });
    row.unwrap_or_else(|| errors::not_installed().raise())
}

/// A publisher's WAL must carry what logical decoding reads.
fn require_logical(server: &Server, function: &str) {
    if server.wal_level != "logical" {
        errors::prerequisite(format!("{function} needs wal_level = logical (it is {})", server.wal_level))
            .hint("ALTER SYSTEM SET wal_level = logical; then restart the server.")
            .raise();
    }
}

/// A subscription must replicate into exactly the fleet tables of its direction: a publisher
/// that lists more (fence's own chain, its approvals) would write them past fence.
fn expect_tables(subscription: &str, expected: &str) {
    let tables =
        as_owner(|| db::select_value::<String>(queries::FLEET_SUBSCRIBED_TABLES, &[subscription.into()], "tables"));
    if tables.as_deref() != Some(expected) {
        errors::forbidden(format!(
            "the publication of that database lists {}, not {expected}: not subscribed",
            tables.as_deref().unwrap_or("no table")
        ))
        .hint("Set up the other end with fence's own function (fence.serve_fleet() on a control database, fence.publish_evidence() on a target) and leave its publication as fence made it.")
        .raise();
    }
}

/// Runs one of the set-up statements of `fence.fleet_ddl` (fence's own DDL: not gated).
fn ddl(step: &str, name: Option<&str>, conninfo: Option<&str>, slot: Option<&str>) {
    let args: [Arg; 4] = [step.into(), name.into(), conninfo.into(), slot.into()];
    session::internal(|| db::execute(queries::FLEET_DDL, &args));
}

fn take_role(role: &str) {
    as_owner(|| db::execute(queries::FLEET_TAKE_ROLE, &[role.into()]));
}

fn record(details: Value) {
    policy::record_event("fleet", None, None, details);
}

/// This database becomes the fleet's control database: what is approved, exempted or set as
/// policy here from now on (and the policy in force, every approval and exemption made here so
/// far) reaches each target. Returns the publication's name.
pub fn serve() -> String {
    let server = server("fence.serve_fleet()", GRANTS);
    require_logical(&server, "fence.serve_fleet()");
    ddl("publish_grants", None, None, None);
    take_role("control");
    let shared = as_owner(|| {
        db::write(
            queries::FLEET_SHARE_EXISTING,
            &[],
            |row| json!({"policies": row.get::<i64>("policies"), "approvals": row.get::<i64>("approvals"), "exemptions": row.get::<i64>("exemptions")}),
        )
    });
    record(
        json!({"action": "serve", "publication": GRANTS, "database_id": server.database_id, "shared": shared.first()}),
    );
    GRANTS.to_string()
}

/// This database follows the control database `conninfo` names: its approvals, exemptions
/// (those that apply here) and policy versions become this database's as they arrive.
/// Returns the subscription's name.
pub fn join(conninfo: &str) -> String {
    let server = server("fence.join_fleet()", GRANTS);
    if server.subscription_exists {
        errors::prerequisite("this database is already subscribed to a control database (subscription fence_fleet)")
            .hint("SELECT * FROM fence.fleet_status(); to follow another control database, DROP SUBSCRIPTION fence_fleet first.")
            .raise();
    }
    let remote = connect(conninfo, "control");
    // One slot per target on the control's server: named by this database's identity.
    let slot = format!("fence_fleet_{}", server.database_id.replace('-', ""));
    with_slot(&remote, &slot, || {
        as_owner(|| db::execute(queries::FLEET_FORGET_RECEIVED, &[]));
        ddl("subscribe", Some(GRANTS), Some(conninfo), Some(&slot));
        expect_tables(GRANTS, "fence.fleet_approvals,fence.fleet_exemptions,fence.fleet_policies");
        take_role("target");
        record(json!({"action": "join", "subscription": GRANTS, "slot": slot, "database_id": server.database_id}));
    });
    GRANTS.to_string()
}

/// This database's chain (from its first event on) travels to any evidence database that
/// collects it: inserts only. Returns the publication's name.
pub fn publish() -> String {
    let server = server("fence.publish_evidence()", EVIDENCE);
    require_logical(&server, "fence.publish_evidence()");
    // First the copy (its lock waits for appenders in flight), then the chain so far.
    ddl("copy_evidence", None, None, None);
    let copied = as_owner(|| db::write(queries::FLEET_BACKFILL, &[], |row| row.get::<i64>("events")));
    ddl("publish_evidence", None, None, None);
    take_role("publisher");
    record(
        json!({"action": "publish_evidence", "publication": EVIDENCE, "database_id": server.database_id, "copied": copied.first()}),
    );
    EVIDENCE.to_string()
}

/// This (evidence) database receives the chain of the target `conninfo` names, bound to that
/// target's identity as it says it now. Returns the subscription's name.
pub fn collect(conninfo: &str) -> String {
    let tagged = fence_core::hash::sha256_tagged(&[conninfo.as_bytes()]);
    let hash = tagged.trim_start_matches("sha256:");
    let name = format!("fence_evidence_{}", &hash[..12]);
    let server = server("fence.collect_evidence()", &name);
    if server.subscription_exists {
        errors::prerequisite(format!("this database already collects that target's evidence (subscription {name})"))
            .hint("SELECT * FROM fence.fleet_status();")
            .raise();
    }
    let remote = connect(conninfo, "target");
    let target = remote
        .query_row("SELECT fence.database_id()::text, pg_catalog.current_database()::text", 2)
        .unwrap_or_else(|reason| {
            errors::prerequisite(format!("the target does not say who it is: {reason}"))
                .hint("Install fence in the target database (CREATE EXTENSION fence) and run fence.publish_evidence() there.")
                .raise()
        });
    let (Some(Some(target_id)), Some(Some(target_name))) = (target.first(), target.get(1)) else {
        errors::prerequisite("the target does not say who it is (no fence.database_id())").raise()
    };
    let system = remote.system_identifier().unwrap_or_else(|reason| errors::prerequisite(reason).raise());
    let collected = as_owner(|| {
        db::select_first(queries::FLEET_SOURCE_OF, &[target_id.as_str().into()], |row| {
            (row.text("subscription"), row.text("database_name"))
        })
    });
    if let Some((collected, bound_name)) = collected {
        errors::prerequisite(format!(
            "database {target_id} ({bound_name}) is collected here already, by subscription {collected}: {target_name} says it is that database"
        ))
            .hint("Two subscriptions never carry one database's chain: SELECT * FROM fence.fleet_status(); a database copied from another (TEMPLATE, base backup) needs its own identity before it publishes.")
            .raise();
    }
    // On the target's server: one slot per evidence database and target.
    let slot = format!("fence_evidence_{}_{}", &server.database_id.replace('-', "")[..16], &hash[..12]);
    with_slot(&remote, &slot, || {
        as_owner(|| db::execute(queries::FLEET_DROP_STALE_SOURCES, &[]));
        ddl("subscribe", Some(&name), Some(conninfo), Some(&slot));
        expect_tables(&name, "fence.fleet_chain,fence.fleet_conflicts,fence.fleet_databases,fence.fleet_row_changes");
        let bind: [Arg; 4] =
            [name.as_str().into(), target_id.as_str().into(), target_name.as_str().into(), system.as_str().into()];
        as_owner(|| db::execute(queries::FLEET_BIND_SOURCE, &bind));
        take_role("evidence");
        record(json!({"action": "collect_evidence", "subscription": name, "slot": slot, "database_id": target_id,
                      "database_name": target_name, "system_identifier": system}));
    });
    name
}

/// A replication connection to the other end of a subscription (`peer`: what it is).
fn connect(conninfo: &str, peer: &str) -> Remote {
    if xact::in_transaction_block() || xact::nest_level() > 1 || xact::full_transaction_id_if_any().is_some() {
        errors::active_transaction("the fleet's set-up functions cannot run inside a transaction block")
            .detail("They create a replication slot on the other server, which a rollback would not remove (and which waits for this transaction once it has written).")
            .hint("Run each call as a statement of its own, outside BEGIN ... COMMIT, a DO block or another fence set-up call.")
            .raise();
    }
    Remote::connect(conninfo).unwrap_or_else(|reason| {
        errors::prerequisite(format!("could not reach the {peer} database: {reason}"))
            .hint("Check the connection string from this server (host, port, dbname, a superuser or a user with the REPLICATION attribute, pg_hba.conf).")
            .raise()
    })
}

/// Creates the subscription's slot on the other server first (it waits for the transactions
/// running there, and this one has written nothing yet: the other server may be this one),
/// then runs `then`, which subscribes; if that fails, the slot is dropped again.
fn with_slot(remote: &Remote, slot: &str, then: impl FnOnce()) {
    if let Err(reason) = remote.create_slot(slot) {
        errors::prerequisite(format!("could not create replication slot {slot}: {reason}")).raise();
    }
    PgTryBuilder::new(AssertUnwindSafe(then))
        .catch_others(|error| {
            if let Err(reason) = remote.drop_slot(slot) {
                pgrx::warning!("fence: replication slot {slot} is left on the other server ({reason}): drop it there with pg_drop_replication_slot");
            }
            error.rethrow()
        })
        .execute();
}
