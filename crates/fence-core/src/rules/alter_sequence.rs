use crate::effects::Effects;
use crate::model::{OnRelation, Statement, StatementKind};
use crate::risk::Risk;
use crate::rules::{Check, Finding, Rule};

pub static RULE: Rule = Rule {
    id: "alter_sequence",
    risk: Risk::Low,
    summary: "ALTER SEQUENCE takes SHARE ROW EXCLUSIVE on the sequence; RESTART / INCREMENT / MINVALUE change the values inserts get (RESTART below existing keys causes duplicate-key errors)",
    safe_rewrite: "for a one-off jump use setval() past the current maximum key; review RESTART values against the table's keys",
    check: Check::Statement(check),
    since: &[],
    by_size: false,
};

fn check(rule: &Rule, statement: &Statement, _: &Effects) -> Vec<Finding> {
    match &statement.kind {
        StatementKind::OnRelation { relation, what: OnRelation::AlterSequence } => {
            vec![rule.finding(Some(relation), format!("{relation} will hand out different values"))]
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{on_relation, run};

    #[test]
    fn fires() {
        let stmt = on_relation("ALTER SEQUENCE", "s", OnRelation::AlterSequence);
        assert_eq!(run(&RULE, &stmt).len(), 1);
    }
}
