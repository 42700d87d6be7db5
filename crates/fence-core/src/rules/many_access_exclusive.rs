use crate::effects::{Effects, RelKind};
use crate::lock::LockMode;
use crate::model::Statement;
use crate::risk::Risk;
use crate::rules::{Check, Finding, Rule, Transaction};

pub static RULE: Rule = Rule {
    id: "many_access_exclusive",
    risk: Risk::Medium,
    summary: "a transaction that takes ACCESS EXCLUSIVE on several existing tables holds all of them until commit: everything touching any of them waits, and lock-order deadlocks with other sessions become likely",
    safe_rewrite: "split the migration so each transaction takes ACCESS EXCLUSIVE on one table, with lock_timeout set, committing in between",
    check: Check::Transaction(check),
    since: &[],
    by_size: false,
};

fn check(rule: &Rule, transaction: &Transaction, _: &Statement, effects: &Effects) -> Vec<Finding> {
    if transaction.exclusive.is_empty() {
        return Vec::new();
    }
    effects
        .locks
        .iter()
        .filter(|l| l.kind == RelKind::Table && l.mode == LockMode::AccessExclusive)
        .filter(|l| !transaction.exclusive.contains(&l.relation))
        .map(|l| {
            let held: Vec<String> = transaction.exclusive.iter().map(|r| r.to_string()).collect();
            rule.finding(
                Some(&l.relation),
                format!(
                    "{} joins {} already held ACCESS EXCLUSIVE by this transaction until commit",
                    l.relation,
                    held.join(", ")
                ),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AlterTableAction;
    use crate::rules::testing::{alter, rel, run, run_in};

    #[test]
    fn second_table_in_the_same_transaction() {
        let stmt = alter("b", AlterTableAction::DropColumn { column: "x".into(), cascade: false });
        assert!(run(&RULE, &stmt).is_empty());
        let one = Transaction { exclusive: vec![rel("a")], ..Default::default() };
        assert_eq!(run_in(&RULE, &one, &stmt).len(), 1);
        let same = Transaction { exclusive: vec![rel("b")], ..Default::default() };
        assert!(run_in(&RULE, &same, &stmt).is_empty());
    }
}
