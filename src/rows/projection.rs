//! The columns of a tracked table the row audit records — its key, and the row without its
//! excluded columns — and how each is printed, worked out once per table.

use pgrx::pg_sys;

use super::printer::{ColumnType, RowPrinter};
use crate::errors;
use crate::ffi::fmgr::{Field, MemoryContext, RecordType};
use crate::ffi::tuple::{self, Deformed, Firing, Image};

/// How a projection prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// `to_json` of the record: row images.
    Json,
    /// The canonical text of `to_jsonb` of the record: keys.
    JsonbText,
}

/// A subset of a table's columns and how to print them as JSON. Keys whose `jsonb` text
/// fence cannot print itself keep a record type of their own for `to_jsonb`. What it prepares
/// lives in its memory context, deleted with it (the last field: dropped last).
pub struct Projection {
    attnums: Vec<usize>,
    printer: Result<RowPrinter, RecordType>,
    _context: MemoryContext,
}

/// The table's columns, in order (dropped ones left out).
pub fn column_names(relid: pg_sys::Oid) -> Vec<String> {
    tuple::columns(relid).into_iter().map(|column| column.name).collect()
}

/// The columns of the table's primary key, else of its replica identity index; None when it
/// has neither.
pub fn key_columns(relid: pg_sys::Oid) -> Option<Vec<String>> {
    let attnums = tuple::key_attnums(relid)?;
    let columns = tuple::columns(relid);
    attnums.into_iter().map(|n| columns.iter().find(|c| c.attnum + 1 == n as usize).map(|c| c.name.clone())).collect()
}

/// Printed JSON as a string (what a database in another encoding than UTF-8 printed is
/// converted, as everything fence hashes is UTF-8).
fn utf8(printed: Vec<u8>) -> String {
    String::from_utf8(printed).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

impl Projection {
    /// The named columns of a table (in the order given), printed in `style`.
    pub fn new(relid: pg_sys::Oid, wanted: &[String], style: Style) -> Projection {
        let all = tuple::columns(relid);
        if all.is_empty() {
            errors::not_found(format!("relation {} does not exist", relid.to_u32())).raise();
        }
        let picked: Vec<ColumnType> = wanted
            .iter()
            .filter_map(|w| all.iter().find(|c| &c.name == w))
            .map(|c| ColumnType {
                attnum: c.attnum,
                name: &c.name,
                type_oid: c.type_oid,
                typmod: c.typmod,
                collation: c.collation,
            })
            .collect();
        let context = MemoryContext::new(c"fence row projection");
        let printer = match style {
            Style::Json => Ok(RowPrinter::json(&picked, &context)),
            Style::JsonbText => RowPrinter::jsonb_text(&picked, &context).ok_or_else(|| {
                let fields: Vec<Field> = picked
                    .iter()
                    .map(|c| Field { name: c.name, type_oid: c.type_oid, typmod: c.typmod, collation: c.collation })
                    .collect();
                RecordType::bless(&fields, &context)
            }),
        };
        Projection { attnums: picked.iter().map(|c| c.attnum).collect(), printer, _context: context }
    }

    fn print(&self, tuple: &Deformed, only: Option<&[usize]>) -> Option<Vec<u8>> {
        self.printer.as_ref().ok().map(|printer| printer.print(tuple.values, tuple.nulls, only))
    }

    /// The columns of the projection whose values an UPDATE changed; none when it left them
    /// all as they were (or when the firing is not an UPDATE).
    pub fn changed(&self, firing: &Firing) -> Vec<usize> {
        firing.differing(&self.attnums).collect()
    }

    /// Whether an UPDATE left every column of the projection as it was.
    pub fn unchanged(&self, firing: &Firing) -> bool {
        firing.differing(&self.attnums).next().is_none()
    }

    /// The columns of the projection (those of `only` if given) of one image of the row, as
    /// `json`: what PostgreSQL's `to_json` of the record prints, stored as printed.
    pub fn row_image(&self, firing: &Firing, which: Image, only: Option<&[usize]>) -> Option<String> {
        let tuple = firing.tuple(which)?;
        Some(utf8(self.print(&tuple, only)?))
    }

    /// The columns of the projection of one image of the row as the canonical text of their
    /// `jsonb` value (for keys: row_history compares them as `jsonb`), stored as `json`.
    pub fn key_image(&self, firing: &Firing, which: Image) -> Option<String> {
        let tuple = firing.tuple(which)?;
        if let Some(printed) = self.print(&tuple, None) {
            return Some(utf8(printed));
        }
        let Err(record) = &self.printer else { return None };
        let values: Vec<pg_sys::Datum> = self.attnums.iter().map(|&i| tuple.values[i]).collect();
        let mut nulls: Vec<bool> = self.attnums.iter().map(|&i| tuple.nulls[i]).collect();
        record.jsonb_text(&values, &mut nulls)
    }
}
