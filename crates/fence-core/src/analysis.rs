//! Analysis of statements: effects + rule findings, refined by what the catalog knows.

use std::collections::{HashMap, HashSet};

use crate::catalog::{Catalog, RelationState, ResolvedRelation};
use crate::effects::{effects, RelKind};
use crate::lock::LockMode;
use crate::model::{
    AlterTableAction, Constraint, DropTarget, OnRelation, RelationName, Statement, StatementKind, TransactionControl,
};
use crate::risk::Risk;
use crate::rules::{check_all, Finding, Transaction};

/// One lock a statement takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockReport {
    pub relation: String,
    pub mode: LockMode,
    /// The table whose ALTER TABLE reaches this inheritance child or partition.
    pub through: Option<String>,
}

/// Everything fence knows about one statement.
#[derive(Debug, Clone, PartialEq, Default)]
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
    /// Findings an inline `-- fence:ignore` left out of `risk` (the CLI's; the server never
    /// applies one: see `ignore`).
    pub ignored: Vec<crate::ignore::Ignored>,
    /// fence could not classify (part of) the statement.
    pub unknown: bool,
    /// Every relation the statement locks beyond a read is a temporary relation of this
    /// session (or one it creates as such): nothing another session uses is touched, so the
    /// gate neither decides nor records it.
    pub session_private: bool,
    /// Relations the statement names that do not exist (their findings and locks count for
    /// nothing): should one exist when the statement runs, the decision did not cover it.
    pub missing: Vec<RelationName>,
    /// Tables a finding was lowered for because their files held no block: another session
    /// could fill one while the statement waits for its lock, so it is checked again when the
    /// statement ends.
    pub empty: Vec<RelationName>,
    /// The statement does nothing as the catalog stands (IF [NOT] EXISTS finding what makes
    /// PostgreSQL skip it, an ALTER TABLE whose every subcommand is skipped, a DROP ...
    /// CASCADE of objects none of which exist, DROP TRIGGER | POLICY | RULE IF EXISTS of one
    /// the table lacks), and was rated so: should it create, drop or
    /// rewrite anything when it runs (the catalog changed while it waited for its lock), the
    /// decision did not cover that: the server refuses it when it does (before the work).
    pub noop: bool,
}

/// Analyzes statements in order, remembering relations created earlier in the same script
/// or transaction (locks on them harm nobody).
pub struct Analyzer<'c> {
    catalog: &'c dyn Catalog,
    created: HashSet<RelationName>,
    /// What the current transaction has done so far (for transaction-level rules).
    transaction: Transaction,
    /// The session's `lock_timeout` in milliseconds (0 = off); None when unknown (offline).
    lock_timeout_ms: Option<i64>,
    /// Each name is resolved against the catalog once.
    resolved: HashMap<RelationName, ResolvedRelation>,
    descendants: HashMap<RelationName, Vec<RelationName>>,
    /// The PostgreSQL major version the statements run on (the server's own; offline, the
    /// one assumed): it chooses among the safe rewrites.
    pg_version: u32,
}

/// The PostgreSQL major version assumed when none is given.
pub const DEFAULT_PG_VERSION: u32 = 15;

impl<'c> Analyzer<'c> {
    pub fn new(catalog: &'c dyn Catalog) -> Self {
        Self::in_transaction(catalog, Transaction::default())
    }

    /// An analyzer that continues a transaction (the gate keeps one per session
    /// transaction; `fence.analyze` follows the script's BEGIN / COMMIT).
    pub fn in_transaction(catalog: &'c dyn Catalog, transaction: Transaction) -> Self {
        Analyzer {
            catalog,
            created: HashSet::new(),
            transaction,
            lock_timeout_ms: None,
            resolved: HashMap::new(),
            descendants: HashMap::new(),
            pg_version: DEFAULT_PG_VERSION,
        }
    }

    /// Analyzes with the session's live `lock_timeout` (a `SET lock_timeout` in the script
    /// changes it for the statements after it).
    pub fn with_lock_timeout(mut self, lock_timeout_ms: i64) -> Self {
        self.lock_timeout_ms = Some(lock_timeout_ms);
        self
    }

    /// Analyzes for a server of PostgreSQL `major`.
    pub fn on_pg_version(mut self, major: u32) -> Self {
        self.pg_version = major;
        self
    }

    /// The transaction as it stands after the statements analyzed so far.
    pub fn transaction(&self) -> &Transaction {
        &self.transaction
    }

    fn resolve(&mut self, relation: &RelationName) -> ResolvedRelation {
        let catalog = self.catalog;
        self.resolved.entry(relation.clone()).or_insert_with(|| catalog.resolve(relation)).clone()
    }

    /// A relation's name as the catalog resolved it (as written when it was not resolved).
    fn resolved_name(&self, relation: &RelationName) -> String {
        self.resolved.get(relation).map_or_else(|| relation.to_string(), |r| r.name.to_string())
    }

    /// The inheritance children and partitions of a relation (asked once per relation).
    fn descendants(&mut self, relation: &RelationName) -> Vec<RelationName> {
        let catalog = self.catalog;
        self.descendants.entry(relation.clone()).or_insert_with(|| catalog.descendants(relation)).clone()
    }

    /// The size tier of an existing relation (Small when its size is unknown or it is new).
    fn tier(&mut self, relation: &RelationName) -> SizeTier {
        match self.resolve(relation).state {
            RelationState::Existing { rows, pages } => size_tier(rows, pages),
            _ => SizeTier::Small,
        }
    }

    fn is_new(&mut self, relation: &RelationName) -> bool {
        let resolved = self.resolve(relation);
        resolved.state.is_new() || self.created.contains(&resolved.name) || self.created.contains(relation)
    }

    pub fn analyze(&mut self, statement: &Statement) -> Analysis {
        let catalog = self.catalog;
        // A CREATE TABLE's own table is looked up for IF NOT EXISTS only: without it, a table
        // of that name makes PostgreSQL refuse the statement before it does anything.
        if let StatementKind::CreateTable { relation, if_not_exists: false, .. } = &statement.kind {
            let missing = ResolvedRelation { name: relation.clone(), state: RelationState::Missing };
            self.resolved.entry(relation.clone()).or_insert(missing);
        }
        let mut statement = statement.clone();
        // The relations the statement names, resolved (its own, before what it reaches).
        let mut named: Vec<RelationName> = Vec::new();
        for name in statement.relations_mut() {
            let resolved = self.resolve(name);
            if resolved.state != RelationState::Missing {
                *name = resolved.name;
            }
            named.push(name.clone());
        }
        let statement = &statement;
        let fx = effects(statement, catalog);
        let mut findings = check_all(&self.transaction, statement, &fx, self.pg_version);
        let exists = self.already_exists(statement);
        let mut missing: Vec<RelationName> = Vec::new();
        let mut empty: Vec<RelationName> = Vec::new();
        for finding in &mut findings {
            let Some(relation) = finding.relation.clone() else { continue };
            let harmless = if exists {
                Some("it already exists: IF NOT EXISTS skips it")
            } else if self.is_new(&relation) && self.descendants(&relation).iter().all(|d| self.is_new(d)) {
                Some("created in this transaction: nobody else can be blocked")
            } else {
                // A table with inheritance children or partitions is as large as the largest
                // of them (ALTER TABLE recurses into them).
                let children = self.descendants(&relation).iter().map(|d| self.tier(d)).max();
                match self.resolve(&relation).state {
                    RelationState::Existing { rows, pages } => {
                        let tier = size_tier(rows, pages).max(children.unwrap_or(SizeTier::Empty));
                        let before = finding.risk;
                        scale_by_size(finding, tier, self.lock_timeout_ms);
                        let resolved = self.resolve(&relation).name;
                        if tier == SizeTier::Empty && finding.risk < before && !empty.contains(&resolved) {
                            empty.push(resolved);
                        }
                        None
                    }
                    RelationState::New => {
                        scale_by_size(finding, children.unwrap_or(SizeTier::Small), self.lock_timeout_ms);
                        None
                    }
                    // CASCADE from a temporary object can reach the objects of others that
                    // depend on it (a column of its row type, a default using its sequence).
                    RelationState::Private if finding.rule != "drop_cascade" => {
                        Some("a temporary relation of this session: no other session can see it or wait for it")
                    }
                    RelationState::Private => None,
                    RelationState::Missing => {
                        if !missing.contains(&relation) {
                            missing.push(relation.clone());
                        }
                        Some(if replaces_view(statement, &relation) {
                            "it does not exist yet: CREATE OR REPLACE VIEW creates it"
                        } else {
                            "it does not exist: IF EXISTS skips it, otherwise PostgreSQL refuses the statement"
                        })
                    }
                    RelationState::Unknown => None,
                }
            };
            if let Some(why) = harmless.filter(|_| finding.risk > Risk::None) {
                finding.risk = Risk::None;
                finding.message.push_str(&format!(" ({why})"));
            }
        }
        // A relation that does not exist (and is not created earlier in the script) is not
        // locked: IF EXISTS skips it, or the statement fails before any lock.
        let mut resolved: Vec<(ResolvedRelation, &crate::effects::Lock)> =
            fx.locks.iter().map(|l| (self.resolve(&l.relation), l)).collect();
        resolved.retain(|(r, l)| {
            let kept = r.state != RelationState::Missing
                || self.created.contains(&r.name)
                || self.created.contains(&l.relation);
            // A name a query reads that is no relation is a WITH query's (or a FOR UPDATE
            // alias): nothing to wait for.
            let read = l.mode == LockMode::AccessShare && statement.reads.contains(&l.relation);
            if !kept && !read && !missing.contains(&r.name) {
                missing.push(r.name.clone());
            }
            kept
        });
        if exists && matches!(statement.kind, StatementKind::CreateTable { .. }) {
            // PostgreSQL finds the table before it looks at (and locks) anything else.
            resolved.clear();
        }
        let session_private = self.session_private(statement, &resolved);
        let locks: Vec<LockReport> = resolved
            .iter()
            .map(|(r, l)| LockReport {
                relation: r.name.to_string(),
                mode: l.mode,
                through: l.through.as_ref().map(|t| self.resolved_name(t)),
            })
            .collect();
        // Only relations that exist before the script: neither missing nor created by it; the
        // statement's own tables before what it reaches (children, a CASCADE's dependents).
        let strongest = resolved
            .iter()
            .filter(|(r, l)| {
                l.kind == RelKind::Table && r.state != RelationState::Missing && !self.created.contains(&r.name)
            })
            // The strongest, the statement's own tables before the children it reaches.
            .max_by_key(|(r, l)| (l.mode, l.through.is_none(), named.contains(&r.name)));
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
            ignored: Vec::new(),
            session_private,
            // The table a CREATE TABLE makes is missing until it runs, by design.
            missing: match &statement.kind {
                StatementKind::CreateTable { relation, .. } => missing.into_iter().filter(|m| m != relation).collect(),
                _ => missing,
            },
            empty,
            // Not DROP OWNED: what it counts are the objects the roles own, and it also drops
            // their policies' mentions and (16+) the role grants they made.
            noop: exists
                || (fx.drops_nothing
                    && !matches!(statement.kind, StatementKind::DropObjects { target: DropTarget::Owned, .. }))
                || matches!(statement.kind, StatementKind::OnRelation { what: OnRelation::DropMissing, .. })
                || (statement.alter_actions().next().is_some()
                    && statement.alter_actions().all(|(_, a)| matches!(a, AlterTableAction::Skipped { .. }))),
        };
        if !exists {
            self.remember_created(statement);
        }
        self.remember_transaction(statement, &resolved);
        self.remember_setting(statement);
        analysis
    }

    /// Whether the statement is `CREATE TABLE` / `CREATE INDEX ... IF NOT EXISTS` of a
    /// relation the catalog already has: a no-op (unknowable offline).
    fn already_exists(&self, statement: &Statement) -> bool {
        match &statement.kind {
            StatementKind::CreateTable { relation, if_not_exists: true, .. } => {
                self.catalog.already_created(relation, None)
            }
            StatementKind::CreateIndex { relation, name: Some(name), if_not_exists: true, .. } => {
                self.catalog.already_created(&RelationName::new(None, name), Some(relation))
            }
            _ => false,
        }
    }

    /// Whether the statement touches only this session's temporary relations: it creates one
    /// (in `pg_temp`) or locks at least one, and every lock stronger than a read is on one;
    /// never a DROP ... CASCADE (permanent objects may depend on a temporary one).
    fn session_private(&self, statement: &Statement, locks: &[(ResolvedRelation, &crate::effects::Lock)]) -> bool {
        let private = |r: &ResolvedRelation| r.state == RelationState::Private || r.name.is_temp_schema();
        let creates_private = matches!(&statement.kind,
            StatementKind::CreateTable { relation, .. } | StatementKind::CreateFromQuery { relation, .. }
                if relation.is_temp_schema());
        let touches_private = creates_private || locks.iter().any(|(r, _)| private(r));
        let cascades = matches!(statement.kind, StatementKind::Drop { cascade: true, .. });
        touches_private && !cascades && locks.iter().all(|(r, l)| private(r) || l.mode == LockMode::AccessShare)
    }

    fn remember_setting(&mut self, statement: &Statement) {
        if let StatementKind::Setting { name, value } = &statement.kind {
            if name.eq_ignore_ascii_case("lock_timeout") && self.lock_timeout_ms.is_some() {
                let ms = value.as_deref().map_or(Some(0), setting_ms);
                self.lock_timeout_ms = ms.or(self.lock_timeout_ms);
            }
        }
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
        let created = match &statement.kind {
            StatementKind::CreateTable { relation, .. } | StatementKind::CreateFromQuery { relation, .. } => {
                Some(relation)
            }
            // CREATE OR REPLACE VIEW of a view that does not exist makes it.
            StatementKind::OnRelation { relation, what: OnRelation::ReplaceView }
                if self.resolve(relation).state == RelationState::Missing =>
            {
                Some(relation)
            }
            _ => None,
        };
        if let Some(relation) = created {
            self.created.insert(relation.clone());
            let name = self.resolve(relation).name;
            self.created.insert(name);
        }
    }
}

/// Whether the statement is a CREATE OR REPLACE VIEW of `relation`.
fn replaces_view(statement: &Statement, relation: &RelationName) -> bool {
    matches!(&statement.kind, StatementKind::OnRelation { relation: view, what: OnRelation::ReplaceView } if view == relation)
}

/// How big a table is, from the planner's estimates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SizeTier {
    /// No block at all (known from the relation's files, not from statistics).
    Empty,
    Small,
    /// At least a million rows or 1 GiB: a scan or rewrite takes minutes.
    Large,
    /// At least a hundred million rows or 100 GiB: hours.
    Huge,
}

/// 8 KiB pages in a GiB.
const PAGES_PER_GIB: i64 = 131_072;

/// The size tier of a relation of `rows` (the planner's estimate) in `pages` blocks (its
/// files' current size; -1 when it has no storage of its own, as a partitioned table).
pub fn size_tier(rows: f64, pages: i64) -> SizeTier {
    if pages == 0 {
        SizeTier::Empty
    } else if rows >= 1e8 || pages >= 100 * PAGES_PER_GIB {
        SizeTier::Huge
    } else if rows >= 1e6 || pages >= PAGES_PER_GIB {
        SizeTier::Large
    } else {
        SizeTier::Small
    }
}

/// Risk grows with the table's real size — a medium or higher finding goes up a level on a
/// large table and to critical on a huge one — and a large table's ACCESS EXCLUSIVE lock
/// without `lock_timeout` is at least medium (the lock can queue behind a long query and
/// stall every session on the table). On an empty table, what only costs time in proportion
/// to the rows (a scan, a rewrite, an index build) is low.
fn scale_by_size(finding: &mut Finding, tier: SizeTier, lock_timeout_ms: Option<i64>) {
    let label = match tier {
        SizeTier::Empty => {
            let by_size = crate::rules::by_id(finding.rule).is_some_and(|rule| rule.by_size);
            if by_size && finding.risk > Risk::Low {
                let before = finding.risk;
                finding.risk = Risk::Low;
                finding.message.push_str(&format!(" (the table is empty: risk {before} lowered to low)"));
            }
            return;
        }
        SizeTier::Small => return,
        SizeTier::Large => "large table",
        SizeTier::Huge => "huge table",
    };
    let before = finding.risk;
    if finding.risk >= Risk::Medium {
        finding.risk = if tier == SizeTier::Huge { Risk::Critical } else { finding.risk.raised() };
    } else if finding.rule == "access_exclusive_lock" && lock_timeout_ms == Some(0) {
        finding.risk = Risk::Medium;
        finding.message.push_str(" (lock_timeout is not set)");
    }
    if finding.risk != before {
        finding.message.push_str(&format!(" ({label}: risk {before} raised to {})", finding.risk));
    }
}

/// A `SET lock_timeout` value in milliseconds (`2s`, `500ms`, `2000`, `0`).
fn setting_ms(value: &str) -> Option<i64> {
    let value = value.trim().trim_matches('\'');
    if let Ok(ms) = value.parse::<i64>() {
        return Some(ms.max(0));
    }
    crate::policy::parse_duration_ms(value).ok()
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
                RelationState::Existing { rows: 1e5, pages: 10_000 }
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
                actions: vec![AlterTableAction::SetNotNull { column: "c".into(), proven: false }],
                only: false,
            },
        )
    }

    #[test]
    fn the_safe_rewrite_follows_the_server_version() {
        let rewrite = |major| {
            let a = Analyzer::new(&OfflineCatalog).on_pg_version(major).analyze(&set_not_null("users"));
            a.findings.iter().find(|f| f.rule == "set_not_null").unwrap().safe_rewrite
        };
        assert!(rewrite(15).contains("CHECK (col IS NOT NULL) NOT VALID"));
        assert_eq!(rewrite(17), rewrite(15));
        assert!(rewrite(18).contains("NOT NULL col NOT VALID"));
    }

    #[test]
    fn risk_grows_with_size_and_a_missing_lock_timeout() {
        use crate::rules::Finding;
        let finding =
            |rule: &'static str, risk| Finding { rule, risk, message: String::new(), safe_rewrite: "", relation: None };
        let mut high = finding("set_not_null", Risk::High);
        scale_by_size(&mut high, size_tier(5e6, 10), Some(2000));
        assert_eq!(high.risk, Risk::Critical);
        let mut huge = finding("create_index", Risk::Medium);
        scale_by_size(&mut huge, size_tier(2e8, 10), None);
        assert_eq!(huge.risk, Risk::Critical);
        let mut small = finding("set_not_null", Risk::High);
        scale_by_size(&mut small, size_tier(1000.0, 10), Some(0));
        assert_eq!(small.risk, Risk::High);
        let mut lock = finding("access_exclusive_lock", Risk::Low);
        scale_by_size(&mut lock, SizeTier::Large, Some(0));
        assert_eq!(lock.risk, Risk::Medium);
        let mut timed = finding("access_exclusive_lock", Risk::Low);
        scale_by_size(&mut timed, SizeTier::Large, Some(2000));
        assert_eq!(timed.risk, Risk::Low);
        assert_eq!(setting_ms("'2s'"), Some(2000));
        assert_eq!(setting_ms("0"), Some(0));
    }

    /// `shell` is created in the transaction and empty, `orders` (large) inherits from it.
    struct ShellOverOrders;
    impl Catalog for ShellOverOrders {
        fn resolve(&self, relation: &RelationName) -> ResolvedRelation {
            let name = RelationName::new(Some("public"), &relation.name);
            let state = match relation.name.as_str() {
                "shell" => RelationState::New,
                _ => RelationState::Existing { rows: 5e6, pages: 200_000 },
            };
            ResolvedRelation { name, state }
        }
        fn index_table(&self, _: &RelationName) -> Option<RelationName> {
            None
        }
        fn table_indexes(&self, _: &RelationName) -> Vec<RelationName> {
            Vec::new()
        }
        fn descendants(&self, table: &RelationName) -> Vec<RelationName> {
            if table.name == "shell" {
                vec![RelationName::new(Some("public"), "orders")]
            } else {
                Vec::new()
            }
        }
    }

    #[test]
    fn alter_table_reaches_children_and_is_rated_by_them() {
        let retype = |only| {
            Statement::new(
                "ALTER TABLE",
                StatementKind::AlterTable {
                    relation: RelationName::new(None, "shell"),
                    actions: vec![AlterTableAction::AlterColumnType {
                        column: "id".into(),
                        new_type: "bigint".into(),
                        binary_coercible: false,
                    }],
                    only,
                },
            )
        };
        let a = Analyzer::new(&ShellOverOrders).analyze(&retype(false));
        // A table made in this transaction is harmless only if what it reaches is too.
        assert_eq!(a.risk, Risk::Critical, "{:?}", a.findings);
        let orders = a.locks.iter().find(|l| l.relation == "public.orders").unwrap();
        assert_eq!((orders.mode, orders.through.as_deref()), (LockMode::AccessExclusive, Some("public.shell")));
        assert_eq!(a.relation.as_deref(), Some("public.shell"));
        // ONLY: the child is neither locked nor rewritten (the size of what could be reached
        // still rates the finding).
        let only = Analyzer::new(&ShellOverOrders).analyze(&retype(true));
        assert!(only.locks.iter().all(|l| l.relation != "public.orders"));
    }

    #[test]
    fn an_empty_table_lowers_what_costs_time_per_row_only() {
        use crate::rules::Finding;
        let finding =
            |rule: &'static str, risk| Finding { rule, risk, message: String::new(), safe_rewrite: "", relation: None };
        let mut index = finding("create_index", Risk::High);
        scale_by_size(&mut index, size_tier(-1.0, 0), Some(0));
        assert_eq!(index.risk, Risk::Low);
        assert!(index.message.contains("the table is empty"));
        // Dropping an empty table still breaks whoever uses it.
        let mut drop = finding("drop_table", Risk::High);
        scale_by_size(&mut drop, size_tier(0.0, 0), Some(0));
        assert_eq!(drop.risk, Risk::High);
        // Statistics say nothing: a never-analyzed table with blocks is not empty.
        assert_eq!(size_tier(-1.0, 3), SizeTier::Small);
        assert_eq!(size_tier(0.0, -1), SizeTier::Small);
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
                if_not_exists: false,
            },
        );
        assert_eq!(analyzer.analyze(&create).risk, Risk::None);
        assert_eq!(analyzer.analyze(&set_not_null("t")).risk, Risk::None);
        assert_eq!(analyzer.analyze(&set_not_null("other")).risk, Risk::High);
    }

    /// `tmp` is a temporary table of the session, `gone` does not exist, the rest is big.
    struct TempAndMissing;
    impl Catalog for TempAndMissing {
        fn resolve(&self, relation: &RelationName) -> ResolvedRelation {
            let (schema, state) = match relation.name.as_str() {
                "tmp" => ("pg_temp_3", RelationState::Private),
                "gone" => ("public", RelationState::Missing),
                _ => ("public", RelationState::Existing { rows: 1e7, pages: 200_000 }),
            };
            let name = if state == RelationState::Missing {
                relation.clone()
            } else {
                RelationName::new(Some(schema), &relation.name)
            };
            ResolvedRelation { name, state }
        }
        fn already_created(&self, name: &RelationName, index_of: Option<&RelationName>) -> bool {
            index_of.is_some_and(|t| t.name == "users") && name.name == "users_email"
        }
        fn index_table(&self, _: &RelationName) -> Option<RelationName> {
            None
        }
        fn table_indexes(&self, _: &RelationName) -> Vec<RelationName> {
            Vec::new()
        }
    }

    fn drop_tables(names: &[&str]) -> Statement {
        let objects = names.iter().map(|n| RelationName::new(None, n)).collect();
        Statement::new(
            "DROP TABLE",
            StatementKind::Drop { kind: crate::model::ObjectKind::Table, objects, cascade: false, concurrently: false },
        )
    }

    #[test]
    fn temporary_relations_of_the_session_are_private_and_harmless() {
        let a = Analyzer::new(&TempAndMissing).analyze(&drop_tables(&["tmp"]));
        assert!(a.session_private);
        assert_eq!(a.risk, Risk::None);
        assert_eq!(Analyzer::new(&TempAndMissing).analyze(&set_not_null("tmp")).risk, Risk::None);
        // Mixed with a shared table: gated as usual, the temporary one is harmless.
        let mixed = Analyzer::new(&TempAndMissing).analyze(&drop_tables(&["tmp", "users"]));
        assert!(!mixed.session_private);
        assert_eq!(mixed.risk, Risk::Critical);
        let create = Statement::new(
            "CREATE TABLE",
            StatementKind::CreateTable {
                relation: RelationName::new(Some("pg_temp"), "s"),
                columns: vec![],
                constraints: vec![],
                partition_of: None,
                inherits: vec![],
                like: vec![RelationName::new(None, "users")],
                if_not_exists: false,
            },
        );
        assert!(Analyzer::new(&TempAndMissing).analyze(&create).session_private);
        assert!(!Analyzer::new(&TempAndMissing).analyze(&set_not_null("users")).session_private);
        assert!(!Analyzer::new(&OfflineCatalog).analyze(&set_not_null("tmp")).session_private);
        let objects = vec![RelationName::new(None, "tmp")];
        let cascade = Statement::new(
            "DROP TABLE",
            StatementKind::Drop { kind: crate::model::ObjectKind::Table, objects, cascade: true, concurrently: false },
        );
        let a = Analyzer::new(&TempAndMissing).analyze(&cascade);
        assert!(!a.session_private, "CASCADE can reach permanent objects depending on it");
        assert_eq!(a.risk, Risk::High);
    }

    #[test]
    fn missing_relations_are_no_ops_and_unlocked() {
        let a = Analyzer::new(&TempAndMissing).analyze(&drop_tables(&["gone"]));
        assert_eq!(a.risk, Risk::None);
        assert!(a.locks.is_empty() && a.relation.is_none() && !a.session_private);
        assert_eq!(a.missing, vec![RelationName::new(None, "gone")]);
        assert!(a.findings.iter().all(|f| f.message.contains("does not exist")));
        let both = Analyzer::new(&TempAndMissing).analyze(&drop_tables(&["gone", "users"]));
        assert_eq!(both.risk, Risk::Critical);
        assert_eq!(both.locks.len(), 1);
        // Offline nothing is known: the drop keeps its risk.
        assert_eq!(Analyzer::new(&OfflineCatalog).analyze(&drop_tables(&["gone"])).risk, Risk::High);
    }

    #[test]
    fn if_not_exists_of_an_existing_relation_is_a_no_op() {
        let index = |name: &str, if_not_exists| {
            Statement::new(
                "CREATE INDEX",
                StatementKind::CreateIndex {
                    relation: RelationName::new(None, "users"),
                    name: Some(name.into()),
                    concurrently: false,
                    unique: false,
                    if_not_exists,
                    only_partitioned: false,
                },
            )
        };
        let present = Analyzer::new(&TempAndMissing).analyze(&index("users_email", true));
        assert_eq!(present.risk, Risk::None);
        assert!(present.findings.iter().any(|f| f.message.contains("already exists")));
        // Checked when it ends: it must build nothing.
        assert!(present.noop);
        let gone = Analyzer::new(&TempAndMissing).analyze(&index("gone", true));
        assert!(gone.risk >= Risk::High && !gone.noop);
        assert!(Analyzer::new(&TempAndMissing).analyze(&index("users_email", false)).risk >= Risk::High);
        let offline = Analyzer::new(&OfflineCatalog).analyze(&index("users_email", true));
        assert!(offline.risk >= Risk::High && !offline.noop);
    }

    #[test]
    fn an_alter_table_of_skipped_subcommands_only_is_a_no_op() {
        let alter = |actions: Vec<AlterTableAction>| {
            Statement::new(
                "ALTER TABLE",
                StatementKind::AlterTable { relation: RelationName::new(None, "users"), actions, only: false },
            )
        };
        let skipped = || AlterTableAction::Skipped { what: "DROP COLUMN IF EXISTS".into() };
        assert!(Analyzer::new(&TempAndMissing).analyze(&alter(vec![skipped()])).noop);
        let other = AlterTableAction::Other { name: "SET ACCESS METHOD".into() };
        assert!(!Analyzer::new(&TempAndMissing).analyze(&alter(vec![skipped(), other])).noop);
        assert!(!Analyzer::new(&TempAndMissing).analyze(&alter(vec![])).noop);
    }

    #[test]
    fn a_drop_if_exists_of_what_the_table_lacks_reads_it_only() {
        let on = |what| {
            Statement::new(
                "DROP TRIGGER",
                StatementKind::OnRelation { relation: RelationName::new(None, "users"), what },
            )
        };
        let missing = Analyzer::new(&TempAndMissing).analyze(&on(OnRelation::DropMissing));
        assert_eq!((missing.risk, missing.lock_mode, missing.noop), (Risk::None, Some(LockMode::AccessShare), true));
        let present = Analyzer::new(&TempAndMissing).analyze(&on(OnRelation::DropTrigger));
        assert!(present.risk > Risk::None && !present.noop);
    }

    #[test]
    fn unclassified_is_flagged_unknown() {
        let a = Analyzer::new(&OfflineCatalog).analyze(&Statement::new("CREATE FOO", StatementKind::Unclassified));
        assert!(a.unknown);
        assert_eq!(a.risk, Risk::None);
    }
}
