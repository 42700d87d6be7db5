use crate::effects::Effects;
use crate::model::{AlterTableAction, ConstraintKind, Statement};
use crate::risk::Risk;
use crate::rules::{Check, Finding, Rule};

pub static RULE: Rule = Rule {
    id: "add_check_constraint",
    risk: Risk::High,
    summary: "ADD CHECK validates every row while holding ACCESS EXCLUSIVE",
    safe_rewrite: "ADD CONSTRAINT ... CHECK (...) NOT VALID (brief lock), then VALIDATE CONSTRAINT in a separate transaction (SHARE UPDATE EXCLUSIVE)",
    check: Check::Statement(check),
    since: &[],
    by_size: true,
};

fn check(rule: &Rule, statement: &Statement, _: &Effects) -> Vec<Finding> {
    rule.per_action(statement, |table, action| match action {
        AlterTableAction::AddConstraint(c) if !c.not_valid && c.kind == ConstraintKind::Check => {
            Some(format!("CHECK constraint on {table} scans every row while holding ACCESS EXCLUSIVE"))
        }
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{alter, constraint, run};

    #[test]
    fn flags_validated_check_only() {
        assert_eq!(
            run(&RULE, &alter("t", AlterTableAction::AddConstraint(constraint(ConstraintKind::Check, false)))).len(),
            1
        );
        assert!(run(&RULE, &alter("t", AlterTableAction::AddConstraint(constraint(ConstraintKind::Check, true))))
            .is_empty());
    }
}
