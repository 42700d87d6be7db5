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
        StatementKind::OnRelation {
            relation,
            what: OnRelation::RefreshMaterializedView { concurrently: false, populated: true },
        } => {
            vec![rule.finding(Some(relation), format!("refreshing {relation} blocks its readers until it finishes"))]
        }
        // Its first population (created WITH NO DATA, or emptied): its readers fail until it
        // is done, and CONCURRENTLY cannot make it; they wait for it instead.
        StatementKind::OnRelation {
            relation,
            what: OnRelation::RefreshMaterializedView { concurrently: false, populated: false },
        } => {
            let mut finding = rule.finding(
                Some(relation),
                format!("{relation} has not been populated: its readers fail until this refresh fills it, and wait for it instead"),
            );
            finding.risk = Risk::Low;
            finding.safe_rewrite =
                "none needed: a view not populated yet cannot be refreshed CONCURRENTLY, and nobody can read it before";
            vec![finding]
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
        let refresh = |concurrently, populated| {
            on_relation(
                "REFRESH MATERIALIZED VIEW",
                "mv",
                OnRelation::RefreshMaterializedView { concurrently, populated },
            )
        };
        assert_eq!(run(&RULE, &refresh(false, true))[0].risk, Risk::Medium);
        assert!(run(&RULE, &refresh(true, true)).is_empty());
        // A first population: low (readers fail until then; CONCURRENTLY is impossible).
        assert_eq!(run(&RULE, &refresh(false, false))[0].risk, Risk::Low);
    }
}
