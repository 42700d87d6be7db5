use crate::effects::Effects;
use crate::model::{AlterTableAction, Statement, StatementKind};
use crate::risk::Risk;
use crate::rules::{Check, Finding, Rule};

pub static RULE: Rule = Rule {
    id: "unclassified",
    risk: Risk::None,
    summary: "fence does not classify this statement (or subcommand); the policy's `unknown` setting decides",
    safe_rewrite: "review the statement by hand; approve it like any risky statement",
    check: Check::Statement(check),
    since: &[],
    by_size: false,
};

fn check(rule: &Rule, statement: &Statement, fx: &Effects) -> Vec<Finding> {
    let mut findings: Vec<Finding> = statement
        .alter_actions()
        .filter_map(|(table, action)| match action {
            AlterTableAction::Other { name } => {
                Some(rule.finding(Some(table), format!("ALTER TABLE {name} on {table} is not classified")))
            }
            _ => None,
        })
        .collect();
    if let StatementKind::AlterIndex { index, actions } = &statement.kind {
        for action in actions {
            if let AlterTableAction::Other { name } = action {
                findings.push(rule.finding(Some(index), format!("ALTER INDEX {name} on {index} is not classified")));
            }
        }
    }
    if statement.kind == StatementKind::Unclassified {
        findings.push(rule.finding(None, format!("{} is not classified", statement.tag)));
    } else if fx.unknown {
        findings.push(rule.finding(None, format!("what {} takes with it is unknown here", statement.tag)));
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::run;

    #[test]
    fn flags_unclassified_statements() {
        assert_eq!(run(&RULE, &Statement::new("CREATE FOO", StatementKind::Unclassified)).len(), 1);
        assert!(run(&RULE, &Statement::new("CREATE SCHEMA", StatementKind::NoTableLock)).is_empty());
    }
}
