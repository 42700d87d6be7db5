use crate::effects::Effects;
use crate::model::{AlterTableAction, Statement};
use crate::risk::Risk;
use crate::rules::{Check, Finding, Rule, Transaction};

pub static RULE: Rule = Rule {
    id: "validate_in_same_transaction",
    risk: Risk::High,
    summary: "VALIDATE CONSTRAINT in the transaction that added the constraint NOT VALID: the ACCESS EXCLUSIVE lock of the ADD is still held, so the validation scan blocks everyone",
    safe_rewrite: "commit after ADD CONSTRAINT ... NOT VALID, and validate in a later transaction (it then takes only SHARE UPDATE EXCLUSIVE)",
    check: Check::Transaction(check),
    since: &[],
    by_size: false,
};

fn check(rule: &Rule, transaction: &Transaction, statement: &Statement, _: &Effects) -> Vec<Finding> {
    statement
        .alter_actions()
        .filter_map(|(table, action)| match action {
            AlterTableAction::ValidateConstraint { name }
                if transaction.not_valid.iter().any(|(t, c)| t == table && c == name) =>
            {
                Some(rule.finding(
                    Some(table),
                    format!("{name} on {table} was added NOT VALID in this transaction: validating now scans under ACCESS EXCLUSIVE"),
                ))
            }
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{alter, rel, run, run_in};

    #[test]
    fn same_transaction_only() {
        let validate = alter("t", AlterTableAction::ValidateConstraint { name: "c".into() });
        assert!(run(&RULE, &validate).is_empty());
        let added = Transaction { not_valid: vec![(rel("t"), "c".into())], ..Default::default() };
        assert_eq!(run_in(&RULE, &added, &validate).len(), 1);
    }
}
