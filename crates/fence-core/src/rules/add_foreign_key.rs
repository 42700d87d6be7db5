use crate::effects::Effects;
use crate::model::{AlterTableAction, ConstraintKind, Statement};
use crate::risk::Risk;
use crate::rules::{Check, Finding, Rule};

pub static RULE: Rule = Rule {
    id: "add_foreign_key",
    risk: Risk::High,
    summary: "ADD FOREIGN KEY validates every row while holding SHARE ROW EXCLUSIVE on both tables: writes to either table wait",
    safe_rewrite: "ADD CONSTRAINT ... FOREIGN KEY ... NOT VALID (brief lock, no scan), then in a separate transaction VALIDATE CONSTRAINT (SHARE UPDATE EXCLUSIVE, does not block writes)",
    check: Check::Statement(check),
    since: &[],
    by_size: true,
};

fn check(rule: &Rule, statement: &Statement, _: &Effects) -> Vec<Finding> {
    rule.per_action(statement, |table, action| match action {
        AlterTableAction::AddConstraint(c) if !c.not_valid => match &c.kind {
            ConstraintKind::ForeignKey { references } => Some(format!(
                "foreign key from {table} to {references} scans {table} while blocking writes to both tables"
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
    fn flags_validated_foreign_key_only() {
        let fk = ConstraintKind::ForeignKey { references: rel("orgs") };
        assert_eq!(
            run(&RULE, &alter("users", AlterTableAction::AddConstraint(constraint(fk.clone(), false)))).len(),
            1
        );
        assert!(run(&RULE, &alter("users", AlterTableAction::AddConstraint(constraint(fk, true)))).is_empty());
    }
}
