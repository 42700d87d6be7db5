use crate::effects::{Effects, RelKind};
use crate::model::{AlterTableAction, Statement, StatementKind, TableSubcommand};
use crate::risk::Risk;
use crate::rules::{Check, Finding, Rule};

pub static RULE: Rule = Rule {
    id: "change_owner",
    risk: Risk::Low,
    summary: "OWNER TO changes who may alter, drop and grant on the table, under ACCESS EXCLUSIVE",
    safe_rewrite: "grant the privileges the new role needs instead; if ownership must move, do it in a reviewed migration of its own",
    check: Check::Statement(check),
    since: &[],
    by_size: false,
};

fn check(rule: &Rule, statement: &Statement, fx: &Effects) -> Vec<Finding> {
    if let StatementKind::ReassignOwned { roles } = &statement.kind {
        // Every table the roles own, each under ACCESS EXCLUSIVE (the catalog knows which).
        let roles = roles.join(", ");
        if fx.unknown {
            return vec![
                rule.finding(None, format!("REASSIGN OWNED BY {roles} gives every table they own a new owner"))
            ];
        }
        return fx
            .locks
            .iter()
            .filter(|l| l.kind == RelKind::Table)
            .map(|l| {
                rule.finding(Some(&l.relation), format!("REASSIGN OWNED BY {roles} gives {} a new owner", l.relation))
            })
            .collect();
    }
    rule.per_action(statement, |table, action| {
        matches!(action, AlterTableAction::Table(TableSubcommand::Owner)).then(|| format!("{table} changes owner"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{alter, run};

    #[test]
    fn fires() {
        assert_eq!(run(&RULE, &alter("t", AlterTableAction::Table(TableSubcommand::Owner))).len(), 1);
    }

    #[test]
    fn reassign_owned_is_one_finding_offline() {
        let reassign = Statement::new("REASSIGN OWNED", StatementKind::ReassignOwned { roles: vec!["app".into()] });
        let findings = run(&RULE, &reassign);
        assert_eq!(findings.len(), 1);
        assert!(findings[0].message.contains("every table"), "{findings:?}");
    }
}
