//! What an event trigger function receives (pgrx has no event_trigger type): the command
//! tag and the parse tree of the statement.

use pgrx::pg_sys;

use super::error::{invalid_parameter, Error};
use super::nodes::cstr;

/// One call of an event trigger function.
pub struct EventTriggerCall {
    pub tag: String,
    /// The statement's parse tree, valid for the whole call.
    pub node: *mut pg_sys::Node,
}

/// The event of an event trigger function's call, or an error if it was called otherwise.
///
/// # Safety
/// `fcinfo` must be the call info the function manager passed.
pub unsafe fn call(fcinfo: pg_sys::FunctionCallInfo) -> Result<EventTriggerCall, Error> {
    // SAFETY: per the caller; `context` is checked by tag before the cast;
    // GetCommandTagName returns a static string.
    unsafe {
        let context = (*fcinfo).context;
        if context.is_null() || (*context).type_ != pg_sys::NodeTag::T_EventTriggerData {
            return Err(invalid_parameter("fence's event trigger functions can only be called by event triggers"));
        }
        let data = &*(context as *const pg_sys::EventTriggerData);
        Ok(EventTriggerCall {
            tag: cstr(pg_sys::GetCommandTagName(data.tag)).unwrap_or_default(),
            node: data.parsetree,
        })
    }
}

/// Statements of an extension's install or update script: the `CREATE EXTENSION` /
/// `ALTER EXTENSION` statement itself was gated, its script's inner DDL is not.
pub fn in_extension_script() -> bool {
    // SAFETY: reads a backend-local flag.
    unsafe { pg_sys::creating_extension }
}
