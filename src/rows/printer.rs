//! Printing row images and keys as JSON text straight from a row's values, as PostgreSQL's
//! `to_json(record)` prints them (and, for keys, as a `jsonb` value's canonical text), with
//! each column's printing worked out once per table instead of once per change: booleans and
//! numbers bare, other built-in scalars as their escaped output, and anything else (dates,
//! timestamps, arrays, composites, json, extension types) through PostgreSQL's own
//! `to_json(value)`. A key with a column of the last kind is printed by `to_jsonb` instead
//! (see `projection`).

use fence_core::json::{is_json_number, push_escaped};
use pgrx::pg_sys;

use crate::ffi::fmgr::{output_function, type_facts, Call, Function, MemoryContext};

/// How a column's values are printed.
enum Printer {
    Bool,
    /// A number type's output: bare when it is a JSON number.
    Number(Function),
    /// Any other built-in scalar's output, as a string.
    Text(Function),
    /// PostgreSQL's `to_json(value)` of the column's type.
    ToJson(Function),
}

struct PrintedColumn {
    /// Its position in the row (0-based).
    attnum: usize,
    /// `"name":` (`"name": ` for jsonb text).
    prefix: Vec<u8>,
    printer: Printer,
}

/// The columns of a projection, in print order, with their printers; the functions live in
/// the projection's memory context.
pub struct RowPrinter {
    columns: Vec<PrintedColumn>,
    separator: &'static [u8],
}

/// What PostgreSQL's `to_json` does with a type (json_categorize_type), for the types fence
/// prints itself.
enum Category {
    Bool,
    Number,
    Text,
}

/// One column of a projection: its position, name and type.
pub struct ColumnType<'a> {
    pub attnum: usize,
    pub name: &'a str,
    pub type_oid: pg_sys::Oid,
    pub typmod: i32,
    pub collation: pg_sys::Oid,
}

/// How fence prints a type itself (None: left to `to_json(value)`), and its output function.
fn category(type_oid: pg_sys::Oid) -> Option<(Category, pg_sys::Oid)> {
    let facts = type_facts(type_oid);
    let category = match facts.base {
        pg_sys::BOOLOID => Category::Bool,
        pg_sys::INT2OID
        | pg_sys::INT4OID
        | pg_sys::INT8OID
        | pg_sys::FLOAT4OID
        | pg_sys::FLOAT8OID
        | pg_sys::NUMERICOID => Category::Number,
        pg_sys::DATEOID | pg_sys::TIMESTAMPOID | pg_sys::TIMESTAMPTZOID | pg_sys::JSONOID | pg_sys::JSONBOID => {
            return None
        }
        base if base.to_u32() >= pg_sys::FirstNormalObjectId => return None, // it may have a cast to json
        _ if facts.container => return None,
        pg_sys::ANYARRAYOID | pg_sys::RECORDARRAYOID => return None,
        _ => Category::Text,
    };
    Some((category, output_function(facts.base)))
}

fn printer(column: &ColumnType, context: &MemoryContext) -> Option<Printer> {
    let (category, output) = category(column.type_oid)?;
    Some(match category {
        Category::Bool => Printer::Bool,
        Category::Number => Printer::Number(Function::new(output, None, context)),
        Category::Text => Printer::Text(Function::new(output, None, context)),
    })
}

fn prefix(name: &str, colon: &[u8]) -> Vec<u8> {
    let mut prefix = Vec::with_capacity(name.len() + 4);
    push_escaped(&mut prefix, name.as_bytes());
    prefix.extend_from_slice(colon);
    prefix
}

impl RowPrinter {
    /// The printer of `to_json(record)` of these columns (in this order); `context` must
    /// outlive it.
    pub fn json(columns: &[ColumnType], context: &MemoryContext) -> RowPrinter {
        let columns = columns
            .iter()
            .map(|column| {
                let printer = printer(column, context).unwrap_or_else(|| {
                    let call = Call {
                        result: pg_sys::JSONOID,
                        argument: column.type_oid,
                        typmod: column.typmod,
                        collation: column.collation,
                    };
                    Printer::ToJson(Function::new(pg_sys::Oid::from(pg_sys::F_TO_JSON), Some(call), context))
                });
                PrintedColumn { attnum: column.attnum, prefix: prefix(column.name, b":"), printer }
            })
            .collect();
        RowPrinter { columns, separator: b"," }
    }

    /// The printer of the canonical text of `to_jsonb(record)` of these columns (keys in
    /// `jsonb` order), or None when a column's `jsonb` form is not its printed output (floats,
    /// whose `jsonb` numbers print differently, and the types left to `to_json(value)`);
    /// `context` must outlive it.
    pub fn jsonb_text(columns: &[ColumnType], context: &MemoryContext) -> Option<RowPrinter> {
        let mut sorted: Vec<&ColumnType> = columns.iter().collect();
        sorted.sort_by(|a, b| fence_core::json::jsonb_key_order(a.name, b.name));
        let columns = sorted
            .into_iter()
            .map(|column| {
                let float = matches!(type_facts(column.type_oid).base, pg_sys::FLOAT4OID | pg_sys::FLOAT8OID);
                let printer = (!float).then(|| printer(column, context)).flatten()?;
                Some(PrintedColumn { attnum: column.attnum, prefix: prefix(column.name, b": "), printer })
            })
            .collect::<Option<Vec<_>>>()?;
        Some(RowPrinter { columns, separator: b", " })
    }

    /// The JSON text of one row's values (`values` and `nulls` of the whole table row, of the
    /// table the printer was built for): of every column of the printer, or of those at the
    /// positions of `only`.
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
            match column.printer {
                Printer::Bool => out.extend_from_slice(if value.value() != 0 { b"true" } else { b"false" }),
                Printer::Number(output) => {
                    let text = output.output(value);
                    if is_json_number(text) {
                        out.extend_from_slice(text);
                    } else {
                        push_escaped(&mut out, text);
                    }
                }
                Printer::Text(output) => push_escaped(&mut out, output.output(value)),
                Printer::ToJson(to_json) => out.extend_from_slice(to_json.json(value)),
            }
        }
        out.push(b'}');
        out
    }
}
