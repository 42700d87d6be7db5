use crate::effects::Effects;
use crate::model::{AlterTableAction, Statement};
use crate::risk::Risk;
use crate::rules::{Check, Finding, Rule};

pub static RULE: Rule = Rule {
    id: "drop_constraint",
    risk: Risk::Low,
    summary: "DROP CONSTRAINT stops PostgreSQL from enforcing the rule (a foreign key, a check, uniqueness) for every later write",
    safe_rewrite: "make sure the application enforces it or no longer relies on it; drop it in a migration of its own, with lock_timeout set",
    check: Check::Statement(check),
    since: &[],
    by_size: false,
};

fn check(rule: &Rule, statement: &Statement, _: &Effects) -> Vec<Finding> {
    rule.per_action(statement, |table, action| match action {
        AlterTableAction::DropConstraint { name, .. } => Some(format!("{name} on {table} is no longer enforced")),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AlterTableAction;
    use crate::rules::testing::{alter, run};

    #[test]
    fn fires() {
        assert_eq!(
            run(
                &RULE,
                &alter("t", AlterTableAction::DropConstraint { name: "c".into(), references: None, cascade: false })
            )
            .len(),
            1
        );
    }
}
