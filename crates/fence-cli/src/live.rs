//! `fence analyze --db CONNINFO`: the files analyzed by the server's own `fence.analyze()`,
//! against its catalog (real sizes, indexes, types, the binary-coercible type changes only the
//! server can tell), printed in the same formats. Nothing runs: each file is analyzed in a
//! READ ONLY transaction that is rolled back, without the planner's estimate or a lock-queue
//! look. A server without fence is said so, and the offline analysis stands in.
//!
//! The file is still parsed here (pg_query): for the line of each statement and the region its
//! inline `-- fence:ignore` comments may stand in. fence.toml's excluded rules and the inline
//! ignores apply as offline.

use std::str::FromStr;

use fence_core::analysis::{Analysis, LockReport};
use fence_core::lock::LockMode;
use fence_core::risk::Risk;
use fence_core::rules::{Finding, ALL};
use postgres::{Client, Config, NoTls};
use serde_json::Value;

use crate::analyze_files::{offline, settle_statement, Row, Settings, Source};
use crate::inputs::Input;
use crate::parse::parse;

/// The analysis of every input by the server, or offline when it has no fence.
pub fn analyze(inputs: &[Input], conninfo: &str, settings: &Settings) -> Result<(Vec<Row>, Source), String> {
    let config = Config::from_str(conninfo).map_err(|e| format!("--db: {e}"))?;
    let server = describe(&config);
    let mut client = config.connect(NoTls).map_err(|e| format!("--db {server}: {e}"))?;
    let fence_version: Option<String> = client
        .query_opt("SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'fence'", &[])
        .map_err(|e| format!("--db {server}: {e}"))?
        .map(|row| row.get(0));
    let Some(version) = fence_version else {
        eprintln!("fence: {server} has no fence extension (CREATE EXTENSION fence): offline analysis instead");
        return Ok((offline(inputs, settings)?, Source::Offline));
    };
    let major: i32 = client
        .query_one("SELECT current_setting('server_version_num')::int / 10000", &[])
        .map_err(|e| format!("--db {server}: {e}"))?
        .get(0);
    let mut rows = Vec::new();
    for input in inputs {
        rows.extend(
            analyze_file(&mut client, input, major as u32, settings).map_err(|e| format!("{}: {e}", input.name))?,
        );
    }
    Ok((rows, Source::Server { server, version }))
}

/// The host, port and database a configuration names (never its password).
fn describe(config: &Config) -> String {
    let host = match config.get_hosts().first() {
        Some(postgres::config::Host::Tcp(host)) => host.clone(),
        Some(postgres::config::Host::Unix(path)) => path.display().to_string(),
        None => "localhost".into(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!("{host}:{port}/{}", config.get_dbname().unwrap_or(config.get_user().unwrap_or_default()))
}

/// One file, by the server: a READ ONLY transaction, rolled back.
fn analyze_file(client: &mut Client, input: &Input, major: u32, settings: &Settings) -> Result<Vec<Row>, String> {
    let parsed = parse(&input.sql)?;
    let mut transaction = client.transaction().map_err(|e| e.to_string())?;
    transaction.batch_execute("SET TRANSACTION READ ONLY").map_err(|e| e.to_string())?;
    let analyzed = transaction
        .query(
            "SELECT stmt_no, statement, command_tag, relation, lock_mode, rewrites, scans, risk, \
             locks::text, findings::text, statement_hash FROM fence.analyze($1) ORDER BY stmt_no",
            &[&input.sql],
        )
        .map_err(|e| server_error(&e))?;
    transaction.rollback().map_err(|e| e.to_string())?;
    if analyzed.len() != parsed.len() {
        return Err(format!(
            "the server read {} statements, pg_query {}: lines and inline ignores cannot be matched",
            analyzed.len(),
            parsed.len()
        ));
    }
    let ranges: Vec<(usize, usize)> = parsed.iter().map(|p| (p.start, p.end)).collect();
    let mut rows = Vec::new();
    for (i, row) in analyzed.iter().enumerate() {
        let analysis = Analysis {
            tag: row.get(2),
            relation: row.get(3),
            lock_mode: row.get::<_, Option<String>>(4).as_deref().and_then(LockMode::from_pg_name),
            locks: locks(&row.get::<_, String>(8)),
            rewrites: row.get(5),
            scans: row.get(6),
            risk: row.get::<_, String>(7).parse().unwrap_or(Risk::Critical),
            findings: findings(&row.get::<_, String>(9)),
            ..Analysis::default()
        };
        let mut row = Row {
            file: input.name.clone(),
            stmt_no: i + 1,
            line: crate::analyze_files::line_of(&input.sql, ranges[i].0),
            text: row.get(1),
            statement_hash: row.get(10),
            analysis,
            offline_note: None,
            needs: None,
            pg_version: major,
        };
        settle_statement(&mut row, &input.sql, &ranges, settings)?;
        rows.push(row);
    }
    Ok(rows)
}

/// A server error as psql would show it: message, detail, hint.
fn server_error(error: &postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => {
            let mut out = format!("{}: {}", db.severity(), db.message());
            if let Some(detail) = db.detail() {
                out.push_str(&format!("\nDETAIL: {detail}"));
            }
            if let Some(hint) = db.hint() {
                out.push_str(&format!("\nHINT: {hint}"));
            }
            out
        }
        None => error.to_string(),
    }
}

fn locks(json: &str) -> Vec<LockReport> {
    let value: Value = serde_json::from_str(json).unwrap_or_default();
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|lock| {
            Some(LockReport {
                relation: lock["relation"].as_str()?.to_string(),
                mode: LockMode::from_pg_name(lock["mode"].as_str()?)?,
                through: lock["through"].as_str().map(String::from),
            })
        })
        .collect()
}

/// The server's findings; a rule this CLI does not know (a newer server's) keeps its name.
fn findings(json: &str) -> Vec<Finding> {
    let value: Value = serde_json::from_str(json).unwrap_or_default();
    value
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            let text = |key: &str| f[key].as_str().unwrap_or_default().to_string();
            Finding {
                rule: static_text(&text("rule"), ALL.iter().map(|r| r.id)),
                risk: text("risk").parse().unwrap_or(Risk::Critical),
                message: text("message"),
                safe_rewrite: static_text(&text("safe_rewrite"), ALL.iter().flat_map(|r| rule_rewrites(r))),
                relation: None,
            }
        })
        .collect()
}

/// Every safe rewrite a rule can give.
fn rule_rewrites(rule: &fence_core::rules::Rule) -> impl Iterator<Item = &'static str> {
    std::iter::once(rule.safe_rewrite).chain(rule.since.iter().map(|(_, recipe)| *recipe))
}

/// The known text equal to `text`, or `text` kept for the rest of the run (a short-lived
/// command: a newer server's rule is stored once).
fn static_text(text: &str, known: impl IntoIterator<Item = &'static str>) -> &'static str {
    known.into_iter().find(|k| *k == text).unwrap_or_else(|| Box::leak(text.to_string().into_boxed_str()))
}
