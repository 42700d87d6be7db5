use crate::effects::Effects;
use crate::model::{ObjectKind, Statement, StatementKind};
use crate::risk::Risk;
use crate::rules::{Check, Finding, Rule};

pub static RULE: Rule = Rule {
    id: "drop_table",
    risk: Risk::High,
    summary: "DROP TABLE destroys data irreversibly and takes ACCESS EXCLUSIVE (also on tables whose foreign keys it removes)",
    safe_rewrite: "first stop all reads and writes in the application and keep a backup or a renamed copy for a release; drop later",
    check: Check::Statement(check),
    since: &[],
    by_size: false,
};

fn check(rule: &Rule, statement: &Statement, fx: &Effects) -> Vec<Finding> {
    let mut findings: Vec<Finding> = match &statement.kind {
        StatementKind::Drop { kind: ObjectKind::Table, objects, cascade, .. } => objects
            .iter()
            .map(|table| {
                let cascade = if *cascade { " with CASCADE (dependent objects go too)" } else { "" };
                rule.finding(Some(table), format!("dropping {table}{cascade} destroys its data"))
            })
            .collect(),
        _ => Vec::new(),
    };
    // What a DROP ... CASCADE (or an extension's drop) takes with it, each rated as if
    // dropped by name.
    findings.extend(fx.dropped.iter().map(|relation| {
        rule.finding(Some(relation), format!("{} also drops {relation} (and whatever it holds)", statement.tag))
    }));
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{drop, run};

    #[test]
    fn one_finding_per_table() {
        let stmt = drop("DROP TABLE", ObjectKind::Table, &["a", "b"], true);
        let findings = run(&RULE, &stmt);
        assert_eq!(findings.len(), 2);
        assert!(findings[0].message.contains("CASCADE"));
    }
}
