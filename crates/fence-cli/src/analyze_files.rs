//! `fence analyze FILE... [--format text|json|github|sarif|gitlab] [--max-risk LEVEL]
//! [--pg-version N] [--assume-in-transaction] [--config FILE] [--db CONNINFO]`: the same
//! analysis as `fence.analyze()`, without a database, for the PostgreSQL version assumed (or,
//! with `--db`, by the server's fence.analyze()). The transaction-level rules see each file as
//! one transaction, following its own BEGIN / COMMIT. Inline `-- fence:ignore` comments and
//! fence.toml's excluded rules apply to both.

use std::path::PathBuf;
use std::process::ExitCode;

use fence_core::analysis::{Analysis, Analyzer, DEFAULT_PG_VERSION};
use fence_core::canonical::statement_hash;
use fence_core::catalog::OfflineCatalog;
use fence_core::hash::sha256_tagged;
use fence_core::ignore;
use fence_core::model::{AlterTableAction, ObjectKind, ReindexTarget, StatementKind, Volatility};
use fence_core::risk::Risk;
use fence_core::rules::Transaction;
use serde_json::{json, Value};

use crate::config::Config;
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
    /// The PostgreSQL major version assumed (or the server's).
    pub pg_version: u32,
}

/// What the command line gave (None: not given).
pub struct Flags {
    pub format: Option<String>,
    pub max_risk: Option<Risk>,
    pub pg_version: Option<u32>,
    pub assume_in_transaction: Option<bool>,
    pub config: Option<PathBuf>,
    pub db: Option<String>,
    pub color: bool,
}

/// How `fence analyze` runs: each setting from its flag, else fence.toml, else the default.
pub struct Settings {
    pub format: String,
    pub max_risk: Option<Risk>,
    pub pg_version: u32,
    pub assume_in_transaction: bool,
    pub exclude_rules: Vec<String>,
    pub db: Option<String>,
    pub color: bool,
    /// The fence.toml read, if any.
    pub config: Option<PathBuf>,
}

impl Settings {
    pub fn resolve(flags: Flags) -> Result<Settings, String> {
        let cwd = std::env::current_dir().map_err(|e| format!("working directory: {e}"))?;
        let config = Config::load(flags.config.as_deref(), &cwd)?;
        let settings = Settings {
            format: flags.format.or(config.format.clone()).unwrap_or_else(|| "text".into()),
            max_risk: flags.max_risk.or(config.max_risk()),
            pg_version: flags.pg_version.or(config.pg_version).unwrap_or(DEFAULT_PG_VERSION),
            assume_in_transaction: flags.assume_in_transaction.or(config.assume_in_transaction).unwrap_or(false),
            exclude_rules: config.exclude_rules,
            db: flags.db,
            color: flags.color,
            config: config.path,
        };
        if !FORMATS.contains(&settings.format.as_str()) {
            return Err(format!("unknown format \"{}\" ({})", settings.format, FORMATS.join(", ")));
        }
        if !PG_VERSIONS.contains(&settings.pg_version) {
            let versions = format!("{} to {}", PG_VERSIONS.start(), PG_VERSIONS.end());
            return Err(format!("--pg-version {}: fence knows PostgreSQL {versions}", settings.pg_version));
        }
        Ok(settings)
    }

    /// The defaults (no flag, no file) for PostgreSQL `pg_version`.
    pub fn offline(pg_version: u32) -> Settings {
        Settings {
            format: "text".into(),
            max_risk: None,
            pg_version,
            assume_in_transaction: false,
            exclude_rules: Vec::new(),
            db: None,
            color: false,
            config: None,
        }
    }
}

/// The output formats.
pub const FORMATS: [&str; 5] = ["text", "json", "github", "sarif", "gitlab"];

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
    analyze_sql_with(file, sql, &Settings::offline(DEFAULT_PG_VERSION))
}

/// Analyzes one file's SQL for a server of PostgreSQL `pg_version`.
pub fn analyze_sql_for(file: &str, sql: &str, pg_version: u32) -> Result<Vec<Row>, String> {
    analyze_sql_with(file, sql, &Settings::offline(pg_version))
}

/// Analyzes one file's SQL offline as `settings` say: its version, transaction block,
/// excluded rules, and the file's inline ignores.
pub fn analyze_sql_with(file: &str, sql: &str, settings: &Settings) -> Result<Vec<Row>, String> {
    let parsed = parse(sql).map_err(|e| format!("{file}: {e}"))?;
    let transaction = Transaction { explicit: settings.assume_in_transaction, ..Transaction::default() };
    let mut analyzer = Analyzer::in_transaction(&OfflineCatalog, transaction).on_pg_version(settings.pg_version);
    let ranges: Vec<(usize, usize)> = parsed.iter().map(|p| (p.start, p.end)).collect();
    let mut rows = Vec::new();
    for (i, p) in parsed.iter().enumerate() {
        let text = sql[p.start..p.end].trim().to_string();
        let mut row = Row {
            file: file.to_string(),
            stmt_no: i + 1,
            line: line_of(sql, p.start),
            statement_hash: statement_hash(&DEFAULTS, &text).unwrap_or_default(),
            analysis: analyzer.analyze(&p.statement),
            offline_note: offline_note(p),
            needs: p.since.filter(|(needs, _)| *needs > settings.pg_version),
            pg_version: settings.pg_version,
            text,
        };
        settle_statement(&mut row, sql, &ranges, settings)?;
        rows.push(row);
    }
    Ok(rows)
}

/// The line of the statement starting at `start` (its first token's, past leading newlines).
pub fn line_of(sql: &str, start: usize) -> usize {
    sql[..start].matches('\n').count() + 1 + leading_newlines(&sql[start..])
}

/// Applies fence.toml's excluded rules and the statement's inline ignores to a row.
pub fn settle_statement(
    row: &mut Row,
    sql: &str,
    ranges: &[(usize, usize)],
    settings: &Settings,
) -> Result<(), String> {
    ignore::exclude(&mut row.analysis, &settings.exclude_rules);
    let (start, end) = ignore_region(sql, ranges, row.stmt_no - 1);
    let ignores = ignore::ignores(&DEFAULTS, &sql[start..end])
        .map_err(|e| format!("{}:{}: {e}", row.file, line_of(sql, start)))?;
    ignore::apply(&mut row.analysis, &ignores);
    Ok(())
}

/// Where a statement's `-- fence:ignore` comments may stand: from the line after the previous
/// statement's end (or the file's start) to the end of the statement's own last line — the
/// lines above it, inside it, and after its `;` on that line.
fn ignore_region(sql: &str, ranges: &[(usize, usize)], i: usize) -> (usize, usize) {
    let line_end = |at: usize| sql[at..].find('\n').map_or(sql.len(), |n| at + n);
    let start = if i == 0 { 0 } else { (line_end(ranges[i - 1].1) + 1).min(sql.len()) };
    (start.min(ranges[i].0), line_end(ranges[i].1).max(ranges[i].1))
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
        "ignored": row.analysis.ignored.iter().map(|i| json!({"rule": i.finding.rule, "risk": i.finding.risk.as_str(), "message": i.finding.message, "reason": i.reason})).collect::<Vec<_>>(),
        "offline_note": row.offline_note,
        "pg_version": row.pg_version,
        "needs_pg_version": row.needs.map(|(version, _)| version),
    })
}

/// A risk as the text format prints it: padded, in colour when asked (ANSI: high and
/// critical red, medium yellow, low cyan).
fn risk_cell(risk: Risk, color: bool) -> String {
    let cell = format!("{:<8}", risk.as_str());
    let code = match risk {
        Risk::Critical | Risk::High => "31",
        Risk::Medium => "33",
        Risk::Low => "36",
        Risk::None => return cell,
    };
    if color {
        format!("\x1b[{code}m{cell}\x1b[0m")
    } else {
        cell
    }
}

fn text_report(rows: &[Row], color: bool) -> String {
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
            "{}:{}  {} {:<14} {:<24} {:<26} {}\n",
            row.file,
            row.line,
            risk_cell(row.analysis.risk, color),
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
        for ignored in row.analysis.ignored.iter().filter(|i| i.finding.risk > Risk::None) {
            out.push_str(&format!(
                "    ignored {} ({}): {}\n      reason: {}\n",
                ignored.finding.rule, ignored.finding.risk, ignored.finding.message, ignored.reason
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

/// SARIF's level of a risk.
fn sarif_level(risk: Risk) -> &'static str {
    match risk {
        Risk::High | Risk::Critical => "error",
        Risk::Medium => "warning",
        _ => "note",
    }
}

fn sarif_location(r: &Row) -> Value {
    json!([{"physicalLocation": {"artifactLocation": {"uri": r.file}, "region": {"startLine": r.line}}}])
}

fn sarif_report(rows: &[Row], source: &str) -> Value {
    let results: Vec<Value> = rows
        .iter()
        .flat_map(|r| {
            let found = r.analysis.findings.iter().filter(|f| f.risk > Risk::None).map(move |f| {
                json!({
                    "ruleId": f.rule,
                    "level": sarif_level(f.risk),
                    "message": {"text": format!("{} Safe rewrite: {}", f.message, f.safe_rewrite)},
                    "locations": sarif_location(r),
                })
            });
            // An inline ignore is SARIF's in-source suppression, with its reason.
            let ignored = r.analysis.ignored.iter().filter(|i| i.finding.risk > Risk::None).map(move |i| {
                json!({
                    "ruleId": i.finding.rule,
                    "level": sarif_level(i.finding.risk),
                    "message": {"text": format!("{} Safe rewrite: {}", i.finding.message, i.finding.safe_rewrite)},
                    "locations": sarif_location(r),
                    "suppressions": [{"kind": "inSource", "justification": i.reason}],
                })
            });
            found.chain(ignored)
        })
        .chain(rows.iter().filter_map(|r| {
            Some(json!({
                "ruleId": "pg_version",
                "level": "error",
                "message": {"text": needs_message(r)?},
                "locations": sarif_location(r),
            }))
        }))
        .collect();
    let rules: Vec<Value> = fence_core::rules::ALL
        .iter()
        .map(|rule| json!({"id": rule.id, "shortDescription": {"text": rule.summary}, "help": {"text": rule.safe_rewrite}}))
        .chain(std::iter::once(json!({"id": "pg_version", "shortDescription": {"text": "syntax the server's PostgreSQL version refuses"}})))
        .collect();
    json!({
        "version": "2.1.0",
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "runs": [{
            "tool": {"driver": {"name": "fence", "version": env!("CARGO_PKG_VERSION"), "informationUri": "https://github.com/fence-pg/fence", "rules": rules}},
            "results": results,
            "properties": {"pgVersion": rows.first().map_or(DEFAULT_PG_VERSION, |r| r.pg_version), "analyzedBy": source},
        }],
    })
}

/// GitLab's code-quality report (a CodeClimate subset): one issue per finding, fingerprinted
/// by file, rule and statement hash (stable when lines move).
fn gitlab_report(rows: &[Row]) -> Value {
    let severity = |risk: Risk| match risk {
        Risk::Critical => "blocker",
        Risk::High => "critical",
        Risk::Medium => "major",
        _ => "minor",
    };
    let issue = |r: &Row, rule: &str, severity: &str, description: String| {
        let fingerprint =
            sha256_tagged(&[r.file.as_bytes(), b"\0", rule.as_bytes(), b"\0", r.statement_hash.as_bytes()]);
        json!({
            "description": description,
            "check_name": rule,
            "fingerprint": fingerprint.trim_start_matches(fence_core::hash::PREFIX),
            "severity": severity,
            "location": {"path": r.file, "lines": {"begin": r.line}},
        })
    };
    let issues: Vec<Value> = rows
        .iter()
        .flat_map(|r| {
            r.analysis.findings.iter().filter(|f| f.risk > Risk::None).map(move |f| {
                issue(
                    r,
                    f.rule,
                    severity(f.risk),
                    format!("fence {} ({}): {} Safe rewrite: {}", f.rule, f.risk, f.message, f.safe_rewrite),
                )
            })
        })
        .chain(rows.iter().filter_map(|r| Some(issue(r, "pg_version", "blocker", needs_message(r)?))))
        .collect();
    Value::Array(issues)
}

pub fn run(inputs: &[Input], settings: &Settings) -> Result<ExitCode, String> {
    let (rows, source) = match &settings.db {
        Some(conninfo) => crate::live::analyze(inputs, conninfo, settings)?,
        None => (offline(inputs, settings)?, Source::Offline),
    };
    let pg_version = rows.first().map_or(settings.pg_version, |r| r.pg_version);
    // The verdict is known before the report is printed: a reader that stops early (| head)
    // still gets it as the exit status.
    let newer = rows.iter().filter(|r| r.needs.is_some()).count();
    let highest = rows.iter().map(|r| r.analysis.risk).max().unwrap_or_default();
    let fails = newer > 0 || settings.max_risk.is_some_and(|max| highest > max);
    crate::exit_on_closed_pipe(if fails { 1 } else { 0 });
    match settings.format.as_str() {
        "text" => {
            print!("{}", text_report(&rows, settings.color));
            println!("({})", source.describe(pg_version, settings));
        }
        "json" => println!(
            "{}",
            serde_json::to_string_pretty(&rows.iter().map(json_row).collect::<Vec<_>>()).unwrap_or_default()
        ),
        "github" => print!("{}", github_report(&rows)),
        "sarif" => {
            println!("{}", serde_json::to_string_pretty(&sarif_report(&rows, source.name())).unwrap_or_default())
        }
        "gitlab" => println!("{}", serde_json::to_string_pretty(&gitlab_report(&rows)).unwrap_or_default()),
        other => return Err(format!("unknown format \"{other}\" ({})", FORMATS.join(", "))),
    }
    if newer > 0 {
        eprintln!("fence: {newer} statement(s) use syntax PostgreSQL {pg_version} refuses (--pg-version)");
        return Ok(ExitCode::from(1));
    }
    Ok(match settings.max_risk {
        Some(max) if highest > max => {
            eprintln!("fence: highest risk {highest} is above --max-risk {max}");
            ExitCode::from(1)
        }
        _ => ExitCode::SUCCESS,
    })
}

/// Every input analyzed offline.
pub fn offline(inputs: &[Input], settings: &Settings) -> Result<Vec<Row>, String> {
    let mut rows = Vec::new();
    for input in inputs {
        rows.extend(analyze_sql_with(&input.name, &input.sql, settings)?);
    }
    Ok(rows)
}

/// Who analyzed the statements.
pub enum Source {
    Offline,
    /// A server's fence.analyze(): its address as given (password left out) and version.
    Server {
        server: String,
        version: String,
    },
}

impl Source {
    fn name(&self) -> &'static str {
        match self {
            Source::Offline => "offline",
            Source::Server { .. } => "server",
        }
    }

    fn describe(&self, pg_version: u32, settings: &Settings) -> String {
        let config = settings.config.as_ref().map(|p| format!("; settings: {}", p.display())).unwrap_or_default();
        match self {
            Source::Offline => format!("offline analysis for PostgreSQL {pg_version} (--pg-version): no catalog, so table sizes, existing indexes and binary-coercible type changes are unknown; the notes say where that could change the verdict{config}"),
            Source::Server { server, version } => format!("server-analyzed by fence.analyze() on {server} (PostgreSQL {pg_version}, fence {version}): real sizes, indexes and types; nothing was run{config}"),
        }
    }
}
