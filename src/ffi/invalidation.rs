//! Cross-transaction caches (fence's owner, the policy in force) are dropped when
//! PostgreSQL invalidates the relation they were read from: `fence.set_policy()` announces
//! each change; DROP EXTENSION, ownership changes and cache resets do so by themselves.

use pgrx::pg_sys;
use pgrx::prelude::*;

pub fn register() {
    // SAFETY: called once from _PG_init; the callback only clears backend-local caches.
    unsafe { pg_sys::CacheRegisterRelcacheCallback(Some(relation_changed), pg_sys::Datum::from(0)) }
}

#[pg_guard]
unsafe extern "C-unwind" fn relation_changed(_arg: pg_sys::Datum, relid: pg_sys::Oid) {
    crate::store::forget_cached(relid);
    crate::rows::forget_cached(relid);
}
