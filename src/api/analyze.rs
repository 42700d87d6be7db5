//! `fence.analyze()` and `fence.content_hash()`.

use pgrx::prelude::*;
use pgrx::JsonB;

use crate::{analysis, gate, sqltext};

/// One row per statement: the locks it takes, whether it rewrites or scans, its risk and the
/// findings with their safe rewrites, judged against this database's catalog; with
/// `lock_queue`, the sessions each statement would queue behind now; with `estimate`, the
/// planner's estimate of the rows each data step writes (planned as EXPLAIN plans it, in a
/// subtransaction that is rolled back: for migrations the caller would EXPLAIN).
#[pg_extern]
#[allow(clippy::type_complexity)] // pgrx needs the named columns spelled out here
fn analyze(
    sql: &str,
    lock_queue: default!(bool, false),
    estimate: default!(bool, false),
) -> TableIterator<
    'static,
    (
        name!(stmt_no, i32),
        name!(statement, String),
        name!(command_tag, String),
        name!(relation, Option<String>),
        name!(lock_mode, Option<String>),
        name!(rewrites, bool),
        name!(scans, bool),
        name!(risk, String),
        name!(locks, JsonB),
        name!(findings, JsonB),
        name!(statement_hash, String),
        name!(queued_behind, Option<JsonB>),
    ),
> {
    let extra = |a: &fence_core::analysis::Analysis| lock_queue.then(|| gate::lock_queue_look(a));
    TableIterator::new(analysis::analyze_text(sql, analysis::Looks { estimate, extra: &extra }))
}

/// The content hash (`sha256:<64 hex>`) of a migration, as the CLI prints it (read with the
/// session's `standard_conforming_strings`, hence STABLE).
#[pg_extern(stable, parallel_safe)]
fn content_hash(sql: &str) -> String {
    sqltext::canonical(sql).content_hash
}
