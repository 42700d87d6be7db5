use crate::effects::Effects;
use crate::model::{AlterTableAction, Statement, TableSubcommand};
use crate::risk::Risk;
use crate::rules::{Check, Finding, Rule};

pub static RULE: Rule = Rule {
    id: "disable_trigger",
    risk: Risk::Medium,
    summary: "DISABLE TRIGGER stops the table's triggers (with ALL, also the foreign-key checks) until re-enabled: writes meanwhile are not checked or audited",
    safe_rewrite: "keep the triggers; if a bulk load needs them off, disable only the named user trigger, in the same transaction as the load, and re-enable before commit",
    check: Check::Statement(check),
    since: &[],
    by_size: false,
};

fn check(rule: &Rule, statement: &Statement, _: &Effects) -> Vec<Finding> {
    rule.per_action(statement, |table, action| {
        matches!(action, AlterTableAction::Table(TableSubcommand::Trigger { disable: true }))
            .then(|| format!("triggers of {table} stop firing"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{alter, run};

    #[test]
    fn disabling_only() {
        assert_eq!(
            run(&RULE, &alter("t", AlterTableAction::Table(TableSubcommand::Trigger { disable: true }))).len(),
            1
        );
        assert!(
            run(&RULE, &alter("t", AlterTableAction::Table(TableSubcommand::Trigger { disable: false }))).is_empty()
        );
    }
}
