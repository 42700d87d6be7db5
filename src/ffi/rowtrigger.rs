//! The row trigger of tracked tables (`fence.record_row_change()`), written as a V1 C
//! function: it reads the trigger's tuples, turns the tracked columns into `jsonb` with
//! PostgreSQL's own `to_json` (keys: `to_jsonb`), and inserts the change straight into its month's partition of
//! `fence.row_changes` (heap and index insert, no SPI, no executor, no permission check: the
//! writing role has no rights on fence's tables and needs none). What to record is decided
//! by the row audit (`crate::rows`).

use std::cell::Cell;
use std::ffi::CString;

use pgrx::pg_sys;
use pgrx::prelude::*;

use super::error::{invalid_parameter, Error};
use super::nodes::cstr;
use super::relcache::with_relation;
use super::rowjson::{function_info, Call, ColumnType, RowPrinter};

/// The operation that fired the trigger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Insert,
    Update,
    Delete,
    Truncate,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Insert => "INSERT",
            Operation::Update => "UPDATE",
            Operation::Delete => "DELETE",
            Operation::Truncate => "TRUNCATE",
        }
    }
}

/// One firing of the trigger: the table and its tuples, deformed once.
pub struct Firing {
    pub relid: pg_sys::Oid,
    pub operation: Operation,
    desc: pg_sys::TupleDesc,
    /// The values and nulls of the old row's columns then of the new row's (of those the
    /// operation has), in two allocations.
    values: Vec<pg_sys::Datum>,
    nulls: Vec<bool>,
    /// Where each image starts in `values` and `nulls`.
    old: Option<usize>,
    new: Option<usize>,
}

/// One image of the row: every column's value and null flag.
struct Deformed<'a> {
    values: &'a [pg_sys::Datum],
    nulls: &'a [bool],
}

/// Which image of the row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Image {
    Old,
    New,
}

/// A subset of a table's columns and how to print them as JSON. Keys whose `jsonb` text
/// fence cannot print itself keep a record type of their own (registered with
/// `BlessTupleDesc`) for `to_jsonb`. Everything lives in the projection's memory context,
/// deleted with it.
pub struct Projection {
    attnums: Vec<usize>,
    printer: Result<RowPrinter, pg_sys::TupleDesc>,
    context: pg_sys::MemoryContext,
}

impl Drop for Projection {
    fn drop(&mut self) {
        // SAFETY: the context is this projection's own; nothing else points into it (a
        // blessed descriptor is copied into the type cache).
        unsafe { pg_sys::MemoryContextDelete(self.context) }
    }
}

/// The firing an AFTER INSERT / UPDATE / DELETE FOR EACH ROW or AFTER TRUNCATE FOR EACH
/// STATEMENT trigger call is about; anything else is refused.
///
/// # Safety
/// `fcinfo` must be the call info the function manager passed to the trigger function.
pub unsafe fn firing(fcinfo: pg_sys::FunctionCallInfo) -> Result<Firing, Error> {
    // SAFETY: per the caller; `context` is checked by tag before the cast; the tuples and the
    // relation stay valid for the whole call (the executor owns them).
    unsafe {
        let context = (*fcinfo).context;
        if context.is_null() || (*context).type_ != pg_sys::NodeTag::T_TriggerData {
            return Err(invalid_parameter("fence.record_row_change() can only be called as a trigger"));
        }
        let data = &*(context as *const pg_sys::TriggerData);
        let event = data.tg_event;
        let after = event & pg_sys::TRIGGER_EVENT_TIMINGMASK == pg_sys::TRIGGER_EVENT_AFTER;
        let row = event & pg_sys::TRIGGER_EVENT_ROW != 0;
        let operation = match event & pg_sys::TRIGGER_EVENT_OPMASK {
            pg_sys::TRIGGER_EVENT_INSERT if row => Operation::Insert,
            pg_sys::TRIGGER_EVENT_UPDATE if row => Operation::Update,
            pg_sys::TRIGGER_EVENT_DELETE if row => Operation::Delete,
            pg_sys::TRIGGER_EVENT_TRUNCATE if !row => Operation::Truncate,
            _ => {
                return Err(invalid_parameter(
                    "fence.record_row_change() must fire AFTER each row of INSERT/UPDATE/DELETE or AFTER TRUNCATE",
                )
                .hint("Install it with fence.track_table()."))
            }
        };
        if !after {
            return Err(invalid_parameter("fence.record_row_change() must be an AFTER trigger"));
        }
        let rel = data.tg_relation;
        let (old, new) = match operation {
            Operation::Insert => (std::ptr::null_mut(), data.tg_trigtuple),
            Operation::Update => (data.tg_trigtuple, data.tg_newtuple),
            Operation::Delete => (data.tg_trigtuple, std::ptr::null_mut()),
            Operation::Truncate => (std::ptr::null_mut(), std::ptr::null_mut()),
        };
        Ok(Firing::deform((*rel).rd_id, operation, (*rel).rd_att, old, new))
    }
}

/// The attribute at 0-based `index` of a tuple descriptor.
///
/// # Safety
/// `desc` must be valid and `index < natts`.
pub(super) unsafe fn attribute<'a>(desc: pg_sys::TupleDesc, index: usize) -> &'a pg_sys::FormData_pg_attribute {
    // SAFETY: per the caller.
    unsafe { &*(*desc).attrs.as_ptr().add(index) }
}

/// Byte-wise equality of two values of one attribute (an unchanged TOASTed value keeps its
/// pointer, so it compares equal without being fetched).
unsafe fn same_value(a: pg_sys::Datum, b: pg_sys::Datum, attr: &pg_sys::FormData_pg_attribute) -> bool {
    // SAFETY: both values are of `attr`'s type, from deformed tuples still in memory.
    unsafe {
        if attr.attbyval {
            a == b
        } else if attr.attlen > 0 {
            let n = attr.attlen as usize;
            std::slice::from_raw_parts(a.cast_mut_ptr::<u8>(), n)
                == std::slice::from_raw_parts(b.cast_mut_ptr::<u8>(), n)
        } else if attr.attlen == -1 {
            let (x, y) = (a.cast_mut_ptr::<pg_sys::varlena>(), b.cast_mut_ptr::<pg_sys::varlena>());
            let (n, m) = (pgrx::varsize_any(x), pgrx::varsize_any(y));
            n == m && std::slice::from_raw_parts(x.cast::<u8>(), n) == std::slice::from_raw_parts(y.cast::<u8>(), m)
        } else {
            std::ffi::CStr::from_ptr(a.cast_mut_ptr()) == std::ffi::CStr::from_ptr(b.cast_mut_ptr())
        }
    }
}

impl Firing {
    /// Deforms the tuples of a firing (either may be null).
    ///
    /// # Safety
    /// The tuples must be valid heap tuples of `desc`, the trigger's relation's descriptor.
    unsafe fn deform(
        relid: pg_sys::Oid,
        operation: Operation,
        desc: pg_sys::TupleDesc,
        old: pg_sys::HeapTuple,
        new: pg_sys::HeapTuple,
    ) -> Firing {
        // SAFETY: per the caller; each image gets `natts` slots of both vectors.
        unsafe {
            let natts = (*desc).natts as usize;
            let images = usize::from(!old.is_null()) + usize::from(!new.is_null());
            let mut values = vec![pg_sys::Datum::from(0); natts * images];
            let mut nulls = vec![false; natts * images];
            let mut next = 0;
            let mut deform = |tuple: pg_sys::HeapTuple| {
                (!tuple.is_null()).then(|| {
                    let at = next;
                    pg_sys::heap_deform_tuple(tuple, desc, values[at..].as_mut_ptr(), nulls[at..].as_mut_ptr());
                    next += natts;
                    at
                })
            };
            let (old, new) = (deform(old), deform(new));
            Firing { relid, operation, desc, values, nulls, old, new }
        }
    }

    /// The columns of `columns` (attribute positions) whose values an UPDATE changed; none
    /// when it left them all as they were (or when the firing is not an UPDATE).
    pub fn changed(&self, columns: &Projection) -> Vec<usize> {
        self.differing(columns).collect()
    }

    /// Whether an UPDATE left every column of `columns` as it was.
    pub fn unchanged(&self, columns: &Projection) -> bool {
        self.differing(columns).next().is_none()
    }

    /// The columns of `columns` whose old and new values differ (none unless the firing is an
    /// UPDATE).
    fn differing<'s>(&'s self, columns: &'s Projection) -> impl Iterator<Item = usize> + 's {
        let images = self.tuple(Image::Old).zip(self.tuple(Image::New));
        columns.attnums.iter().copied().filter(move |&i| {
            let Some((old, new)) = &images else { return false };
            match (old.nulls[i], new.nulls[i]) {
                (true, true) => false,
                // SAFETY: `i` is an attribute of this table (projections are built from its
                // descriptor and dropped when it changes).
                (false, false) => unsafe { !same_value(old.values[i], new.values[i], attribute(self.desc, i)) },
                _ => true,
            }
        })
    }

    fn tuple(&self, which: Image) -> Option<Deformed<'_>> {
        let at = match which {
            Image::Old => self.old,
            Image::New => self.new,
        }?;
        // SAFETY: `desc` is the trigger's relation's descriptor, valid for the firing.
        let natts = unsafe { (*self.desc).natts as usize };
        Some(Deformed { values: &self.values[at..at + natts], nulls: &self.nulls[at..at + natts] })
    }

    /// The columns of `projection` (those of `only` if given) of one image of the row, as
    /// `json`: what PostgreSQL's `to_json` of the record prints, stored as printed.
    pub fn row_image(&self, which: Image, projection: &Projection, only: Option<&[usize]>) -> Option<String> {
        let tuple = self.tuple(which)?;
        Some(utf8(projection.print(&tuple, only)?))
    }

    /// The columns of `projection` of one image of the row as the canonical text of their
    /// `jsonb` value (for keys: row_history compares them as `jsonb`), stored as `json`.
    pub fn key_image(&self, which: Image, projection: &Projection) -> Option<String> {
        let tuple = self.tuple(which)?;
        if let Some(printed) = projection.print(&tuple, None) {
            return Some(utf8(printed));
        }
        let Err(desc) = projection.printer else { return None };
        let values: Vec<pg_sys::Datum> = projection.attnums.iter().map(|&i| tuple.values[i]).collect();
        let mut nulls: Vec<bool> = projection.attnums.iter().map(|&i| tuple.nulls[i]).collect();
        // SAFETY: the projection's descriptor has exactly these attributes, in this order;
        // HeapTupleHeaderGetDatum flattens TOASTed values into the composite datum; to_jsonb
        // returns a jsonb datum (detoasted in case) and jsonb_out's printer gives
        // PostgreSQL's canonical text of it.
        unsafe {
            let formed = pg_sys::heap_form_tuple(desc, values.as_ptr().cast_mut(), nulls.as_mut_ptr());
            let datum = to_jsonb(pg_sys::HeapTupleHeaderGetDatum((*formed).t_data));
            let jsonb = pg_sys::pg_detoast_datum(datum.cast_mut_ptr()).cast::<pg_sys::Jsonb>();
            let size = pgrx::varsize_any(jsonb.cast()) as i32;
            cstr(pg_sys::JsonbToCString(std::ptr::null_mut(), &mut (*jsonb).root, size))
        }
    }
}

impl Projection {
    fn print(&self, tuple: &Deformed, only: Option<&[usize]>) -> Option<Vec<u8>> {
        self.printer.as_ref().ok().map(|printer| printer.print(tuple.values, tuple.nulls, only))
    }
}

/// Printed JSON as a string (what a database in another encoding than UTF-8 printed is
/// converted, as everything fence hashes is UTF-8).
fn utf8(printed: Vec<u8>) -> String {
    String::from_utf8(printed).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

thread_local! {
    /// `to_jsonb(record)` with a call expression, as the function manager needs to know the
    /// argument's type (built once per backend, in TopMemoryContext).
    static TO_JSONB: Cell<*mut pg_sys::FmgrInfo> = const { Cell::new(std::ptr::null_mut()) };
}

fn to_jsonb(record: pg_sys::Datum) -> pg_sys::Datum {
    // SAFETY: the FmgrInfo and its expression live in TopMemoryContext for the backend's
    // life; to_jsonb reads the record's type from the datum and returns a palloc'd value.
    unsafe {
        let mut flinfo = TO_JSONB.with(Cell::get);
        if flinfo.is_null() {
            let call = Call {
                result: pg_sys::JSONBOID,
                argument: pg_sys::RECORDOID,
                typmod: -1,
                collation: pg_sys::InvalidOid,
            };
            flinfo = function_info(pg_sys::Oid::from(pg_sys::F_TO_JSONB), Some(call), pg_sys::TopMemoryContext);
            TO_JSONB.with(|t| t.set(flinfo));
        }
        pg_sys::FunctionCall1Coll(flinfo, pg_sys::InvalidOid, record)
    }
}

/// The columns (non-dropped) of a table, in order, with their 0-based positions.
fn columns(relid: pg_sys::Oid) -> Vec<(usize, String)> {
    // SAFETY: the descriptor is read while the entry is open; names are copied out.
    with_relation(relid, |rel| unsafe {
        let desc = (*rel).rd_att;
        (0..(*desc).natts as usize)
            .filter_map(|i| {
                let attr = attribute(desc, i);
                (!attr.attisdropped).then(|| (i, cstr(attr.attname.data.as_ptr()).unwrap_or_default()))
            })
            .collect()
    })
    .unwrap_or_default()
}

/// The table's columns, in order (dropped ones left out).
pub fn column_names(relid: pg_sys::Oid) -> Vec<String> {
    columns(relid).into_iter().map(|(_, name)| name).collect()
}

/// The columns of the table's primary key, else of its replica identity index; None when it
/// has neither.
pub fn key_columns(relid: pg_sys::Oid) -> Option<Vec<String>> {
    // SAFETY: the table's key index OIDs and the index's pg_index row are read while their
    // entries are open.
    let index = with_relation(relid, |rel| unsafe {
        let primary = pg_sys::RelationGetPrimaryKeyIndex(rel);
        if primary == pg_sys::InvalidOid {
            pg_sys::RelationGetReplicaIndex(rel)
        } else {
            primary
        }
    })
    .filter(|&index| index != pg_sys::InvalidOid)?;
    // SAFETY: the index's pg_index row is read while its entry is open.
    let attnums = with_relation(index, |rel| unsafe {
        let form = &*(*rel).rd_index;
        form.indkey.values.as_slice(form.indnkeyatts as usize).to_vec()
    })?;
    let names = columns(relid);
    attnums
        .into_iter()
        .map(|n| names.iter().find(|(i, _)| *i + 1 == n as usize).map(|(_, name)| name.clone()))
        .collect()
}

/// How a projection prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// `to_json` of the record: row images.
    Json,
    /// The canonical text of `to_jsonb` of the record: keys.
    JsonbText,
}

/// The named columns of a table (in the order given), printed in `style`.
pub fn projection(relid: pg_sys::Oid, wanted: &[String], style: Style) -> Projection {
    let all = columns(relid);
    let picked: Vec<(usize, &String)> =
        wanted.iter().filter_map(|w| all.iter().find(|(_, name)| name == w).map(|(i, name)| (*i, name))).collect();
    // SAFETY: the relation is opened without a lock only to read attribute types; what the
    // projection keeps lives in its own memory context (projections are cached across
    // transactions); BlessTupleDesc registers a descriptor as an anonymous record type of
    // this backend.
    unsafe {
        let rel = pg_sys::RelationIdGetRelation(relid);
        if rel.is_null() {
            Error::new(PgSqlErrorCode::ERRCODE_UNDEFINED_OBJECT, format!("relation {} does not exist", relid.to_u32()))
                .raise();
        }
        let source = (*rel).rd_att;
        let context = pg_sys::AllocSetContextCreateExtended(
            pg_sys::TopMemoryContext,
            c"fence row projection".as_ptr(),
            pg_sys::ALLOCSET_SMALL_MINSIZE as usize,
            pg_sys::ALLOCSET_SMALL_INITSIZE as usize,
            pg_sys::ALLOCSET_SMALL_MAXSIZE as usize,
        );
        let types: Vec<ColumnType> = picked
            .iter()
            .map(|&(i, name)| {
                let attr = attribute(source, i);
                ColumnType {
                    attnum: i,
                    name,
                    type_oid: attr.atttypid,
                    typmod: attr.atttypmod,
                    collation: attr.attcollation,
                }
            })
            .collect();
        let printer = match style {
            Style::Json => Ok(RowPrinter::json(&types, context)),
            Style::JsonbText => RowPrinter::jsonb_text(&types, context).ok_or_else(|| {
                let old = pg_sys::MemoryContextSwitchTo(context);
                let desc = pg_sys::CreateTemplateTupleDesc(types.len() as i32);
                for (n, column) in types.iter().enumerate() {
                    let name = CString::new(column.name).unwrap_or_default();
                    let n = (n + 1) as i16;
                    pg_sys::TupleDescInitEntry(desc, n, name.as_ptr(), column.type_oid, column.typmod, 0);
                    pg_sys::TupleDescInitEntryCollation(desc, n, column.collation);
                }
                let desc = pg_sys::BlessTupleDesc(desc);
                pg_sys::MemoryContextSwitchTo(old);
                desc
            }),
        };
        pg_sys::RelationClose(rel);
        Projection { attnums: picked.into_iter().map(|(i, _)| i).collect(), printer, context }
    }
}
