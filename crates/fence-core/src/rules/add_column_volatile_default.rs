use crate::effects::Effects;
use crate::model::{AlterTableAction, Statement};
use crate::risk::Risk;
use crate::rules::{Check, Finding, Rule};

pub static RULE: Rule = Rule {
    id: "add_column_volatile_default",
    risk: Risk::High,
    summary: "ADD COLUMN with a volatile default, a stored generated column or an identity rewrites the whole table under ACCESS EXCLUSIVE",
    safe_rewrite: "ADD COLUMN without the default (or with a constant one), then backfill in batches (UPDATE ... WHERE id BETWEEN ...), then SET DEFAULT for new rows",
    check: Check::Statement(check),
    since: &[],
    by_size: true,
};

fn check(rule: &Rule, statement: &Statement, _: &Effects) -> Vec<Finding> {
    rule.per_action(statement, |table, action| match action {
        AlterTableAction::AddColumn(column) if column.add_rewrites() => {
            Some(format!("adding column {} to {table} rewrites every row while holding ACCESS EXCLUSIVE", column.name))
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
    fn flags_volatile_default_only() {
        let mut column = ColumnDef::new("token", "uuid");
        column.default = Some(Volatility::Volatile);
        assert_eq!(run(&RULE, &alter("users", AlterTableAction::AddColumn(column.clone()))).len(), 1);
        column.default = Some(Volatility::Stable);
        assert!(run(&RULE, &alter("users", AlterTableAction::AddColumn(column))).is_empty());
    }
}
