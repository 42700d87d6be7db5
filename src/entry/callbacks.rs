//! Transaction, subtransaction and cache invalidation callbacks, and the check hook of
//! `fence.approval`.

use pgrx::pg_sys::{self, SubXactEvent, XactEvent};
use pgrx::prelude::*;

use crate::ffi::{guc, xact};
use crate::{lifecycle, settings};

#[pg_guard]
pub unsafe extern "C-unwind" fn on_xact(event: XactEvent::Type, _arg: *mut std::ffi::c_void) {
    lifecycle::transaction(xact::xact_step(event));
}

#[pg_guard]
pub unsafe extern "C-unwind" fn on_subxact(
    event: SubXactEvent::Type,
    _sub: pg_sys::SubTransactionId,
    _parent: pg_sys::SubTransactionId,
    _arg: *mut std::ffi::c_void,
) {
    lifecycle::subtransaction(xact::subxact_step(event));
}

/// The object access hook: the hook installed before fence's first, with what it received
/// and without a guard (its ERROR reaches the server as raised), then fence's look at an
/// object created or about to be dropped; every other access (namespace searches, function
/// executions) passes at once.
pub unsafe extern "C-unwind" fn object_access(
    access: pg_sys::ObjectAccessType::Type,
    class: pg_sys::Oid,
    object: pg_sys::Oid,
    sub: std::ffi::c_int,
    arg: *mut std::ffi::c_void,
) {
    // SAFETY: the arguments are what the hook received.
    unsafe { crate::ffi::object_access::call_next(access, class, object, sub, arg) };
    if let Some(access) = crate::ffi::object_access::access(access) {
        object_access_seen(access, class, object, sub);
    }
}

#[pg_guard]
extern "C-unwind" fn object_access_seen(
    access: crate::ffi::object_access::Access,
    class: pg_sys::Oid,
    object: pg_sys::Oid,
    sub: std::ffi::c_int,
) {
    crate::gate::after::object_access(access, class, object, sub);
}

#[pg_guard]
pub unsafe extern "C-unwind" fn relation_changed(_arg: pg_sys::Datum, relid: pg_sys::Oid) {
    lifecycle::relation_changed(relid);
}

#[pg_guard]
pub unsafe extern "C-unwind" fn role_changed(_arg: pg_sys::Datum, _cache: i32, _hash: u32) {
    lifecycle::roles_changed();
}

#[pg_guard]
pub unsafe extern "C-unwind" fn check_approval(
    newval: *mut *mut std::ffi::c_char,
    _extra: *mut *mut std::ffi::c_void,
    _source: pg_sys::GucSource::Type,
) -> bool {
    // SAFETY: `newval` is the check hook's argument.
    let value = unsafe { guc::proposed(newval) };
    settings::check_approval(&value).map_err(|error| guc::reject(&error)).is_ok()
}
