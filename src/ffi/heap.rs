//! Inserting a row straight into a table and its indexes — no SPI, no executor, no permission
//! check (the row audit's writer: its role has no rights on fence's tables and needs none).
//! What can be worked out once per table is: its attributes, and which heap columns each index
//! holds.

use pgrx::pg_sys;

use super::compat::attribute;
use super::error::Error;
use super::nodes::{cstr, oids};
use super::xact::postgres_timestamp;

/// What an index of the table holds.
struct IndexLayout {
    oid: pg_sys::Oid,
    /// The heap columns it holds (0-based), in index order.
    columns: Vec<usize>,
    /// What `index_insert` needs to know of it, built once (in the table's memory context).
    info: *mut pg_sys::IndexInfo,
}

/// A table opened for direct inserts: its attributes' names (None: dropped) and its indexes.
pub struct InsertTarget {
    pub oid: pg_sys::Oid,
    pub attributes: Vec<Option<String>>,
    indexes: Vec<IndexLayout>,
    context: pg_sys::MemoryContext,
}

impl Drop for InsertTarget {
    fn drop(&mut self) {
        // SAFETY: the context is this table's own; only its IndexInfos live there.
        unsafe { pg_sys::MemoryContextDelete(self.context) }
    }
}

fn unsupported_index(index: pg_sys::Oid) -> ! {
    Error::new(
        pgrx::PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
        format!("index {} of fence.row_changes has an expression or a predicate", index.to_u32()),
    )
    .detail("fence writes row changes without the executor, so it cannot maintain such an index.")
    .hint("Drop that index; index plain columns.")
    .raise()
}

/// The value of one column of a row to insert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value<'a> {
    Null,
    Int4(i32),
    Int8(i64),
    /// A `timestamptz`, in microseconds since the Unix epoch.
    Timestamp(i64),
    /// A `text` or `json` value, copied into the row's block of texts.
    Text(&'a str),
}

/// Bytes a text value takes in the block of texts: its 4-byte header and its bytes, rounded
/// up to keep the next header aligned.
fn text_size(text: &str) -> usize {
    (pg_sys::VARHDRSZ + text.len()).next_multiple_of(4)
}

/// The datums and nulls of a row; every text value is copied into one palloc'd block (in the
/// current memory context).
fn datums(values: &[Value]) -> (Vec<pg_sys::Datum>, Vec<bool>) {
    let size = values.iter().map(|v| if let Value::Text(t) = v { text_size(t) } else { 0 }).sum::<usize>();
    // SAFETY: the block is large enough for every text (header and bytes, 4-aligned as
    // palloc'd memory is MAXALIGNed); each varlena gets its 4-byte header.
    unsafe {
        let mut next = pg_sys::palloc(size.max(1)).cast::<u8>();
        values
            .iter()
            .map(|value| match *value {
                Value::Null => (pg_sys::Datum::from(0), true),
                Value::Int4(n) => (pg_sys::Datum::from(n), false),
                Value::Int8(n) => (pg_sys::Datum::from(n), false),
                Value::Timestamp(us) => (pg_sys::Datum::from(postgres_timestamp(us)), false),
                Value::Text(text) => {
                    let varlena = next.cast::<pg_sys::varlena>();
                    pgrx::set_varsize_4b(varlena, (pg_sys::VARHDRSZ + text.len()) as i32);
                    std::ptr::copy_nonoverlapping(text.as_ptr(), next.add(pg_sys::VARHDRSZ), text.len());
                    next = next.add(text_size(text));
                    (pg_sys::Datum::from(varlena), false)
                }
            })
            .unzip()
    }
}

impl InsertTarget {
    /// Reads the layout of a table (opened here with the lock an insert takes anyway).
    pub fn open(oid: pg_sys::Oid) -> InsertTarget {
        // SAFETY: the table is opened with RowExclusiveLock, as for an INSERT, and closed below
        // keeping the lock.
        let rel = unsafe { pg_sys::table_open(oid, pg_sys::RowExclusiveLock as i32) };
        // SAFETY: the open table's descriptor; dropped attributes are kept as None.
        let attributes = unsafe {
            let desc = (*rel).rd_att;
            (0..(*desc).natts as usize)
                .map(|i| {
                    let attr = attribute(desc, i);
                    (!attr.attisdropped).then(|| cstr(attr.attname.data.as_ptr()).unwrap_or_default())
                })
                .collect()
        };
        // SAFETY: a context of the table's own, which lives as long as this layout (dropped
        // when the table's relcache entry is invalidated).
        let context = unsafe {
            pg_sys::AllocSetContextCreateExtended(
                pg_sys::TopMemoryContext,
                c"fence row changes table".as_ptr(),
                pg_sys::ALLOCSET_SMALL_MINSIZE as usize,
                pg_sys::ALLOCSET_SMALL_INITSIZE as usize,
                pg_sys::ALLOCSET_SMALL_MAXSIZE as usize,
            )
        };
        // Owned from here: an error below (an unsupported index) deletes the context with it.
        let mut target = InsertTarget { oid, attributes, indexes: Vec::new(), context };
        // SAFETY: the open table's index list (an OID list).
        let index_oids = oids(unsafe { pg_sys::RelationGetIndexList(rel) });
        for index in index_oids {
            target.indexes.push(index_layout(index, context));
        }
        // SAFETY: opened above; the lock is kept.
        unsafe { pg_sys::table_close(rel, pg_sys::NoLock as i32) };
        target
    }

    /// Takes the insert's locks on the table and its indexes (RowExclusiveLock, as the executor
    /// does, held to the end of the (sub)transaction); taking them for the first time in a
    /// transaction takes in pending invalidations.
    pub fn lock(&self) {
        // SAFETY: regular relation locks, released by the (sub)transaction's end.
        unsafe {
            pg_sys::LockRelationOid(self.oid, pg_sys::RowExclusiveLock as i32);
            for index in &self.indexes {
                pg_sys::LockRelationOid(index.oid, pg_sys::RowExclusiveLock as i32);
            }
        }
    }

    /// Inserts a row (one value per attribute, in order; Null for a dropped one), with its
    /// index entries. The caller holds the insert's locks (`lock`, in this subtransaction).
    pub fn insert(&self, values: &[Value]) {
        let (mut values, mut nulls) = datums(values);
        // SAFETY: the caller holds RowExclusiveLock on the table, like any INSERT target (so it
        // is opened without taking the lock again), and the tuple is formed with its
        // descriptor (one value per attribute, each of the attribute's type: the caller maps
        // them from `attributes`, which is dropped with the layout when the table changes).
        let (rel, tuple) = unsafe {
            let rel = pg_sys::table_open(self.oid, pg_sys::NoLock as i32);
            let tuple = pg_sys::heap_form_tuple((*rel).rd_att, values.as_mut_ptr(), nulls.as_mut_ptr());
            pg_sys::simple_heap_insert(rel, tuple);
            (rel, tuple)
        };
        for layout in &self.indexes {
            insert_index_entry(layout, rel, tuple, &values, &nulls);
        }
        // SAFETY: opened above; the lock is kept.
        unsafe { pg_sys::table_close(rel, pg_sys::NoLock as i32) };
    }
}

/// The layout of one index of a table the caller has open (the index opened with the lock an
/// insert takes); its IndexInfo built in `context`.
fn index_layout(oid: pg_sys::Oid, context: pg_sys::MemoryContext) -> IndexLayout {
    // SAFETY: the index is opened with RowExclusiveLock, as for an INSERT, and closed keeping
    // the lock; only its descriptor and pg_index row are read.
    let index = unsafe { pg_sys::index_open(oid, pg_sys::RowExclusiveLock as i32) };
    // SAFETY: as above.
    if unsafe {
        !pg_sys::RelationGetIndexExpressions(index).is_null() || !pg_sys::RelationGetIndexPredicate(index).is_null()
    } {
        unsupported_index(oid);
    }
    // SAFETY: the open index's pg_index row; key and INCLUDE columns: index_insert takes a
    // value for each.
    let columns = unsafe {
        let form = &*(*index).rd_index;
        form.indkey.values.as_slice(form.indnatts as usize).iter().map(|&attno| attno as usize - 1).collect()
    };
    // SAFETY: built in the layout's context; the index closed keeping its lock.
    let info = unsafe {
        let old = pg_sys::MemoryContextSwitchTo(context);
        let info = pg_sys::BuildIndexInfo(index);
        pg_sys::MemoryContextSwitchTo(old);
        pg_sys::index_close(index, pg_sys::NoLock as i32);
        info
    };
    IndexLayout { oid, columns, info }
}

/// Inserts the index entry of a tuple just inserted into `rel`: what the executor would give
/// the index — its key columns' values, nothing while it is not ready for inserts (CREATE
/// INDEX CONCURRENTLY), a uniqueness check if it is unique.
fn insert_index_entry(
    layout: &IndexLayout,
    rel: pg_sys::Relation,
    tuple: pg_sys::HeapTuple,
    values: &[pg_sys::Datum],
    nulls: &[bool],
) {
    let mut key_values = [pg_sys::Datum::from(0); pg_sys::INDEX_MAX_KEYS as usize];
    let mut key_nulls = [false; pg_sys::INDEX_MAX_KEYS as usize];
    for (n, &c) in layout.columns.iter().enumerate() {
        (key_values[n], key_nulls[n]) = (values[c], nulls[c]);
    }
    // SAFETY: the caller holds RowExclusiveLock on the index (an index created since
    // invalidates the layout, and loading it again takes its lock): opened without locking.
    let index = unsafe { pg_sys::index_open(layout.oid, pg_sys::NoLock as i32) };
    // SAFETY: the open index's pg_index row.
    let (ready, unique) = unsafe { ((*(*index).rd_index).indisready, (*(*index).rd_index).indisunique) };
    if ready {
        let check =
            if unique { pg_sys::IndexUniqueCheck::UNIQUE_CHECK_YES } else { pg_sys::IndexUniqueCheck::UNIQUE_CHECK_NO };
        let info = layout.info;
        // SAFETY: the layout's IndexInfo; what an access method caches in it (a block-range
        // index's descriptor) lasts this call only: it points into relcache entries. The tuple
        // is the heap tuple just inserted into `rel`.
        unsafe {
            (*info).ii_AmCache = std::ptr::null_mut();
            (*info).ii_Context = pg_sys::CurrentMemoryContext;
            let (keys, key_nulls) = (key_values.as_mut_ptr(), key_nulls.as_mut_ptr());
            pg_sys::index_insert(index, keys, key_nulls, &mut (*tuple).t_self, rel, check, false, info);
            super::compat::index_insert_done(index, info);
        }
    }
    // SAFETY: opened above; the lock is kept.
    unsafe { pg_sys::index_close(index, pg_sys::NoLock as i32) };
}

/// Inserts `rows` into `table` as an INSERT of those columns would, without planning one: each row checked against the
/// table's constraints, stored, its entries added to every index (predicates and expressions
/// evaluated), then the command counter advanced so the next reads see them. Each row gives a
/// value of its column's type for each of `columns`. Returns false, inserting nothing, when
/// only the executor can do it: the table has an INSERT trigger that may fire, row security
/// it does not bypass, a rule, a column not given (a default to compute) or of another type,
/// the current role may not insert, or it is not a plain table.
pub fn insert_rows(table: pg_sys::Oid, columns: &[&str], rows: &[Vec<pgrx::datum::DatumWithOid>]) -> bool {
    // SAFETY: opened with RowExclusiveLock, as for an INSERT, and closed below keeping it.
    let rel = unsafe { pg_sys::table_open(table, pg_sys::RowExclusiveLock as i32) };
    // SAFETY: the open table.
    let slots = unsafe { plain_insert_columns(rel, columns, rows.first()) };
    if let Some(slots) = &slots {
        // SAFETY: an executor state, result relation and slot of the open table, used as
        // ExecInsert uses them for a table without triggers, and freed below; each row's values
        // are of their attributes' types (checked above) and live until the insert.
        unsafe {
            let estate = pg_sys::CreateExecutorState();
            // What lasts the insert lives in the executor state's context, freed with it.
            let old = pg_sys::MemoryContextSwitchTo((*estate).es_query_cxt);
            let info = pg_sys::palloc0(std::mem::size_of::<pg_sys::ResultRelInfo>()).cast::<pg_sys::ResultRelInfo>();
            pg_sys::InitResultRelInfo(info, rel, 0, std::ptr::null_mut(), 0);
            pg_sys::ExecOpenIndices(info, false);
            let slot = pg_sys::table_slot_create(rel, std::ptr::null_mut());
            pg_sys::MemoryContextSwitchTo(old);
            let natts = (*(*rel).rd_att).natts as usize;
            for row in rows {
                pg_sys::ExecClearTuple(slot);
                let values = std::slice::from_raw_parts_mut((*slot).tts_values, natts);
                let nulls = std::slice::from_raw_parts_mut((*slot).tts_isnull, natts);
                nulls.fill(true);
                for (arg, &attribute) in row.iter().zip(slots) {
                    if let Some(datum) = arg.datum() {
                        (values[attribute], nulls[attribute]) = (datum.sans_lifetime(), false);
                    }
                }
                pg_sys::ExecStoreVirtualTuple(slot);
                if !(*(*rel).rd_att).constr.is_null() {
                    pg_sys::ExecConstraints(info, slot, estate);
                }
                pg_sys::simple_table_tuple_insert(rel, slot);
                if (*info).ri_NumIndices > 0 {
                    super::compat::insert_index_tuples(info, slot, estate);
                }
                let per_row = (*estate).es_per_tuple_exprcontext;
                if !per_row.is_null() {
                    pg_sys::MemoryContextReset((*per_row).ecxt_per_tuple_memory);
                }
            }
            pg_sys::ExecDropSingleTupleTableSlot(slot);
            pg_sys::ExecCloseIndices(info);
            pg_sys::FreeExecutorState(estate);
            pg_sys::CommandCounterIncrement();
        }
    }
    // SAFETY: opened above; the lock is kept.
    unsafe { pg_sys::table_close(rel, pg_sys::NoLock as i32) };
    slots.is_some()
}

/// The attribute (0-based) each of `columns` fills, when the executor is not needed to insert
/// into `rel` (see `insert_rows`) and `row`'s values are of their columns' types.
///
/// # Safety
/// `rel` must be open.
unsafe fn plain_insert_columns(
    rel: pg_sys::Relation,
    columns: &[&str],
    row: Option<&Vec<pgrx::datum::DatumWithOid>>,
) -> Option<Vec<usize>> {
    // SAFETY: per the caller: the open table's entry, triggers and descriptor.
    unsafe {
        let table = (*rel).rd_id;
        let form = &*(*rel).rd_rel;
        if form.relkind as u8 != pg_sys::RELKIND_RELATION || form.relispartition || !(*rel).rd_rules.is_null() {
            return None;
        }
        let triggers = (*rel).trigdesc;
        if !triggers.is_null() {
            let all = std::slice::from_raw_parts((*triggers).triggers, (*triggers).numtriggers as usize);
            let insert = pg_sys::TRIGGER_TYPE_INSERT as i16;
            if all.iter().any(|t| t.tgtype & insert != 0 && t.tgenabled as u8 != pg_sys::TRIGGER_DISABLED) {
                return None;
            }
        }
        if pg_sys::check_enable_rls(table, pg_sys::InvalidOid, true) == pg_sys::CheckEnableRlsResult::RLS_ENABLED as i32
            || pg_sys::pg_class_aclcheck(table, pg_sys::GetUserId(), pg_sys::ACL_INSERT as pg_sys::AclMode)
                != pg_sys::AclResult::ACLCHECK_OK
        {
            return None;
        }
        let desc = (*rel).rd_att;
        let live = (0..(*desc).natts as usize).filter(|&i| !attribute(desc, i).attisdropped).count();
        let slots: Vec<usize> = columns
            .iter()
            .map(|name| super::compat::attribute_number(desc, name, None).map(|n| n as usize - 1))
            .collect::<Option<_>>()?;
        let typed = row.is_none_or(|row| {
            row.len() == slots.len() && row.iter().zip(&slots).all(|(arg, &i)| attribute(desc, i).atttypid == arg.oid())
        });
        let plain = slots.iter().all(|&i| attribute(desc, i).attgenerated == 0);
        (typed && plain && live == columns.len()).then_some(slots)
    }
}

/// The newest row of `table` by `index` (an index on one ascending column: a backward scan,
/// the first row visible to the latest snapshot), read without a query: its `int8_column` and
/// `text_column` (None when the table is empty or lacks them).
pub fn newest_row(
    table: pg_sys::Oid,
    index: pg_sys::Oid,
    int8_column: &str,
    text_column: &str,
) -> Option<(i64, String)> {
    // SAFETY: both opened with ACCESS SHARE (the table's readers' lock) and closed below
    // keeping it, as a query would.
    let (rel, idx) = unsafe {
        (
            pg_sys::table_open(table, pg_sys::AccessShareLock as i32),
            pg_sys::index_open(index, pg_sys::AccessShareLock as i32),
        )
    };
    // SAFETY: the open table's descriptor.
    let desc = unsafe { (*rel).rd_att };
    // SAFETY: as above.
    let attnum = |name: &str| unsafe { super::compat::attribute_number(desc, name, None) };
    let columns = attnum(int8_column).zip(attnum(text_column));
    // SAFETY: a registered copy of the latest snapshot (unregistered below); a scan of the
    // index without keys, its tuples fetched into a slot of the table's own.
    let (snapshot, scan, slot) = unsafe {
        let snapshot = pg_sys::RegisterSnapshot(pg_sys::GetLatestSnapshot());
        let scan = super::compat::index_beginscan(rel, idx, snapshot);
        pg_sys::index_rescan(scan, std::ptr::null_mut(), 0, std::ptr::null_mut(), 0);
        (snapshot, scan, pg_sys::table_slot_create(rel, std::ptr::null_mut()))
    };
    // SAFETY: the newest visible row into the slot (false: none).
    let found = unsafe { pg_sys::index_getnext_slot(scan, pg_sys::ScanDirection::BackwardScanDirection, slot) };
    let row = columns.filter(|_| found).and_then(|(int8, text)| {
        let (mut int8_null, mut text_null) = (false, false);
        // SAFETY: attributes of the row in the slot, of the types the caller names; the text
        // is copied out (detoasted) while the row is there.
        unsafe {
            let number = pg_sys::slot_getattr(slot, int8, &mut int8_null);
            let value = pg_sys::slot_getattr(slot, text, &mut text_null);
            (!int8_null && !text_null)
                .then(|| cstr(pg_sys::text_to_cstring(value.cast_mut_ptr())).map(|t| (number.value() as i64, t)))
                .flatten()
        }
    });
    // SAFETY: what was made and opened above, released in reverse order.
    unsafe {
        pg_sys::ExecDropSingleTupleTableSlot(slot);
        pg_sys::index_endscan(scan);
        pg_sys::UnregisterSnapshot(snapshot);
        pg_sys::index_close(idx, pg_sys::NoLock as i32);
        pg_sys::table_close(rel, pg_sys::NoLock as i32);
    }
    row
}
