use crate::effects::Effects;
use crate::model::{ObjectKind, Statement, StatementKind};
use crate::risk::Risk;
use crate::rules::{Check, Finding, Rule};

pub static RULE: Rule = Rule {
    id: "drop_sequence",
    risk: Risk::Medium,
    summary: "DROP SEQUENCE: columns whose default calls nextval() on it fail on every insert from then on (unless CASCADE removes the defaults too)",
    safe_rewrite: "drop the column defaults (or switch them to an identity) first, then drop the sequence in a later migration",
    check: Check::Statement(check),
    since: &[],
    by_size: false,
};

fn check(rule: &Rule, statement: &Statement, _: &Effects) -> Vec<Finding> {
    match &statement.kind {
        StatementKind::Drop { kind: ObjectKind::Sequence, objects, .. } => objects
            .iter()
            .map(|sequence| rule.finding(Some(sequence), format!("defaults using {sequence} will fail")))
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{drop, run};

    #[test]
    fn fires() {
        let stmt = drop("DROP SEQUENCE", ObjectKind::Sequence, &["s"], false);
        assert_eq!(run(&RULE, &stmt).len(), 1);
    }
}
