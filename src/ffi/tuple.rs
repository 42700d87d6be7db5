//! A row trigger's firing, read from what the trigger manager passes: the table, the
//! operation and the old and new tuples, deformed once; and a table's columns and key as the
//! row audit needs them.

use fence_core::rows::Operation;
use pgrx::pg_sys;

use super::compat::attribute;
use super::error::{invalid_parameter, Error};
use super::nodes::cstr;
use super::relcache::with_relation;

/// Which image of the row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Image {
    Old,
    New,
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

/// One image of the row: every column's value and null flag (values live as long as the
/// firing: the executor owns the tuples for the whole trigger call).
pub struct Deformed<'a> {
    pub values: &'a [pg_sys::Datum],
    pub nulls: &'a [bool],
}

/// The firing an AFTER INSERT / UPDATE / DELETE FOR EACH ROW or AFTER TRUNCATE FOR EACH
/// STATEMENT trigger call is about; anything else is refused.
///
/// # Safety
/// `fcinfo` must be the call info the function manager passed to the trigger function.
pub unsafe fn firing(fcinfo: pg_sys::FunctionCallInfo) -> Result<Firing, Error> {
    // SAFETY: per the caller, a valid call info; its context is NULL or a node.
    let context = unsafe { (*fcinfo).context };
    let Some(data) = super::nodes::cast::<pg_sys::TriggerData, _>(context) else {
        return Err(invalid_parameter("fence.record_row_change() can only be called as a trigger"));
    };
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
    let (old, new) = match operation {
        Operation::Insert => (std::ptr::null_mut(), data.tg_trigtuple),
        Operation::Update => (data.tg_trigtuple, data.tg_newtuple),
        Operation::Delete => (data.tg_trigtuple, std::ptr::null_mut()),
        Operation::Truncate => (std::ptr::null_mut(), std::ptr::null_mut()),
    };
    // SAFETY: the trigger's relation and tuples stay valid for the whole call (the executor
    // owns them); the tuples are the relation's.
    unsafe {
        let rel = data.tg_relation;
        Ok(Firing::deform((*rel).rd_id, operation, (*rel).rd_att, old, new))
    }
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

    /// One image of the row, if the operation has it.
    pub fn tuple(&self, which: Image) -> Option<Deformed<'_>> {
        let at = match which {
            Image::Old => self.old,
            Image::New => self.new,
        }?;
        // SAFETY: `desc` is the trigger's relation's descriptor, valid for the firing.
        let natts = unsafe { (*self.desc).natts as usize };
        Some(Deformed { values: &self.values[at..at + natts], nulls: &self.nulls[at..at + natts] })
    }

    /// Of the attributes at `attnums` (0-based), those whose values differ between the two
    /// images (none unless the firing has both: an UPDATE).
    pub fn differing<'s>(&'s self, attnums: &'s [usize]) -> impl Iterator<Item = usize> + 's {
        let images = self.tuple(Image::Old).zip(self.tuple(Image::New));
        attnums.iter().copied().filter(move |&i| {
            let Some((old, new)) = &images else { return false };
            match (old.nulls[i], new.nulls[i]) {
                (true, true) => false,
                // SAFETY: `i` is an attribute of this table (the callers' projections are
                // built from its descriptor and dropped when it changes).
                (false, false) => unsafe { !same_value(old.values[i], new.values[i], attribute(self.desc, i)) },
                _ => true,
            }
        })
    }
}

/// A column of a table.
pub struct Column {
    /// Its position (0-based).
    pub attnum: usize,
    pub name: String,
    pub type_oid: pg_sys::Oid,
    pub typmod: i32,
    pub collation: pg_sys::Oid,
}

/// The columns (non-dropped) of a table, in order; none when it does not exist.
pub fn columns(relid: pg_sys::Oid) -> Vec<Column> {
    // SAFETY: the descriptor is read while the entry is open; names are copied out.
    with_relation(relid, |rel| unsafe {
        let desc = (*rel).rd_att;
        (0..(*desc).natts as usize)
            .filter_map(|i| {
                let attr = attribute(desc, i);
                (!attr.attisdropped).then(|| Column {
                    attnum: i,
                    name: cstr(attr.attname.data.as_ptr()).unwrap_or_default(),
                    type_oid: attr.atttypid,
                    typmod: attr.atttypmod,
                    collation: attr.attcollation,
                })
            })
            .collect()
    })
    .unwrap_or_default()
}

/// The attribute numbers (1-based) of the table's primary key, else of its replica identity
/// index; None when it has neither.
pub fn key_attnums(relid: pg_sys::Oid) -> Option<Vec<i16>> {
    // SAFETY: the table's key index OIDs are read while its entry is open.
    let index = with_relation(relid, |rel| unsafe {
        let primary = super::compat::primary_key_index(rel);
        if primary == pg_sys::InvalidOid {
            pg_sys::RelationGetReplicaIndex(rel)
        } else {
            primary
        }
    })
    .filter(|&index| index != pg_sys::InvalidOid)?;
    // SAFETY: the index's pg_index row is read while its entry is open.
    with_relation(index, |rel| unsafe {
        let form = &*(*rel).rd_index;
        form.indkey.values.as_slice(form.indnkeyatts as usize).to_vec()
    })
}
