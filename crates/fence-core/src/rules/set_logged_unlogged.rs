use crate::effects::Effects;
use crate::model::{AlterTableAction, Statement, TableSubcommand};
use crate::risk::Risk;
use crate::rules::{Check, Finding, Rule};

pub static RULE: Rule = Rule {
    id: "set_logged_unlogged",
    risk: Risk::High,
    summary: "SET LOGGED / SET UNLOGGED rewrites the whole table (and its indexes) under ACCESS EXCLUSIVE; SET UNLOGGED also loses the table's data at a crash",
    safe_rewrite: "create the table with the persistence it needs and move rows in batches, or run the change in a maintenance window with lock_timeout set",
    check: Check::Statement(check),
    since: &[],
    by_size: true,
};

fn check(rule: &Rule, statement: &Statement, _: &Effects) -> Vec<Finding> {
    rule.per_action(statement, |table, action| {
        matches!(action, AlterTableAction::Table(TableSubcommand::Persistence))
            .then(|| format!("changing the persistence of {table} rewrites it"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{alter, run};

    #[test]
    fn fires_on_persistence_only() {
        assert_eq!(run(&RULE, &alter("t", AlterTableAction::Table(TableSubcommand::Persistence))).len(), 1);
        assert!(run(&RULE, &alter("t", AlterTableAction::Table(TableSubcommand::Owner))).is_empty());
    }
}
