//! `fence.track_table()`, `fence.untrack_table()`, `fence.seal_changes()` and
//! `fence.drop_row_changes()`.

use pgrx::prelude::*;
use pgrx::PgRelation;

use crate::ffi::relcache;
use crate::rows::{seal, tracking};

/// The argument's OID and name; its relcache reference is closed (ALTER TABLE refuses a
/// table this session has open). The lock stays until the transaction ends.
fn close_relation(tbl: PgRelation) -> (pg_sys::Oid, String) {
    let relid = tbl.oid();
    let relation = relcache::relation_name(relid).unwrap_or_else(|| tbl.name().to_string());
    drop(tbl);
    (relid, relation)
}

/// Starts (or, with other excluded columns, renews) the row audit of a table; returns the
/// tracking id.
#[pg_extern]
fn track_table(tbl: PgRelation, exclude_columns: default!(Vec<String>, "'{}'")) -> i32 {
    let (relid, relation) = close_relation(tbl);
    tracking::track(relid, relation, exclude_columns)
}

/// Ends the row audit of a table (its recorded history stays); returns the tracking id.
#[pg_extern]
fn untrack_table(tbl: PgRelation) -> i32 {
    let (relid, relation) = close_relation(tbl);
    tracking::untrack(relid, relation)
}

/// Chains now the events parked while another transaction held the chain, and seals every
/// change of the finished transactions; returns how many changes were sealed.
#[pg_extern]
fn seal_changes() -> i64 {
    seal::seal_now()
}

/// Drops the partitions of every month that ended before `older_than` — only once all their
/// changes are sealed — and chains the retention, so that verification knows those months
/// are gone by design. Returns the months dropped and how many changes each held.
#[pg_extern]
fn drop_row_changes(
    older_than: TimestampWithTimeZone,
) -> TableIterator<'static, (name!(month, String), name!(changes, i64))> {
    TableIterator::new(seal::drop_months(older_than))
}
