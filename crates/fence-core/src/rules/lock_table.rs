use crate::effects::Effects;
use crate::lock::LockMode;
use crate::model::{Statement, StatementKind};
use crate::risk::Risk;
use crate::rules::{Check, Finding, Rule};

pub static RULE: Rule = Rule {
    id: "lock_table",
    risk: Risk::Medium,
    summary: "an explicit LOCK TABLE in SHARE mode or stronger blocks writes until the transaction ends; ACCESS EXCLUSIVE (medium) also blocks reads, weaker modes are low (migration tools lock their own registry tables this way)",
    safe_rewrite: "take the weakest mode that protects the change, keep the transaction short, and SET lock_timeout first so the LOCK cannot queue behind a long query",
    check: Check::Statement(check),
    since: &[],
    by_size: false,
};

fn check(rule: &Rule, statement: &Statement, _: &Effects) -> Vec<Finding> {
    match &statement.kind {
        StatementKind::LockTable { relations, mode } if *mode >= LockMode::Share => relations
            .iter()
            .map(|table| {
                let message = format!("LOCK TABLE {table} IN {} MODE holds the lock until commit", mode.sql_name());
                let mut finding = rule.finding(Some(table), message);
                if *mode < LockMode::AccessExclusive {
                    finding.risk = Risk::Low;
                }
                finding
            })
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{rel, run};

    #[test]
    fn share_and_stronger() {
        let stmt = |mode| Statement::new("LOCK TABLE", StatementKind::LockTable { relations: vec![rel("a")], mode });
        assert_eq!(run(&RULE, &stmt(LockMode::AccessExclusive))[0].risk, Risk::Medium);
        assert_eq!(run(&RULE, &stmt(LockMode::Exclusive))[0].risk, Risk::Low);
        assert!(run(&RULE, &stmt(LockMode::RowExclusive)).is_empty());
    }
}
