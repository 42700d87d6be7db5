//! What the row audit caches per backend across transactions, dropped when PostgreSQL
//! invalidates the relation it was read from: each tracked table as the trigger needs it, the
//! partition each month's changes go to, and whether any table is tracked.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use fence_core::rows::Month;
use pgrx::pg_sys;
use rustc_hash::FxHashMap;

use super::projection::Projection;
use super::store::StoreTable;

/// A tracked table as the trigger needs it (cached per backend until the table or its
/// tracking changes).
pub struct Tracked {
    pub table_id: i32,
    pub relation: String,
    pub key: Projection,
    pub row: Projection,
}

// The writer's caches are looked up at every change: hashed with FxHash, not SipHash (their
// keys are OIDs and months, not chosen by clients).
thread_local! {
    static TRACKED: RefCell<FxHashMap<pg_sys::Oid, Rc<Tracked>>> = RefCell::new(FxHashMap::default());
    /// The partition each month's changes go to (the default partition when the month has none).
    static PARTITIONS: RefCell<FxHashMap<Month, Rc<StoreTable>>> = RefCell::new(FxHashMap::default());
    /// How many relcache invalidations this backend has taken in.
    static INVALIDATIONS: Cell<u64> = const { Cell::new(0) };
    /// `fence.tracked_tables`' OID and whether any table is tracked now (dropped when that
    /// table is invalidated: every change of a tracking announces it).
    static ANY_TRACKED: Cell<Option<(pg_sys::Oid, bool)>> = const { Cell::new(None) };
}

/// Drops what was cached about `relation` (InvalidOid: everything). Called by the relcache
/// invalidation callback; must never raise.
pub fn forget_cached(relation: pg_sys::Oid) {
    INVALIDATIONS.with(|n| n.set(n.get().wrapping_add(1)));
    ANY_TRACKED.with(|a| {
        if a.get().is_some_and(|(table, _)| relation == table || relation == pg_sys::InvalidOid) {
            a.set(None);
        }
    });
    if relation == pg_sys::InvalidOid {
        TRACKED.with(|t| t.borrow_mut().clear());
        PARTITIONS.with(|p| p.borrow_mut().clear());
        return;
    }
    TRACKED.with(|t| t.borrow_mut().remove(&relation));
    // A new partition changes the default partition's bounds: look every month up again.
    PARTITIONS.with(|p| {
        let mut partitions = p.borrow_mut();
        if partitions.values().any(|table| table.oid() == relation) {
            partitions.clear();
        }
    });
}

/// How many invalidations this backend has taken in so far (one arriving while something is
/// read may concern it: the reader then does not cache it).
pub fn invalidations() -> u64 {
    INVALIDATIONS.with(Cell::get)
}

pub fn tracked(relid: pg_sys::Oid) -> Option<Rc<Tracked>> {
    TRACKED.with(|t| t.borrow().get(&relid).cloned())
}

pub fn keep_tracked(relid: pg_sys::Oid, tracked: Rc<Tracked>) {
    TRACKED.with(|t| t.borrow_mut().insert(relid, tracked));
}

pub fn partition(month: Month) -> Option<Rc<StoreTable>> {
    PARTITIONS.with(|p| p.borrow().get(&month).cloned())
}

pub fn keep_partition(month: Month, table: Rc<StoreTable>) {
    PARTITIONS.with(|p| p.borrow_mut().insert(month, table));
}

/// Whether any table is tracked, if known.
pub fn any_tracked() -> Option<bool> {
    ANY_TRACKED.with(Cell::get).map(|(_, any)| any)
}

/// Keeps whether any table is tracked (read from `table`, `fence.tracked_tables`).
pub fn keep_any_tracked(table: pg_sys::Oid, any: bool) {
    ANY_TRACKED.with(|a| a.set(Some((table, any))));
}
