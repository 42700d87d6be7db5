//! fence's rules: one file per rule, each with its id, risk, message, safe-rewrite recipe
//! and tests. A rule looks at one statement (and its effects) and reports findings.

use crate::effects::Effects;
use crate::model::{RelationName, Statement};
use crate::risk::Risk;

mod access_exclusive_lock;
mod add_check_constraint;
mod add_column_not_null_without_default;
mod add_column_volatile_default;
mod add_foreign_key;
mod add_foreign_key_not_valid;
mod add_unique_constraint;
mod alter_column_type;
mod cluster;
mod create_index;
mod disable_trigger;
mod drop_column;
mod drop_index;
mod drop_table;
mod lock_table;
mod reindex;
mod rename;
mod set_logged_unlogged;
mod set_not_null;
mod truncate;
mod unclassified;
mod vacuum_full;
mod validate_constraint;

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
    pub check: fn(&Rule, &Statement, &Effects) -> Vec<Finding>,
}

impl Rule {
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
    &disable_trigger::RULE,
    &access_exclusive_lock::RULE,
    &unclassified::RULE,
];

/// Runs every rule on a statement.
pub fn check_all(statement: &Statement, effects: &Effects) -> Vec<Finding> {
    ALL.iter().flat_map(|rule| (rule.check)(rule, statement, effects)).collect()
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
