//! `fence hash FILE|DIR|-...`

use std::process::ExitCode;

use fence_core::canonical::canonicalize;

use crate::inputs::Input;
use crate::scan::DEFAULTS;

/// The content hash of a migration's text, or the scanner's or grammar's error.
pub fn content_hash(sql: &str) -> Result<String, String> {
    canonicalize(&DEFAULTS, sql).map(|c| c.content_hash).map_err(|e| e.to_string())
}

pub fn run(inputs: &[Input]) -> Result<ExitCode, String> {
    let mut all = String::new();
    for Input { name, sql } in inputs {
        println!("{}  {name}", content_hash(sql).map_err(|e| format!("{name}: {e}"))?);
        all.push_str(sql);
        all.push('\n');
    }
    if inputs.len() > 1 {
        println!("{}  (all {} files, in this order)", content_hash(&all)?, inputs.len());
    }
    Ok(ExitCode::SUCCESS)
}
