//! Inline ignores: `-- fence:ignore <rule>[,<rule>...] <reason>` in a migration, as linters
//! allow. In the CLI an ignore leaves the rule's findings on that statement out of its risk
//! (they are still printed, with the reason). In the server it is a claim the decision records
//! beside the analysis: an ignore is not an exemption, and the gate still decides.
//!
//! Only a real `--` comment counts: one inside a string, a quoted identifier, a dollar-quoted
//! body or a block comment is text, decided by PostgreSQL's own scanner (the text before the
//! `--` must scan to its end).

use crate::analysis::Analysis;
use crate::canonical::SqlReader;
use crate::risk::Risk;
use crate::rules::{Finding, ALL};

/// The marker that starts an ignore (after `--` and optional spaces).
const MARKER: &str = "fence:ignore";

/// One `-- fence:ignore` comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ignore {
    pub rules: Vec<String>,
    pub reason: String,
}

/// A finding an ignore left out of the statement's risk, with the ignore's reason.
#[derive(Debug, Clone, PartialEq)]
pub struct Ignored {
    pub finding: Finding,
    pub reason: String,
}

/// The ignores in `text`, in order. A malformed one (no rule, an unknown rule, no reason) is
/// an error naming it: an ignore that silently does nothing would be worse.
pub fn ignores(reader: &impl SqlReader, text: &str) -> Result<Vec<Ignore>, String> {
    let mut out = Vec::new();
    for (at, _) in text.match_indices("--") {
        let comment = text[at + 2..].split(['\n', '\r']).next().unwrap_or_default();
        let Some(body) = comment.trim_start().strip_prefix(MARKER) else { continue };
        // `--` inside a token or a block comment: the text before it does not scan.
        if reader.scan(&text[..at]).is_err() {
            continue;
        }
        out.push(parse(body.trim()).map_err(|e| format!("-- {MARKER} {}: {e}", body.trim()))?);
    }
    Ok(out)
}

/// `<rule>[,<rule>...] <reason>`.
fn parse(body: &str) -> Result<Ignore, String> {
    let (rules, reason) = body.split_once(char::is_whitespace).unwrap_or((body, ""));
    let rules: Vec<String> = rules.split(',').map(str::trim).filter(|r| !r.is_empty()).map(String::from).collect();
    if rules.is_empty() {
        return Err(format!("name the rule to ignore (-- {MARKER} <rule> <reason>)"));
    }
    if let Some(unknown) = rules.iter().find(|r| !ALL.iter().any(|rule| rule.id == r.as_str())) {
        return Err(format!("unknown rule \"{unknown}\" (the rules: docs/rules/)"));
    }
    let reason = reason.trim();
    if reason.is_empty() {
        return Err("give the reason (-- fence:ignore <rule> <reason>): it is kept with the finding".into());
    }
    Ok(Ignore { rules, reason: reason.to_string() })
}

/// Leaves out of `analysis`'s risk the findings of the rules `ignores` name (kept in
/// `ignored`, each with its ignore's reason); the risk is that of the findings left.
pub fn apply(analysis: &mut Analysis, ignores: &[Ignore]) {
    let reason_for = |rule: &str| ignores.iter().find(|i| i.rules.iter().any(|r| r == rule)).map(|i| &i.reason);
    let (ignored, kept): (Vec<Finding>, Vec<Finding>) =
        analysis.findings.drain(..).partition(|f| reason_for(f.rule).is_some());
    analysis.ignored.extend(
        ignored
            .into_iter()
            .map(|finding| Ignored { reason: reason_for(finding.rule).cloned().unwrap_or_default(), finding }),
    );
    analysis.findings = kept;
    analysis.risk = analysis.findings.iter().map(|f| f.risk).max().unwrap_or(Risk::None);
}

/// Drops the findings of `rules` (a configuration's excluded rules) from `analysis`; the risk
/// is that of the findings left.
pub fn exclude(analysis: &mut Analysis, rules: &[String]) {
    analysis.findings.retain(|f| !rules.iter().any(|r| r == f.rule));
    analysis.risk = analysis.findings.iter().map(|f| f.risk).max().unwrap_or(Risk::None);
}

/// Whether `id` names a rule.
pub fn is_rule(id: &str) -> bool {
    ALL.iter().any(|rule| rule.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::canonical::{ScanToken, SqlError};
    use std::ops::Range;

    /// A scanner that knows single-quoted strings and block comments only (enough here).
    struct Quotes;

    impl SqlReader for Quotes {
        fn scan(&self, text: &str) -> Result<Vec<ScanToken>, SqlError> {
            let open = text.matches('\'').count() % 2 == 1 || text.matches("/*").count() > text.matches("*/").count();
            if open {
                Err(SqlError { message: "unterminated".into() })
            } else {
                Ok(Vec::new())
            }
        }
        fn statements(&self, _: &str) -> Result<Vec<Range<usize>>, SqlError> {
            Ok(Vec::new())
        }
    }

    #[test]
    fn reads_rules_and_reason() {
        let got =
            ignores(&Quotes, "-- fence:ignore create_index,set_not_null the table is empty\nALTER TABLE t").unwrap();
        assert_eq!(
            got,
            vec![Ignore {
                rules: vec!["create_index".into(), "set_not_null".into()],
                reason: "the table is empty".into()
            }]
        );
        assert!(
            ignores(&Quotes, "--fence:ignore create_index  empty on every install ").unwrap()[0].reason
                == "empty on every install"
        );
    }

    #[test]
    fn only_real_comments() {
        assert!(ignores(&Quotes, "SELECT '-- fence:ignore create_index x'").unwrap().is_empty());
        assert!(ignores(&Quotes, "/* -- fence:ignore create_index x */ SELECT 1").unwrap().is_empty());
        assert!(ignores(&Quotes, "-- not fence:ignore create_index x").unwrap().is_empty());
    }

    #[test]
    fn malformed_ones_are_errors() {
        assert!(ignores(&Quotes, "-- fence:ignore").unwrap_err().contains("name the rule"));
        assert!(ignores(&Quotes, "-- fence:ignore no_such_rule because")
            .unwrap_err()
            .contains("unknown rule \"no_such_rule\""));
        assert!(ignores(&Quotes, "-- fence:ignore create_index").unwrap_err().contains("give the reason"));
    }
}
