use crate::effects::Effects;
use crate::model::{DataAction, Statement, StatementKind};
use crate::risk::Risk;
use crate::rules::{Check, Finding, Rule};

pub static RULE: Rule = Rule {
    id: "unbatched_backfill",
    risk: Risk::Medium,
    summary: "a backfill in one statement writes every row in one transaction: each row stays locked until it commits (blocking the application's writes to them and CREATE INDEX CONCURRENTLY), and the WAL burst lags replicas and bloats the table",
    safe_rewrite: "write in batches of a few thousand rows by key range, each batch committed on its own (a procedure with COMMIT, or the migration tool's batching), with a pause between batches",
    check: Check::Statement(check),
    since: &[],
    by_size: true,
};

/// Rows written (the planner's estimate) from which a backfill is a finding, and from which it
/// is high.
const MANY_ROWS: u64 = 100_000;
const VERY_MANY_ROWS: u64 = 1_000_000;

fn check(rule: &Rule, statement: &Statement, _: &Effects) -> Vec<Finding> {
    let StatementKind::Data(data) = &statement.kind else { return Vec::new() };
    let (Some(target), Some(action), false) = (&data.target, data.action, data.deferred) else { return Vec::new() };
    if !matches!(action, DataAction::Update | DataAction::Delete | DataAction::Merge | DataAction::Insert) {
        return Vec::new();
    }
    let verb = action.sql();
    match data.estimate {
        Some(estimate) if estimate.rows >= MANY_ROWS => {
            let mut finding = rule.finding(
                Some(target),
                format!(
                    "{verb} on {target} writes about {} rows in one transaction (the planner's estimate)",
                    estimate.rows
                ),
            );
            if estimate.rows >= VERY_MANY_ROWS {
                finding.risk = Risk::High;
            }
            vec![finding]
        }
        Some(_) => Vec::new(),
        // Without a plan: a WHERE-less UPDATE or DELETE writes every row.
        None if !data.filtered && matches!(action, DataAction::Update | DataAction::Delete) => {
            vec![rule
                .finding(Some(target), format!("{verb} without WHERE writes every row of {target} in one transaction"))]
        }
        None => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{DataStatement, RowEstimate};
    use crate::rules::testing::{rel, run};

    fn update(filtered: bool, rows: Option<u64>) -> Statement {
        let data = DataStatement {
            action: Some(DataAction::Update),
            target: Some(rel("t")),
            filtered,
            estimate: rows.map(|rows| RowEstimate { rows, scans: true }),
            ..DataStatement::default()
        };
        Statement::new("UPDATE", StatementKind::Data(data))
    }

    #[test]
    fn rates_by_the_planners_estimate() {
        assert!(run(&RULE, &update(true, Some(5_000))).is_empty());
        assert_eq!(run(&RULE, &update(true, Some(200_000)))[0].risk, Risk::Medium);
        assert_eq!(run(&RULE, &update(false, Some(10_000_000)))[0].risk, Risk::High);
    }

    #[test]
    fn without_a_plan_only_a_whole_table_write() {
        assert_eq!(run(&RULE, &update(false, None)).len(), 1);
        assert!(run(&RULE, &update(true, None)).is_empty());
    }
}
