//! The one way fence runs SQL: every query is a file of `sql/queries/` (see `queries`), run
//! through a plan kept for the backend's life, its rows read by column name; a failure of
//! fence's own query is raised as one internal error, here and nowhere else. Queries on
//! fence's tables run as the extension owner (see `owner`).

pub mod owner;
pub mod queries;

use std::cell::RefCell;
use std::collections::HashMap;

use pgrx::datum::DatumWithOid;
use pgrx::spi::{self, OwnedPreparedStatement, Spi, SpiClient, SpiHeapTupleData, SpiResult};
use pgrx::{FromDatum, IntoDatum, PgOid};

use crate::errors;
use crate::ffi::{relcache, stream};

/// Whether `fence.exemptions` binds exemptions to what they name (0.4.0): until `ALTER
/// EXTENSION fence UPDATE` has run, a newer library leaves the old table alone — it grants
/// exemptions the old way and lets none of them cover a statement (fail closed).
pub fn exemptions_bound() -> bool {
    relcache::fence_column_exists("exemptions", "statement_hashes")
}

/// Whether fence's tables carry the fleet's columns (0.4.0: where a grant came from, which
/// databases an exemption applies in); before `ALTER EXTENSION fence UPDATE` a newer library
/// writes the old columns only and has no fleet.
pub fn fleet_ready() -> bool {
    relcache::fence_column_exists("approvals", "origin")
}

/// A query argument (`$n`).
pub type Arg<'a> = DatumWithOid<'a>;

/// A query of fence's own failed: nothing a user can fix, so no partial result is used.
fn failed(error: spi::Error) -> ! {
    errors::internal(format!("internal query failed: {error}")).raise()
}

thread_local! {
    /// Keyed by the query text's address (queries are `&'static str` from `queries`). Plans
    /// live as long as the backend (PostgreSQL's plan cache re-plans them when the tables they
    /// name change), so they are never freed.
    static PLANS: RefCell<HashMap<usize, &'static OwnedPreparedStatement>> = RefCell::new(HashMap::new());
}

fn plan(
    client: &SpiClient<'_>,
    query: &'static str,
    args: &[Arg<'_>],
    writes: bool,
) -> &'static OwnedPreparedStatement {
    let key = query.as_ptr() as usize;
    if let Some(plan) = PLANS.with(|p| p.borrow().get(&key).copied()) {
        return plan;
    }
    let types: Vec<PgOid> = args.iter().map(|a| PgOid::from(a.oid())).collect();
    let prepared = if writes { client.prepare_mut(query, &types) } else { client.prepare(query, &types) };
    let kept: &'static OwnedPreparedStatement = Box::leak(Box::new(prepared.unwrap_or_else(|e| failed(e)).keep()));
    PLANS.with(|p| p.borrow_mut().insert(key, kept));
    kept
}

/// One row of a result, read by column name.
pub struct Row<'a>(&'a SpiHeapTupleData<'a>);

impl Row<'_> {
    /// The value of `column` (None: NULL); a column the query does not return, or of another
    /// type, is fence's own mistake and raised as such.
    pub fn get<T: FromDatum + IntoDatum>(&self, column: &str) -> Option<T> {
        self.0.get_by_name::<T, _>(column).unwrap_or_else(|e| failed(e))
    }

    /// A text column, "" for NULL.
    pub fn text(&self, column: &str) -> String {
        self.get::<String>(column).unwrap_or_default()
    }
}

fn read_all<T>(rows: SpiResult<spi::SpiTupleTable<'_>>, mut read: impl FnMut(&Row) -> T) -> Vec<T> {
    rows.unwrap_or_else(|e| failed(e)).map(|row| read(&Row(&row))).collect()
}

/// Runs a read-only query (it never assigns a transaction id) and reads each row.
pub fn select<T>(query: &'static str, args: &[Arg<'_>], read: impl FnMut(&Row) -> T) -> Vec<T> {
    Spi::connect(|client| read_all(client.select(plan(client, query, args, false), None, args), read))
}

/// The first row of a read-only query, read.
pub fn select_first<T>(query: &'static str, args: &[Arg<'_>], read: impl FnMut(&Row) -> T) -> Option<T> {
    select(query, args, read).into_iter().next()
}

/// One column of a read-only query's first row (None: no row, or NULL).
pub fn select_value<T: FromDatum + IntoDatum>(query: &'static str, args: &[Arg<'_>], column: &str) -> Option<T> {
    select_first(query, args, |row| row.get::<T>(column)).flatten()
}

/// Runs a query that writes (or takes locks, or sets settings) and reads the rows it returns.
pub fn write<T>(query: &'static str, args: &[Arg<'_>], read: impl FnMut(&Row) -> T) -> Vec<T> {
    Spi::connect_mut(|client| {
        let plan = plan(client, query, args, true);
        read_all(client.update(plan, None, args), read)
    })
}

/// Runs a query that writes, ignoring what it returns.
pub fn execute(query: &'static str, args: &[Arg<'_>]) {
    write(query, args, |_| ());
}

/// One row of a streamed query, its columns named when the stream starts.
pub struct StreamRow<'a, const N: usize> {
    row: &'a stream::Row,
    at: &'a [usize; N],
}

impl<const N: usize> StreamRow<'_, N> {
    pub fn int8(&self, column: usize) -> Option<i64> {
        self.row.int8(self.at[column])
    }

    pub fn int4(&self, column: usize) -> Option<i32> {
        self.row.int4(self.at[column])
    }

    pub fn oid(&self, column: usize) -> Option<pgrx::pg_sys::Oid> {
        self.row.oid(self.at[column])
    }

    pub fn timestamptz_unix_us(&self, column: usize) -> Option<i64> {
        self.row.timestamptz_unix_us(self.at[column])
    }

    pub fn tid_block(&self, column: usize) -> Option<u32> {
        self.row.tid_block(self.at[column])
    }

    pub fn text(&self, column: usize) -> Option<&str> {
        self.row.text(self.at[column])
    }
}

fn stream_with<const N: usize>(
    query: &'static str,
    args: &[Arg<'_>],
    columns: [&str; N],
    options: stream::Options,
    mut each: impl FnMut(&StreamRow<N>) -> bool,
) {
    Spi::connect(|client| {
        let mut at: Option<[usize; N]> = None;
        stream::for_each_row(client, query, args, options, |row| {
            let at = at.get_or_insert_with(|| {
                columns.map(|name| {
                    row.position(name)
                        .unwrap_or_else(|| errors::internal(format!("query returns no column {name}")).raise())
                })
            });
            each(&StreamRow { row, at })
        });
    })
}

/// Streams a query's rows as the executor produces them (no tuple table, no conversion of
/// values it is not asked for: the sealer and verification read every stored row change and
/// chain event) to
/// `each`, until it returns false. `columns` names the columns read; a row's values are asked
/// for by their index in `columns`. The query is planned for the arguments' values and runs
/// with a new snapshot (READ COMMITTED: it sees every transaction committed before it starts).
pub fn stream<const N: usize>(
    query: &'static str,
    args: &[Arg<'_>],
    columns: [&str; N],
    each: impl FnMut(&StreamRow<N>) -> bool,
) {
    stream_with(query, args, columns, stream::Options { read_only: false, keep_plan: false }, each)
}
