//! NOTIFY from inside fence: queued in the current transaction, delivered at its commit.

use std::ffi::CString;

use pgrx::pg_sys;

unsafe extern "C-unwind" {
    /// commands/async.c (not in pgrx's bindings): what `NOTIFY` and `pg_notify()` call.
    fn Async_Notify(channel: *const std::ffi::c_char, payload: *const std::ffi::c_char);
}

/// `NOTIFY channel, payload` (the payload must stay under 8000 bytes).
pub fn send(channel: &str, payload: &str) {
    let (Ok(channel), Ok(payload)) = (CString::new(channel), CString::new(payload)) else { return };
    // SAFETY: Async_Notify copies both strings into the transaction's pending notifications;
    // an ERROR it raises crosses back into Rust through pgrx's FFI guard.
    unsafe { pg_sys::ffi::pg_guard_ffi_boundary(|| Async_Notify(channel.as_ptr(), payload.as_ptr())) }
}
