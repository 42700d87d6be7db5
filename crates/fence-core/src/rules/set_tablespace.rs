use crate::effects::Effects;
use crate::model::{AlterTableAction, Statement, StatementKind};
use crate::risk::Risk;
use crate::rules::{Check, Finding, Rule};

pub static RULE: Rule = Rule {
    id: "set_tablespace",
    risk: Risk::High,
    summary: "SET TABLESPACE copies the table's (or index's) files under ACCESS EXCLUSIVE: nothing reads or writes the table until the last block is copied (an index's lock stops the planning of every query on its table)",
    safe_rewrite: "create the new table or index in the target tablespace and switch over (CREATE INDEX CONCURRENTLY ... TABLESPACE, then drop the old index; for a table, pg_repack --tablespace or logical replication), or move it in a maintenance window",
    check: Check::Statement(check),
    since: &[],
    by_size: true,
};

fn check(rule: &Rule, statement: &Statement, fx: &Effects) -> Vec<Finding> {
    if let StatementKind::MoveAll { tablespace, .. } = &statement.kind {
        // Each relation moved, rated as if moved by name (offline: one finding for all).
        if fx.unknown {
            return vec![rule.finding(None, format!("{} moves everything of its kind in {tablespace}", statement.tag))];
        }
        return fx
            .locks
            .iter()
            .map(|l| {
                rule.finding(Some(&l.relation), format!("moving {} out of {tablespace} copies all of it", l.relation))
            })
            .collect();
    }
    if let StatementKind::AlterIndex { index, actions } = &statement.kind {
        return actions
            .iter()
            .any(AlterTableAction::moves_files)
            .then(|| {
                rule.finding(Some(index), format!("moving index {index} copies it while its table cannot be queried"))
            })
            .into_iter()
            .collect();
    }
    rule.per_action(statement, |table, action| {
        action.moves_files().then(|| format!("moving {table} to another tablespace copies all of it"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TableSubcommand;
    use crate::rules::testing::{alter, rel, run};

    fn set(unchanged: bool) -> AlterTableAction {
        AlterTableAction::SetTablespace { tablespace: "fast".into(), unchanged }
    }

    #[test]
    fn fires_on_table_and_index_moves() {
        assert_eq!(run(&RULE, &alter("t", set(false))).len(), 1);
        assert!(run(&RULE, &alter("t", set(true))).is_empty());
        assert!(run(&RULE, &alter("t", AlterTableAction::Table(TableSubcommand::Owner))).is_empty());
        let index = |actions| Statement::new("ALTER INDEX", StatementKind::AlterIndex { index: rel("i"), actions });
        assert_eq!(run(&RULE, &index(vec![set(false)])).len(), 1);
        assert!(run(&RULE, &index(vec![AlterTableAction::Table(TableSubcommand::SetStatistics)])).is_empty());
    }
}
