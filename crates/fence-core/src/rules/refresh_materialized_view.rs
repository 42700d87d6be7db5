use crate::effects::Effects;
use crate::model::{OnRelation, Statement, StatementKind};
use crate::risk::Risk;
use crate::rules::{Check, Finding, Rule};

pub static RULE: Rule = Rule {
    id: "refresh_materialized_view",
    risk: Risk::Medium,
    summary: "REFRESH MATERIALIZED VIEW without CONCURRENTLY rebuilds the view under ACCESS EXCLUSIVE: every read of it waits until the refresh finishes",
    safe_rewrite: "REFRESH MATERIALIZED VIEW CONCURRENTLY (needs a unique index on the view): readers keep the old contents meanwhile",
    check: Check::Statement(check),
    since: &[],
    by_size: false,
};

fn check(rule: &Rule, statement: &Statement, _: &Effects) -> Vec<Finding> {
    match &statement.kind {
        StatementKind::OnRelation { relation, what: OnRelation::RefreshMaterializedView { concurrently: false } } => {
            vec![rule.finding(Some(relation), format!("refreshing {relation} blocks its readers until it finishes"))]
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
        let refresh = |concurrently| {
            on_relation("REFRESH MATERIALIZED VIEW", "mv", OnRelation::RefreshMaterializedView { concurrently })
        };
        assert_eq!(run(&RULE, &refresh(false)).len(), 1);
        assert!(run(&RULE, &refresh(true)).is_empty());
    }
}
