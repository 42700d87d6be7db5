use crate::effects::Effects;
use crate::model::{AlterTableAction, DropTarget, Statement, StatementKind};
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
        // The live catalog finds none of the objects: IF EXISTS skips them, nothing is dropped.
        StatementKind::DropObjects { cascade: true, .. } if !fx.unknown && fx.drops_nothing => Vec::new(),
        StatementKind::DropObjects { target, names, cascade: true, .. } => {
            let reach = if fx.unknown {
                "whatever depends on it (only the live catalog knows what)".to_string()
            } else if fx.dropped.is_empty() {
                "whatever depends on it (no table, view or sequence now)".to_string()
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
        // ALTER TABLE ... DROP COLUMN | CONSTRAINT ... CASCADE: the decision does not walk what
        // depends on the column or constraint (views, materialized views, other tables'
        // foreign keys); they go with it.
        StatementKind::AlterTable { relation, actions, .. } => actions
            .iter()
            .filter(|action| action.cascades())
            .filter_map(|action| match action {
                AlterTableAction::DropColumn { column, .. } => Some(format!("column {column}")),
                AlterTableAction::DropConstraint { name, .. } => Some(format!("constraint {name}")),
                _ => None,
            })
            .map(|what| {
                rule.finding(
                    Some(relation),
                    format!("dropping {what} of {relation} with CASCADE drops whatever depends on it (views, materialized views, foreign keys of other tables)"),
                )
            })
            .collect(),
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
    fn alter_table_drops_with_cascade() {
        use crate::rules::testing::alter;
        let column = |cascade| alter("t", AlterTableAction::DropColumn { column: "c".into(), cascade });
        assert_eq!(run(&RULE, &column(true)).len(), 1);
        assert!(run(&RULE, &column(false)).is_empty());
        let constraint = AlterTableAction::DropConstraint { name: "t_pkey".into(), references: None, cascade: true };
        assert_eq!(run(&RULE, &alter("t", constraint)).len(), 1);
    }

    #[test]
    fn a_cascade_of_objects_the_catalog_does_not_find_is_harmless() {
        let schema = Statement::new(
            "DROP SCHEMA",
            StatementKind::DropObjects {
                target: DropTarget::Schema,
                names: vec!["s".into()],
                cascade: true,
                addresses: vec![],
            },
        );
        let missing = Effects { drops_nothing: true, ..Effects::default() };
        assert!(check(&RULE, &schema, &missing).is_empty());
        let unknown = Effects { unknown: true, drops_nothing: true, ..Effects::default() };
        assert_eq!(check(&RULE, &schema, &unknown).len(), 1);
        // An existing schema with nothing in it yet: what is made meanwhile would go with it.
        assert_eq!(check(&RULE, &schema, &Effects::default()).len(), 1);
    }
}
