use crate::effects::{Effects, RelKind};
use crate::model::{Statement, StatementKind};
use crate::risk::Risk;
use crate::rules::{Check, Finding, Rule};

pub static RULE: Rule = Rule {
    id: "validate_domain",
    risk: Risk::High,
    summary: "a domain constraint (ADD CONSTRAINT without NOT VALID, SET NOT NULL, VALIDATE CONSTRAINT) is checked against every column of the domain: each table using it is read in full under SHARE (writes wait)",
    safe_rewrite: "add the constraint NOT VALID (new values are checked at once), check the existing rows with a query, and VALIDATE off-peak with lock_timeout set",
    check: Check::Statement(check),
    since: &[],
    by_size: true,
};

fn check(rule: &Rule, statement: &Statement, effects: &Effects) -> Vec<Finding> {
    let StatementKind::AlterDomain { domain, validates: true } = &statement.kind else { return Vec::new() };
    effects
        .locks
        .iter()
        .filter(|l| l.kind == RelKind::Table)
        .map(|l| {
            rule.finding(Some(&l.relation), format!("checking domain {domain} reads all of {} under SHARE", l.relation))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{rel, run};

    #[test]
    fn fires_per_table_using_the_domain() {
        let alter =
            |validates| Statement::new("ALTER DOMAIN", StatementKind::AlterDomain { domain: rel("email"), validates });
        assert_eq!(run(&RULE, &alter(true)).len(), 1);
        assert!(run(&RULE, &alter(false)).is_empty());
    }
}
