//! Calling the server's functions on values: a type's output function, `to_json` and
//! `to_jsonb`, prepared once (in a memory context that lives as long as what uses them) and
//! called per value; and what the row printer needs to know of a type.

use std::cell::Cell;
use std::ffi::{CStr, CString};

use pgrx::pg_sys;

use super::nodes::cstr;

/// A memory context under TopMemoryContext (it outlives transactions), deleted when dropped.
pub struct MemoryContext(pg_sys::MemoryContext);

impl MemoryContext {
    pub fn new(name: &'static CStr) -> MemoryContext {
        // SAFETY: a small context under TopMemoryContext; deleted by Drop.
        MemoryContext(unsafe {
            pg_sys::AllocSetContextCreateExtended(
                pg_sys::TopMemoryContext,
                name.as_ptr(),
                pg_sys::ALLOCSET_SMALL_MINSIZE as usize,
                pg_sys::ALLOCSET_SMALL_INITSIZE as usize,
                pg_sys::ALLOCSET_SMALL_MAXSIZE as usize,
            )
        })
    }
}

impl Drop for MemoryContext {
    fn drop(&mut self) {
        // SAFETY: the context is this value's own; what lives there (FmgrInfos, a blessed
        // descriptor's copy) is only used by values dropped before it.
        unsafe { pg_sys::MemoryContextDelete(self.0) }
    }
}

/// A one-argument call expression: what a polymorphic function (`to_json(anyelement)`,
/// `to_jsonb(record)`) reads its argument's type from.
pub struct Call {
    pub result: pg_sys::Oid,
    pub argument: pg_sys::Oid,
    pub typmod: i32,
    pub collation: pg_sys::Oid,
}

/// A function of the server, ready to be called (its FmgrInfo lives in the memory context it
/// was prepared in, which must outlive it).
#[derive(Clone, Copy)]
pub struct Function(*mut pg_sys::FmgrInfo);

impl Function {
    /// Prepares `function` in `context`, with `call` as its expression if given.
    pub fn new(function: pg_sys::Oid, call: Option<Call>, context: &MemoryContext) -> Function {
        Function(Self::info(function, call, context.0))
    }

    fn info(function: pg_sys::Oid, call: Option<Call>, context: pg_sys::MemoryContext) -> *mut pg_sys::FmgrInfo {
        // SAFETY: everything is allocated in `context`, which the caller keeps alive.
        unsafe {
            let old = pg_sys::MemoryContextSwitchTo(context);
            let info: *mut pg_sys::FmgrInfo = pg_sys::palloc0(std::mem::size_of::<pg_sys::FmgrInfo>()).cast();
            pg_sys::fmgr_info_cxt(function, info, context);
            if let Some(call) = call {
                let value = pg_sys::makeNullConst(call.argument, call.typmod, call.collation);
                let args =
                    pg_sys::list_make1_impl(pg_sys::NodeTag::T_List, pg_sys::ListCell { ptr_value: value.cast() });
                let call = pg_sys::makeFuncExpr(
                    function,
                    call.result,
                    args,
                    pg_sys::InvalidOid,
                    pg_sys::InvalidOid,
                    pg_sys::CoercionForm::COERCE_EXPLICIT_CALL,
                );
                (*info).fn_expr = call.cast();
            }
            pg_sys::MemoryContextSwitchTo(old);
            info
        }
    }

    /// The bytes an output function prints for `value` (of its type), palloc'd in the
    /// current memory context.
    pub fn output<'a>(self, value: pg_sys::Datum) -> &'a [u8] {
        // SAFETY: the FmgrInfo is valid (its context outlives it) and the caller passes a value
        // of the function's type; the result is a NUL-terminated string in the current memory
        // context (the trigger's, reset after the call).
        unsafe { CStr::from_ptr(pg_sys::OutputFunctionCall(self.0, value)).to_bytes() }
    }

    /// The text of the `json` value the function (`to_json`) returns for `value`, palloc'd in
    /// the current memory context.
    pub fn json<'a>(self, value: pg_sys::Datum) -> &'a [u8] {
        // SAFETY: as `output`; to_json returns a json (text) varlena.
        unsafe {
            let json = pg_sys::FunctionCall1Coll(self.0, pg_sys::InvalidOid, value);
            pgrx::varlena::varlena_to_byte_slice(json.cast_mut_ptr())
        }
    }
}

/// What the row printer needs to know of a column's type.
pub struct TypeFacts {
    /// The type itself, or a domain's base type.
    pub base: pg_sys::Oid,
    /// An array or composite type.
    pub container: bool,
}

pub fn type_facts(type_oid: pg_sys::Oid) -> TypeFacts {
    // SAFETY: catalog lookups by OID; they raise only if the type vanished.
    unsafe {
        let base = pg_sys::getBaseType(type_oid);
        let container = pg_sys::get_element_type(base) != pg_sys::InvalidOid || pg_sys::type_is_rowtype(base);
        TypeFacts { base, container }
    }
}

/// A type's output function.
pub fn output_function(type_oid: pg_sys::Oid) -> pg_sys::Oid {
    let (mut output, mut varlena) = (pg_sys::InvalidOid, false);
    // SAFETY: a catalog lookup by OID; it raises only if the type vanished.
    unsafe { pg_sys::getTypeOutputInfo(type_oid, &mut output, &mut varlena) };
    output
}

/// One column of a record type: its name and type.
pub struct Field<'a> {
    pub name: &'a str,
    pub type_oid: pg_sys::Oid,
    pub typmod: i32,
    pub collation: pg_sys::Oid,
}

/// An anonymous record type of this backend (a blessed descriptor, its copy in `context`).
pub struct RecordType(pg_sys::TupleDesc);

thread_local! {
    /// `to_jsonb(record)` with a call expression, as the function manager needs to know the
    /// argument's type (built once per backend, in TopMemoryContext).
    static TO_JSONB: Cell<*mut pg_sys::FmgrInfo> = const { Cell::new(std::ptr::null_mut()) };
}

impl RecordType {
    /// A record type of these fields, in this order.
    pub fn bless(fields: &[Field], context: &MemoryContext) -> RecordType {
        // SAFETY: the descriptor is built in `context`; BlessTupleDesc registers it as an
        // anonymous record type of this backend (the type cache keeps a copy).
        unsafe {
            let old = pg_sys::MemoryContextSwitchTo(context.0);
            let desc = pg_sys::CreateTemplateTupleDesc(fields.len() as i32);
            for (n, field) in fields.iter().enumerate() {
                let name = CString::new(field.name).unwrap_or_default();
                let n = (n + 1) as i16;
                pg_sys::TupleDescInitEntry(desc, n, name.as_ptr(), field.type_oid, field.typmod, 0);
                pg_sys::TupleDescInitEntryCollation(desc, n, field.collation);
            }
            let desc = pg_sys::BlessTupleDesc(desc);
            pg_sys::MemoryContextSwitchTo(old);
            RecordType(desc)
        }
    }

    /// The canonical text of `to_jsonb` of a record of this type with these values (one per
    /// field, of its type).
    pub fn jsonb_text(&self, values: &[pg_sys::Datum], nulls: &mut [bool]) -> Option<String> {
        // SAFETY: the descriptor has exactly these fields, in this order (the caller's
        // contract); HeapTupleHeaderGetDatum flattens TOASTed values into the composite datum;
        // to_jsonb returns a jsonb datum (detoasted in case) and jsonb_out's printer gives
        // PostgreSQL's canonical text of it.
        unsafe {
            let formed = pg_sys::heap_form_tuple(self.0, values.as_ptr().cast_mut(), nulls.as_mut_ptr());
            let datum = to_jsonb(pg_sys::HeapTupleHeaderGetDatum((*formed).t_data));
            let jsonb = pg_sys::pg_detoast_datum(datum.cast_mut_ptr()).cast::<pg_sys::Jsonb>();
            let size = pgrx::varsize_any(jsonb.cast()) as i32;
            cstr(pg_sys::JsonbToCString(std::ptr::null_mut(), &mut (*jsonb).root, size))
        }
    }
}

fn to_jsonb(record: pg_sys::Datum) -> pg_sys::Datum {
    let mut flinfo = TO_JSONB.with(Cell::get);
    if flinfo.is_null() {
        let call =
            Call { result: pg_sys::JSONBOID, argument: pg_sys::RECORDOID, typmod: -1, collation: pg_sys::InvalidOid };
        // SAFETY: reads the backend-global TopMemoryContext, which lives as long as the backend.
        let top = unsafe { pg_sys::TopMemoryContext };
        flinfo = Function::info(pg_sys::Oid::from(pg_sys::F_TO_JSONB), Some(call), top);
        TO_JSONB.with(|t| t.set(flinfo));
    }
    // SAFETY: the FmgrInfo and its expression live in TopMemoryContext for the backend's life;
    // to_jsonb reads the record's type from the datum and returns a palloc'd value.
    unsafe { pg_sys::FunctionCall1Coll(flinfo, pg_sys::InvalidOid, record) }
}
