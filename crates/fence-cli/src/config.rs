//! `fence.toml`: the settings a repository keeps for `fence analyze`, found in the working
//! directory or the nearest one above it (or named with `--config`). A flag given on the
//! command line wins over the file; the file over the defaults.
//!
//! ```toml
//! pg_version = 16                  # the server's PostgreSQL major version (15-18)
//! max_risk = "medium"              # exit 1 above this risk
//! format = "github"                # text, json, github, sarif, gitlab
//! exclude_rules = ["runs_code"]    # rules whose findings are left out
//! assume_in_transaction = true     # each file runs inside one transaction block
//! ```

use std::path::{Path, PathBuf};

use fence_core::ignore::is_rule;
use fence_core::risk::Risk;
use serde::Deserialize;

/// The file's name.
pub const FILE_NAME: &str = "fence.toml";

/// The settings as the file writes them.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub pg_version: Option<u32>,
    pub max_risk: Option<String>,
    pub format: Option<String>,
    #[serde(default)]
    pub exclude_rules: Vec<String>,
    pub assume_in_transaction: Option<bool>,
    /// Where it was read from (None: no file).
    #[serde(skip)]
    pub path: Option<PathBuf>,
}

impl Config {
    /// The file named by `--config`, else the nearest `fence.toml` from `start` upward, else
    /// no settings.
    pub fn load(explicit: Option<&Path>, start: &Path) -> Result<Config, String> {
        let path = match explicit {
            Some(path) => Some(path.to_path_buf()),
            None => start.ancestors().map(|dir| dir.join(FILE_NAME)).find(|p| p.is_file()),
        };
        let Some(path) = path else { return Ok(Config::default()) };
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut config: Config = toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        config.check().map_err(|e| format!("{}: {e}", path.display()))?;
        config.path = Some(path);
        Ok(config)
    }

    fn check(&self) -> Result<(), String> {
        if let Some(unknown) = self.exclude_rules.iter().find(|r| !is_rule(r)) {
            return Err(format!("exclude_rules: unknown rule \"{unknown}\" (the rules: docs/rules/)"));
        }
        if let Some(risk) = &self.max_risk {
            risk.parse::<Risk>().map_err(|e| format!("max_risk: {e}"))?;
        }
        Ok(())
    }

    /// `max_risk`, read (checked when loaded).
    pub fn max_risk(&self) -> Option<Risk> {
        self.max_risk.as_deref().and_then(|r| r.parse().ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("fence-config-{name}-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("a/b")).unwrap();
        dir
    }

    #[test]
    fn found_upward_and_read() {
        let root = dir("upward");
        std::fs::write(
            root.join(FILE_NAME),
            "pg_version = 17\nmax_risk = \"medium\"\nexclude_rules = [\"runs_code\"]\n",
        )
        .unwrap();
        let config = Config::load(None, &root.join("a/b")).unwrap();
        assert_eq!(config.pg_version, Some(17));
        assert_eq!(config.max_risk(), Some(Risk::Medium));
        assert_eq!(config.exclude_rules, ["runs_code"]);
        assert_eq!(config.path.as_deref(), Some(root.join(FILE_NAME).as_path()));
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn mistakes_are_errors() {
        let root = dir("mistakes");
        let file = root.join(FILE_NAME);
        for (text, error) in [
            ("pg_versoin = 16", "unknown field `pg_versoin`"),
            ("exclude_rules = [\"no_such_rule\"]", "unknown rule \"no_such_rule\""),
            ("max_risk = \"severe\"", "max_risk"),
            ("pg_version = \"sixteen\"", "invalid type"),
        ] {
            std::fs::write(&file, text).unwrap();
            let got = Config::load(Some(&file), &root).unwrap_err();
            assert!(got.contains(error) && got.contains(FILE_NAME), "{text}: {got}");
        }
        std::fs::remove_dir_all(root).unwrap();
    }
}
