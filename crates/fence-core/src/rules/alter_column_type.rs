use crate::effects::Effects;
use crate::model::{AlterTableAction, Statement};
use crate::risk::Risk;
use crate::rules::{Check, Finding, Rule};

pub static RULE: Rule = Rule {
    id: "alter_column_type",
    risk: Risk::High,
    summary: "ALTER COLUMN ... TYPE rewrites the table and rebuilds its indexes under ACCESS EXCLUSIVE (unless the change is binary-coercible)",
    safe_rewrite: "add a new column of the new type, dual-write it (trigger or application), backfill in batches, switch readers, then drop the old column",
    check: Check::Statement(check),
    since: &[],
    by_size: true,
};

fn check(rule: &Rule, statement: &Statement, effects: &Effects) -> Vec<Finding> {
    if !effects.rewrites {
        return Vec::new();
    }
    rule.per_action(statement, |table, action| match action {
        AlterTableAction::AlterColumnType { column, new_type, binary_coercible: false } => Some(format!(
            "changing {table}.{column} to {new_type} rewrites the table and its indexes while holding ACCESS EXCLUSIVE"
        )),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{alter, run};

    #[test]
    fn flags_type_change() {
        let stmt = alter(
            "users",
            AlterTableAction::AlterColumnType {
                column: "id".into(),
                new_type: "bigint".into(),
                binary_coercible: false,
            },
        );
        assert_eq!(run(&RULE, &stmt)[0].rule, "alter_column_type");
    }
}
