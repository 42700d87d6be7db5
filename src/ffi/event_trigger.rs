//! The event trigger functions, written as V1 C functions (pgrx has no event_trigger type).

use pgrx::pg_sys;
use pgrx::prelude::*;

use super::nodes::cstr;

/// The trigger data, or an error if called outside an event trigger.
unsafe fn trigger_data(fcinfo: pg_sys::FunctionCallInfo) -> &'static pg_sys::EventTriggerData {
    // SAFETY: `fcinfo` comes from the function manager; `context` is checked by tag before
    // the cast.
    unsafe {
        let context = (*fcinfo).context;
        if context.is_null() || (*context).type_ != pg_sys::NodeTag::T_EventTriggerData {
            crate::errors::invalid_parameter(
                "fence's event trigger functions can only be called by event triggers",
                None,
            );
        }
        &*(context as *const pg_sys::EventTriggerData)
    }
}

/// Statements of an extension's install or update script: the `CREATE EXTENSION` /
/// `ALTER EXTENSION` statement itself was gated, its script's inner DDL is not.
pub fn in_extension_script() -> bool {
    // SAFETY: reads a backend-local flag.
    unsafe { pg_sys::creating_extension }
}

/// DDL the event triggers leave alone: an extension script's, and fence's own.
fn skipped() -> bool {
    in_extension_script() || crate::gate::is_internal()
}

v1_finfo!(pg_finfo_fence_gate, pg_finfo_fence_record, pg_finfo_fence_dropped, pg_finfo_fence_rewrite);

/// `ddl_command_start`: analyze the statement from its parse tree and decide.
#[pg_guard]
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn fence_gate(fcinfo: pg_sys::FunctionCallInfo) -> pg_sys::Datum {
    // SAFETY: see trigger_data; the parse tree stays valid for the whole call.
    let data = unsafe { trigger_data(fcinfo) };
    if skipped() {
        return pg_sys::Datum::from(0);
    }
    let node = data.parsetree;
    let call = crate::gate::GateCall {
        // SAFETY: GetCommandTagName returns a static string.
        tag: unsafe { cstr(pg_sys::GetCommandTagName(data.tag)) }.unwrap_or_default(),
        statement: super::parsetree::statement(node),
        text: super::hooks::statement_text(node),
        drops_fence: super::parsetree::drops_fence(node),
        awaits_end: true,
        row_audit_off: super::rowguard::tampering(node)
            .filter(|(relid, _)| crate::rows::is_tracked(*relid))
            .map(|(_, relation)| crate::rows::Harm {
                why: format!("it would switch off the row audit of {relation}"),
                relation,
            })
            .or_else(|| {
                super::rowguard::dependencies(node)
                    .and_then(|(renamed, dropped)| crate::rows::harmed_by(renamed, dropped))
            }),
    };
    crate::gate::gate(call);
    pg_sys::Datum::from(0)
}

/// The command tag of the event, unless it fires inside an extension's script.
unsafe fn event_tag(fcinfo: pg_sys::FunctionCallInfo) -> Option<String> {
    // SAFETY: see trigger_data; GetCommandTagName returns a static string.
    unsafe {
        let data = trigger_data(fcinfo);
        if skipped() {
            return None;
        }
        Some(cstr(pg_sys::GetCommandTagName(data.tag)).unwrap_or_default())
    }
}

/// `ddl_command_end`: record what ran.
#[pg_guard]
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn fence_record(fcinfo: pg_sys::FunctionCallInfo) -> pg_sys::Datum {
    // SAFETY: see event_tag and trigger_data (the parse tree stays valid for the whole call).
    if let Some(tag) = unsafe { event_tag(fcinfo) } {
        let adds_partition = super::parsetree::adds_partition(unsafe { trigger_data(fcinfo) }.parsetree);
        crate::gate::record(&tag, adds_partition);
    }
    pg_sys::Datum::from(0)
}

/// `sql_drop`: record what the statement dropped.
#[pg_guard]
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn fence_dropped(fcinfo: pg_sys::FunctionCallInfo) -> pg_sys::Datum {
    // SAFETY: see event_tag.
    if let Some(tag) = unsafe { event_tag(fcinfo) } {
        crate::gate::dropped(&tag);
    }
    pg_sys::Datum::from(0)
}

/// `table_rewrite`: record the rewrite PostgreSQL is about to do.
#[pg_guard]
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn fence_rewrite(fcinfo: pg_sys::FunctionCallInfo) -> pg_sys::Datum {
    // SAFETY: see event_tag.
    if let Some(tag) = unsafe { event_tag(fcinfo) } {
        crate::gate::rewrite(&tag);
    }
    pg_sys::Datum::from(0)
}
