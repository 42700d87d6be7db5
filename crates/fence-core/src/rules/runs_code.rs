use crate::effects::Effects;
use crate::model::{Statement, StatementKind};
use crate::risk::Risk;
use crate::rules::{Check, Finding, Rule};

pub static RULE: Rule = Rule {
    id: "runs_code",
    risk: Risk::None,
    summary: "DO and CALL run code: fence analyzes and gates each statement it runs, as it runs, but cannot see ahead what it will run",
    safe_rewrite: "write the migration's DDL as plain statements, so that fence.analyze, the CLI and the approval show every lock before anything runs",
    check: Check::Statement(check),
    since: &[],
    by_size: false,
};

fn check(rule: &Rule, statement: &Statement, _: &Effects) -> Vec<Finding> {
    match statement.kind {
        StatementKind::Code => vec![rule.finding(
            None,
            format!("{} runs code: each statement it runs is analyzed and gated when it runs", statement.tag),
        )],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::run;

    #[test]
    fn names_the_code() {
        assert_eq!(run(&RULE, &Statement::new("DO", StatementKind::Code)).len(), 1);
        assert!(run(&RULE, &Statement::new("CREATE SCHEMA", StatementKind::NoTableLock)).is_empty());
    }
}
