use crate::effects::Effects;
use crate::model::{AlterTableAction, ConstraintKind, Statement};
use crate::risk::Risk;
use crate::rules::{Check, Finding, Rule};

pub static RULE: Rule = Rule {
    id: "add_unique_constraint",
    risk: Risk::High,
    summary: "ADD UNIQUE / PRIMARY KEY / EXCLUDE builds an index while holding ACCESS EXCLUSIVE",
    safe_rewrite: "CREATE UNIQUE INDEX CONCURRENTLY idx ON t (...); then ALTER TABLE t ADD CONSTRAINT c UNIQUE USING INDEX idx (or PRIMARY KEY USING INDEX)",
    check: Check::Statement(check),
    since: &[],
    by_size: true,
};

fn check(rule: &Rule, statement: &Statement, _: &Effects) -> Vec<Finding> {
    rule.per_action(statement, |table, action| match action {
        AlterTableAction::AddConstraint(c)
            if !c.using_index
                && matches!(
                    c.kind,
                    ConstraintKind::Unique | ConstraintKind::PrimaryKey | ConstraintKind::Exclusion
                ) =>
        {
            Some(format!("building the constraint's index on {table} blocks reads and writes"))
        }
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Constraint;
    use crate::rules::testing::{alter, run};

    #[test]
    fn using_index_is_fine() {
        let mut c = Constraint { kind: ConstraintKind::Unique, name: None, not_valid: false, using_index: false };
        assert_eq!(run(&RULE, &alter("t", AlterTableAction::AddConstraint(c.clone()))).len(), 1);
        c.using_index = true;
        assert!(run(&RULE, &alter("t", AlterTableAction::AddConstraint(c))).is_empty());
    }
}
