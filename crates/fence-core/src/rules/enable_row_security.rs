use crate::effects::Effects;
use crate::model::{AlterTableAction, Statement, TableSubcommand};
use crate::risk::Risk;
use crate::rules::{Check, Finding, Rule};

pub static RULE: Rule = Rule {
    id: "enable_row_security",
    risk: Risk::Medium,
    summary: "ENABLE / DISABLE / FORCE ROW LEVEL SECURITY changes which rows every query on the table sees (with no policy, none)",
    safe_rewrite: "create the policies first and test them as the application role inside a rolled-back transaction, then switch row security in a migration of its own",
    check: Check::Statement(check),
    since: &[],
    by_size: false,
};

fn check(rule: &Rule, statement: &Statement, _: &Effects) -> Vec<Finding> {
    rule.per_action(statement, |table, action| {
        matches!(action, AlterTableAction::Table(TableSubcommand::RowSecurity))
            .then(|| format!("row level security of {table} changes what queries return"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{alter, run};

    #[test]
    fn fires() {
        assert_eq!(run(&RULE, &alter("t", AlterTableAction::Table(TableSubcommand::RowSecurity))).len(), 1);
        assert!(run(&RULE, &alter("t", AlterTableAction::Table(TableSubcommand::Owner))).is_empty());
    }
}
