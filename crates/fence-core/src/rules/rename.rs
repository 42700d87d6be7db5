use crate::effects::Effects;
use crate::model::{ObjectKind, Statement, StatementKind};
use crate::risk::Risk;
use crate::rules::{Check, Finding, Rule};

pub static RULE: Rule = Rule {
    id: "rename",
    risk: Risk::Medium,
    summary: "renaming a table or column breaks every running client that uses the old name",
    safe_rewrite: "expand and contract: add the new name (a view or a new column kept in sync), move the application, then remove the old name",
    check: Check::Statement(check),
    since: &[],
    by_size: false,
};

fn check(rule: &Rule, statement: &Statement, _: &Effects) -> Vec<Finding> {
    match &statement.kind {
        StatementKind::Rename { kind, relation, column, new_name } => {
            let what = match (kind, column) {
                (_, Some(column)) => format!("column {relation}.{column}"),
                (ObjectKind::Index, None) => return Vec::new(),
                (_, None) => relation.to_string(),
            };
            vec![rule
                .finding(Some(relation), format!("renaming {what} to {new_name} breaks clients using the old name"))]
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{rel, run};

    #[test]
    fn column_and_table_renames() {
        let rename = |kind, column: Option<&str>| {
            Statement::new(
                "ALTER TABLE",
                StatementKind::Rename {
                    kind,
                    relation: rel("t"),
                    column: column.map(str::to_string),
                    new_name: "n".into(),
                },
            )
        };
        assert!(run(&RULE, &rename(ObjectKind::Column, Some("c")))[0].message.contains("column public.t.c"));
        assert_eq!(run(&RULE, &rename(ObjectKind::Table, None)).len(), 1);
        assert!(run(&RULE, &rename(ObjectKind::Index, None)).is_empty());
    }
}
