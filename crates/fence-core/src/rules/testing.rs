//! Builders for rule tests.

use crate::catalog::{Catalog, OfflineCatalog, ResolvedRelation};
use crate::effects::{effects, Effects};
use crate::model::{
    AlterTableAction, Constraint, ConstraintKind, ObjectKind, OnRelation, RelationName, Statement, StatementKind,
};
use crate::rules::{Check, Finding, Rule, Transaction};

pub fn rel(name: &str) -> RelationName {
    RelationName::new(Some("public"), name)
}

pub fn alter(table: &str, action: AlterTableAction) -> Statement {
    Statement::new(
        "ALTER TABLE",
        StatementKind::AlterTable { relation: rel(table), actions: vec![action], only: false },
    )
}

/// `tag` on `public.<name>` (a trigger, policy, refresh, ...).
pub fn on_relation(tag: &str, name: &str, what: OnRelation) -> Statement {
    Statement::new(tag, StatementKind::OnRelation { relation: rel(name), what })
}

/// `DROP` of `public.<name>...` objects of one kind, not concurrently.
pub fn drop(tag: &str, kind: ObjectKind, names: &[&str], cascade: bool) -> Statement {
    let objects = names.iter().map(|name| rel(name)).collect();
    Statement::new(tag, StatementKind::Drop { kind, objects, cascade, concurrently: false })
}

pub fn constraint(kind: ConstraintKind, not_valid: bool) -> Constraint {
    Constraint { kind, name: Some("c".into()), not_valid, using_index: false }
}

/// Indexes belong to `public.t`; tables have no indexes; every domain is used by `public.t`.
struct TestCatalog;

impl Catalog for TestCatalog {
    fn resolve(&self, relation: &RelationName) -> ResolvedRelation {
        OfflineCatalog.resolve(relation)
    }
    fn index_table(&self, _: &RelationName) -> Option<RelationName> {
        Some(rel("t"))
    }
    fn table_indexes(&self, _: &RelationName) -> Vec<RelationName> {
        Vec::new()
    }
    fn domain_tables(&self, _: &RelationName) -> Vec<RelationName> {
        vec![rel("t")]
    }
}

pub fn run(rule: &Rule, statement: &Statement) -> Vec<Finding> {
    run_in(rule, &Transaction::default(), statement)
}

/// Runs a rule on a statement inside a transaction that has already done things.
pub fn run_in(rule: &Rule, transaction: &Transaction, statement: &Statement) -> Vec<Finding> {
    let fx: Effects = effects(statement, &TestCatalog);
    match rule.check {
        Check::Statement(check) => check(rule, statement, &fx),
        Check::Transaction(check) => check(rule, transaction, statement, &fx),
    }
}
