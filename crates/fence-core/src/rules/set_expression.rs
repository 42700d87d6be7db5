use crate::effects::Effects;
use crate::model::{AlterTableAction, Statement};
use crate::risk::Risk;
use crate::rules::{Check, Finding, Rule};

pub static RULE: Rule = Rule {
    id: "set_expression",
    risk: Risk::High,
    summary: "SET EXPRESSION on a stored generated column rewrites the whole table and rebuilds its indexes under ACCESS EXCLUSIVE (PostgreSQL 17+; a virtual column, 18+, only changes its definition)",
    safe_rewrite: "add a new nullable column, fill it in batches (a trigger keeps new rows current), then switch readers over and drop the old column; or run the change in a maintenance window with lock_timeout set",
    check: Check::Statement(check),
    since: &[(
        18,
        "make the column virtual (GENERATED ALWAYS AS (...) VIRTUAL: computed when read, nothing stored to rewrite), or add a new nullable column, fill it in batches and switch over",
    )],
    by_size: true,
};

fn check(rule: &Rule, statement: &Statement, _: &Effects) -> Vec<Finding> {
    rule.per_action(statement, |table, action| match action {
        AlterTableAction::SetExpression { column, stored: true } => {
            Some(format!("a new expression for the stored column {table}.{column} rewrites every row"))
        }
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{alter, run};

    #[test]
    fn fires_for_a_stored_column_only() {
        let set = |stored| alter("t", AlterTableAction::SetExpression { column: "total".into(), stored });
        assert_eq!(run(&RULE, &set(true)).len(), 1);
        assert!(run(&RULE, &set(false)).is_empty());
    }
}
