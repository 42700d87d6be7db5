//! What registering and checking a setting needs of the server beyond pgrx's safe API: a
//! string setting with a check hook, and a check hook's refusal with its DETAIL and HINT.

use std::ffi::{CStr, CString};

use pgrx::guc::{GucContext, GucFlags, GucRegistry, GucSetting};
use pgrx::pg_sys;

use super::error::Error;
use super::nodes::cstr;

/// The check hook of a string setting (an entry point: `#[pg_guard]`ed).
pub type StringCheckHook = unsafe extern "C-unwind" fn(
    newval: *mut *mut std::ffi::c_char,
    extra: *mut *mut std::ffi::c_void,
    source: pg_sys::GucSource::Type,
) -> bool;

/// Registers a user-settable string setting whose every new value `check` validates.
pub fn define_string_with_check(
    name: &'static CStr,
    short: &'static CStr,
    long: &'static CStr,
    setting: &'static GucSetting<Option<CString>>,
    check: StringCheckHook,
) {
    // SAFETY: called from _PG_init; `check` is a guarded entry point of this library.
    unsafe {
        GucRegistry::define_string_guc_with_hooks(
            name,
            short,
            long,
            setting,
            GucContext::Userset,
            GucFlags::default(),
            Some(check),
            None,
            None,
        )
    }
}

/// The value a check hook is asked about ("" for unset).
///
/// # Safety
/// `newval` must be the check hook's argument.
pub unsafe fn proposed(newval: *mut *mut std::ffi::c_char) -> String {
    // SAFETY: per the caller, `*newval` is the proposed value or NULL.
    unsafe { cstr(*newval) }.unwrap_or_default()
}

/// Makes the running check hook's refusal carry `error`'s SQLSTATE, DETAIL and HINT (the
/// server words the message itself: invalid value for parameter ...).
pub fn reject(error: &Error) {
    let detail = CString::new(error.detail.clone().unwrap_or_default()).unwrap_or_default();
    let hint = CString::new(error.hint.clone().unwrap_or_default()).unwrap_or_default();
    // SAFETY: the detail and hint strings are palloc'd copies the GUC machinery reports and
    // frees; only called from a check hook.
    unsafe {
        pg_sys::GUC_check_errcode(error.code as i32);
        pg_sys::GUC_check_errdetail_string = pg_sys::pstrdup(detail.as_ptr());
        pg_sys::GUC_check_errhint_string = pg_sys::pstrdup(hint.as_ptr());
    }
}
