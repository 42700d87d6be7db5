//! fence's rules: one file per rule, each with its id, risk, message, safe-rewrite recipe
//! and tests. A rule looks at one statement (and its effects) and reports findings.

use crate::effects::Effects;
use crate::model::{AlterTableAction, RelationName, Statement};
use crate::risk::Risk;

mod access_exclusive_lock;
mod add_check_constraint;
mod add_column_not_null_without_default;
mod add_column_volatile_default;
mod add_foreign_key;
mod add_foreign_key_not_valid;
mod add_unique_constraint;
mod alter_column_type;
mod alter_sequence;
mod attach_partition;
mod change_owner;
mod cluster;
mod concurrently_in_transaction;
mod create_index;
mod create_partition;
mod create_trigger;
mod detach_partition;
mod disable_trigger;
mod drop_cascade;
mod drop_column;
mod drop_constraint;
mod drop_index;
mod drop_sequence;
mod drop_table;
mod drop_trigger;
mod drop_view;
mod enable_row_security;
mod lock_table;
mod many_access_exclusive;
mod refresh_materialized_view;
mod reindex;
mod rename;
mod replica_identity;
mod runs_code;
mod set_access_method;
mod set_enforced;
mod set_expression;
mod set_logged_unlogged;
mod set_not_null;
mod set_tablespace;
mod truncate;
mod unbatched_backfill;
mod unclassified;
mod vacuum_database;
mod vacuum_full;
mod validate_constraint;
mod validate_domain;
mod validate_in_same_transaction;

#[cfg(test)]
pub(crate) mod testing;

/// A rule's identity and guidance.
pub struct Rule {
    pub id: &'static str,
    pub risk: Risk,
    /// One line: what goes wrong.
    pub summary: &'static str,
    /// How to get the same result safely.
    pub safe_rewrite: &'static str,
    pub check: Check,
    /// Safer rewrites that newer PostgreSQL versions allow, oldest first: (major version,
    /// recipe). The newest one the server (or, offline, the assumed version) has replaces
    /// `safe_rewrite`.
    pub since: &'static [(u32, &'static str)],
    /// What the finding costs grows with the table's size (a scan, a rewrite, an index build):
    /// on a table known to be empty it is low.
    pub by_size: bool,
}

/// What a rule looks at: one statement, or the statement in its transaction so far.
pub enum Check {
    Statement(fn(&Rule, &Statement, &Effects) -> Vec<Finding>),
    Transaction(fn(&Rule, &Transaction, &Statement, &Effects) -> Vec<Finding>),
}

/// What the current transaction (of a script, or of the session) has done so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Transaction {
    /// Inside an explicit `BEGIN ... COMMIT` block.
    pub explicit: bool,
    /// Pre-existing tables this transaction already holds ACCESS EXCLUSIVE on.
    pub exclusive: Vec<RelationName>,
    /// Constraints this transaction added `NOT VALID`: (table, constraint).
    pub not_valid: Vec<(RelationName, String)>,
}

impl Rule {
    /// One finding per ALTER TABLE subcommand `message` has something to say about, on the
    /// altered table.
    pub fn per_action(
        &self,
        statement: &Statement,
        message: impl Fn(&RelationName, &AlterTableAction) -> Option<String>,
    ) -> Vec<Finding> {
        statement
            .alter_actions()
            .filter_map(|(table, action)| Some(self.finding(Some(table), message(table, action)?)))
            .collect()
    }

    pub fn finding(&self, relation: Option<&RelationName>, message: String) -> Finding {
        Finding {
            rule: self.id,
            risk: self.risk,
            message,
            safe_rewrite: self.safe_rewrite,
            relation: relation.cloned(),
        }
    }
}

/// One problem a rule found in a statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub rule: &'static str,
    pub risk: Risk,
    pub message: String,
    pub safe_rewrite: &'static str,
    /// The relation the finding is about (for catalog-aware risk adjustment).
    pub relation: Option<RelationName>,
}

/// Every rule, in reporting order.
pub static ALL: &[&Rule] = &[
    &add_column_volatile_default::RULE,
    &add_column_not_null_without_default::RULE,
    &alter_column_type::RULE,
    &set_not_null::RULE,
    &set_expression::RULE,
    &set_enforced::RULE,
    &add_foreign_key::RULE,
    &add_foreign_key_not_valid::RULE,
    &add_check_constraint::RULE,
    &validate_constraint::RULE,
    &add_unique_constraint::RULE,
    &create_index::RULE,
    &drop_index::RULE,
    &drop_table::RULE,
    &drop_column::RULE,
    &rename::RULE,
    &truncate::RULE,
    &vacuum_full::RULE,
    &cluster::RULE,
    &reindex::RULE,
    &lock_table::RULE,
    &set_logged_unlogged::RULE,
    &set_tablespace::RULE,
    &set_access_method::RULE,
    &validate_domain::RULE,
    &disable_trigger::RULE,
    &drop_trigger::RULE,
    &concurrently_in_transaction::RULE,
    &validate_in_same_transaction::RULE,
    &many_access_exclusive::RULE,
    &create_partition::RULE,
    &attach_partition::RULE,
    &detach_partition::RULE,
    &refresh_materialized_view::RULE,
    &enable_row_security::RULE,
    &change_owner::RULE,
    &drop_cascade::RULE,
    &vacuum_database::RULE,
    &create_trigger::RULE,
    &drop_constraint::RULE,
    &replica_identity::RULE,
    &alter_sequence::RULE,
    &drop_view::RULE,
    &drop_sequence::RULE,
    &unbatched_backfill::RULE,
    &runs_code::RULE,
    &access_exclusive_lock::RULE,
    &unclassified::RULE,
];

/// Runs every rule on a statement, in the transaction it belongs to, on a server of
/// PostgreSQL `pg_version` (its major version).
pub fn check_all(transaction: &Transaction, statement: &Statement, effects: &Effects, pg_version: u32) -> Vec<Finding> {
    ALL.iter()
        .flat_map(|rule| {
            let mut findings = match rule.check {
                Check::Statement(check) => check(rule, statement, effects),
                Check::Transaction(check) => check(rule, transaction, statement, effects),
            };
            let newer = rule.since.iter().rev().find(|(major, _)| *major <= pg_version);
            if let Some((_, recipe)) = newer {
                findings.iter_mut().for_each(|f| f.safe_rewrite = recipe);
            }
            findings
        })
        .collect()
}

/// Looks a rule up by id.
pub fn by_id(id: &str) -> Option<&'static Rule> {
    ALL.iter().copied().find(|rule| rule.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_are_unique_and_documented() {
        let mut seen = HashSet::new();
        for rule in ALL {
            assert!(seen.insert(rule.id), "duplicate rule id {}", rule.id);
            assert!(!rule.summary.is_empty() && !rule.safe_rewrite.is_empty(), "{}", rule.id);
            let doc = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../docs/rules/{}.md", rule.id));
            assert!(doc.exists(), "missing {}", doc.display());
        }
        assert!(by_id("set_not_null").is_some());
    }
}
