use crate::effects::Effects;
use crate::model::{DropTarget, Statement, StatementKind};
use crate::risk::Risk;
use crate::rules::{Check, Finding, Rule};

pub static RULE: Rule = Rule {
    id: "drop_cascade",
    risk: Risk::High,
    summary: "DROP ... CASCADE also drops every object depending on the dropped ones (views, foreign keys, defaults), which the statement does not name",
    safe_rewrite: "look up the dependents (pg_depend, or DROP without CASCADE to see PostgreSQL's list), drop them explicitly by name, then drop the object without CASCADE",
    check: Check::Statement(check),
    since: &[],
    by_size: false,
};

fn check(rule: &Rule, statement: &Statement, fx: &Effects) -> Vec<Finding> {
    match &statement.kind {
        StatementKind::Drop { objects, cascade: true, .. } => objects
            .iter()
            .map(|object| {
                rule.finding(Some(object), format!("dropping {object} with CASCADE drops its dependents too"))
            })
            .collect(),
        // The live catalog shows the CASCADE taking nothing: the objects are missing (IF EXISTS
        // skips them) or nothing depends on them.
        StatementKind::DropObjects { cascade: true, .. } if !fx.unknown && fx.reached == 0 => Vec::new(),
        StatementKind::DropObjects { target, names, cascade: true, .. } => {
            let reach = if fx.unknown {
                "whatever depends on it (only the live catalog knows what)".to_string()
            } else if fx.dropped.is_empty() {
                "what depends on it (no table, view or sequence)".to_string()
            } else {
                fx.dropped.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
            };
            let what = match target {
                DropTarget::Owned if names.len() == 1 => format!("what {} owns", names[0]),
                DropTarget::Owned => format!("what {} own", names.join(", ")),
                _ => names.join(", "),
            };
            vec![rule.finding(None, format!("dropping {what} with CASCADE drops {reach}"))]
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ObjectKind;
    use crate::rules::testing::{drop, run};

    #[test]
    fn fires() {
        let drop_a = |cascade| drop("DROP TABLE", ObjectKind::Table, &["a"], cascade);
        assert_eq!(run(&RULE, &drop_a(true)).len(), 1);
        assert!(run(&RULE, &drop_a(false)).is_empty());
    }

    #[test]
    fn a_cascade_the_catalog_shows_taking_nothing_is_harmless() {
        let schema = Statement::new(
            "DROP SCHEMA",
            StatementKind::DropObjects {
                target: DropTarget::Schema,
                names: vec!["s".into()],
                cascade: true,
                addresses: vec![],
            },
        );
        assert!(check(&RULE, &schema, &Effects::default()).is_empty());
        let unknown = Effects { unknown: true, ..Effects::default() };
        assert_eq!(check(&RULE, &schema, &unknown).len(), 1);
        let reaching = Effects { reached: 1, ..Effects::default() };
        assert_eq!(check(&RULE, &schema, &reaching).len(), 1);
    }
}
