//! Analysis of statements: effects + rule findings, refined by what the catalog knows.

use std::collections::{HashMap, HashSet};

use crate::catalog::{Catalog, RelationState, ResolvedRelation};
use crate::effects::{effects, RelKind};
use crate::lock::LockMode;
use crate::model::{AlterTableAction, Constraint, RelationName, Statement, StatementKind, TransactionControl};
use crate::risk::Risk;
use crate::rules::{check_all, Finding, Transaction};

/// One lock a statement takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockReport {
    pub relation: String,
    pub mode: LockMode,
}

/// Everything fence knows about one statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    pub tag: String,
    /// The pre-existing table-like relation with the strongest lock.
    pub relation: Option<String>,
    pub lock_mode: Option<LockMode>,
    pub locks: Vec<LockReport>,
    pub rewrites: bool,
    pub scans: bool,
    pub risk: Risk,
    pub findings: Vec<Finding>,
    /// fence could not classify (part of) the statement.
    pub unknown: bool,
}

/// Analyzes statements in order, remembering relations created earlier in the same script
/// or transaction (locks on them harm nobody).
pub struct Analyzer<'c> {
    catalog: &'c dyn Catalog,
    created: HashSet<RelationName>,
    /// What the current transaction has done so far (for transaction-level rules).
    transaction: Transaction,
    /// Each name is resolved against the catalog once.
    resolved: HashMap<RelationName, ResolvedRelation>,
}

impl<'c> Analyzer<'c> {
    pub fn new(catalog: &'c dyn Catalog) -> Self {
        Self::in_transaction(catalog, Transaction::default())
    }

    /// An analyzer that continues a transaction (the gate keeps one per session
    /// transaction; `fence.analyze` follows the script's BEGIN / COMMIT).
    pub fn in_transaction(catalog: &'c dyn Catalog, transaction: Transaction) -> Self {
        Analyzer { catalog, created: HashSet::new(), transaction, resolved: HashMap::new() }
    }

    /// The transaction as it stands after the statements analyzed so far.
    pub fn transaction(&self) -> &Transaction {
        &self.transaction
    }

    fn resolve(&mut self, relation: &RelationName) -> ResolvedRelation {
        let catalog = self.catalog;
        self.resolved.entry(relation.clone()).or_insert_with(|| catalog.resolve(relation)).clone()
    }

    fn is_new(&mut self, relation: &RelationName) -> bool {
        let resolved = self.resolve(relation);
        resolved.state.is_new() || self.created.contains(&resolved.name) || self.created.contains(relation)
    }

    pub fn analyze(&mut self, statement: &Statement) -> Analysis {
        let catalog = self.catalog;
        let mut statement = statement.clone();
        for name in statement.relations_mut() {
            let resolved = self.resolve(name);
            if resolved.state != RelationState::Missing {
                *name = resolved.name;
            }
        }
        let statement = &statement;
        let fx = effects(statement, catalog);
        let mut findings = check_all(&self.transaction, statement, &fx);
        for finding in &mut findings {
            let on_new = finding.relation.clone().is_some_and(|r| self.is_new(&r));
            if on_new && finding.risk > Risk::None {
                finding.risk = Risk::None;
                finding.message.push_str(" (created in this transaction: nobody else can be blocked)");
            }
        }
        let resolved: Vec<(ResolvedRelation, &crate::effects::Lock)> =
            fx.locks.iter().map(|l| (self.resolve(&l.relation), l)).collect();
        let locks: Vec<LockReport> =
            resolved.iter().map(|(r, l)| LockReport { relation: r.name.to_string(), mode: l.mode }).collect();
        let strongest = resolved
            .iter()
            .filter(|(r, l)| l.kind == RelKind::Table && r.state != RelationState::Missing)
            .max_by_key(|(_, l)| l.mode);
        let analysis = Analysis {
            tag: statement.tag.clone(),
            relation: strongest.map(|(r, _)| r.name.to_string()),
            lock_mode: strongest.map(|(_, l)| l.mode),
            locks,
            rewrites: fx.rewrites,
            scans: fx.scans,
            risk: findings.iter().map(|f| f.risk).max().unwrap_or(Risk::None),
            unknown: findings.iter().any(|f| f.rule == "unclassified"),
            findings,
        };
        self.remember_created(statement);
        self.remember_transaction(statement, &resolved);
        analysis
    }

    fn remember_transaction(&mut self, statement: &Statement, locks: &[(ResolvedRelation, &crate::effects::Lock)]) {
        match &statement.kind {
            StatementKind::Transaction(TransactionControl::Begin) => {
                self.transaction = Transaction { explicit: true, ..Transaction::default() };
                return;
            }
            StatementKind::Transaction(TransactionControl::Commit | TransactionControl::Rollback) => {
                self.transaction = Transaction::default();
                return;
            }
            _ => {}
        }
        for (resolved, lock) in locks {
            let existing = matches!(resolved.state, RelationState::Existing { .. } | RelationState::Unknown);
            if lock.kind == RelKind::Table
                && lock.mode == LockMode::AccessExclusive
                && existing
                && !self.created.contains(&resolved.name)
                && !self.transaction.exclusive.contains(&resolved.name)
            {
                self.transaction.exclusive.push(resolved.name.clone());
            }
        }
        for (table, action) in statement.alter_actions() {
            if let AlterTableAction::AddConstraint(Constraint { not_valid: true, name: Some(name), .. }) = action {
                self.transaction.not_valid.push((table.clone(), name.clone()));
            }
        }
    }

    fn remember_created(&mut self, statement: &Statement) {
        // After COMMIT or ROLLBACK, earlier tables are committed (or gone): no longer new.
        if let StatementKind::Transaction(TransactionControl::Commit | TransactionControl::Rollback) = &statement.kind {
            self.created.clear();
        }
        if let StatementKind::CreateTable { relation, .. } = &statement.kind {
            self.created.insert(relation.clone());
            let name = self.resolve(relation).name;
            self.created.insert(name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::OfflineCatalog;
    use crate::model::AlterTableAction;

    struct OneNewTable;
    impl Catalog for OneNewTable {
        fn resolve(&self, relation: &RelationName) -> ResolvedRelation {
            let name = RelationName::new(Some("public"), &relation.name);
            let state = if relation.name == "fresh" {
                RelationState::New
            } else {
                RelationState::Existing { rows: 1e6, pages: 10_000 }
            };
            ResolvedRelation { name, state }
        }
        fn index_table(&self, _: &RelationName) -> Option<RelationName> {
            None
        }
        fn table_indexes(&self, _: &RelationName) -> Vec<RelationName> {
            Vec::new()
        }
    }

    fn set_not_null(table: &str) -> Statement {
        Statement::new(
            "ALTER TABLE",
            StatementKind::AlterTable {
                relation: RelationName::new(None, table),
                actions: vec![AlterTableAction::SetNotNull { column: "c".into() }],
            },
        )
    }

    #[test]
    fn existing_table_is_high_risk_with_qualified_relation() {
        let a = Analyzer::new(&OneNewTable).analyze(&set_not_null("users"));
        assert_eq!(a.risk, Risk::High);
        assert_eq!(a.relation.as_deref(), Some("public.users"));
        assert_eq!(a.lock_mode, Some(LockMode::AccessExclusive));
        assert!(a.scans && !a.rewrites);
    }

    #[test]
    fn tables_created_in_the_transaction_are_harmless() {
        let a = Analyzer::new(&OneNewTable).analyze(&set_not_null("fresh"));
        assert_eq!(a.risk, Risk::None);
        assert!(a.findings.iter().all(|f| f.message.contains("created in this transaction")));
    }

    #[test]
    fn tables_created_earlier_in_the_script_are_harmless() {
        let mut analyzer = Analyzer::new(&OfflineCatalog);
        let create = Statement::new(
            "CREATE TABLE",
            StatementKind::CreateTable {
                relation: RelationName::new(None, "t"),
                columns: vec![],
                constraints: vec![],
                partition_of: None,
                inherits: vec![],
                like: vec![],
            },
        );
        assert_eq!(analyzer.analyze(&create).risk, Risk::None);
        assert_eq!(analyzer.analyze(&set_not_null("t")).risk, Risk::None);
        assert_eq!(analyzer.analyze(&set_not_null("other")).risk, Risk::High);
    }

    #[test]
    fn unclassified_is_flagged_unknown() {
        let a = Analyzer::new(&OfflineCatalog).analyze(&Statement::new("CREATE FOO", StatementKind::Unclassified));
        assert!(a.unknown);
        assert_eq!(a.risk, Risk::None);
    }
}
