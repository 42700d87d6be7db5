use crate::effects::Effects;
use crate::model::{AlterTableAction, Statement};
use crate::risk::Risk;
use crate::rules::{Check, Finding, Rule};

pub static RULE: Rule = Rule {
    id: "validate_constraint",
    risk: Risk::Low,
    summary: "VALIDATE CONSTRAINT scans the table under SHARE UPDATE EXCLUSIVE: reads and writes continue, other DDL and VACUUM wait",
    safe_rewrite: "run it outside busy hours in its own transaction, separate from the NOT VALID step",
    check: Check::Statement(check),
    since: &[],
    by_size: true,
};

fn check(rule: &Rule, statement: &Statement, _: &Effects) -> Vec<Finding> {
    rule.per_action(statement, |table, action| match action {
        AlterTableAction::ValidateConstraint { name } => {
            Some(format!("validating {name} scans {table} without blocking reads or writes"))
        }
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{alter, run};

    #[test]
    fn flags_validate() {
        assert_eq!(
            run(&RULE, &alter("t", AlterTableAction::ValidateConstraint { name: "c".into() }))[0].risk,
            Risk::Low
        );
    }
}
