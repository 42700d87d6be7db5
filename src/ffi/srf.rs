//! Calling a set-returning function of the server directly, as the executor calls one in
//! materialize mode, without planning a query for it: an event trigger's information functions
//! (`pg_event_trigger_ddl_commands()`, `pg_event_trigger_dropped_objects()`), read on every
//! DDL statement.

use pgrx::pg_sys;

use super::nodes::cstr;

/// The objects the statement being ended created or altered: `pg_event_trigger_ddl_commands()`
/// (in a `ddl_command_end` event trigger), each of `columns` as text.
pub fn ddl_commands(columns: &[&str]) -> Vec<Vec<Option<String>>> {
    text_rows(pg_sys::Oid::from(pg_sys::F_PG_EVENT_TRIGGER_DDL_COMMANDS), columns)
}

/// The objects the statement dropped (CASCADE included): `pg_event_trigger_dropped_objects()`
/// (in a `sql_drop` event trigger), each of `columns` as text.
pub fn dropped_objects(columns: &[&str]) -> Vec<Vec<Option<String>>> {
    text_rows(pg_sys::Oid::from(pg_sys::F_PG_EVENT_TRIGGER_DROPPED_OBJECTS), columns)
}

/// The rows of the server's set-returning function `function` (no arguments, a record),
/// each of `columns` as text, as its type's output function writes it (NULL as None; a column
/// it does not have is None too). An ERROR it raises (called outside an event trigger, say)
/// is raised here.
fn text_rows(function: pg_sys::Oid, columns: &[&str]) -> Vec<Vec<Option<String>>> {
    let mut flinfo = pg_sys::FmgrInfo::default();
    // SAFETY: looks the built-in function up; the FmgrInfo lives on this stack for the call.
    unsafe { pg_sys::fmgr_info(function, &mut flinfo) };
    let Some(call) = flinfo.fn_addr else { return Vec::new() };
    // SAFETY: an expression context in the current memory context, freed below.
    let econtext = unsafe { pg_sys::CreateStandaloneExprContext() };
    let mut rsinfo = pg_sys::ReturnSetInfo {
        type_: pg_sys::NodeTag::T_ReturnSetInfo,
        econtext,
        allowedModes: (pg_sys::SetFunctionReturnMode::SFRM_ValuePerCall as i32)
            | (pg_sys::SetFunctionReturnMode::SFRM_Materialize as i32),
        returnMode: pg_sys::SetFunctionReturnMode::SFRM_ValuePerCall,
        ..Default::default()
    };
    // SAFETY: a call info without arguments (zeroed: no argument slot is read), pointing at the
    // FmgrInfo and the ReturnSetInfo on this stack, as ExecMakeTableFunctionResult calls a
    // function in materialize mode; an ERROR crosses back through pgrx's guard.
    unsafe {
        let fcinfo =
            pg_sys::palloc0(std::mem::size_of::<pg_sys::FunctionCallInfoBaseData>()) as pg_sys::FunctionCallInfo;
        (*fcinfo).flinfo = &mut flinfo;
        (*fcinfo).resultinfo = std::ptr::addr_of_mut!(rsinfo).cast();
        pg_sys::ffi::pg_guard_ffi_boundary(|| call(fcinfo));
    }
    let rows = if rsinfo.setResult.is_null() || rsinfo.setDesc.is_null() {
        Vec::new()
    } else {
        read(rsinfo.setResult, rsinfo.setDesc, columns)
    };
    // SAFETY: the context made above; freeing it runs its shutdown callbacks (none here).
    unsafe { pg_sys::FreeExprContext(econtext, true) };
    rows
}

/// The text columns of every tuple of a materialized result, which it ends.
fn read(set: *mut pg_sys::Tuplestorestate, desc: pg_sys::TupleDesc, columns: &[&str]) -> Vec<Vec<Option<String>>> {
    // Each column's number and, unless it is text (read as it is: most are), its type's
    // output function.
    let outputs: Vec<Option<(i32, Option<pg_sys::Oid>)>> = columns
        .iter()
        .map(|name| {
            // SAFETY: the result's descriptor; the attribute number is within it.
            let attnum = unsafe { super::compat::attribute_number(desc, name, None) }?;
            // SAFETY: as above.
            let type_oid = unsafe { super::compat::attribute(desc, attnum as usize - 1) }.atttypid;
            if type_oid == pg_sys::TEXTOID {
                return Some((attnum, None));
            }
            let (mut output, mut varlena) = (pg_sys::InvalidOid, false);
            // SAFETY: a catalog look-up of the column's type (an ERROR if it has none).
            unsafe { pg_sys::getTypeOutputInfo(type_oid, &mut output, &mut varlena) };
            Some((attnum, Some(output)))
        })
        .collect();
    // SAFETY: a slot for the result's tuples (minimal tuples, as tuplestores hold them),
    // dropped below.
    let slot = unsafe { pg_sys::MakeSingleTupleTableSlot(desc, &pg_sys::TTSOpsMinimalTuple) };
    let mut rows = Vec::new();
    // SAFETY: the next tuple into the slot (false: none left).
    while unsafe { pg_sys::tuplestore_gettupleslot(set, true, false, slot) } {
        let row = outputs
            .iter()
            .map(|output| {
                let (attnum, function) = (*output)?;
                let mut null = false;
                // SAFETY: an attribute of the tuple in the slot, written out while it is there.
                let value = unsafe { pg_sys::slot_getattr(slot, attnum, &mut null) };
                if null {
                    return None;
                }
                // SAFETY: as above; text_to_cstring and the type's output function make a
                // NUL-terminated copy.
                cstr(unsafe {
                    match function {
                        None => pg_sys::text_to_cstring(value.cast_mut_ptr()),
                        Some(function) => pg_sys::OidOutputFunctionCall(function, value),
                    }
                })
            })
            .collect();
        rows.push(row);
    }
    // SAFETY: the slot and the tuplestore of this call, no longer read.
    unsafe {
        pg_sys::ExecDropSingleTupleTableSlot(slot);
        pg_sys::tuplestore_end(set);
    }
    rows
}
