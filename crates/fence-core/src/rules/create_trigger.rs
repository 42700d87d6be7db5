use crate::effects::Effects;
use crate::model::{OnRelation, Statement, StatementKind};
use crate::risk::Risk;
use crate::rules::{Check, Finding, Rule};

pub static RULE: Rule = Rule {
    id: "create_trigger",
    risk: Risk::Low,
    summary:
        "CREATE TRIGGER takes SHARE ROW EXCLUSIVE on the table (writes wait) and changes what every later write does",
    safe_rewrite: "create the trigger function first and test it; create the trigger with lock_timeout set, off-peak",
    check: Check::Statement(check),
    since: &[],
    by_size: false,
};

fn check(rule: &Rule, statement: &Statement, _: &Effects) -> Vec<Finding> {
    match &statement.kind {
        StatementKind::OnRelation { relation, what: OnRelation::CreateTrigger } => {
            vec![rule.finding(Some(relation), format!("a new trigger on {relation} runs on every matching write"))]
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
        let stmt = on_relation("CREATE TRIGGER", "t", OnRelation::CreateTrigger);
        assert_eq!(run(&RULE, &stmt).len(), 1);
    }
}
