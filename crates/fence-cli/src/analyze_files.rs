//! `fence analyze FILE... [--format text|json|github|sarif] [--max-risk LEVEL] [--pg-version N]`:
//! the same analysis as `fence.analyze()`, without a database, for the PostgreSQL version
//! assumed. Each file is one transaction (as `psql -1` and most migration tools run it),
//! following its own BEGIN / COMMIT.

use std::process::ExitCode;

use fence_core::analysis::{Analysis, Analyzer, DEFAULT_PG_VERSION};
use fence_core::canonical::statement_hash;
use fence_core::catalog::OfflineCatalog;
use fence_core::model::{AlterTableAction, ObjectKind, ReindexTarget, StatementKind, Volatility};
use fence_core::risk::Risk;
use serde_json::{json, Value};

use crate::inputs::Input;
use crate::parse::{parse, Parsed};
use crate::scan::DEFAULTS;

/// One analyzed statement of a file.
pub struct Row {
    pub file: String,
    pub stmt_no: usize,
    pub line: usize,
    pub text: String,
    pub statement_hash: String,
    pub analysis: Analysis,
    /// Where the missing catalog could change the verdict.
    pub offline_note: Option<&'static str>,
    /// Syntax the assumed PostgreSQL version refuses: (the version it needs, what).
    pub needs: Option<(u32, &'static str)>,
    /// The PostgreSQL major version assumed.
    pub pg_version: u32,
}

/// The PostgreSQL major versions fence knows (and builds for).
pub const PG_VERSIONS: std::ops::RangeInclusive<u32> = 15..=18;

/// Why a statement's verdict could differ with the catalog at hand.
fn offline_note(parsed: &Parsed) -> Option<&'static str> {
    let actions: Vec<&AlterTableAction> = parsed.statement.alter_actions().map(|(_, a)| a).collect();
    if actions.iter().any(|a| matches!(a, AlterTableAction::SetExpression { .. })) {
        return Some("offline: a virtual generated column's (PostgreSQL 18) new expression rewrites nothing; only the server can tell which kind the column is");
    }
    if actions.iter().any(|a| matches!(a, AlterTableAction::SetEnforced { .. })) {
        return Some("offline: the referenced table is unknown here; the server also reports its lock");
    }
    if actions.iter().any(|a| matches!(a, AlterTableAction::AlterColumnType { .. })) {
        return Some("offline: a binary-coercible type change (varchar(n) to a longer varchar, varchar to text) does not rewrite; only the server can tell");
    }
    let index_actions = match &parsed.statement.kind {
        StatementKind::AlterIndex { actions, .. } => actions.as_slice(),
        _ => &[],
    };
    let moves = |a: &&AlterTableAction| {
        matches!(a, AlterTableAction::SetTablespace { .. } | AlterTableAction::SetAccessMethod { .. })
    };
    if actions.iter().any(moves) || index_actions.iter().any(|a| moves(&a)) {
        return Some("offline: a relation already in that tablespace (or of that access method) is not copied; only the server can tell");
    }
    let index_only = matches!(
        parsed.statement.kind,
        StatementKind::Drop { kind: ObjectKind::Index, .. }
            | StatementKind::Reindex { target: ReindexTarget::Index, .. }
    );
    if index_only {
        return Some("offline: the index's table is unknown here; the server also reports the lock on the table");
    }
    if matches!(parsed.statement.kind, StatementKind::AlterDomain { validates: true, .. }) {
        return Some("offline: the tables using the domain are unknown here; the server locks (SHARE) and scans each, and rates them");
    }
    let unknown_default =
        actions.iter().any(|a| matches!(a, AlterTableAction::AddColumn(c) if c.default == Some(Volatility::Unknown)));
    if unknown_default {
        return Some("offline: the default's volatility is unknown here (fence.analyze asks the server)");
    }
    if matches!(parsed.statement.kind, StatementKind::AlterTable { .. } | StatementKind::CreateIndex { .. }) {
        return Some("offline: table sizes are unknown; on a large table the server rates this higher");
    }
    None
}

/// Analyzes one file's SQL for PostgreSQL 15 (the default `--pg-version`).
pub fn analyze_sql(file: &str, sql: &str) -> Result<Vec<Row>, String> {
    analyze_sql_for(file, sql, DEFAULT_PG_VERSION)
}

/// Analyzes one file's SQL for a server of PostgreSQL `pg_version`.
pub fn analyze_sql_for(file: &str, sql: &str, pg_version: u32) -> Result<Vec<Row>, String> {
    let parsed = parse(sql).map_err(|e| format!("{file}: {e}"))?;
    let mut analyzer = Analyzer::new(&OfflineCatalog).on_pg_version(pg_version);
    Ok(parsed
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let text = sql[p.start..p.end].trim().to_string();
            Row {
                file: file.to_string(),
                stmt_no: i + 1,
                line: sql[..p.start].matches('\n').count() + 1 + leading_newlines(&sql[p.start..p.end]),
                statement_hash: statement_hash(&DEFAULTS, &text).unwrap_or_default(),
                analysis: analyzer.analyze(&p.statement),
                offline_note: offline_note(p),
                needs: p.since.filter(|(needs, _)| *needs > pg_version),
                pg_version,
                text,
            }
        })
        .collect())
}

fn leading_newlines(text: &str) -> usize {
    text[..text.len() - text.trim_start().len()].matches('\n').count()
}

fn rules(row: &Row) -> String {
    row.analysis.findings.iter().filter(|f| f.risk > Risk::None).map(|f| f.rule).collect::<Vec<_>>().join(",")
}

fn json_row(row: &Row) -> Value {
    json!({
        "file": row.file,
        "stmt_no": row.stmt_no,
        "line": row.line,
        "statement": row.text,
        "statement_hash": row.statement_hash,
        "command_tag": row.analysis.tag,
        "relation": row.analysis.relation,
        "lock_mode": row.analysis.lock_mode.map(|m| m.pg_name()),
        "rewrites": row.analysis.rewrites,
        "scans": row.analysis.scans,
        "risk": row.analysis.risk.as_str(),
        "locks": row.analysis.locks.iter().map(|l| json!({"relation": l.relation, "mode": l.mode.pg_name()})).collect::<Vec<_>>(),
        "findings": row.analysis.findings.iter().map(|f| json!({"rule": f.rule, "risk": f.risk.as_str(), "message": f.message, "safe_rewrite": f.safe_rewrite})).collect::<Vec<_>>(),
        "offline_note": row.offline_note,
        "pg_version": row.pg_version,
        "needs_pg_version": row.needs.map(|(version, _)| version),
    })
}

fn text_report(rows: &[Row]) -> String {
    let mut out = String::new();
    for row in rows {
        let lock = row.analysis.lock_mode.map_or("-", |m| m.pg_name());
        let flags = [(row.analysis.rewrites, "rewrite"), (row.analysis.scans, "scan")]
            .iter()
            .filter(|(on, _)| *on)
            .map(|(_, f)| *f)
            .collect::<Vec<_>>()
            .join("+");
        out.push_str(&format!(
            "{}:{}  {:<8} {:<14} {:<24} {:<26} {}\n",
            row.file,
            row.line,
            row.analysis.risk.as_str(),
            row.analysis.tag,
            row.analysis.relation.as_deref().unwrap_or("-"),
            format!("{lock} {flags}").trim(),
            rules(row)
        ));
        for finding in row.analysis.findings.iter().filter(|f| f.risk > Risk::None) {
            out.push_str(&format!(
                "    {} ({}): {}\n      safe rewrite: {}\n",
                finding.rule, finding.risk, finding.message, finding.safe_rewrite
            ));
        }
        if let Some(needs) = needs_message(row) {
            out.push_str(&format!("    error: {needs}\n"));
        }
        if let (Some(note), true) = (row.offline_note, row.analysis.risk > Risk::None) {
            out.push_str(&format!("    note: {note}\n"));
        }
    }
    out
}

/// What a statement needs that the assumed PostgreSQL lacks.
fn needs_message(row: &Row) -> Option<String> {
    let (version, what) = row.needs?;
    Some(format!("{what} needs PostgreSQL {version} or later (assumed: --pg-version {})", row.pg_version))
}

fn github_report(rows: &[Row]) -> String {
    let needs = rows.iter().filter_map(|r| {
        let message = needs_message(r)?;
        Some(format!("::error file={},line={},title=fence: newer PostgreSQL syntax::{message}\n", r.file, r.line))
    });
    let risks = rows.iter().filter(|r| r.analysis.risk > Risk::None).map(|r| {
        let level = if r.analysis.risk >= Risk::High { "error" } else { "warning" };
        let messages: Vec<String> = r
            .analysis
            .findings
            .iter()
            .filter(|f| f.risk > Risk::None)
            .map(|f| format!("{} ({}): {}", f.rule, f.risk, f.message))
            .collect();
        format!(
            "::{level} file={},line={},title=fence {} risk::{}\n",
            r.file,
            r.line,
            r.analysis.risk,
            messages.join(" | ").replace('\n', " ")
        )
    });
    needs.chain(risks).collect()
}

fn sarif_report(rows: &[Row]) -> Value {
    let results: Vec<Value> = rows
        .iter()
        .flat_map(|r| {
            r.analysis.findings.iter().filter(|f| f.risk > Risk::None).map(move |f| {
                json!({
                    "ruleId": f.rule,
                    "level": if f.risk >= Risk::High { "error" } else if f.risk >= Risk::Medium { "warning" } else { "note" },
                    "message": {"text": format!("{} Safe rewrite: {}", f.message, f.safe_rewrite)},
                    "locations": [{"physicalLocation": {"artifactLocation": {"uri": r.file}, "region": {"startLine": r.line}}}],
                })
            })
        })
        .chain(rows.iter().filter_map(|r| {
            Some(json!({
                "ruleId": "pg_version",
                "level": "error",
                "message": {"text": needs_message(r)?},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": r.file}, "region": {"startLine": r.line}}}],
            }))
        }))
        .collect();
    let rules: Vec<Value> = fence_core::rules::ALL
        .iter()
        .map(|rule| json!({"id": rule.id, "shortDescription": {"text": rule.summary}, "help": {"text": rule.safe_rewrite}}))
        .collect();
    json!({
        "version": "2.1.0",
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "runs": [{
            "tool": {"driver": {"name": "fence", "rules": rules}},
            "results": results,
            "properties": {"pgVersion": rows.first().map_or(DEFAULT_PG_VERSION, |r| r.pg_version)},
        }],
    })
}

pub fn run(inputs: &[Input], format: &str, max_risk: Option<Risk>, pg_version: u32) -> Result<ExitCode, String> {
    if !PG_VERSIONS.contains(&pg_version) {
        let versions = format!("{} to {}", PG_VERSIONS.start(), PG_VERSIONS.end());
        return Err(format!("--pg-version {pg_version}: fence knows PostgreSQL {versions}"));
    }
    let mut rows = Vec::new();
    for input in inputs {
        rows.extend(analyze_sql_for(&input.name, &input.sql, pg_version)?);
    }
    // The verdict is known before the report is printed: a reader that stops early (| head)
    // still gets it as the exit status.
    let newer = rows.iter().filter(|r| r.needs.is_some()).count();
    let highest = rows.iter().map(|r| r.analysis.risk).max().unwrap_or_default();
    let fails = newer > 0 || max_risk.is_some_and(|max| highest > max);
    crate::exit_on_closed_pipe(if fails { 1 } else { 0 });
    match format {
        "text" => {
            print!("{}", text_report(&rows));
            println!("(offline analysis for PostgreSQL {pg_version} (--pg-version): no catalog, so table sizes, existing indexes and binary-coercible type changes are unknown; the notes say where that could change the verdict)");
        }
        "json" => println!(
            "{}",
            serde_json::to_string_pretty(&rows.iter().map(json_row).collect::<Vec<_>>()).unwrap_or_default()
        ),
        "github" => print!("{}", github_report(&rows)),
        "sarif" => println!("{}", serde_json::to_string_pretty(&sarif_report(&rows)).unwrap_or_default()),
        other => return Err(format!("unknown format \"{other}\" (text, json, github, sarif)")),
    }
    if newer > 0 {
        eprintln!("fence: {newer} statement(s) use syntax PostgreSQL {pg_version} refuses (--pg-version)");
        return Ok(ExitCode::from(1));
    }
    Ok(match max_risk {
        Some(max) if highest > max => {
            eprintln!("fence: highest risk {highest} is above --max-risk {max}");
            ExitCode::from(1)
        }
        _ => ExitCode::SUCCESS,
    })
}
