use crate::effects::Effects;
use crate::model::{AlterTableAction, ConstraintKind, Statement};
use crate::risk::Risk;
use crate::rules::{Check, Finding, Rule};

pub static RULE: Rule = Rule {
    id: "add_foreign_key_not_valid",
    risk: Risk::Low,
    summary: "ADD FOREIGN KEY ... NOT VALID takes SHARE ROW EXCLUSIVE on both tables briefly; existing rows stay unchecked until VALIDATE",
    safe_rewrite: "keep NOT VALID, set a short lock_timeout, and run VALIDATE CONSTRAINT in a later transaction",
    check: Check::Statement(check),
    since: &[],
    by_size: false,
};

fn check(rule: &Rule, statement: &Statement, _: &Effects) -> Vec<Finding> {
    rule.per_action(statement, |table, action| match action {
        AlterTableAction::AddConstraint(c) if c.not_valid => match &c.kind {
            ConstraintKind::ForeignKey { references } => Some(format!(
                "NOT VALID foreign key from {table} to {references}: brief SHARE ROW EXCLUSIVE on both, validate later"
            )),
            _ => None,
        },
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{alter, constraint, rel, run};

    #[test]
    fn flags_not_valid_foreign_key() {
        let fk = ConstraintKind::ForeignKey { references: rel("orgs") };
        assert_eq!(
            run(&RULE, &alter("users", AlterTableAction::AddConstraint(constraint(fk, true))))[0].risk,
            Risk::Low
        );
    }
}
