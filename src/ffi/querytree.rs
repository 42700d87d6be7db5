//! The queries inside statements: the relations a view, a `CREATE TABLE AS`, a materialized
//! view or a data statement reads (from the raw parse tree, as the CLI reads pg_query's), what
//! a data statement writes and row-locks, and — for `fence.analyze` only — what the planner
//! expects it to do.

use std::ffi::{c_void, CString};

use fence_core::model::{locked_by, DataAction, DataStatement, RelationName, RowEstimate};
use pgrx::pg_sys::{self, NodeTag as T};

use super::nodes::{cstr, list_nodes, range_var, tag};

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
    // SAFETY: a node or NULL (tag reads only the first field).
    let kind = unsafe { tag(node) };
    matches!(kind, T::T_SelectStmt | T::T_InsertStmt | T::T_UpdateStmt | T::T_DeleteStmt | T::T_MergeStmt)
}

/// Collects every RangeVar below a node (a name a WITH clause defines too: the catalog finds no
/// table of that name, unless the WITH query reads that very table — which is then a read),
/// and the tables written inside; the table a `SELECT ... INTO` creates is no read.
#[pgrx::pg_guard]
unsafe extern "C-unwind" fn collect(node: *mut pg_sys::Node, context: *mut c_void) -> bool {
    if node.is_null() {
        return false;
    }
    // SAFETY: `context` is the `Names` that `walk` passes; each cast follows its tag check.
    unsafe {
        let names = &mut *(context as *mut Names);
        match tag(node) {
            T::T_IntoClause => return false,
            T::T_RangeVar => {
                if let Some(relation) = range_var(node as *mut pg_sys::RangeVar) {
                    names.relations.push(relation);
                }
            }
            T::T_InsertStmt | T::T_UpdateStmt | T::T_DeleteStmt | T::T_MergeStmt if node != names.root => {
                let written = data(node);
                if let (Some(target), Some(action)) = (written.target, written.action) {
                    names.writes.push((target, action));
                }
            }
            _ => {}
        }
        super::compat::raw_expression_tree_walker(node, Some(collect), context)
    }
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
    // SAFETY: each cast follows its tag check.
    unsafe {
        match tag(node) {
            T::T_ViewStmt => (*(node as *mut pg_sys::ViewStmt)).query,
            T::T_CreateTableAsStmt => (*(node as *mut pg_sys::CreateTableAsStmt)).query,
            T::T_ExplainStmt => (*(node as *mut pg_sys::ExplainStmt)).query,
            T::T_DeclareCursorStmt => (*(node as *mut pg_sys::DeclareCursorStmt)).query,
            T::T_PrepareStmt => (*(node as *mut pg_sys::PrepareStmt)).query,
            T::T_CopyStmt => (*(node as *mut pg_sys::CopyStmt)).query,
            _ => node,
        }
    }
}

/// The tables and views a statement's query reads (views, CREATE TABLE AS, materialized views,
/// SELECT INTO, data statements, COPY), and the tables its WITH clauses write, in one walk;
/// empty for other statements.
pub fn query(node: *mut pg_sys::Node) -> (Vec<RelationName>, Vec<(RelationName, DataAction)>) {
    // SAFETY: cast after the tag check.
    unsafe {
        if tag(node) == T::T_CopyStmt {
            let stmt = &*(node as *mut pg_sys::CopyStmt);
            if let Some(relation) = range_var(stmt.relation) {
                return (vec![relation], Vec::new());
            }
        }
    }
    walk(inner_query(node))
}

/// A data statement: what it writes itself (its WITH clauses' writes are `query`'s), which
/// rows it locks, whether a WHERE limits it.
pub fn data(node: *mut pg_sys::Node) -> DataStatement {
    // SAFETY: each cast follows its tag check.
    unsafe {
        match tag(node) {
            T::T_InsertStmt => {
                let stmt = &*(node as *mut pg_sys::InsertStmt);
                written(DataAction::Insert, stmt.relation, !stmt.selectStmt.is_null())
            }
            T::T_UpdateStmt => {
                let stmt = &*(node as *mut pg_sys::UpdateStmt);
                let filtered = !stmt.whereClause.is_null() || !stmt.fromClause.is_null();
                written(DataAction::Update, stmt.relation, filtered)
            }
            T::T_DeleteStmt => {
                let stmt = &*(node as *mut pg_sys::DeleteStmt);
                let filtered = !stmt.whereClause.is_null() || !stmt.usingClause.is_null();
                written(DataAction::Delete, stmt.relation, filtered)
            }
            T::T_MergeStmt => written(DataAction::Merge, (*(node as *mut pg_sys::MergeStmt)).relation, true),
            T::T_SelectStmt => DataStatement {
                action: Some(DataAction::Read),
                row_locked: row_locked(&*(node as *mut pg_sys::SelectStmt)),
                ..DataStatement::default()
            },
            T::T_CopyStmt => {
                let stmt = &*(node as *mut pg_sys::CopyStmt);
                if stmt.is_from {
                    written(DataAction::CopyFrom, stmt.relation, true)
                } else {
                    DataStatement { action: Some(DataAction::Read), ..DataStatement::default() }
                }
            }
            // Planned now, run later (or never): its locks are taken, no row is written yet.
            T::T_ExplainStmt if !explain_analyze((*(node as *mut pg_sys::ExplainStmt)).options) => {
                DataStatement { deferred: true, ..data(inner_query(node)) }
            }
            T::T_ExplainStmt => data(inner_query(node)),
            T::T_DeclareCursorStmt | T::T_PrepareStmt => DataStatement { deferred: true, ..data(inner_query(node)) },
            _ => DataStatement::default(),
        }
    }
}

fn written(action: DataAction, relation: *mut pg_sys::RangeVar, filtered: bool) -> DataStatement {
    // SAFETY: the statement's target RangeVar (or NULL).
    let target = unsafe { range_var(relation) };
    DataStatement { action: Some(action), target, filtered, ..DataStatement::default() }
}

/// Whether EXPLAIN's options run the statement (`ANALYZE`, not `ANALYZE false`).
unsafe fn explain_analyze(options: *mut pg_sys::List) -> bool {
    // SAFETY: EXPLAIN's options are DefElem nodes; the argument, if any, a String or Boolean.
    unsafe {
        list_nodes(options).into_iter().filter(|n| tag(*n) == T::T_DefElem).any(|n| {
            let def = &*(n as *mut pg_sys::DefElem);
            cstr(def.defname).as_deref() == Some("analyze") && pg_sys::defGetBoolean(def as *const _ as *mut _)
        })
    }
}

/// The tables a `SELECT ... FOR UPDATE | SHARE` locks rows of: those named after OF (by their
/// alias, or their name), or every table of its FROM clause.
unsafe fn row_locked(select: &pg_sys::SelectStmt) -> Vec<RelationName> {
    // SAFETY: locking clauses are LockingClause nodes, their relations RangeVars; FROM items
    // are RangeVar, JoinExpr or others (skipped).
    unsafe {
        let mut from = Vec::new();
        for item in list_nodes(select.fromClause) {
            from_tables(item, &mut from);
        }
        let mut out = Vec::new();
        for clause in list_nodes(select.lockingClause).into_iter().filter(|n| tag(*n) == T::T_LockingClause) {
            let named: Vec<String> = list_nodes((*(clause as *mut pg_sys::LockingClause)).lockedRels)
                .into_iter()
                .filter_map(|n| range_var(n as *mut pg_sys::RangeVar))
                .map(|r| r.name)
                .collect();
            out.extend(locked_by(&from, &named));
        }
        out.dedup();
        out
    }
}

/// The tables of a FROM item with their aliases (a table, or the tables of a join).
unsafe fn from_tables(item: *mut pg_sys::Node, out: &mut Vec<(RelationName, Option<String>)>) {
    // SAFETY: casts after the tag checks.
    unsafe {
        match tag(item) {
            T::T_RangeVar => {
                let rv = item as *mut pg_sys::RangeVar;
                let alias = if (*rv).alias.is_null() { None } else { cstr((*(*rv).alias).aliasname) };
                out.extend(range_var(rv).map(|r| (r, alias)));
            }
            T::T_JoinExpr => {
                let join = &*(item as *mut pg_sys::JoinExpr);
                from_tables(join.larg, out);
                from_tables(join.rarg, out);
            }
            _ => {}
        }
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
        // SAFETY: a copy of the raw statement is analyzed (analysis may scribble on its
        // input), rewritten and planned as PostgreSQL plans any query; the plans are read
        // before the subtransaction's memory goes.
        unsafe {
            // Set for the subtransaction only: its rollback restores the session's value.
            pg_sys::set_config_option(
                lock_timeout.as_ptr(),
                wait.as_ptr(),
                pg_sys::GucContext::PGC_USERSET,
                pg_sys::GucSource::PGC_S_SESSION,
                pg_sys::GucAction::GUC_ACTION_LOCAL,
                true,
                0,
                false,
            );
            let raw = pg_sys::palloc0(std::mem::size_of::<pg_sys::RawStmt>()) as *mut pg_sys::RawStmt;
            (*raw).type_ = T::T_RawStmt;
            (*raw).stmt = pg_sys::copyObjectImpl(node as *const c_void) as *mut pg_sys::Node;
            let queries = pg_sys::pg_analyze_and_rewrite_fixedparams(
                raw,
                text.as_ptr(),
                std::ptr::null(),
                0,
                std::ptr::null_mut(),
            );
            // The functions and operators (and domains) of user code the rewritten queries use
            // (the plan cache's invalidation items: built-ins are left out), and row-level
            // security policies: planning could run them.
            for query in list_nodes(queries) {
                let (mut relations, mut items, mut row_security) = (std::ptr::null_mut(), std::ptr::null_mut(), false);
                pg_sys::extract_query_dependencies(query, &mut relations, &mut items, &mut row_security);
                if !items.is_null() || row_security {
                    return None;
                }
            }
            let mut estimate = RowEstimate { rows: 0, scans: false };
            for query in list_nodes(queries) {
                let query = query as *mut pg_sys::Query;
                if (*query).commandType == pg_sys::CmdType::CMD_UTILITY {
                    continue;
                }
                let planned = pg_sys::pg_plan_query(query, text.as_ptr(), 0, std::ptr::null_mut());
                let top = (*planned).planTree;
                // A write's rows are those of the plan under its ModifyTable node.
                let rows_plan = if tag(top as *mut pg_sys::Node) == T::T_ModifyTable { (*top).lefttree } else { top };
                if !rows_plan.is_null() {
                    estimate.rows = estimate.rows.max((*rows_plan).plan_rows.max(0.0) as u64);
                }
                estimate.scans |= seq_scan(top)
                    || list_nodes((*planned).subplans).into_iter().any(|p| seq_scan(p as *mut pg_sys::Plan));
            }
            Some(estimate)
        }
    })
    .flatten()
}

/// Whether a plan reads a table whole somewhere.
unsafe fn seq_scan(plan: *mut pg_sys::Plan) -> bool {
    if plan.is_null() {
        return false;
    }
    // SAFETY: a plan tree: each node's children are plans; Append's and MergeAppend's lists
    // and a SubqueryScan's subplan too (cast after the tag checks).
    unsafe {
        let node = plan as *mut pg_sys::Node;
        let children: Vec<*mut pg_sys::Plan> = match tag(node) {
            T::T_SeqScan => return true,
            T::T_Append => {
                list_nodes((*(plan as *mut pg_sys::Append)).appendplans).into_iter().map(|p| p as _).collect()
            }
            T::T_MergeAppend => {
                list_nodes((*(plan as *mut pg_sys::MergeAppend)).mergeplans).into_iter().map(|p| p as _).collect()
            }
            T::T_SubqueryScan => vec![(*(plan as *mut pg_sys::SubqueryScan)).subplan],
            _ => Vec::new(),
        };
        seq_scan((*plan).lefttree) || seq_scan((*plan).righttree) || children.into_iter().any(|p| seq_scan(p))
    }
}
