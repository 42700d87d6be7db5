use crate::effects::Effects;
use crate::model::{ReindexTarget, Statement, StatementKind};
use crate::risk::Risk;
use crate::rules::{Check, Finding, Rule};

pub static RULE: Rule = Rule {
    id: "reindex",
    risk: Risk::Medium,
    summary: "REINDEX without CONCURRENTLY blocks writes to the table (SHARE) and every query using the index (ACCESS EXCLUSIVE on it) while it rebuilds",
    safe_rewrite: "REINDEX ... CONCURRENTLY (outside a transaction block): writes and reads go on while the index is rebuilt",
    check: Check::Statement(check),
    since: &[],
    by_size: false,
};

fn check(rule: &Rule, statement: &Statement, fx: &Effects) -> Vec<Finding> {
    match &statement.kind {
        StatementKind::Reindex { concurrently: false, target, relation, schema } => {
            let table = fx.strongest_table_lock().map(|l| &l.relation);
            let what = match (target, relation) {
                (ReindexTarget::Schema, _) => {
                    format!("every index of schema {} (one table at a time)", schema.as_deref().unwrap_or("?"))
                }
                (ReindexTarget::Many, _) | (_, None) => "every index of many tables".to_string(),
                (_, Some(relation)) => relation.to_string(),
            };
            vec![rule.finding(table, format!("REINDEX of {what} blocks writes while it rebuilds"))]
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{rel, run};

    #[test]
    fn concurrently_is_fine() {
        let stmt = |concurrently| {
            Statement::new(
                "REINDEX",
                StatementKind::Reindex {
                    target: ReindexTarget::Table,
                    relation: Some(rel("a")),
                    concurrently,
                    schema: None,
                },
            )
        };
        assert_eq!(run(&RULE, &stmt(false)).len(), 1);
        assert!(run(&RULE, &stmt(true)).is_empty());
    }
}
