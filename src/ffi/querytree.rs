//! The queries inside statements: the relations a view, a `CREATE TABLE AS`, a materialized
//! view or a data statement reads (from the raw parse tree, as the CLI reads pg_query's), what
//! a data statement writes and row-locks, and — for `fence.analyze` only — what the planner
//! expects it to do.

use std::ffi::{c_void, CString};

use fence_core::model::{locked_by, DataAction, DataStatement, RelationName, RowEstimate};
use pgrx::pg_sys::{self, NodeTag as T};

use super::nodes::{cast, cstr, nodes, nodes_of, range_var, tag};

/// What a walk of a raw query collects.
struct Names {
    /// The statement walked (its own target is not a write of its WITH clauses).
    root: *mut pg_sys::Node,
    relations: Vec<RelationName>,
    /// Tables written by the data-modifying statements of WITH clauses.
    writes: Vec<(RelationName, DataAction)>,
}

/// The statements PostgreSQL's raw-tree walker knows (and whose relations are queries').
fn is_query(node: *mut pg_sys::Node) -> bool {
    matches!(tag(node), T::T_SelectStmt | T::T_InsertStmt | T::T_UpdateStmt | T::T_DeleteStmt | T::T_MergeStmt)
}

/// Collects every RangeVar below a node (a name a WITH clause defines too: the catalog finds no
/// table of that name, unless the WITH query reads that very table — which is then a read),
/// and the tables written inside; the table a `SELECT ... INTO` creates is no read.
#[pgrx::pg_guard]
unsafe extern "C-unwind" fn collect(node: *mut pg_sys::Node, context: *mut c_void) -> bool {
    if node.is_null() {
        return false;
    }
    // SAFETY: `context` is the `Names` that `walk` passes, alive for the walk.
    let names = unsafe { &mut *(context as *mut Names) };
    match tag(node) {
        T::T_IntoClause => return false,
        T::T_RangeVar => names.relations.extend(range_var(node)),
        T::T_InsertStmt | T::T_UpdateStmt | T::T_DeleteStmt | T::T_MergeStmt if node != names.root => {
            let written = data(node);
            if let (Some(target), Some(action)) = (written.target, written.action) {
                names.writes.push((target, action));
            }
        }
        _ => {}
    }
    // SAFETY: a node of the raw tree the walk started from; the context passed on.
    unsafe { super::compat::raw_expression_tree_walker(node, Some(collect), context) }
}

/// The relations a raw query names, in order, each once, and the tables its WITH clauses
/// write.
fn walk(query: *mut pg_sys::Node) -> (Vec<RelationName>, Vec<(RelationName, DataAction)>) {
    if !is_query(query) {
        return (Vec::new(), Vec::new());
    }
    let mut names = Names { root: query, relations: Vec::new(), writes: Vec::new() };
    // SAFETY: `query` is a raw statement the walker knows; `collect` gets `names` back as its
    // context, which outlives the walk.
    unsafe { collect(query, &mut names as *mut Names as *mut c_void) };
    let mut out: Vec<RelationName> = Vec::new();
    for relation in names.relations {
        if !out.contains(&relation) {
            out.push(relation);
        }
    }
    (out, names.writes)
}

/// The query a statement runs or stores: its own (a data statement's), or the one inside.
fn inner_query(node: *mut pg_sys::Node) -> *mut pg_sys::Node {
    let inner = match tag(node) {
        T::T_ViewStmt => cast::<pg_sys::ViewStmt, _>(node).map(|s| s.query),
        T::T_CreateTableAsStmt => cast::<pg_sys::CreateTableAsStmt, _>(node).map(|s| s.query),
        T::T_ExplainStmt => cast::<pg_sys::ExplainStmt, _>(node).map(|s| s.query),
        T::T_DeclareCursorStmt => cast::<pg_sys::DeclareCursorStmt, _>(node).map(|s| s.query),
        T::T_PrepareStmt => cast::<pg_sys::PrepareStmt, _>(node).map(|s| s.query),
        T::T_CopyStmt => cast::<pg_sys::CopyStmt, _>(node).map(|s| s.query),
        _ => None,
    };
    inner.unwrap_or(node)
}

/// The tables and views a statement's query reads (views, CREATE TABLE AS, materialized views,
/// SELECT INTO, data statements, COPY), and the tables its WITH clauses write, in one walk;
/// empty for other statements.
pub fn query(node: *mut pg_sys::Node) -> (Vec<RelationName>, Vec<(RelationName, DataAction)>) {
    if let Some(relation) = cast::<pg_sys::CopyStmt, _>(node).and_then(|stmt| range_var(stmt.relation)) {
        return (vec![relation], Vec::new());
    }
    walk(inner_query(node))
}

/// A data statement: what it writes itself (its WITH clauses' writes are `query`'s), which
/// rows it locks, whether a WHERE limits it.
pub fn data(node: *mut pg_sys::Node) -> DataStatement {
    data_of(node).unwrap_or_default()
}

fn data_of(node: *mut pg_sys::Node) -> Option<DataStatement> {
    Some(match tag(node) {
        T::T_InsertStmt => {
            let stmt: &pg_sys::InsertStmt = cast(node)?;
            written(DataAction::Insert, stmt.relation, !stmt.selectStmt.is_null())
        }
        T::T_UpdateStmt => {
            let stmt: &pg_sys::UpdateStmt = cast(node)?;
            let filtered = !stmt.whereClause.is_null() || !stmt.fromClause.is_null();
            written(DataAction::Update, stmt.relation, filtered)
        }
        T::T_DeleteStmt => {
            let stmt: &pg_sys::DeleteStmt = cast(node)?;
            let filtered = !stmt.whereClause.is_null() || !stmt.usingClause.is_null();
            written(DataAction::Delete, stmt.relation, filtered)
        }
        T::T_MergeStmt => written(DataAction::Merge, cast::<pg_sys::MergeStmt, _>(node)?.relation, true),
        T::T_SelectStmt => DataStatement {
            action: Some(DataAction::Read),
            row_locked: row_locked(cast(node)?),
            ..DataStatement::default()
        },
        T::T_CopyStmt => {
            let stmt: &pg_sys::CopyStmt = cast(node)?;
            if stmt.is_from {
                written(DataAction::CopyFrom, stmt.relation, true)
            } else {
                DataStatement { action: Some(DataAction::Read), ..DataStatement::default() }
            }
        }
        // Planned now, run later (or never): its locks are taken, no row is written yet.
        T::T_ExplainStmt if !explain_analyze(cast::<pg_sys::ExplainStmt, _>(node)?.options) => {
            DataStatement { deferred: true, ..data(inner_query(node)) }
        }
        T::T_ExplainStmt => data(inner_query(node)),
        T::T_DeclareCursorStmt | T::T_PrepareStmt => DataStatement { deferred: true, ..data(inner_query(node)) },
        _ => return None,
    })
}

fn written(action: DataAction, relation: *mut pg_sys::RangeVar, filtered: bool) -> DataStatement {
    DataStatement { action: Some(action), target: range_var(relation), filtered, ..DataStatement::default() }
}

/// Whether EXPLAIN's options run the statement (`ANALYZE`, not `ANALYZE false`).
fn explain_analyze(options: *mut pg_sys::List) -> bool {
    nodes_of::<pg_sys::DefElem, _>(options).into_iter().any(|def| {
        cstr(def.defname).as_deref() == Some("analyze")
            // SAFETY: EXPLAIN's own option, read as EXPLAIN reads it (an argument of the wrong
            // kind raises, as EXPLAIN would).
            && unsafe { pg_sys::defGetBoolean(std::ptr::from_ref(def).cast_mut()) }
    })
}

/// The tables a `SELECT ... FOR UPDATE | SHARE` locks rows of: those named after OF (by their
/// alias, or their name), or every table of its FROM clause.
fn row_locked(select: &pg_sys::SelectStmt) -> Vec<RelationName> {
    let mut from = Vec::new();
    for item in nodes(select.fromClause) {
        from_tables(item, &mut from);
    }
    let mut out = Vec::new();
    for clause in nodes_of::<pg_sys::LockingClause, _>(select.lockingClause) {
        let named: Vec<String> = nodes(clause.lockedRels).into_iter().filter_map(range_var).map(|r| r.name).collect();
        out.extend(locked_by(&from, &named));
    }
    out.dedup();
    out
}

/// The tables of a FROM item with their aliases (a table, or the tables of a join).
fn from_tables(item: *mut pg_sys::Node, out: &mut Vec<(RelationName, Option<String>)>) {
    if let Some(rv) = cast::<pg_sys::RangeVar, _>(item) {
        let alias = cast::<pg_sys::Alias, _>(rv.alias).and_then(|alias| cstr(alias.aliasname));
        out.extend(range_var(item).map(|r| (r, alias)));
    } else if let Some(join) = cast::<pg_sys::JoinExpr, _>(item) {
        from_tables(join.larg, out);
        from_tables(join.rarg, out);
    }
}

/// What the planner expects a data statement to do: the rows it writes (a SELECT's, the rows
/// it returns) and whether it reads a table whole. Only on request (`fence.analyze(...,
/// estimate => true)`): the statement is analyzed and planned in a subtransaction that is
/// rolled back — no row is written, and the locks planning takes are released (waited for at
/// most a second) — but parsing and planning evaluate some functions (constants folded, a
/// domain's checks on literals, built-in STABLE functions for estimates), as EXPLAIN does. A
/// query that calls a function or operator not built into PostgreSQL, or reads a table with
/// row-level security, is not planned. None when it is not planned, or cannot be planned here
/// (a parameter, a table the script creates first).
pub fn estimate(node: *mut pg_sys::Node, sql: &str) -> Option<RowEstimate> {
    if !is_query(node) {
        return None;
    }
    let text = CString::new(sql).ok()?;
    let lock_timeout = CString::new("lock_timeout").ok()?;
    // At most a second, or the session's own shorter lock_timeout.
    let session = super::security::timeouts_ms().0;
    let wait = CString::new(if session > 0 && session < 1000 { session } else { 1000 }.to_string()).ok()?;
    super::xact::rolled_back(|| {
        // SAFETY: set for the subtransaction only: its rollback restores the session's value.
        unsafe {
            pg_sys::set_config_option(
                lock_timeout.as_ptr(),
                wait.as_ptr(),
                pg_sys::GucContext::PGC_USERSET,
                pg_sys::GucSource::PGC_S_SESSION,
                pg_sys::GucAction::GUC_ACTION_LOCAL,
                true,
                0,
                false,
            )
        };
        let queries = analyze_and_rewrite(node, &text);
        // The functions and operators (and domains) of user code the rewritten queries use
        // (the plan cache's invalidation items: built-ins are left out), and row-level
        // security policies: planning could run them.
        if nodes_of::<pg_sys::Query, _>(queries).into_iter().any(runs_user_code) {
            return None;
        }
        let mut estimate = RowEstimate { rows: 0, scans: false };
        for query in nodes_of::<pg_sys::Query, _>(queries) {
            if query.commandType == pg_sys::CmdType::CMD_UTILITY {
                continue;
            }
            // SAFETY: a query the server analyzed and rewrote, planned as PostgreSQL plans any
            // query; the plan is read before the subtransaction's memory goes.
            let planned = unsafe {
                pg_sys::pg_plan_query(std::ptr::from_ref(query).cast_mut(), text.as_ptr(), 0, std::ptr::null_mut())
            };
            let Some(planned) = cast::<pg_sys::PlannedStmt, _>(planned) else { continue };
            let top = planned.planTree;
            // A write's rows are those of the plan under its ModifyTable node.
            let rows_plan =
                if tag(top) == T::T_ModifyTable { plan(top).and_then(|p| plan(p.lefttree)) } else { plan(top) };
            if let Some(rows_plan) = rows_plan {
                estimate.rows = estimate.rows.max(rows_plan.plan_rows.max(0.0) as u64);
            }
            estimate.scans |= seq_scan(top) || nodes(planned.subplans).into_iter().any(|p| seq_scan(p.cast()));
        }
        Some(estimate)
    })
    .flatten()
}

/// A copy of the raw statement (analysis may scribble on its input), analyzed and rewritten as
/// PostgreSQL analyzes any query: a list of Query nodes.
fn analyze_and_rewrite(node: *mut pg_sys::Node, text: &CString) -> *mut pg_sys::List {
    // SAFETY: a RawStmt made in the current memory context around a copy of the statement;
    // errors raise (caught by the caller's subtransaction).
    unsafe {
        let raw = pg_sys::palloc0(std::mem::size_of::<pg_sys::RawStmt>()) as *mut pg_sys::RawStmt;
        (*raw).type_ = T::T_RawStmt;
        (*raw).stmt = pg_sys::copyObjectImpl(node as *const c_void) as *mut pg_sys::Node;
        pg_sys::pg_analyze_and_rewrite_fixedparams(raw, text.as_ptr(), std::ptr::null(), 0, std::ptr::null_mut())
    }
}

/// Whether planning the query could run user code: a function, operator or domain not built
/// into PostgreSQL, or a row-level security policy.
fn runs_user_code(query: &pg_sys::Query) -> bool {
    let (mut relations, mut items, mut row_security) = (std::ptr::null_mut(), std::ptr::null_mut(), false);
    // SAFETY: reads the analyzed query; the lists are made in the current memory context.
    unsafe {
        pg_sys::extract_query_dependencies(
            std::ptr::from_ref(query).cast_mut().cast(),
            &mut relations,
            &mut items,
            &mut row_security,
        )
    };
    !items.is_null() || row_security
}

/// A plan node's common part (None for NULL). Any node of a plan tree is a Plan.
fn plan<'a, P>(node: *mut P) -> Option<&'a pg_sys::Plan> {
    let node = node as *const pg_sys::Plan;
    // SAFETY: a node of a plan tree the planner just made (see `nodes`): every plan node starts
    // with a Plan.
    (!node.is_null()).then(|| unsafe { &*node })
}

/// Whether a plan reads a table whole somewhere: in itself, its children, an Append's or
/// MergeAppend's plans, or a SubqueryScan's subplan.
fn seq_scan(node: *mut pg_sys::Plan) -> bool {
    let Some(p) = plan(node) else { return false };
    let children: Vec<*mut pg_sys::Node> = match tag(node) {
        T::T_SeqScan => return true,
        T::T_Append => cast::<pg_sys::Append, _>(node).map_or_else(Vec::new, |a| nodes(a.appendplans)),
        T::T_MergeAppend => cast::<pg_sys::MergeAppend, _>(node).map_or_else(Vec::new, |a| nodes(a.mergeplans)),
        T::T_SubqueryScan => cast::<pg_sys::SubqueryScan, _>(node).map_or_else(Vec::new, |s| vec![s.subplan.cast()]),
        _ => Vec::new(),
    };
    seq_scan(p.lefttree) || seq_scan(p.righttree) || children.into_iter().any(|c| seq_scan(c.cast()))
}
