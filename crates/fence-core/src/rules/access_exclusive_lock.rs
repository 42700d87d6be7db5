use crate::effects::{Effects, RelKind};
use crate::lock::LockMode;
use crate::model::{Statement, StatementKind};
use crate::risk::Risk;
use crate::rules::{Check, Finding, Rule};

pub static RULE: Rule = Rule {
    id: "access_exclusive_lock",
    risk: Risk::Low,
    summary: "ACCESS EXCLUSIVE, even for an instant, queues behind every running query and every later query queues behind it",
    safe_rewrite: "SET lock_timeout = '2s' before the statement and retry on timeout, so a long query cannot turn the wait into an outage",
    check: Check::Statement(check),
    since: &[],
    by_size: false,
};

fn check(rule: &Rule, statement: &Statement, effects: &Effects) -> Vec<Finding> {
    // ALTER INDEX locks only the index, but queries on its table plan with every index of
    // the table: ACCESS EXCLUSIVE on it queues them just the same. (Other statements that
    // lock indexes lock their table too, and are reported by that.)
    let altered_index = matches!(
        statement.kind,
        StatementKind::AlterIndex { .. }
            | StatementKind::OnRelation { what: crate::model::OnRelation::IndexExtensionDependency, .. }
    );
    effects
        .locks
        .iter()
        .filter(|l| (l.kind == RelKind::Table || altered_index) && l.mode == LockMode::AccessExclusive)
        .map(|l| rule.finding(Some(&l.relation), format!("takes ACCESS EXCLUSIVE on {}", l.relation)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AlterTableAction;
    use crate::rules::testing::{alter, run};

    #[test]
    fn flags_brief_access_exclusive() {
        assert_eq!(run(&RULE, &alter("t", AlterTableAction::DropNotNull { column: "c".into() })).len(), 1);
        assert!(run(&RULE, &alter("t", AlterTableAction::ValidateConstraint { name: "c".into() })).is_empty());
    }
}
