use crate::effects::Effects;
use crate::model::{AlterTableAction, Statement};
use crate::risk::Risk;
use crate::rules::{Check, Finding, Rule};

pub static RULE: Rule = Rule {
    id: "attach_partition",
    risk: Risk::Medium,
    summary: "ATTACH PARTITION scans the new partition under ACCESS EXCLUSIVE to prove its rows fit the bound, unless a CHECK constraint already proves it",
    safe_rewrite: "before attaching, add a CHECK constraint matching the bound (NOT VALID, then VALIDATE in another transaction): PostgreSQL then skips the scan",
    check: Check::Statement(check),
    since: &[],
    by_size: true,
};

fn check(rule: &Rule, statement: &Statement, _: &Effects) -> Vec<Finding> {
    statement
        .alter_actions()
        .filter_map(|(table, action)| match action {
            AlterTableAction::AttachPartition { partition } => Some(rule.finding(
                Some(partition),
                format!("attaching {partition} to {table} scans {partition} while holding ACCESS EXCLUSIVE on it"),
            )),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AlterTableAction;
    use crate::rules::testing::{alter, rel, run};

    #[test]
    fn fires() {
        let stmt = alter("p", AlterTableAction::AttachPartition { partition: rel("p2") });
        assert_eq!(run(&RULE, &stmt)[0].relation, Some(rel("p2")));
    }
}
