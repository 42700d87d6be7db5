//! The queries inside statements, read from pg_query's tree as the extension reads the
//! server's (src/ffi/querytree.rs): the relations a view, a `CREATE TABLE AS`, a materialized
//! view or a data statement reads; what a data statement writes and row-locks. Offline there is
//! no planner: no row estimate.

use fence_core::model::{locked_by, DataAction, DataStatement, RelationName};
use pg_query::protobuf;
use pg_query::{NodeEnum as N, NodeRef};

use crate::parse::{range_var, relation};

/// The query a statement runs or stores: its own (a data statement's), or the one inside.
fn inner_query(node: &N) -> Option<&N> {
    fn inner(query: &Option<Box<protobuf::Node>>) -> Option<&N> {
        query.as_ref().and_then(|q| q.node.as_ref())
    }
    match node {
        N::ViewStmt(stmt) => inner(&stmt.query),
        N::CreateTableAsStmt(stmt) => inner(&stmt.query),
        N::ExplainStmt(stmt) => inner(&stmt.query),
        N::DeclareCursorStmt(stmt) => inner(&stmt.query),
        N::PrepareStmt(stmt) => inner(&stmt.query),
        N::CopyStmt(stmt) => inner(&stmt.query),
        N::SelectStmt(_) | N::InsertStmt(_) | N::UpdateStmt(_) | N::DeleteStmt(_) | N::MergeStmt(_) => Some(node),
        _ => None,
    }
}

/// The tables and views a statement's query reads (views, CREATE TABLE AS, materialized views,
/// SELECT INTO, data statements, COPY), without the names its WITH clauses define, each once;
/// and the tables its WITH clauses write — in one walk.
pub fn query(node: &N) -> (Vec<RelationName>, Vec<(RelationName, DataAction)>) {
    if let N::CopyStmt(stmt) = node {
        if let Some(relation) = range_var(&stmt.relation) {
            return (vec![relation], Vec::new());
        }
    }
    let Some(query) = inner_query(node) else { return (Vec::new(), Vec::new()) };
    let into = match query {
        N::SelectStmt(select) => select.into_clause.as_ref().and_then(|i| range_var(&i.rel)),
        _ => None,
    };
    let mut ctes: Vec<&str> = Vec::new();
    let mut relations: Vec<RelationName> = Vec::new();
    let mut writes = Vec::new();
    for (node, depth, ..) in query.nodes() {
        let written = |action, rv: &Option<protobuf::RangeVar>| range_var(rv).map(|r| (r, action));
        match node {
            NodeRef::CommonTableExpr(cte) => ctes.push(&cte.ctename),
            NodeRef::RangeVar(rv) => relations.push(relation(rv)),
            // A statement inside (the statement itself is `data`'s).
            NodeRef::InsertStmt(s) if depth > 0 => writes.extend(written(DataAction::Insert, &s.relation)),
            NodeRef::UpdateStmt(s) if depth > 0 => writes.extend(written(DataAction::Update, &s.relation)),
            NodeRef::DeleteStmt(s) if depth > 0 => writes.extend(written(DataAction::Delete, &s.relation)),
            NodeRef::MergeStmt(s) if depth > 0 => writes.extend(written(DataAction::Merge, &s.relation)),
            _ => {}
        }
    }
    let mut out: Vec<RelationName> = Vec::new();
    for relation in relations {
        let cte = relation.schema.is_none() && ctes.contains(&relation.name.as_str());
        if !cte && Some(&relation) != into.as_ref() && !out.contains(&relation) {
            out.push(relation);
        }
    }
    (out, writes)
}

/// A data statement: what it writes itself (its WITH clauses' writes are `query`'s), which
/// rows it locks, whether a WHERE limits it.
pub fn data(node: &N) -> DataStatement {
    let written = |action, relation: &Option<protobuf::RangeVar>, filtered| DataStatement {
        action: Some(action),
        target: range_var(relation),
        filtered,
        ..DataStatement::default()
    };
    let deferred = |inner: Option<&N>| DataStatement { deferred: true, ..inner.map(data).unwrap_or_default() };
    match node {
        N::InsertStmt(stmt) => written(DataAction::Insert, &stmt.relation, stmt.select_stmt.is_some()),
        N::UpdateStmt(stmt) => {
            written(DataAction::Update, &stmt.relation, stmt.where_clause.is_some() || !stmt.from_clause.is_empty())
        }
        N::DeleteStmt(stmt) => {
            written(DataAction::Delete, &stmt.relation, stmt.where_clause.is_some() || !stmt.using_clause.is_empty())
        }
        N::MergeStmt(stmt) => written(DataAction::Merge, &stmt.relation, true),
        N::SelectStmt(stmt) => {
            DataStatement { action: Some(DataAction::Read), row_locked: row_locked(stmt), ..DataStatement::default() }
        }
        N::CopyStmt(stmt) if stmt.is_from => written(DataAction::CopyFrom, &stmt.relation, true),
        N::CopyStmt(_) => DataStatement { action: Some(DataAction::Read), ..DataStatement::default() },
        N::ExplainStmt(stmt) if explain_analyze(stmt) => inner_query(node).map(data).unwrap_or_default(),
        N::ExplainStmt(_) | N::DeclareCursorStmt(_) | N::PrepareStmt(_) => deferred(inner_query(node)),
        _ => DataStatement::default(),
    }
}

/// Whether EXPLAIN's options run the statement (`ANALYZE`, not `ANALYZE false`).
fn explain_analyze(stmt: &protobuf::ExplainStmt) -> bool {
    stmt.options.iter().any(|option| match option.node.as_ref() {
        Some(N::DefElem(def)) if def.defname == "analyze" => match def.arg.as_ref().and_then(|a| a.node.as_ref()) {
            None => true,
            Some(N::Boolean(b)) => b.boolval,
            Some(N::String(s)) => !matches!(s.sval.to_ascii_lowercase().as_str(), "false" | "off" | "0" | "no"),
            Some(N::Integer(i)) => i.ival != 0,
            _ => true,
        },
        _ => false,
    })
}

/// The tables a `SELECT ... FOR UPDATE | SHARE` locks rows of: those named after OF (by their
/// alias, or their name), or every table of its FROM clause.
fn row_locked(select: &protobuf::SelectStmt) -> Vec<RelationName> {
    let mut from = Vec::new();
    for item in &select.from_clause {
        from_tables(item.node.as_ref(), &mut from);
    }
    let mut out = Vec::new();
    for clause in &select.locking_clause {
        let Some(N::LockingClause(clause)) = clause.node.as_ref() else { continue };
        let named: Vec<String> = clause
            .locked_rels
            .iter()
            .filter_map(|rel| match rel.node.as_ref() {
                Some(N::RangeVar(rv)) => Some(rv.relname.clone()),
                _ => None,
            })
            .collect();
        out.extend(locked_by(&from, &named));
    }
    out.dedup();
    out
}

/// The tables of a FROM item with their aliases (a table, or the tables of a join).
fn from_tables(item: Option<&N>, out: &mut Vec<(RelationName, Option<String>)>) {
    match item {
        Some(N::RangeVar(rv)) => out.push((relation(rv), rv.alias.as_ref().map(|a| a.aliasname.clone()))),
        Some(N::JoinExpr(join)) => {
            from_tables(join.larg.as_ref().and_then(|n| n.node.as_ref()), out);
            from_tables(join.rarg.as_ref().and_then(|n| n.node.as_ref()), out);
        }
        _ => {}
    }
}
