//! fence's tables belong to the extension owner, and every query on them runs as that role
//! (with a pinned search path), so that no other role needs, or gets, any right on them.

use std::cell::Cell;

use pgrx::pg_sys;

use crate::errors;
use crate::ffi::{relcache, security, xact};

/// fence's chain table and its owner.
#[derive(Clone, Copy)]
struct Owner {
    chain: pg_sys::Oid,
    role: pg_sys::Oid,
}

thread_local! {
    /// Valid across transactions until `forget_cached` (relcache invalidation) drops it.
    static OWNER: Cell<Option<Owner>> = const { Cell::new(None) };
}

/// Drops the cached owner when `relation` is the chain table (InvalidOid: always); returns
/// whether it did. Called by the relcache invalidation callback; must never raise.
pub fn forget_cached(relation: pg_sys::Oid) -> bool {
    let all = relation == pg_sys::InvalidOid;
    let dropped = all || OWNER.with(|o| o.get().is_some_and(|o| o.chain == relation));
    if dropped {
        OWNER.with(|o| o.set(None));
    }
    dropped
}

/// The role that owns fence's tables (fence's writes run as it), or None if fence is not
/// installed in this database.
pub fn extension_owner() -> Option<pg_sys::Oid> {
    if let Some(owner) = OWNER.with(Cell::get) {
        return Some(owner.role);
    }
    let (chain, role) = relcache::fence_tables_owner()?;
    OWNER.with(|o| o.set(Some(Owner { chain, role })));
    Some(role)
}

/// Runs `f` as the extension owner; fence's tables are closed to every other role.
pub fn as_owner<R>(f: impl FnOnce() -> R) -> R {
    let owner = extension_owner().unwrap_or_else(|| errors::not_installed().raise());
    security::as_owner(owner, f)
}

/// Reads fence's tables as the extension owner, leaving no lock in the caller's transaction
/// (see `xact::without_trace`).
pub fn owner_read<R>(read: impl FnOnce() -> R) -> R {
    xact::without_trace(|| as_owner(read))
}
