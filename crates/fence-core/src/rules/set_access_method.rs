use crate::effects::Effects;
use crate::model::{AlterTableAction, Statement};
use crate::risk::Risk;
use crate::rules::{Check, Finding, Rule};

pub static RULE: Rule = Rule {
    id: "set_access_method",
    risk: Risk::High,
    summary: "SET ACCESS METHOD rewrites the whole table and rebuilds its indexes under ACCESS EXCLUSIVE (a no-op when the table already uses that method)",
    safe_rewrite: "create a new table with the access method (CREATE TABLE ... USING method), copy the rows in batches and switch over, or run the change in a maintenance window with lock_timeout set",
    check: Check::Statement(check),
    since: &[],
    by_size: true,
};

fn check(rule: &Rule, statement: &Statement, _: &Effects) -> Vec<Finding> {
    rule.per_action(statement, |table, action| match action {
        AlterTableAction::SetAccessMethod { method, unchanged: false } => {
            Some(format!("switching {table} to access method {method} rewrites it"))
        }
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{alter, run};

    #[test]
    fn fires_unless_the_method_is_unchanged() {
        let set = |unchanged| alter("t", AlterTableAction::SetAccessMethod { method: "heap".into(), unchanged });
        assert_eq!(run(&RULE, &set(false)).len(), 1);
        assert!(run(&RULE, &set(true)).is_empty());
    }
}
