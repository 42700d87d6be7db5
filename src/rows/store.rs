//! Where the row trigger stores a change: a partition of `fence.row_changes`, each of whose
//! attributes is one of the stored columns (`fence_core::rows::ROW_COLUMNS`), filled from the
//! change and inserted without SPI or the executor (`ffi::heap`).

use fence_core::rows::{key_hash, RowChange, RowColumn, ROW_COLUMNS};
use pgrx::pg_sys;

use crate::errors;
use crate::ffi::heap::{InsertTarget, Value};
use crate::ffi::relcache;

/// A partition of row changes as the writer needs it: the stored column of each attribute
/// (None: dropped). Cached per backend until the table's relcache entry is invalidated (a new
/// or dropped index invalidates it too).
pub struct StoreTable {
    target: InsertTarget,
    columns: Vec<Option<RowColumn>>,
}

/// A partition whose columns are not the ones this library stores (the library and the
/// extension's SQL objects are of different versions): `unknown` it has, `missing` it lacks.
fn columns_differ(table: pg_sys::Oid, unknown: &[String], missing: &[&str]) -> ! {
    let table = relcache::relation_name(table).unwrap_or_else(|| table.to_u32().to_string());
    let mut differences = Vec::new();
    if !unknown.is_empty() {
        differences.push(format!("has columns this fence library does not store ({})", unknown.join(", ")));
    }
    if !missing.is_empty() {
        differences.push(format!("lacks columns this fence library stores ({})", missing.join(", ")));
    }
    errors::prerequisite(format!("{table} {}", differences.join(" and ")))
        .detail("The fence library and the extension's tables are of different versions; no change is stored.")
        .hint("ALTER EXTENSION fence UPDATE; (as the extension's owner), then reconnect.")
        .raise()
}

impl StoreTable {
    /// Reads the layout of a partition (opened with the lock the insert takes anyway); one
    /// whose columns are not exactly the stored ones is refused.
    pub fn load(oid: pg_sys::Oid) -> StoreTable {
        let target = InsertTarget::open(oid);
        let mut unknown = Vec::new();
        let columns: Vec<Option<RowColumn>> = target
            .attributes
            .iter()
            .map(|name| {
                let name = name.as_deref()?;
                let column = RowColumn::named(name);
                if column.is_none() {
                    unknown.push(name.to_string());
                }
                column
            })
            .collect();
        let missing: Vec<&str> =
            ROW_COLUMNS.iter().filter(|(_, c)| !columns.contains(&Some(*c))).map(|&(name, _)| name).collect();
        if !unknown.is_empty() || !missing.is_empty() {
            columns_differ(oid, &unknown, &missing);
        }
        StoreTable { target, columns }
    }

    pub fn oid(&self) -> pg_sys::Oid {
        self.target.oid
    }

    /// Takes the insert's locks (see `InsertTarget::lock`).
    pub fn lock(&self) {
        self.target.lock();
    }

    /// Inserts a change with its hash. The caller holds the insert's locks (`lock`, in this
    /// subtransaction).
    pub fn insert(&self, change: &RowChange, row_hash: &str) {
        let values: Vec<Value> =
            self.columns.iter().map(|c| c.map_or(Value::Null, |c| value(change, row_hash, c))).collect();
        self.target.insert(&values);
    }
}

/// The value of one stored column of a change.
fn value<'a>(change: &RowChange<'a>, row_hash: &'a str, column: RowColumn) -> Value<'a> {
    let text = |t: Option<&'a str>| t.map_or(Value::Null, Value::Text);
    let hashed = |t: Option<&str>| t.map_or(Value::Null, |t| Value::Int8(key_hash(t)));
    match column {
        RowColumn::ChangedAt => Value::Timestamp(change.changed_at_us),
        RowColumn::TableId => Value::Int4(change.table_id as i32),
        RowColumn::Relation => Value::Text(change.relation),
        RowColumn::Operation => Value::Text(change.operation),
        RowColumn::RowKey => text(change.row_key),
        RowColumn::KeyHash => hashed(change.row_key),
        RowColumn::OldKey => text(change.old_key),
        RowColumn::OldKeyHash => hashed(change.old_key),
        RowColumn::OldValues => text(change.old_values),
        RowColumn::NewRow => text(change.new_row),
        RowColumn::Actor => Value::Text(change.actor),
        RowColumn::SessionRole => Value::Text(change.session_role),
        RowColumn::ApplicationName => Value::Text(change.application_name),
        RowColumn::ClientAddr => Value::Text(change.client_addr),
        RowColumn::BackendPid => Value::Int4(change.backend_pid),
        RowColumn::Txid => Value::Int8(change.txid),
        RowColumn::Ordinal => Value::Int4(change.ordinal),
        RowColumn::RowHash => Value::Text(row_hash),
    }
}
