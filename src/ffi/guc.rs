//! `fence.approval`: the content hash the session runs under, validated when it is set.

use std::ffi::CString;

use pgrx::guc::{GucContext, GucFlags, GucRegistry, GucSetting};
use pgrx::pg_sys;
use pgrx::prelude::*;

static APPROVAL: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(None);

pub fn init() {
    // SAFETY: registering a custom variable from _PG_init with a guarded check hook.
    unsafe {
        GucRegistry::define_string_guc_with_hooks(
            c"fence.approval",
            c"Content hash (sha256:<64 hex>) of the approved migration this session runs.",
            c"Set by the CI session, e.g. PGOPTIONS='-c fence.approval=sha256:...'. Risky statements run only if an approval of this content covers them.",
            &APPROVAL,
            GucContext::Userset,
            GucFlags::default(),
            Some(check_approval),
            None,
            None,
        );
    }
}

/// The content hash named by the session, if any.
pub fn approval() -> Option<String> {
    APPROVAL.get().and_then(|v| v.into_string().ok()).filter(|v| !v.is_empty())
}

#[pg_guard]
unsafe extern "C-unwind" fn check_approval(
    newval: *mut *mut std::ffi::c_char,
    _extra: *mut *mut std::ffi::c_void,
    _source: pg_sys::GucSource::Type,
) -> bool {
    // SAFETY: `newval` points at the proposed value (NULL for unset); the detail and hint
    // strings are palloc'd copies the GUC machinery reports and frees.
    unsafe {
        let value = super::nodes::cstr(*newval).unwrap_or_default();
        if value.is_empty() || fence_core::hash::is_tagged_sha256(&value) {
            return true;
        }
        let detail =
            CString::new("fence.approval must be sha256: followed by 64 lowercase hex digits.").unwrap_or_default();
        let hint = CString::new("Use the value returned by fence.approve() or printed by fence.content_hash().")
            .unwrap_or_default();
        pg_sys::GUC_check_errcode(PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE as i32);
        pg_sys::GUC_check_errdetail_string = pg_sys::pstrdup(detail.as_ptr());
        pg_sys::GUC_check_errhint_string = pg_sys::pstrdup(hint.as_ptr());
        false
    }
}
