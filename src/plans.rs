//! Kept SPI plans for fence's hot queries: each query is parsed and planned once per backend
//! (PostgreSQL's plan cache re-plans it when the tables it names change), instead of once
//! per statement or commit.

use std::cell::RefCell;
use std::collections::HashMap;

use pgrx::datum::DatumWithOid;
use pgrx::spi::{OwnedPreparedStatement, Spi, SpiClient, SpiResult, SpiTupleTable};
use pgrx::{FromDatum, IntoDatum, PgOid};

thread_local! {
    /// Keyed by the query text's address (queries are `&'static str` from `queries.rs`).
    /// Plans live as long as the backend, so they are never freed.
    static PLANS: RefCell<HashMap<usize, &'static OwnedPreparedStatement>> = RefCell::new(HashMap::new());
}

fn plan(
    client: &SpiClient<'_>,
    query: &'static str,
    args: &[DatumWithOid<'_>],
    mutating: bool,
) -> SpiResult<&'static OwnedPreparedStatement> {
    let key = query.as_ptr() as usize;
    if let Some(plan) = PLANS.with(|p| p.borrow().get(&key).copied()) {
        return Ok(plan);
    }
    let types: Vec<PgOid> = args.iter().map(|a| PgOid::from(a.oid())).collect();
    let prepared = if mutating { client.prepare_mut(query, &types)? } else { client.prepare(query, &types)? };
    let kept: &'static OwnedPreparedStatement = Box::leak(Box::new(prepared.keep()));
    PLANS.with(|p| p.borrow_mut().insert(key, kept));
    Ok(kept)
}

/// Runs a read-only query through its kept plan (argument types from the first call).
pub fn select<'conn>(
    client: &SpiClient<'conn>,
    query: &'static str,
    args: &[DatumWithOid<'_>],
) -> SpiResult<SpiTupleTable<'conn>> {
    client.select(plan(client, query, args, false)?, None, args)
}

/// The first column of a read-only query's first row (None: no row, or NULL). Unlike pgrx's
/// `Spi::get_one`, which runs every query as a writer, it never assigns a transaction id.
pub fn select_one<A: FromDatum + IntoDatum>(query: &'static str, args: &[DatumWithOid<'_>]) -> SpiResult<Option<A>> {
    Spi::connect(|client| {
        let table = select(client, query, args)?;
        if table.is_empty() {
            return Ok(None);
        }
        table.first().get_one::<A>()
    })
}

/// Runs a writing query through its kept plan.
pub fn update<'conn>(
    client: &mut SpiClient<'conn>,
    query: &'static str,
    args: &[DatumWithOid<'_>],
) -> SpiResult<SpiTupleTable<'conn>> {
    let plan = plan(client, query, args, true)?;
    client.update(plan, None, args)
}
