//! The fleet: `fence.serve_fleet()`, `fence.join_fleet()`, `fence.publish_evidence()`,
//! `fence.collect_evidence()`, `fence.verify_fleet()` (and `fence.fleet_status()`, in SQL), and
//! `fence.fleet_arrived()`, which the `fleet_receive` trigger calls.

use pgrx::prelude::*;
use pgrx::JsonB;

use crate::ffi::xact;
use crate::fleet::{arrivals, evidence, setup};

/// Superuser: this database becomes the fleet's control database; returns the publication.
#[pg_extern]
fn serve_fleet() -> String {
    setup::serve()
}

/// Superuser: this database follows a control database; returns the subscription.
#[pg_extern]
fn join_fleet(control_conninfo: &str) -> String {
    setup::join(control_conninfo)
}

/// Superuser: this database's chain travels to evidence databases; returns the publication.
#[pg_extern]
fn publish_evidence() -> String {
    setup::publish()
}

/// Superuser: this (evidence) database receives a target's chain; returns the subscription.
#[pg_extern]
fn collect_evidence(target_conninfo: &str) -> String {
    setup::collect(target_conninfo)
}

/// Every chain collected here, recomputed: one row per database.
#[pg_extern]
#[allow(clippy::type_complexity)] // pgrx needs the named columns spelled out here
fn verify_fleet() -> TableIterator<
    'static,
    (
        name!(database_id, String),
        name!(database_name, String),
        name!(ok, bool),
        name!(checked, i64),
        name!(first_bad_seq, Option<i64>),
        name!(reason, Option<String>),
        name!(head_hash, String),
        name!(changes_checked, i64),
        name!(last_event_at, Option<TimestampWithTimeZone>),
    ),
> {
    TableIterator::new(evidence::verify_all().into_iter().map(|v| {
        let last = v.last_event_us.map(xact::timestamptz);
        (
            v.database_id,
            v.database_name,
            v.ok,
            v.checked,
            v.first_bad_seq,
            v.reason,
            v.head_hash,
            v.changes_checked,
            last,
        )
    }))
}

/// Internal (the `fleet_receive` trigger, in the subscription's apply worker): a grant arrived
/// from the control database.
#[pg_extern]
fn fleet_arrived(table: &str, row: JsonB) {
    arrivals::arrived(table, &row.0);
}

/// Internal (the `replication_guard` triggers): a subscription's worker writes into one of
/// fence's tables directly.
#[pg_extern]
fn replicated_write() -> bool {
    crate::fleet::replicated_write()
}
