use crate::effects::Effects;
use crate::model::{AlterTableAction, Statement, TableSubcommand};
use crate::risk::Risk;
use crate::rules::{Check, Finding, Rule};

pub static RULE: Rule = Rule {
    id: "change_owner",
    risk: Risk::Low,
    summary: "OWNER TO changes who may alter, drop and grant on the table, under ACCESS EXCLUSIVE",
    safe_rewrite: "grant the privileges the new role needs instead; if ownership must move, do it in a reviewed migration of its own",
    check: Check::Statement(check),
    since: &[],
    by_size: false,
};

fn check(rule: &Rule, statement: &Statement, _: &Effects) -> Vec<Finding> {
    rule.per_action(statement, |table, action| {
        matches!(action, AlterTableAction::Table(TableSubcommand::Owner)).then(|| format!("{table} changes owner"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{alter, run};

    #[test]
    fn fires() {
        assert_eq!(run(&RULE, &alter("t", AlterTableAction::Table(TableSubcommand::Owner))).len(), 1);
    }
}
