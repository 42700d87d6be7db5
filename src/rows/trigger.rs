//! What the row trigger records for each change of a tracked table: the change's hashed
//! fields, stored straight into its month's partition of `fence.row_changes`.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use fence_core::rows::{Month, Operation, RowChange};
use pgrx::pg_sys;

use super::cache::{self, Tracked};
use super::projection::{self, Projection, Style};
use super::store::StoreTable;
use super::tracking::{self, no_key};
use crate::errors;
use crate::ffi::tuple::{Firing, Image};
use crate::ffi::{relcache, security, worker, xact};
use crate::{session, settings};

thread_local! {
    /// The partition this (sub)transaction holds the insert lock on (see `partition`).
    static LOCKED: Cell<Option<((u32, u32), pg_sys::Oid)>> = const { Cell::new(None) };
}

fn not_tracked(relation: &str) -> ! {
    errors::prerequisite(format!("{relation} has fence's row trigger but is not tracked"))
        .hint(format!("SELECT fence.track_table('{relation}'); or SELECT fence.untrack_table('{relation}');"))
        .raise()
}

fn shared_tracking(relation: &str, id: i32) -> ! {
    errors::prerequisite(format!(
        "the row trigger of {relation} names tracking {id}, which another table's trigger names too"
    ))
    .hint(format!("Track it again under a tracking of its own: SELECT fence.track_table('{relation}');"))
    .raise()
}

/// How `relid` is tracked: as a table of its own or as a partition of a tracked partitioned
/// table (the nearest tracked ancestor's tracking). None for a TRUNCATE of a table no longer
/// tracked that way (a partition since detached keeps its TRUNCATE trigger); any other firing
/// on an untracked table is refused.
fn tracked(relid: pg_sys::Oid, truncate: bool) -> Option<Rc<Tracked>> {
    if let Some(tracked) = cache::tracked(relid) {
        return Some(tracked);
    }
    let relation = relcache::relation_name(relid).unwrap_or_else(|| relid.to_u32().to_string());
    let Some((mut table_id, mut excluded, stale)) = tracking::tracking(relid) else {
        return if truncate { None } else { not_tracked(&relation) };
    };
    if stale {
        tracking::relink_restored();
        match tracking::tracking(relid) {
            Some((id, columns, false)) => (table_id, excluded) = (id, columns),
            _ => shared_tracking(&relation, table_id),
        }
    }
    let key = projection::key_columns(relid).unwrap_or_else(|| no_key(&relation, true));
    let columns: Vec<String> = projection::column_names(relid).into_iter().filter(|c| !excluded.contains(c)).collect();
    let tracked = Rc::new(Tracked {
        table_id,
        relation,
        key: Projection::new(relid, &key, Style::JsonbText),
        row: Projection::new(relid, &columns, Style::Json),
    });
    cache::keep_tracked(relid, tracked.clone());
    Some(tracked)
}

/// The position of the next change in the current top-level transaction.
fn next_ordinal() -> i32 {
    session::with(|t| {
        t.row_changes += 1;
        t.row_changes
    })
}

/// The partition of `fence.row_changes` holding `month`, locked for the insert (the lock is
/// taken once per subtransaction: one that aborts releases the locks it took).
fn partition(month: Month) -> Rc<StoreTable> {
    let holder = xact::local_subtransaction_id();
    loop {
        let seen = cache::invalidations();
        let table = cache::partition(month).unwrap_or_else(|| {
            let oid = relcache::fence_relation_oid(&month.partition())
                .or_else(|| relcache::fence_relation_oid("row_changes_default"))
                .unwrap_or_else(|| errors::not_installed().raise());
            let table = Rc::new(StoreTable::load(oid));
            cache::keep_partition(month, table.clone());
            table
        });
        if LOCKED.with(Cell::get) == Some((holder, table.oid())) {
            return table;
        }
        // Taking the lock (first time in a transaction) takes in pending invalidations: if one
        // came in since the look-up (a partition just created for this month changes the
        // default partition's bounds), the month is looked up again, so that no change lands
        // in a partition whose bounds exclude it.
        table.lock();
        if cache::invalidations() == seen {
            LOCKED.with(|l| l.set(Some((holder, table.oid()))));
            return table;
        }
    }
}

/// Records one firing of the row trigger.
pub fn record(firing: &Firing) {
    let Some(tracked) = tracked(firing.relid, firing.operation == Operation::Truncate) else { return };
    // An UPDATE keeps the old values of the columns it changed (the others are in the new
    // row); one that changed only excluded columns (or nothing) records nothing.
    let changed = (firing.operation == Operation::Update).then(|| tracked.row.changed(firing));
    if changed.as_ref().is_some_and(Vec::is_empty) {
        return;
    }
    let (row, key) = (&tracked.row, &tracked.key);
    let old_values = row.row_image(firing, Image::Old, changed.as_deref());
    let new_row = row.row_image(firing, Image::New, None);
    let (row_key, old_key) = match firing.operation {
        Operation::Insert => (key.key_image(firing, Image::New), None),
        Operation::Delete => (key.key_image(firing, Image::Old), None),
        Operation::Update if key.unchanged(firing) => (key.key_image(firing, Image::New), None),
        Operation::Update => {
            let (new, old) = (key.key_image(firing, Image::New), key.key_image(firing, Image::Old));
            // Byte-wise different but printed alike (e.g. a value stored compressed): same key.
            let moved = old != new;
            (new, old.filter(|_| moved))
        }
        Operation::Truncate => (None, None),
    };
    let changed_at_us = xact::now_unix_us();
    let session_role = security::session_role();
    let actor = settings::actor();
    let (application_name, client_addr) = (security::application_name(), session::client_addr());
    let (backend_pid, txid, ordinal) = (security::backend_pid(), xact::full_transaction_id(), next_ordinal());
    let operation = firing.operation.as_str();
    let change = RowChange {
        table_id: i64::from(tracked.table_id),
        relation: &tracked.relation,
        operation,
        row_key: row_key.as_deref(),
        old_key: old_key.as_deref(),
        old_values: old_values.as_deref(),
        new_row: new_row.as_deref(),
        actor: actor.as_deref().unwrap_or(&session_role),
        session_role: &session_role,
        application_name: &application_name,
        client_addr: &client_addr,
        backend_pid,
        txid,
        ordinal,
        changed_at_us,
    };
    partition(Month::of(changed_at_us)).insert(&change, &change.hash());
}

/// Pre-commit of a transaction that recorded changes: start the sealer unless one runs (checked
/// at most every `fence.seal_interval`, also when no worker slot was free: commits do not queue
/// on the postmaster's worker slots; the sealer runs on its own and never delays this commit).
pub fn before_commit() {
    if session::with(|t| t.row_changes == 0) {
        return;
    }
    worker::ensure_sealer(Duration::from_secs(settings::seal_interval_s()));
}
