use crate::effects::Effects;
use crate::model::{Statement, StatementKind};
use crate::risk::Risk;
use crate::rules::{Check, Finding, Rule};

pub static RULE: Rule = Rule {
    id: "vacuum_database",
    risk: Risk::Low,
    summary:
        "VACUUM (or ANALYZE) without a table list processes every table of the database: hours of I/O on a large one",
    safe_rewrite: "name the tables that need it; leave the rest to autovacuum",
    check: Check::Statement(check),
    since: &[],
    by_size: false,
};

fn check(rule: &Rule, statement: &Statement, _: &Effects) -> Vec<Finding> {
    match &statement.kind {
        StatementKind::Vacuum { relations, full: false } if relations.is_empty() => {
            vec![rule.finding(None, format!("{} processes every table of the database", statement.tag))]
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
        let whole = Statement::new("VACUUM", StatementKind::Vacuum { relations: vec![], full: false });
        assert_eq!(run(&RULE, &whole).len(), 1);
        let one = Statement::new("VACUUM", StatementKind::Vacuum { relations: vec![rel("a")], full: false });
        assert!(run(&RULE, &one).is_empty());
    }
}
