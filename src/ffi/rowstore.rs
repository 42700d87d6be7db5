//! Storing one row change: a heap insert into a partition of `fence.row_changes` and into its
//! indexes — no SPI, no executor, no permission check (the writing role has no rights on
//! fence's tables and needs none). This runs once per change of every tracked table, so what
//! can be worked out once is: which stored column each attribute of the partition is, and
//! which heap columns each index holds.

use fence_core::rows::{key_hash, RowChange};
use pgrx::pg_sys;

use super::nodes::{cstr, list_oids};
use super::rowtrigger::{attribute, text_datum, Json};

/// The columns of `fence.row_changes` (sql/rows.sql), by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    ChangedAt,
    TableId,
    Relation,
    Operation,
    RowKey,
    KeyHash,
    OldKey,
    OldKeyHash,
    OldRow,
    NewRow,
    Actor,
    SessionRole,
    ApplicationName,
    ClientAddr,
    BackendPid,
    Txid,
    Ordinal,
    RowHash,
}

impl Column {
    fn named(name: &str) -> Option<Column> {
        Some(match name {
            "changed_at" => Column::ChangedAt,
            "table_id" => Column::TableId,
            "relation" => Column::Relation,
            "operation" => Column::Operation,
            "row_key" => Column::RowKey,
            "key_hash" => Column::KeyHash,
            "old_key" => Column::OldKey,
            "old_key_hash" => Column::OldKeyHash,
            "old_row" => Column::OldRow,
            "new_row" => Column::NewRow,
            "actor" => Column::Actor,
            "session_role" => Column::SessionRole,
            "application_name" => Column::ApplicationName,
            "client_addr" => Column::ClientAddr,
            "backend_pid" => Column::BackendPid,
            "txid" => Column::Txid,
            "ordinal" => Column::Ordinal,
            "row_hash" => Column::RowHash,
            _ => return None,
        })
    }
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
/// dropped or not fence's) and its indexes. Cached per backend until the table's relcache
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
    crate::errors::raise(
        pgrx::PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
        format!("fence: index {} of fence.row_changes has an expression or a predicate", index.to_u32()),
        Some("fence writes row changes without the executor, so it cannot maintain such an index.".into()),
        Some("Drop that index; index plain columns.".into()),
    )
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
            let columns = (0..(*desc).natts as usize)
                .map(|i| {
                    let attr = attribute(desc, i);
                    if attr.attisdropped {
                        return None;
                    }
                    Column::named(&cstr(attr.attname.data.as_ptr()).unwrap_or_default())
                })
                .collect();
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

    /// Takes the insert's lock (RowExclusiveLock, held to the end of the transaction); taking
    /// it for the first time in a transaction takes in pending invalidations.
    pub fn lock(&self) {
        // SAFETY: a regular relation lock, released by the transaction's end.
        unsafe { pg_sys::LockRelationOid(self.oid, pg_sys::RowExclusiveLock as i32) };
    }
}

/// A change ready to be stored: its hashed fields, the values behind the texts that were
/// hashed, and the hash.
pub struct StoredChange<'a> {
    pub change: &'a RowChange<'a>,
    pub row_key: Option<&'a Json>,
    pub old_key: Option<&'a Json>,
    pub old_row: Option<&'a Json>,
    pub new_row: Option<&'a Json>,
    pub row_hash: &'a str,
}

impl StoredChange<'_> {
    /// The value of one column (None = NULL).
    fn value(&self, column: Column) -> Option<pg_sys::Datum> {
        let json = |j: Option<&Json>| j.map(|j| j.datum);
        let hashed = |j: Option<&Json>| j.map(|j| pg_sys::Datum::from(key_hash(&j.text)));
        let change = self.change;
        Some(match column {
            Column::ChangedAt => pg_sys::Datum::from(super::xact::postgres_timestamp(change.changed_at_us)),
            Column::TableId => pg_sys::Datum::from(change.table_id as i32),
            Column::Relation => text_datum(change.relation),
            Column::Operation => text_datum(change.operation),
            Column::RowKey => return json(self.row_key),
            Column::KeyHash => return hashed(self.row_key),
            Column::OldKey => return json(self.old_key),
            Column::OldKeyHash => return hashed(self.old_key),
            Column::OldRow => return json(self.old_row),
            Column::NewRow => return json(self.new_row),
            Column::Actor => text_datum(change.actor),
            Column::SessionRole => text_datum(change.session_role),
            Column::ApplicationName => text_datum(change.application_name),
            Column::ClientAddr => text_datum(change.client_addr),
            Column::BackendPid => pg_sys::Datum::from(change.backend_pid),
            Column::Txid => pg_sys::Datum::from(change.txid),
            Column::Ordinal => pg_sys::Datum::from(change.ordinal),
            Column::RowHash => text_datum(self.row_hash),
        })
    }

    /// Inserts the change into `table`, with its index entries. The caller holds the table's
    /// insert lock (`StoreTable::lock`, in this transaction).
    pub fn insert(&self, table: &StoreTable) {
        let mut values = vec![pg_sys::Datum::from(0); table.columns.len()];
        let mut nulls = vec![true; table.columns.len()];
        for (i, column) in table.columns.iter().enumerate() {
            if let Some(value) = column.and_then(|c| self.value(c)) {
                values[i] = value;
                nulls[i] = false;
            }
        }
        // SAFETY: the caller holds RowExclusiveLock on the table, like any INSERT target (so it
        // is opened without taking the lock again), and the tuple is formed with its descriptor
        // (the layout was read from it and is dropped when it changes). Each index gets what
        // the executor would give it: its key columns' values, nothing while it is not ready
        // for inserts (CREATE INDEX CONCURRENTLY), a uniqueness check if it is unique.
        unsafe {
            let rel = pg_sys::table_open(table.oid, pg_sys::NoLock as i32);
            let tuple = pg_sys::heap_form_tuple((*rel).rd_att, values.as_mut_ptr(), nulls.as_mut_ptr());
            pg_sys::simple_heap_insert(rel, tuple);
            for layout in &table.indexes {
                let index = pg_sys::index_open(layout.oid, pg_sys::RowExclusiveLock as i32);
                let form = &*(*index).rd_index;
                if form.indisready {
                    // What an access method caches in the IndexInfo (a block-range index's
                    // descriptor) lasts this call only: it points into relcache entries.
                    let info = layout.info;
                    (*info).ii_AmCache = std::ptr::null_mut();
                    (*info).ii_Context = pg_sys::CurrentMemoryContext;
                    let mut key_values: Vec<pg_sys::Datum> = layout.columns.iter().map(|&c| values[c]).collect();
                    let mut key_nulls: Vec<bool> = layout.columns.iter().map(|&c| nulls[c]).collect();
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
