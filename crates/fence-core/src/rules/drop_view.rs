use crate::effects::Effects;
use crate::model::{ObjectKind, Statement, StatementKind};
use crate::risk::Risk;
use crate::rules::{Check, Finding, Rule};

pub static RULE: Rule = Rule {
    id: "drop_view",
    risk: Risk::Medium,
    summary: "DROP VIEW / DROP MATERIALIZED VIEW: every query and function using the view fails from then on",
    safe_rewrite: "check pg_depend and the application for users of the view; stop using it first (deploy), drop it in a later migration",
    check: Check::Statement(check),
    since: &[],
    by_size: false,
};

fn check(rule: &Rule, statement: &Statement, _: &Effects) -> Vec<Finding> {
    match &statement.kind {
        StatementKind::Drop { kind: ObjectKind::View | ObjectKind::MaterializedView, objects, .. } => {
            objects.iter().map(|view| rule.finding(Some(view), format!("queries using {view} will fail"))).collect()
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{drop, run};

    #[test]
    fn fires() {
        let stmt = drop("DROP VIEW", ObjectKind::View, &["v"], false);
        assert_eq!(run(&RULE, &stmt).len(), 1);
    }
}
