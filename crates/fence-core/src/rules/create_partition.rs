use crate::effects::Effects;
use crate::model::{Statement, StatementKind};
use crate::risk::Risk;
use crate::rules::{Check, Finding, Rule};

pub static RULE: Rule = Rule {
    id: "create_partition",
    risk: Risk::Medium,
    summary: "CREATE TABLE ... PARTITION OF takes ACCESS EXCLUSIVE on the partitioned parent: every query on it waits while the partition is created",
    safe_rewrite: "create the table standalone with a CHECK constraint matching the bound, then ALTER TABLE parent ATTACH PARTITION (SHARE UPDATE EXCLUSIVE on the parent, no scan)",
    check: Check::Statement(check),
    since: &[],
    by_size: false,
};

fn check(rule: &Rule, statement: &Statement, _: &Effects) -> Vec<Finding> {
    match &statement.kind {
        StatementKind::CreateTable { partition_of: Some(parent), relation, .. } => {
            vec![rule.finding(
                Some(parent),
                format!("creating partition {relation} of {parent} locks {parent} ACCESS EXCLUSIVE"),
            )]
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{rel, run};

    #[test]
    fn fires() {
        let stmt = Statement::new(
            "CREATE TABLE",
            StatementKind::CreateTable {
                relation: rel("p2"),
                columns: vec![],
                constraints: vec![],
                partition_of: Some(rel("p")),
                inherits: vec![],
                like: vec![],
                if_not_exists: false,
            },
        );
        assert_eq!(run(&RULE, &stmt)[0].relation, Some(rel("p")));
    }
}
