//! Cross-transaction caches (fence's owner, the policy in force, tracked tables) are dropped
//! when PostgreSQL invalidates the relation they were read from: `fence.set_policy()`
//! announces each change; DROP EXTENSION, ownership changes and cache resets do so by
//! themselves. The session role's name is dropped when any role changes (ALTER ROLE ...
//! RENAME TO included).

use pgrx::pg_sys;
use pgrx::prelude::*;

pub fn register() {
    // SAFETY: called once from _PG_init; the callback only clears backend-local caches.
    unsafe {
        pg_sys::CacheRegisterRelcacheCallback(Some(relation_changed), pg_sys::Datum::from(0));
        pg_sys::CacheRegisterSyscacheCallback(
            pg_sys::SysCacheIdentifier::AUTHOID as i32,
            Some(role_changed),
            pg_sys::Datum::from(0),
        );
    }
}

#[pg_guard]
unsafe extern "C-unwind" fn role_changed(_arg: pg_sys::Datum, _cache: i32, _hash: u32) {
    super::security::forget_role_names();
}

#[pg_guard]
unsafe extern "C-unwind" fn relation_changed(_arg: pg_sys::Datum, relid: pg_sys::Oid) {
    crate::store::forget_cached(relid);
    crate::rows::forget_cached(relid);
}
