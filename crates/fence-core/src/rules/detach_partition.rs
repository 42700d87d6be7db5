use crate::effects::Effects;
use crate::model::{AlterTableAction, Statement};
use crate::risk::Risk;
use crate::rules::{Check, Finding, Rule};

pub static RULE: Rule = Rule {
    id: "detach_partition",
    risk: Risk::High,
    summary: "DETACH PARTITION without CONCURRENTLY takes ACCESS EXCLUSIVE on the partitioned parent: every query on it waits",
    safe_rewrite: "ALTER TABLE parent DETACH PARTITION child CONCURRENTLY (outside a transaction block): SHARE UPDATE EXCLUSIVE on the parent; only the partition is locked ACCESS EXCLUSIVE, briefly, in its second transaction",
    check: Check::Statement(check),
    since: &[],
    by_size: false,
};

fn check(rule: &Rule, statement: &Statement, _: &Effects) -> Vec<Finding> {
    rule.per_action(statement, |table, action| match action {
        AlterTableAction::DetachPartition { partition, concurrently: false } => {
            Some(format!("detaching {partition} locks {table} ACCESS EXCLUSIVE"))
        }
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AlterTableAction;
    use crate::rules::testing::{alter, rel, run};

    #[test]
    fn fires() {
        let plain = alter("p", AlterTableAction::DetachPartition { partition: rel("p2"), concurrently: false });
        assert_eq!(run(&RULE, &plain).len(), 1);
        let online = alter("p", AlterTableAction::DetachPartition { partition: rel("p2"), concurrently: true });
        assert!(run(&RULE, &online).is_empty());
    }
}
