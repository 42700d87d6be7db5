use crate::effects::{Effects, RelKind};
use crate::model::{ObjectKind, Statement, StatementKind};
use crate::risk::Risk;
use crate::rules::{Check, Finding, Rule};

pub static RULE: Rule = Rule {
    id: "drop_index",
    risk: Risk::Medium,
    summary: "DROP INDEX without CONCURRENTLY takes ACCESS EXCLUSIVE on the index's table",
    safe_rewrite: "DROP INDEX CONCURRENTLY (outside a transaction block)",
    check: Check::Statement(check),
    since: &[],
    by_size: false,
};

fn check(rule: &Rule, statement: &Statement, effects: &Effects) -> Vec<Finding> {
    match &statement.kind {
        StatementKind::Drop { kind: ObjectKind::Index, objects, concurrently: false, .. } => {
            let table = effects.locks.iter().find(|l| l.kind == RelKind::Table).map(|l| &l.relation);
            objects
                .iter()
                .map(|index| {
                    let on = table.map_or(String::new(), |t| format!(" and its table {t}"));
                    rule.finding(table.or(Some(index)), format!("dropping {index} locks it{on} ACCESS EXCLUSIVE"))
                })
                .collect()
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{drop, run};

    #[test]
    fn names_the_table() {
        let stmt = drop("DROP INDEX", ObjectKind::Index, &["i"], false);
        let findings = run(&RULE, &stmt);
        assert!(findings[0].message.contains("public.t"));
    }
}
