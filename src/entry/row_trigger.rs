//! The row trigger of tracked tables (`fence.record_row_change()`), a V1 C function.

use pgrx::pg_sys;
use pgrx::prelude::*;

use super::v1_finfo;
use crate::ffi::tuple;

v1_finfo!(pg_finfo_fence_row_change);

/// AFTER INSERT / UPDATE / DELETE FOR EACH ROW, AFTER TRUNCATE FOR EACH STATEMENT.
#[pg_guard]
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn fence_row_change(fcinfo: pg_sys::FunctionCallInfo) -> pg_sys::Datum {
    // SAFETY: `fcinfo` is the function manager's call info for a trigger function.
    let firing = unsafe { tuple::firing(fcinfo) }.unwrap_or_else(|error| error.raise());
    crate::rows::trigger::record(&firing);
    pg_sys::Datum::from(0)
}
