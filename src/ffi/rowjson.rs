//! Printing row images and keys as JSON text straight from a row's values, as PostgreSQL's
//! `to_json(record)` prints them (and, for keys, as a `jsonb` value's canonical text), with
//! each column's printing worked out once per table instead of once per change: booleans and
//! numbers bare, other built-in scalars as their escaped output, and anything else (dates,
//! timestamps, arrays, composites, json, extension types) through PostgreSQL's own
//! `to_json(value)`. A key with a column of the last kind is printed by `to_jsonb` instead
//! (see `rowtrigger`).

use std::ffi::CStr;

use fence_core::json::{is_json_number, push_escaped};
use pgrx::pg_sys;

/// How a column's values are printed.
enum Printer {
    Bool,
    /// A number type's output: bare when it is a JSON number.
    Number(*mut pg_sys::FmgrInfo),
    /// Any other built-in scalar's output, as a string.
    Text(*mut pg_sys::FmgrInfo),
    /// PostgreSQL's `to_json(value)` of the column's type.
    ToJson(*mut pg_sys::FmgrInfo),
}

struct PrintedColumn {
    /// Its position in the row (0-based).
    attnum: usize,
    /// `"name":` (`"name": ` for jsonb text).
    prefix: Vec<u8>,
    printer: Printer,
}

/// The columns of a projection, in print order, with their printers; the FmgrInfos live in
/// the projection's memory context.
pub struct RowPrinter {
    columns: Vec<PrintedColumn>,
    separator: &'static [u8],
}

/// What PostgreSQL's `to_json` does with a type (json_categorize_type), for the types fence
/// prints itself; None for those left to `to_json(value)`.
enum Category {
    Bool,
    Number,
    Text,
}

fn category(type_oid: pg_sys::Oid) -> Option<Category> {
    // SAFETY: catalog lookups by OID; they raise only if the type vanished.
    unsafe {
        let base = pg_sys::getBaseType(type_oid);
        match base {
            pg_sys::BOOLOID => Some(Category::Bool),
            pg_sys::INT2OID
            | pg_sys::INT4OID
            | pg_sys::INT8OID
            | pg_sys::FLOAT4OID
            | pg_sys::FLOAT8OID
            | pg_sys::NUMERICOID => Some(Category::Number),
            pg_sys::DATEOID | pg_sys::TIMESTAMPOID | pg_sys::TIMESTAMPTZOID | pg_sys::JSONOID | pg_sys::JSONBOID => {
                None
            }
            _ if base.to_u32() >= pg_sys::FirstNormalObjectId => None, // it may have a cast to json
            _ if pg_sys::get_element_type(base) != pg_sys::InvalidOid || pg_sys::type_is_rowtype(base) => None,
            pg_sys::ANYARRAYOID | pg_sys::RECORDARRAYOID => None,
            _ => Some(Category::Text),
        }
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

/// An FmgrInfo for `function` in `context`, with `call` as its expression if given.
///
/// # Safety
/// `context` must outlive every use of the result.
pub unsafe fn function_info(
    function: pg_sys::Oid,
    call: Option<Call>,
    context: pg_sys::MemoryContext,
) -> *mut pg_sys::FmgrInfo {
    // SAFETY: per the caller; everything is allocated in `context`.
    unsafe {
        let old = pg_sys::MemoryContextSwitchTo(context);
        let info: *mut pg_sys::FmgrInfo = pg_sys::palloc0(std::mem::size_of::<pg_sys::FmgrInfo>()).cast();
        pg_sys::fmgr_info_cxt(function, info, context);
        if let Some(call) = call {
            let value = pg_sys::makeNullConst(call.argument, call.typmod, call.collation);
            let args = pg_sys::list_make1_impl(pg_sys::NodeTag::T_List, pg_sys::ListCell { ptr_value: value.cast() });
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

/// One column of a projection: its position, name and type.
pub struct ColumnType<'a> {
    pub attnum: usize,
    pub name: &'a str,
    pub type_oid: pg_sys::Oid,
    pub typmod: i32,
    pub collation: pg_sys::Oid,
}

impl RowPrinter {
    /// The printer of `to_json(record)` of these columns (in this order).
    ///
    /// # Safety
    /// `context` must outlive the printer.
    pub unsafe fn json(columns: &[ColumnType], context: pg_sys::MemoryContext) -> RowPrinter {
        let columns = columns
            .iter()
            .map(|column| {
                // SAFETY: per the caller.
                let printer = unsafe { Self::printer(column, context) }.unwrap_or_else(|| {
                    let argument = Some(Call {
                        result: pg_sys::JSONOID,
                        argument: column.type_oid,
                        typmod: column.typmod,
                        collation: column.collation,
                    });
                    // SAFETY: per the caller.
                    Printer::ToJson(unsafe { function_info(pg_sys::Oid::from(pg_sys::F_TO_JSON), argument, context) })
                });
                PrintedColumn { attnum: column.attnum, prefix: prefix(column.name, b":"), printer }
            })
            .collect();
        RowPrinter { columns, separator: b"," }
    }

    /// The printer of the canonical text of `to_jsonb(record)` of these columns (keys in
    /// `jsonb` order), or None when a column's `jsonb` form is not its printed output (floats,
    /// whose `jsonb` numbers print differently, and the types left to `to_json(value)`).
    ///
    /// # Safety
    /// `context` must outlive the printer.
    pub unsafe fn jsonb_text(columns: &[ColumnType], context: pg_sys::MemoryContext) -> Option<RowPrinter> {
        let mut sorted: Vec<&ColumnType> = columns.iter().collect();
        sorted.sort_by(|a, b| fence_core::json::jsonb_key_order(a.name, b.name));
        let columns = sorted
            .into_iter()
            .map(|column| {
                // SAFETY: per the caller; the base type is looked up as in `category`.
                let float =
                    unsafe { matches!(pg_sys::getBaseType(column.type_oid), pg_sys::FLOAT4OID | pg_sys::FLOAT8OID) };
                // SAFETY: per the caller.
                let printer = (!float).then(|| unsafe { Self::printer(column, context) }).flatten()?;
                Some(PrintedColumn { attnum: column.attnum, prefix: prefix(column.name, b": "), printer })
            })
            .collect::<Option<Vec<_>>>()?;
        Some(RowPrinter { columns, separator: b", " })
    }

    /// # Safety
    /// `context` must outlive the printer.
    unsafe fn printer(column: &ColumnType, context: pg_sys::MemoryContext) -> Option<Printer> {
        let category = category(column.type_oid)?;
        // SAFETY: per the caller; getTypeOutputInfo raises only if the type vanished.
        unsafe {
            let base = pg_sys::getBaseType(column.type_oid);
            let (mut output, mut varlena) = (pg_sys::InvalidOid, false);
            pg_sys::getTypeOutputInfo(base, &mut output, &mut varlena);
            Some(match category {
                Category::Bool => Printer::Bool,
                Category::Number => Printer::Number(function_info(output, None, context)),
                Category::Text => Printer::Text(function_info(output, None, context)),
            })
        }
    }

    /// The JSON text of one row's values (`values` and `nulls` of the whole table row): of
    /// every column of the printer, or of those at the positions of `only`.
    pub fn print(&self, values: &[pg_sys::Datum], nulls: &[bool], only: Option<&[usize]>) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + 24 * self.columns.len());
        out.push(b'{');
        let printed = self.columns.iter().filter(|column| only.is_none_or(|only| only.contains(&column.attnum)));
        for (n, column) in printed.enumerate() {
            if n > 0 {
                out.extend_from_slice(self.separator);
            }
            out.extend_from_slice(&column.prefix);
            let (value, null) = (values[column.attnum], nulls[column.attnum]);
            if null {
                out.extend_from_slice(b"null");
                continue;
            }
            // SAFETY: the FmgrInfos are valid (the printer's context outlives it) and the
            // value is of the column's type; output functions and to_json return palloc'd
            // results in the trigger's memory context.
            unsafe {
                match column.printer {
                    Printer::Bool => out.extend_from_slice(if value.value() != 0 { b"true" } else { b"false" }),
                    Printer::Number(output) => {
                        let text = CStr::from_ptr(pg_sys::OutputFunctionCall(output, value)).to_bytes();
                        if is_json_number(text) {
                            out.extend_from_slice(text);
                        } else {
                            push_escaped(&mut out, text);
                        }
                    }
                    Printer::Text(output) => {
                        push_escaped(&mut out, CStr::from_ptr(pg_sys::OutputFunctionCall(output, value)).to_bytes())
                    }
                    Printer::ToJson(to_json) => {
                        let json = pg_sys::FunctionCall1Coll(to_json, pg_sys::InvalidOid, value);
                        out.extend_from_slice(pgrx::varlena::varlena_to_byte_slice(json.cast_mut_ptr()));
                    }
                }
            }
        }
        out.push(b'}');
        out
    }
}

fn prefix(name: &str, colon: &[u8]) -> Vec<u8> {
    let mut prefix = Vec::with_capacity(name.len() + 4);
    push_escaped(&mut prefix, name.as_bytes());
    prefix.extend_from_slice(colon);
    prefix
}
