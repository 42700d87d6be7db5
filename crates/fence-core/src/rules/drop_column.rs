use crate::effects::Effects;
use crate::model::{AlterTableAction, Statement};
use crate::risk::Risk;
use crate::rules::{Check, Finding, Rule};

pub static RULE: Rule = Rule {
    id: "drop_column",
    risk: Risk::Medium,
    summary: "DROP COLUMN loses the column's data and breaks every query that still names it",
    safe_rewrite:
        "stop reading and writing the column in the application first (deploy), then drop it with a short lock_timeout",
    check: Check::Statement(check),
    since: &[],
    by_size: false,
};

fn check(rule: &Rule, statement: &Statement, _: &Effects) -> Vec<Finding> {
    rule.per_action(statement, |table, action| match action {
        AlterTableAction::DropColumn { column, .. } => {
            Some(format!("dropping {table}.{column} loses its data; queries naming it will fail"))
        }
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{alter, run};

    #[test]
    fn flags_drop_column() {
        assert_eq!(
            run(&RULE, &alter("t", AlterTableAction::DropColumn { column: "c".into(), cascade: false })).len(),
            1
        );
        // DROP COLUMN IF EXISTS of a column the table lacks.
        assert!(run(&RULE, &alter("t", AlterTableAction::Skipped { what: "DROP COLUMN IF EXISTS".into() })).is_empty());
    }
}
