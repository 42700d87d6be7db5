use crate::effects::Effects;
use crate::model::{Statement, StatementKind};
use crate::risk::Risk;
use crate::rules::{Check, Finding, Rule};

pub static RULE: Rule = Rule {
    id: "create_index",
    risk: Risk::High,
    summary: "CREATE INDEX without CONCURRENTLY holds SHARE on the table for the whole build: every INSERT, UPDATE and DELETE waits",
    safe_rewrite: "CREATE INDEX CONCURRENTLY (outside a transaction block); if it fails, DROP INDEX CONCURRENTLY the invalid index and retry",
    check: Check::Statement(check),
    since: &[],
    by_size: true,
};

fn check(rule: &Rule, statement: &Statement, _: &Effects) -> Vec<Finding> {
    match &statement.kind {
        // ON ONLY a partitioned table builds nothing (the pattern that avoids a long lock:
        // then CREATE INDEX CONCURRENTLY on each partition, ALTER INDEX ... ATTACH PARTITION).
        StatementKind::CreateIndex { relation, concurrently: false, only_partitioned: false, .. } => {
            vec![rule
                .finding(Some(relation), format!("building an index on {relation} blocks writes until it finishes"))]
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{rel, run};

    #[test]
    fn concurrently_and_only_a_partitioned_table_are_fine() {
        let build = |concurrently, only_partitioned| {
            Statement::new(
                "CREATE INDEX",
                StatementKind::CreateIndex {
                    relation: rel("t"),
                    name: None,
                    concurrently,
                    unique: false,
                    if_not_exists: false,
                    only_partitioned,
                },
            )
        };
        assert_eq!(run(&RULE, &build(false, false)).len(), 1);
        assert!(run(&RULE, &build(true, false)).is_empty());
        assert!(run(&RULE, &build(false, true)).is_empty());
    }
}
