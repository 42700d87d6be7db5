//! `fence hash FILE...`

use std::process::ExitCode;

use fence_core::canonical::canonicalize;

use crate::scan::DEFAULTS;

/// The content hash of a migration's text, or the scanner's or grammar's error.
pub fn content_hash(sql: &str) -> Result<String, String> {
    canonicalize(&DEFAULTS, sql).map(|c| c.content_hash).map_err(|e| e.to_string())
}

pub fn run(files: &[String]) -> Result<ExitCode, String> {
    let mut all = String::new();
    for file in files {
        let text = std::fs::read_to_string(file).map_err(|e| format!("{file}: {e}"))?;
        println!("{}  {file}", content_hash(&text).map_err(|e| format!("{file}: {e}"))?);
        all.push_str(&text);
        all.push('\n');
    }
    if files.len() > 1 {
        println!("{}  (all {} files, in this order)", content_hash(&all)?, files.len());
    }
    Ok(ExitCode::SUCCESS)
}
