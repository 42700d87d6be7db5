use crate::effects::Effects;
use crate::model::{Statement, StatementKind};
use crate::risk::Risk;
use crate::rules::{Check, Finding, Rule};

pub static RULE: Rule = Rule {
    id: "truncate",
    risk: Risk::High,
    summary: "TRUNCATE empties tables irreversibly under ACCESS EXCLUSIVE (CASCADE empties every table referencing them too)",
    safe_rewrite: "delete in small batches (DELETE ... WHERE id IN (SELECT id ... LIMIT 10000)) if the data must go while the table is in use; keep a copy first",
    check: Check::Statement(check),
    since: &[],
    by_size: false,
};

fn check(rule: &Rule, statement: &Statement, _: &Effects) -> Vec<Finding> {
    match &statement.kind {
        StatementKind::Truncate { relations, cascade } => relations
            .iter()
            .map(|table| {
                let cascade = if *cascade { " and every table referencing it (CASCADE)" } else { "" };
                rule.finding(Some(table), format!("TRUNCATE removes every row of {table}{cascade}"))
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
    fn one_finding_per_table() {
        let stmt = Statement::new(
            "TRUNCATE TABLE",
            StatementKind::Truncate { relations: vec![rel("a"), rel("b")], cascade: true },
        );
        let findings = run(&RULE, &stmt);
        assert_eq!(findings.len(), 2);
        assert!(findings[1].message.contains("CASCADE"));
    }
}
