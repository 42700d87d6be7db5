use crate::effects::Effects;
use crate::model::{Statement, StatementKind};
use crate::risk::Risk;
use crate::rules::{Check, Finding, Rule};

pub static RULE: Rule = Rule {
    id: "cluster",
    risk: Risk::High,
    summary: "CLUSTER rewrites the table in index order under ACCESS EXCLUSIVE: no reads or writes until it finishes",
    safe_rewrite: "reorder online with pg_repack --order-by, or accept the current physical order",
    check: Check::Statement(check),
    since: &[],
    by_size: false,
};

fn check(rule: &Rule, statement: &Statement, _: &Effects) -> Vec<Finding> {
    match &statement.kind {
        StatementKind::Cluster { relation: Some(table) } => {
            vec![rule.finding(Some(table), format!("CLUSTER rewrites {table}, blocking reads and writes"))]
        }
        StatementKind::Cluster { relation: None } => {
            vec![rule.finding(None, "CLUSTER without a table rewrites every table clustered before".into())]
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{rel, run};

    #[test]
    fn with_and_without_table() {
        assert_eq!(
            run(&RULE, &Statement::new("CLUSTER", StatementKind::Cluster { relation: Some(rel("a")) })).len(),
            1
        );
        assert!(run(&RULE, &Statement::new("CLUSTER", StatementKind::Cluster { relation: None }))[0]
            .message
            .contains("every table"));
    }
}
