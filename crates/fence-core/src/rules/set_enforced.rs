use crate::effects::Effects;
use crate::model::{AlterTableAction, Statement};
use crate::risk::Risk;
use crate::rules::{Check, Finding, Rule};

pub static RULE: Rule = Rule {
    id: "set_enforced",
    risk: Risk::High,
    summary: "ALTER CONSTRAINT ... ENFORCED checks every row of the table under ACCESS EXCLUSIVE (PostgreSQL 18): no reads or writes until it finishes",
    safe_rewrite: "add the foreign key again as a new constraint NOT VALID (SHARE ROW EXCLUSIVE, no scan), VALIDATE CONSTRAINT it (SHARE UPDATE EXCLUSIVE: reads and writes go on), then drop the not-enforced one",
    check: Check::Statement(check),
    since: &[],
    by_size: true,
};

fn check(rule: &Rule, statement: &Statement, _: &Effects) -> Vec<Finding> {
    rule.per_action(statement, |table, action| match action {
        AlterTableAction::SetEnforced { name, enforced: true, .. } => {
            Some(format!("enforcing {name} checks every row of {table} while holding ACCESS EXCLUSIVE"))
        }
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{alter, run};

    #[test]
    fn fires_when_enforcing_only() {
        let set =
            |enforced| alter("t", AlterTableAction::SetEnforced { name: "t_fk".into(), enforced, references: None });
        assert_eq!(run(&RULE, &set(true)).len(), 1);
        assert!(run(&RULE, &set(false)).is_empty());
    }
}
