//! Storing one row change: a heap insert into a partition of `fence.row_changes` and into its
//! indexes — no SPI, no executor, no permission check (the writing role has no rights on
//! fence's tables and needs none). This runs once per change of every tracked table, so what
//! can be worked out once is: which stored column each attribute of the partition is, and
//! which heap columns each index holds.

use fence_core::rows::{key_hash, RowChange, RowColumn as Column, ROW_COLUMNS as COLUMNS};
use pgrx::pg_sys;

use super::error::{prerequisite, Error};
use super::nodes::{cstr, list_oids};
use super::rowtrigger::attribute;

/// A partition whose columns are not the ones this library stores (the library and the
/// extension's SQL objects are of different versions): `unknown` it has, `missing` it lacks.
fn columns_differ(table: pg_sys::Oid, unknown: &[String], missing: &[&str]) -> ! {
    let table = super::relcache::relation_name(table).unwrap_or_else(|| table.to_u32().to_string());
    let mut differences = Vec::new();
    if !unknown.is_empty() {
        differences.push(format!("has columns this fence library does not store ({})", unknown.join(", ")));
    }
    if !missing.is_empty() {
        differences.push(format!("lacks columns this fence library stores ({})", missing.join(", ")));
    }
    prerequisite(format!("{table} {}", differences.join(" and ")))
        .detail("The fence library and the extension's tables are of different versions; no change is stored.")
        .hint("ALTER EXTENSION fence UPDATE; (as the extension's owner), then reconnect.")
        .raise()
}

/// What an index of the table holds.
struct IndexLayout {
    oid: pg_sys::Oid,
    /// The heap columns it holds (0-based), in index order.
    columns: Vec<usize>,
    /// What `index_insert` needs to know of it, built once (in the table's memory context).
    info: *mut pg_sys::IndexInfo,
}

/// A table of row changes as the writer needs it: the stored column of each attribute (None:
/// dropped) and its indexes. Cached per backend until the table's relcache
/// entry is invalidated (a new or dropped index invalidates it too).
pub struct StoreTable {
    pub oid: pg_sys::Oid,
    columns: Vec<Option<Column>>,
    indexes: Vec<IndexLayout>,
    context: pg_sys::MemoryContext,
}

impl Drop for StoreTable {
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

impl StoreTable {
    /// Reads the layout of a table (opened here with the lock the insert takes anyway).
    pub fn load(oid: pg_sys::Oid) -> StoreTable {
        // SAFETY: the table and its indexes are opened with RowExclusiveLock, as for an
        // INSERT, and closed keeping the lock; only their descriptors and pg_index rows are
        // read. The IndexInfos are built in a context of the table's own, which lives as long
        // as this layout (dropped when the table's relcache entry is invalidated).
        unsafe {
            let rel = pg_sys::table_open(oid, pg_sys::RowExclusiveLock as i32);
            let desc = (*rel).rd_att;
            let mut unknown = Vec::new();
            let columns: Vec<Option<Column>> = (0..(*desc).natts as usize)
                .map(|i| {
                    let attr = attribute(desc, i);
                    if attr.attisdropped {
                        return None;
                    }
                    let name = cstr(attr.attname.data.as_ptr()).unwrap_or_default();
                    let column = Column::named(&name);
                    if column.is_none() {
                        unknown.push(name);
                    }
                    column
                })
                .collect();
            let missing: Vec<&str> =
                COLUMNS.iter().filter(|(_, c)| !columns.contains(&Some(*c))).map(|&(name, _)| name).collect();
            if !unknown.is_empty() || !missing.is_empty() {
                columns_differ(oid, &unknown, &missing);
            }
            let context = pg_sys::AllocSetContextCreateExtended(
                pg_sys::TopMemoryContext,
                c"fence row changes table".as_ptr(),
                pg_sys::ALLOCSET_SMALL_MINSIZE as usize,
                pg_sys::ALLOCSET_SMALL_INITSIZE as usize,
                pg_sys::ALLOCSET_SMALL_MAXSIZE as usize,
            );
            let mut table = StoreTable { oid, columns, indexes: Vec::new(), context };
            for index_oid in list_oids(pg_sys::RelationGetIndexList(rel)) {
                let index = pg_sys::index_open(index_oid, pg_sys::RowExclusiveLock as i32);
                if !pg_sys::RelationGetIndexExpressions(index).is_null()
                    || !pg_sys::RelationGetIndexPredicate(index).is_null()
                {
                    unsupported_index(index_oid);
                }
                let form = &*(*index).rd_index;
                // Key and INCLUDE columns: index_insert takes a value for each.
                let keys = form.indkey.values.as_slice(form.indnatts as usize);
                let columns = keys.iter().map(|&attno| attno as usize - 1).collect();
                let old = pg_sys::MemoryContextSwitchTo(context);
                let info = pg_sys::BuildIndexInfo(index);
                pg_sys::MemoryContextSwitchTo(old);
                pg_sys::index_close(index, pg_sys::NoLock as i32);
                table.indexes.push(IndexLayout { oid: index_oid, columns, info });
            }
            pg_sys::table_close(rel, pg_sys::NoLock as i32);
            table
        }
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
}

/// A change ready to be stored: its hashed fields and its hash.
pub struct StoredChange<'a> {
    pub change: &'a RowChange<'a>,
    pub row_hash: &'a str,
}

/// The value of one stored column.
enum Value<'a> {
    Null,
    Datum(pg_sys::Datum),
    /// A `text` or `json` value, copied into the change's block of texts.
    Text(&'a str),
}

/// Bytes a text value takes in the block of texts: its 4-byte header and its bytes, rounded
/// up to keep the next header aligned.
fn text_size(text: &str) -> usize {
    (pg_sys::VARHDRSZ + text.len()).next_multiple_of(4)
}

impl<'a> StoredChange<'a> {
    /// The value of one column.
    fn value(&self, column: Column) -> Value<'a> {
        let change = self.change;
        let text = |t: Option<&'a str>| t.map_or(Value::Null, Value::Text);
        let hashed = |t: Option<&str>| t.map_or(Value::Null, |t| Value::Datum(pg_sys::Datum::from(key_hash(t))));
        match column {
            Column::ChangedAt => {
                Value::Datum(pg_sys::Datum::from(super::xact::postgres_timestamp(change.changed_at_us)))
            }
            Column::TableId => Value::Datum(pg_sys::Datum::from(change.table_id as i32)),
            Column::Relation => Value::Text(change.relation),
            Column::Operation => Value::Text(change.operation),
            Column::RowKey => text(change.row_key),
            Column::KeyHash => hashed(change.row_key),
            Column::OldKey => text(change.old_key),
            Column::OldKeyHash => hashed(change.old_key),
            Column::OldValues => text(change.old_values),
            Column::NewRow => text(change.new_row),
            Column::Actor => Value::Text(change.actor),
            Column::SessionRole => Value::Text(change.session_role),
            Column::ApplicationName => Value::Text(change.application_name),
            Column::ClientAddr => Value::Text(change.client_addr),
            Column::BackendPid => Value::Datum(pg_sys::Datum::from(change.backend_pid)),
            Column::Txid => Value::Datum(pg_sys::Datum::from(change.txid)),
            Column::Ordinal => Value::Datum(pg_sys::Datum::from(change.ordinal)),
            Column::RowHash => Value::Text(self.row_hash),
        }
    }

    /// The datums and nulls of the table's columns; every text value is copied into one
    /// palloc'd block (in the trigger's memory context).
    fn datums(&self, table: &StoreTable) -> (Vec<pg_sys::Datum>, Vec<bool>) {
        let values: Vec<Value> = table.columns.iter().map(|c| c.map_or(Value::Null, |c| self.value(c))).collect();
        let size = values.iter().map(|v| if let Value::Text(t) = v { text_size(t) } else { 0 }).sum::<usize>();
        // SAFETY: the block is large enough for every text (header and bytes, 4-aligned as
        // palloc'd memory is MAXALIGNed); each varlena gets its 4-byte header.
        unsafe {
            let mut next = pg_sys::palloc(size.max(1)).cast::<u8>();
            values
                .into_iter()
                .map(|value| match value {
                    Value::Null => (pg_sys::Datum::from(0), true),
                    Value::Datum(datum) => (datum, false),
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

    /// Inserts the change into `table`, with its index entries. The caller holds the insert's
    /// locks (`StoreTable::lock`, in this subtransaction).
    pub fn insert(&self, table: &StoreTable) {
        let (mut values, mut nulls) = self.datums(table);
        // SAFETY: the caller holds RowExclusiveLock on the table and its indexes, like any
        // INSERT target (so they are opened without taking the locks again; an index created
        // since invalidates the layout, and loading it again takes its lock), and the tuple is
        // formed with its descriptor (the layout was read from it and is dropped when it
        // changes). Each index gets what the executor would give it: its key columns' values,
        // nothing while it is not ready for inserts (CREATE INDEX CONCURRENTLY), a uniqueness
        // check if it is unique.
        unsafe {
            let rel = pg_sys::table_open(table.oid, pg_sys::NoLock as i32);
            let tuple = pg_sys::heap_form_tuple((*rel).rd_att, values.as_mut_ptr(), nulls.as_mut_ptr());
            pg_sys::simple_heap_insert(rel, tuple);
            for layout in &table.indexes {
                let index = pg_sys::index_open(layout.oid, pg_sys::NoLock as i32);
                let form = &*(*index).rd_index;
                if form.indisready {
                    // What an access method caches in the IndexInfo (a block-range index's
                    // descriptor) lasts this call only: it points into relcache entries.
                    let info = layout.info;
                    (*info).ii_AmCache = std::ptr::null_mut();
                    (*info).ii_Context = pg_sys::CurrentMemoryContext;
                    let mut key_values = [pg_sys::Datum::from(0); pg_sys::INDEX_MAX_KEYS as usize];
                    let mut key_nulls = [false; pg_sys::INDEX_MAX_KEYS as usize];
                    for (n, &c) in layout.columns.iter().enumerate() {
                        (key_values[n], key_nulls[n]) = (values[c], nulls[c]);
                    }
                    let check = if form.indisunique {
                        pg_sys::IndexUniqueCheck::UNIQUE_CHECK_YES
                    } else {
                        pg_sys::IndexUniqueCheck::UNIQUE_CHECK_NO
                    };
                    pg_sys::index_insert(
                        index,
                        key_values.as_mut_ptr(),
                        key_nulls.as_mut_ptr(),
                        &mut (*tuple).t_self,
                        rel,
                        check,
                        false,
                        info,
                    );
                }
                pg_sys::index_close(index, pg_sys::NoLock as i32);
            }
            pg_sys::table_close(rel, pg_sys::NoLock as i32);
        }
    }
}
