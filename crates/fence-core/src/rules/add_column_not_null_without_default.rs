use crate::effects::Effects;
use crate::model::{AlterTableAction, Statement};
use crate::risk::Risk;
use crate::rules::{Check, Finding, Rule};

pub static RULE: Rule = Rule {
    id: "add_column_not_null_without_default",
    risk: Risk::Medium,
    summary: "ADD COLUMN ... NOT NULL without a default fails on any table that has rows",
    safe_rewrite: "ADD COLUMN with a constant DEFAULT (no rewrite since PostgreSQL 11), or add it nullable, backfill, add CHECK (col IS NOT NULL) NOT VALID, VALIDATE it, then SET NOT NULL",
    check: Check::Statement(check),
    since: &[],
    by_size: true,
};

fn check(rule: &Rule, statement: &Statement, _: &Effects) -> Vec<Finding> {
    rule.per_action(statement, |table, action| match action {
        AlterTableAction::AddColumn(c) if c.not_null && c.default.is_none() && !c.identity && c.generated.is_none() => {
            Some(format!("column {} is NOT NULL without a default: the statement fails if {table} has rows", c.name))
        }
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ColumnDef, Volatility};
    use crate::rules::testing::{alter, run};

    #[test]
    fn flags_not_null_without_default() {
        let mut column = ColumnDef::new("plan", "text");
        column.not_null = true;
        assert_eq!(run(&RULE, &alter("users", AlterTableAction::AddColumn(column.clone()))).len(), 1);
        column.default = Some(Volatility::Immutable);
        assert!(run(&RULE, &alter("users", AlterTableAction::AddColumn(column))).is_empty());
    }
}
