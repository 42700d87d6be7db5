use crate::effects::Effects;
use crate::model::{AlterTableAction, Constraint, ConstraintKind, Statement};
use crate::risk::Risk;
use crate::rules::{Check, Finding, Rule};

pub static RULE: Rule = Rule {
    id: "set_not_null",
    risk: Risk::High,
    summary: "SET NOT NULL (or ADD CONSTRAINT ... NOT NULL) scans the whole table while holding ACCESS EXCLUSIVE: no reads or writes until it finishes",
    safe_rewrite: "ALTER TABLE t ADD CONSTRAINT t_col_not_null CHECK (col IS NOT NULL) NOT VALID; ALTER TABLE t VALIDATE CONSTRAINT t_col_not_null; then SET NOT NULL (skips the scan) and drop the CHECK",
    check: Check::Statement(check),
    since: &[(
        18,
        "ALTER TABLE t ADD CONSTRAINT t_col_not_null NOT NULL col NOT VALID (no scan); then ALTER TABLE t VALIDATE CONSTRAINT t_col_not_null (the scan, under SHARE UPDATE EXCLUSIVE: reads and writes go on)",
    )],
    by_size: true,
};

fn check(rule: &Rule, statement: &Statement, _: &Effects) -> Vec<Finding> {
    rule.per_action(statement, |table, action| match action {
        AlterTableAction::SetNotNull { column, proven: false } => {
            Some(format!("SET NOT NULL on {table}.{column} scans every row while holding ACCESS EXCLUSIVE"))
        }
        AlterTableAction::AddConstraint(Constraint { kind: ConstraintKind::NotNull, not_valid: false, .. }) => {
            Some(format!("adding a NOT NULL constraint to {table} scans every row while holding ACCESS EXCLUSIVE"))
        }
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{alter, constraint, run};

    #[test]
    fn flags_set_not_null() {
        let findings =
            run(&RULE, &alter("users", AlterTableAction::SetNotNull { column: "email".into(), proven: false }));
        assert_eq!(findings.len(), 1);
        assert!(findings[0].message.contains("public.users.email"));
    }

    #[test]
    fn flags_a_not_null_constraint_unless_not_valid() {
        let add =
            |not_valid| alter("users", AlterTableAction::AddConstraint(constraint(ConstraintKind::NotNull, not_valid)));
        assert_eq!(run(&RULE, &add(false)).len(), 1);
        assert!(run(&RULE, &add(true)).is_empty());
    }
}
