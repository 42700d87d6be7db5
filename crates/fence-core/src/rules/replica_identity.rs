use crate::effects::Effects;
use crate::model::{AlterTableAction, Statement, TableSubcommand};
use crate::risk::Risk;
use crate::rules::{Check, Finding, Rule};

pub static RULE: Rule = Rule {
    id: "replica_identity",
    risk: Risk::Low,
    summary: "REPLICA IDENTITY changes what logical replication logs for UPDATE and DELETE (FULL: the whole old row, much more WAL)",
    safe_rewrite: "prefer a primary key or REPLICA IDENTITY USING INDEX on a unique, non-null index; measure WAL volume before using FULL",
    check: Check::Statement(check),
    since: &[],
    by_size: false,
};

fn check(rule: &Rule, statement: &Statement, _: &Effects) -> Vec<Finding> {
    rule.per_action(statement, |table, action| {
        matches!(action, AlterTableAction::Table(TableSubcommand::ReplicaIdentity))
            .then(|| format!("replica identity of {table} changes what its updates and deletes log"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{alter, run};

    #[test]
    fn fires() {
        assert_eq!(run(&RULE, &alter("t", AlterTableAction::Table(TableSubcommand::ReplicaIdentity))).len(), 1);
    }
}
