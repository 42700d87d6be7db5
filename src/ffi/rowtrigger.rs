//! The row trigger of tracked tables (`fence.record_row_change()`), written as a V1 C
//! function: it reads the trigger's tuples, turns the tracked columns into `jsonb` with
//! PostgreSQL's own `to_jsonb`, and inserts the change straight into its month's partition of
//! `fence.row_changes` (heap and index insert, no SPI, no executor, no permission check: the
//! writing role has no rights on fence's tables and needs none). What to record is decided
//! in `crate::rows`.

use std::cell::Cell;
use std::ffi::CString;

use fence_core::rows::RowChange;
use pgrx::pg_sys;
use pgrx::prelude::*;

use super::nodes::cstr;

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
    old: Option<Deformed>,
    new: Option<Deformed>,
}

struct Deformed {
    values: Vec<pg_sys::Datum>,
    nulls: Vec<bool>,
}

/// Which image of the row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Image {
    Old,
    New,
}

/// A subset of a table's columns as a record type of its own (registered with
/// `BlessTupleDesc`), so that `to_jsonb` prints exactly those columns by name.
pub struct Projection {
    attnums: Vec<usize>,
    desc: pg_sys::TupleDesc,
}

/// A `jsonb` value built for the current change (palloc'd in the trigger's memory context)
/// and its canonical text, which is what gets hashed.
pub struct Jsonb {
    datum: pg_sys::Datum,
    pub text: String,
}

v1_finfo!(pg_finfo_fence_row_change);

/// The trigger function: AFTER INSERT / UPDATE / DELETE FOR EACH ROW, AFTER TRUNCATE FOR
/// EACH STATEMENT. Anything else is refused.
#[pg_guard]
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn fence_row_change(fcinfo: pg_sys::FunctionCallInfo) -> pg_sys::Datum {
    // SAFETY: `context` is checked by tag before the cast; the tuples and the relation stay
    // valid for the whole call (the executor owns them).
    unsafe {
        let context = (*fcinfo).context;
        if context.is_null() || (*context).type_ != pg_sys::NodeTag::T_TriggerData {
            crate::errors::invalid_parameter("fence.record_row_change() can only be called as a trigger", None);
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
            _ => crate::errors::invalid_parameter(
                "fence.record_row_change() must fire AFTER each row of INSERT/UPDATE/DELETE or AFTER TRUNCATE",
                Some("Install it with fence.track_table()."),
            ),
        };
        if !after {
            crate::errors::invalid_parameter("fence.record_row_change() must be an AFTER trigger", None);
        }
        let rel = data.tg_relation;
        let desc = (*rel).rd_att;
        let deform = |tuple: pg_sys::HeapTuple| (!tuple.is_null()).then(|| deform(tuple, desc));
        let (old, new) = match operation {
            Operation::Insert => (None, deform(data.tg_trigtuple)),
            Operation::Update => (deform(data.tg_trigtuple), deform(data.tg_newtuple)),
            Operation::Delete => (deform(data.tg_trigtuple), None),
            Operation::Truncate => (None, None),
        };
        crate::rows::record(&Firing { relid: (*rel).rd_id, operation, desc, old, new });
        pg_sys::Datum::from(0)
    }
}

unsafe fn deform(tuple: pg_sys::HeapTuple, desc: pg_sys::TupleDesc) -> Deformed {
    // SAFETY: `tuple` is a valid heap tuple of `desc` (the trigger's relation).
    unsafe {
        let natts = (*desc).natts as usize;
        let mut values = vec![pg_sys::Datum::from(0); natts];
        let mut nulls = vec![false; natts];
        pg_sys::heap_deform_tuple(tuple, desc, values.as_mut_ptr(), nulls.as_mut_ptr());
        Deformed { values, nulls }
    }
}

/// The attribute at 0-based `index` of a tuple descriptor.
///
/// # Safety
/// `desc` must be valid and `index < natts`.
unsafe fn attribute<'a>(desc: pg_sys::TupleDesc, index: usize) -> &'a pg_sys::FormData_pg_attribute {
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
    /// Whether an UPDATE left every column of `columns` as it was.
    pub fn unchanged(&self, columns: &Projection) -> bool {
        let (Some(old), Some(new)) = (&self.old, &self.new) else { return false };
        columns.attnums.iter().all(|&i| match (old.nulls[i], new.nulls[i]) {
            (true, true) => true,
            // SAFETY: `i` is an attribute of this table (projections are built from its
            // descriptor and dropped when it changes).
            (false, false) => unsafe { same_value(old.values[i], new.values[i], attribute(self.desc, i)) },
            _ => false,
        })
    }

    /// The columns of `projection` of one image of the row, as `jsonb`.
    pub fn image(&self, which: Image, projection: &Projection) -> Option<Jsonb> {
        let tuple = match which {
            Image::Old => self.old.as_ref()?,
            Image::New => self.new.as_ref()?,
        };
        let values: Vec<pg_sys::Datum> = projection.attnums.iter().map(|&i| tuple.values[i]).collect();
        let mut nulls: Vec<bool> = projection.attnums.iter().map(|&i| tuple.nulls[i]).collect();
        // SAFETY: the projection's descriptor has exactly these attributes, in this order;
        // HeapTupleHeaderGetDatum flattens TOASTed values into the composite datum.
        unsafe {
            let formed = pg_sys::heap_form_tuple(projection.desc, values.as_ptr().cast_mut(), nulls.as_mut_ptr());
            Some(to_jsonb(pg_sys::HeapTupleHeaderGetDatum((*formed).t_data)))
        }
    }
}

thread_local! {
    /// `to_jsonb(record)` with a call expression, as the function manager needs to know the
    /// argument's type (built once per backend, in TopMemoryContext).
    static TO_JSONB: Cell<*mut pg_sys::FmgrInfo> = const { Cell::new(std::ptr::null_mut()) };
}

fn to_jsonb(composite: pg_sys::Datum) -> Jsonb {
    // SAFETY: the FmgrInfo and its expression live in TopMemoryContext for the backend's
    // life; to_jsonb reads the record's type from the datum and returns a palloc'd jsonb,
    // which jsonb_out prints (PostgreSQL's canonical text of a jsonb value).
    unsafe {
        let mut flinfo = TO_JSONB.with(Cell::get);
        if flinfo.is_null() {
            let old = pg_sys::MemoryContextSwitchTo(pg_sys::TopMemoryContext);
            flinfo = pg_sys::palloc0(std::mem::size_of::<pg_sys::FmgrInfo>()).cast();
            pg_sys::fmgr_info_cxt(pg_sys::Oid::from(pg_sys::F_TO_JSONB), flinfo, pg_sys::TopMemoryContext);
            let argument = pg_sys::makeNullConst(pg_sys::RECORDOID, -1, pg_sys::InvalidOid);
            let args =
                pg_sys::list_make1_impl(pg_sys::NodeTag::T_List, pg_sys::ListCell { ptr_value: argument.cast() });
            let call = pg_sys::makeFuncExpr(
                pg_sys::Oid::from(pg_sys::F_TO_JSONB),
                pg_sys::JSONBOID,
                args,
                pg_sys::InvalidOid,
                pg_sys::InvalidOid,
                pg_sys::CoercionForm::COERCE_EXPLICIT_CALL,
            );
            (*flinfo).fn_expr = call.cast();
            pg_sys::MemoryContextSwitchTo(old);
            TO_JSONB.with(|t| t.set(flinfo));
        }
        let datum = pg_sys::FunctionCall1Coll(flinfo, pg_sys::InvalidOid, composite);
        let jsonb = pg_sys::pg_detoast_datum(datum.cast_mut_ptr()).cast::<pg_sys::Jsonb>();
        let text = cstr(pg_sys::JsonbToCString(
            std::ptr::null_mut(),
            &mut (*jsonb).root,
            pgrx::varsize_any(jsonb.cast()) as i32,
        ))
        .unwrap_or_default();
        Jsonb { datum, text }
    }
}

/// The columns (non-dropped) of a table, in order, with their 0-based positions.
fn columns(relid: pg_sys::Oid) -> Vec<(usize, String)> {
    // SAFETY: the relcache entry is opened without a lock only to read its descriptor, and
    // closed right away; NULL means the relation vanished.
    unsafe {
        let rel = pg_sys::RelationIdGetRelation(relid);
        if rel.is_null() {
            return Vec::new();
        }
        let desc = (*rel).rd_att;
        let columns = (0..(*desc).natts as usize)
            .filter_map(|i| {
                let attr = attribute(desc, i);
                (!attr.attisdropped).then(|| (i, cstr(attr.attname.data.as_ptr()).unwrap_or_default()))
            })
            .collect();
        pg_sys::RelationClose(rel);
        columns
    }
}

/// The table's columns, in order (dropped ones left out).
pub fn column_names(relid: pg_sys::Oid) -> Vec<String> {
    columns(relid).into_iter().map(|(_, name)| name).collect()
}

/// The columns of the table's primary key, else of its replica identity index; None when it
/// has neither.
pub fn key_columns(relid: pg_sys::Oid) -> Option<Vec<String>> {
    // SAFETY: as in `columns`; the index's relcache entry is opened the same way to read
    // its key attribute numbers.
    unsafe {
        let rel = pg_sys::RelationIdGetRelation(relid);
        if rel.is_null() {
            return None;
        }
        let mut index = pg_sys::RelationGetPrimaryKeyIndex(rel);
        if index == pg_sys::InvalidOid {
            index = pg_sys::RelationGetReplicaIndex(rel);
        }
        pg_sys::RelationClose(rel);
        if index == pg_sys::InvalidOid {
            return None;
        }
        let index = pg_sys::RelationIdGetRelation(index);
        if index.is_null() {
            return None;
        }
        let form = &*(*index).rd_index;
        let keys = form.indkey.values.as_slice(form.indnkeyatts as usize);
        let attnums: Vec<i16> = keys.to_vec();
        pg_sys::RelationClose(index);
        let names = columns(relid);
        attnums
            .into_iter()
            .map(|n| names.iter().find(|(i, _)| *i + 1 == n as usize).map(|(_, name)| name.clone()))
            .collect()
    }
}

/// The named columns of a table (in the order given) as a record type of their own.
pub fn projection(relid: pg_sys::Oid, wanted: &[String]) -> Projection {
    let all = columns(relid);
    let picked: Vec<(usize, &String)> =
        wanted.iter().filter_map(|w| all.iter().find(|(_, name)| name == w).map(|(i, name)| (*i, name))).collect();
    // SAFETY: the relation is opened without a lock only to copy attribute types; the new
    // descriptor lives in TopMemoryContext (projections are cached across transactions) and
    // BlessTupleDesc registers it as an anonymous record type of this backend.
    unsafe {
        let rel = pg_sys::RelationIdGetRelation(relid);
        if rel.is_null() {
            crate::errors::not_found(format!("relation {} does not exist", relid.to_u32()), None);
        }
        let source = (*rel).rd_att;
        let old = pg_sys::MemoryContextSwitchTo(pg_sys::TopMemoryContext);
        let desc = pg_sys::CreateTemplateTupleDesc(picked.len() as i32);
        for (n, (i, name)) in picked.iter().enumerate() {
            let attr = attribute(source, *i);
            let name = CString::new(name.as_str()).unwrap_or_default();
            pg_sys::TupleDescInitEntry(desc, (n + 1) as i16, name.as_ptr(), attr.atttypid, attr.atttypmod, 0);
            pg_sys::TupleDescInitEntryCollation(desc, (n + 1) as i16, attr.attcollation);
        }
        let desc = pg_sys::BlessTupleDesc(desc);
        pg_sys::MemoryContextSwitchTo(old);
        pg_sys::RelationClose(rel);
        Projection { attnums: picked.into_iter().map(|(i, _)| i).collect(), desc }
    }
}

/// A change ready to be stored: its hashed fields, the jsonb values behind the texts that
/// were hashed, and the hash.
pub struct StoredChange<'a> {
    pub change: &'a RowChange<'a>,
    pub row_key: Option<&'a Jsonb>,
    pub old_key: Option<&'a Jsonb>,
    pub old_row: Option<&'a Jsonb>,
    pub new_row: Option<&'a Jsonb>,
    pub row_hash: &'a str,
}

fn text_datum(text: &str) -> pg_sys::Datum {
    // SAFETY: copies the bytes into a palloc'd text value.
    unsafe { pg_sys::Datum::from(pg_sys::cstring_to_text_with_len(text.as_ptr().cast(), text.len() as i32)) }
}

impl StoredChange<'_> {
    /// The value of the column `name` (None = NULL).
    fn column(&self, name: &str) -> Option<pg_sys::Datum> {
        let jsonb = |j: Option<&Jsonb>| j.map(|j| j.datum);
        let change = self.change;
        Some(match name {
            "changed_at" => pg_sys::Datum::from(super::xact::postgres_timestamp(change.changed_at_us)),
            "table_id" => pg_sys::Datum::from(change.table_id as i32),
            "relation" => text_datum(change.relation),
            "operation" => text_datum(change.operation),
            "row_key" => return jsonb(self.row_key),
            "old_key" => return jsonb(self.old_key),
            "old_row" => return jsonb(self.old_row),
            "new_row" => return jsonb(self.new_row),
            "actor" => text_datum(change.actor),
            "session_role" => text_datum(change.session_role),
            "application_name" => text_datum(change.application_name),
            "client_addr" => text_datum(change.client_addr),
            "backend_pid" => pg_sys::Datum::from(change.backend_pid),
            "txid" => pg_sys::Datum::from(change.txid),
            "ordinal" => pg_sys::Datum::from(change.ordinal),
            "row_hash" => text_datum(self.row_hash),
            _ => return None,
        })
    }

    /// Inserts the change into `partition` (a leaf of `fence.row_changes` whose range holds
    /// `changed_at`), with its index entries.
    pub fn insert(&self, partition: pg_sys::Oid) {
        // SAFETY: the partition is opened with RowExclusiveLock like any INSERT target; the
        // tuple is formed from its own descriptor, column by column by name; CatalogTupleInsert
        // is heap_insert plus an insert into each index, which is right for fence's indexes on
        // plain columns (it evaluates no index expression or predicate: sql/rows.sql has none).
        unsafe {
            let rel = pg_sys::table_open(partition, pg_sys::RowExclusiveLock as i32);
            let desc = (*rel).rd_att;
            let natts = (*desc).natts as usize;
            let mut values = vec![pg_sys::Datum::from(0); natts];
            let mut nulls = vec![true; natts];
            for i in 0..natts {
                let attr = attribute(desc, i);
                if attr.attisdropped {
                    continue;
                }
                let name = cstr(attr.attname.data.as_ptr()).unwrap_or_default();
                if let Some(value) = self.column(&name) {
                    values[i] = value;
                    nulls[i] = false;
                }
            }
            let tuple = pg_sys::heap_form_tuple(desc, values.as_mut_ptr(), nulls.as_mut_ptr());
            pg_sys::CatalogTupleInsert(rel, tuple);
            pg_sys::table_close(rel, pg_sys::NoLock as i32);
        }
    }
}
