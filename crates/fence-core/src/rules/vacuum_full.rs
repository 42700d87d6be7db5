use crate::effects::Effects;
use crate::model::{Statement, StatementKind};
use crate::risk::Risk;
use crate::rules::{Check, Finding, Rule};

pub static RULE: Rule = Rule {
    id: "vacuum_full",
    risk: Risk::High,
    summary: "VACUUM FULL rewrites each table under ACCESS EXCLUSIVE: no reads or writes until it finishes",
    safe_rewrite: "reclaim space online with pg_repack, or plain VACUUM (SHARE UPDATE EXCLUSIVE) if freeing space for reuse is enough",
    check: Check::Statement(check),
    since: &[],
    by_size: false,
};

fn check(rule: &Rule, statement: &Statement, _: &Effects) -> Vec<Finding> {
    match &statement.kind {
        StatementKind::Vacuum { full: true, relations } if relations.is_empty() => {
            vec![rule.finding(None, "VACUUM FULL rewrites every table of the database, one at a time".into())]
        }
        StatementKind::Vacuum { full: true, relations } => relations
            .iter()
            .map(|table| rule.finding(Some(table), format!("VACUUM FULL rewrites {table}, blocking reads and writes")))
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{rel, run};

    #[test]
    fn full_only() {
        let full = Statement::new("VACUUM", StatementKind::Vacuum { relations: vec![rel("a")], full: true });
        assert_eq!(run(&RULE, &full).len(), 1);
        let whole = Statement::new("VACUUM", StatementKind::Vacuum { relations: vec![], full: true });
        assert_eq!(run(&RULE, &whole).len(), 1);
        let plain = Statement::new("VACUUM", StatementKind::Vacuum { relations: vec![rel("a")], full: false });
        assert!(run(&RULE, &plain).is_empty());
    }
}
