use crate::effects::Effects;
use crate::model::{AlterTableAction, Statement, StatementKind};
use crate::risk::Risk;
use crate::rules::{Check, Finding, Rule, Transaction};

pub static RULE: Rule = Rule {
    id: "concurrently_in_transaction",
    risk: Risk::Medium,
    summary: "CREATE/DROP INDEX CONCURRENTLY, REINDEX CONCURRENTLY and DETACH PARTITION CONCURRENTLY cannot run inside a transaction block: PostgreSQL refuses them and the migration fails halfway",
    safe_rewrite: "put the CONCURRENTLY statement in a migration (file) of its own that runs outside BEGIN ... COMMIT (most tools have a per-migration 'no transaction' switch)",
    check: Check::Transaction(check),
    since: &[],
    by_size: false,
};

fn concurrent(statement: &Statement) -> bool {
    match &statement.kind {
        StatementKind::CreateIndex { concurrently, .. }
        | StatementKind::Drop { concurrently, .. }
        | StatementKind::Reindex { concurrently, .. } => *concurrently,
        _ => statement
            .alter_actions()
            .any(|(_, action)| matches!(action, AlterTableAction::DetachPartition { concurrently: true, .. })),
    }
}

fn check(rule: &Rule, transaction: &Transaction, statement: &Statement, _: &Effects) -> Vec<Finding> {
    if !transaction.explicit || !concurrent(statement) {
        return Vec::new();
    }
    vec![rule.finding(
        None,
        format!("{} ... CONCURRENTLY runs inside a transaction block (after BEGIN, or in a migration run as one): it will fail", statement.tag),
    )]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{rel, run, run_in};

    #[test]
    fn only_inside_a_block() {
        let stmt = Statement::new(
            "CREATE INDEX",
            StatementKind::CreateIndex {
                relation: rel("t"),
                name: None,
                concurrently: true,
                unique: false,
                if_not_exists: false,
                only_partitioned: false,
            },
        );
        assert!(run(&RULE, &stmt).is_empty());
        let block = Transaction { explicit: true, ..Default::default() };
        assert_eq!(run_in(&RULE, &block, &stmt).len(), 1);
    }
}
