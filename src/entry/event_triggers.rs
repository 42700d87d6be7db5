//! The event trigger functions, written as V1 C functions (pgrx has no event_trigger type).

use pgrx::pg_sys;
use pgrx::prelude::*;

use super::v1_finfo;
use crate::ffi::event_trigger::{self, EventTriggerCall};
use crate::gate;

v1_finfo!(pg_finfo_fence_gate, pg_finfo_fence_record, pg_finfo_fence_dropped, pg_finfo_fence_rewrite);

/// The event being fired, or the error of a call outside an event trigger.
unsafe fn event(fcinfo: pg_sys::FunctionCallInfo) -> EventTriggerCall {
    // SAFETY: `fcinfo` is the function manager's call info.
    unsafe { event_trigger::call(fcinfo) }.unwrap_or_else(|error| error.raise())
}

/// `ddl_command_start`: analyze the statement from its parse tree and decide.
#[pg_guard]
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn fence_gate(fcinfo: pg_sys::FunctionCallInfo) -> pg_sys::Datum {
    // SAFETY: see `event`; the parse tree stays valid for the whole call.
    gate::command_start(unsafe { event(fcinfo) });
    pg_sys::Datum::from(0)
}

/// `ddl_command_end`: record what ran.
#[pg_guard]
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn fence_record(fcinfo: pg_sys::FunctionCallInfo) -> pg_sys::Datum {
    // SAFETY: see `event`.
    gate::after::command_end(unsafe { event(fcinfo) });
    pg_sys::Datum::from(0)
}

/// `sql_drop`: record what the statement dropped.
#[pg_guard]
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn fence_dropped(fcinfo: pg_sys::FunctionCallInfo) -> pg_sys::Datum {
    // SAFETY: see `event`.
    gate::after::dropped(unsafe { event(fcinfo) });
    pg_sys::Datum::from(0)
}

/// `table_rewrite`: record the rewrite PostgreSQL is about to do.
#[pg_guard]
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn fence_rewrite(fcinfo: pg_sys::FunctionCallInfo) -> pg_sys::Datum {
    // SAFETY: see `event`.
    gate::after::rewrite(unsafe { event(fcinfo) });
    pg_sys::Datum::from(0)
}
