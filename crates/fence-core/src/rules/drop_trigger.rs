use crate::effects::Effects;
use crate::model::{OnRelation, Statement, StatementKind};
use crate::risk::Risk;
use crate::rules::{Check, Finding, Rule};

pub static RULE: Rule = Rule {
    id: "drop_trigger",
    risk: Risk::Medium,
    summary: "DROP TRIGGER removes a trigger of the table for good (an audit, sync or integrity trigger stops for every later write) under ACCESS EXCLUSIVE: it needs what disabling the trigger needs",
    safe_rewrite: "keep the trigger; if it must go, drop it in a migration of its own, approved for that, after whatever replaces it is in place, with lock_timeout set",
    check: Check::Statement(check),
    since: &[],
    by_size: false,
};

fn check(rule: &Rule, statement: &Statement, _: &Effects) -> Vec<Finding> {
    match &statement.kind {
        StatementKind::OnRelation { relation, what: OnRelation::DropTrigger } => {
            vec![rule.finding(Some(relation), format!("a trigger of {relation} stops firing for good"))]
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{on_relation, run};

    #[test]
    fn fires_on_drop_trigger_only() {
        assert_eq!(run(&RULE, &on_relation("DROP TRIGGER", "t", OnRelation::DropTrigger)).len(), 1);
        assert!(run(&RULE, &on_relation("CREATE TRIGGER", "t", OnRelation::CreateTrigger)).is_empty());
    }

    #[test]
    fn as_risky_as_disabling_the_trigger() {
        assert_eq!(RULE.risk, crate::rules::by_id("disable_trigger").unwrap().risk);
    }
}
