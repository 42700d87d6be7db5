//! Analysis of SQL text against this database's catalog (what `fence.analyze()` returns and
//! what an approval records), and the JSON form of an analysis shared with the gate's events.

use fence_core::analysis::{Analysis, Analyzer};
use pgrx::JsonB;
use serde_json::{json, Value};

use crate::catalog::LiveCatalog;
use fence_core::model::StatementKind;

use crate::ffi::{compat, parser, parsetree, querytree, security};
use crate::sqltext;

/// JSON of an analysis' locks, shared by the audit details and `fence.analyze`.
pub fn locks_json(analysis: &Analysis) -> Value {
    analysis
        .locks
        .iter()
        .map(|l| match &l.through {
            None => json!({"relation": l.relation, "mode": l.mode.pg_name()}),
            Some(through) => json!({"relation": l.relation, "mode": l.mode.pg_name(), "through": through}),
        })
        .collect()
}

/// JSON of an analysis' findings, shared by the audit details and `fence.analyze`.
pub fn findings_json(analysis: &Analysis) -> Value {
    analysis
        .findings
        .iter()
        .map(|f| json!({"rule": f.rule, "risk": f.risk.as_str(), "message": f.message, "safe_rewrite": f.safe_rewrite}))
        .collect()
}

/// One statement of analyzed text: a row of `fence.analyze()`.
pub type AnalyzedStatement =
    (i32, String, String, Option<String>, Option<String>, bool, bool, String, JsonB, JsonB, String, Option<JsonB>);

/// How `analyze_text` goes beyond the statements' text and the catalog.
pub struct Looks<'a> {
    /// The planner's estimate of a data step's rows (`fence.analyze(..., estimate => true)`;
    /// never for an approval, which must not plan the author's statements in the approver's
    /// session).
    pub estimate: bool,
    /// What else to show of each analysis (the lock queue, when asked).
    pub extra: &'a dyn Fn(&Analysis) -> Option<Value>,
}

/// Every statement of `sql`, analyzed as one script (later statements see what earlier ones
/// create), with its canonical text and statement hash.
pub fn analyze_text(sql: &str, looks: Looks) -> Vec<AnalyzedStatement> {
    let catalog = LiveCatalog;
    let mut analyzer =
        Analyzer::new(&catalog).with_lock_timeout(security::timeouts_ms().0).on_pg_version(compat::MAJOR);
    parser::parse(sql)
        .into_iter()
        .enumerate()
        .map(|(i, raw)| {
            let slice = &sql[raw.start..raw.end];
            let first = sqltext::try_canonical(slice).and_then(|c| c.statements.into_iter().next());
            let (text, hash) = first.map_or((slice.trim().to_string(), String::new()), |s| (s.text, s.hash));
            let mut statement = parsetree::statement(raw.node);
            // A data step of the migration: how many rows the planner expects it to write.
            if let StatementKind::Data(data) = &mut statement.kind {
                if looks.estimate && !data.deferred && data.action.is_some() {
                    data.estimate = querytree::estimate(raw.node, sql);
                }
            }
            let analysis = analyzer.analyze(&statement);
            (
                i as i32 + 1,
                text,
                analysis.tag.clone(),
                analysis.relation.clone(),
                analysis.lock_mode.map(|m| m.pg_name().to_string()),
                analysis.rewrites,
                analysis.scans,
                analysis.risk.to_string(),
                JsonB(locks_json(&analysis)),
                JsonB(findings_json(&analysis)),
                hash,
                (looks.extra)(&analysis).map(JsonB),
            )
        })
        .collect()
}
