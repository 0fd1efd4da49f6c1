//! Configuration: `config.toml`, embedded in the binary as the defaults.
//!
//! A file given with `--config` must hold every key; unknown keys are refused. Both mistakes
//! are reported with the key's name (and the line, from the TOML parser), because a server
//! silently running on a default its operator thought they had changed is worse than one that
//! does not start.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The repository's `config.toml`, compiled in.
pub const EMBEDDED_DEFAULTS: &str = include_str!("../config.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    pub storage: StorageConfig,
    pub termbase: TermbaseConfig,
    pub limits: Limits,
    pub lookup: LookupDefaults,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    pub listen: SocketAddr,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageConfig {
    pub dir: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TermbaseConfig {
    pub dir: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    pub json_body_bytes: usize,
    pub import_body_bytes: u64,
    pub max_text_chars: usize,
    pub max_batch: usize,
    pub max_results: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LookupDefaults {
    pub min_score: u8,
    pub limit: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the config file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid config {origin}: {message}")]
    Invalid { origin: String, message: String },
}

impl Config {
    /// The embedded defaults.
    pub fn embedded() -> Config {
        Config::parse(EMBEDDED_DEFAULTS, "(embedded defaults)")
            .expect("the embedded config.toml is valid")
    }

    /// Reads and checks a config file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Config::parse(&text, &path.display().to_string())
    }

    pub fn parse(text: &str, origin: &str) -> Result<Config, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|error| ConfigError::Invalid {
            origin: origin.to_owned(),
            message: error.to_string().trim().replace('\n', " "),
        })?;
        config.check(origin)?;
        Ok(config)
    }

    fn check(&self, origin: &str) -> Result<(), ConfigError> {
        let invalid = |key: &str, why: &str| ConfigError::Invalid {
            origin: origin.to_owned(),
            message: format!("`{key}` {why}"),
        };
        if self.lookup.min_score > 100 {
            return Err(invalid("lookup.min_score", "must be between 0 and 100"));
        }
        if self.limits.max_results == 0 {
            return Err(invalid("limits.max_results", "must be at least 1"));
        }
        if self.lookup.limit == 0 || self.lookup.limit > self.limits.max_results {
            return Err(invalid(
                "lookup.limit",
                "must be between 1 and limits.max_results",
            ));
        }
        for (key, value) in [
            ("limits.json_body_bytes", self.limits.json_body_bytes as u64),
            ("limits.import_body_bytes", self.limits.import_body_bytes),
            ("limits.max_text_chars", self.limits.max_text_chars as u64),
            ("limits.max_batch", self.limits.max_batch as u64),
        ] {
            if value == 0 {
                return Err(invalid(key, "must be at least 1"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_defaults_parse() {
        let config = Config::embedded();
        assert_eq!(config.server.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(config.storage.dir, PathBuf::from("index"));
        assert_eq!(config.limits.max_results, 100);
    }

    #[test]
    fn a_missing_key_is_named() {
        let text = EMBEDDED_DEFAULTS.replace("max_batch = 1000", "");
        let error = Config::parse(&text, "test.toml").unwrap_err().to_string();
        assert!(error.contains("max_batch"), "{error}");
    }

    #[test]
    fn an_unknown_key_is_named() {
        let text = EMBEDDED_DEFAULTS.replace("max_batch = 1000", "max_bacth = 1000");
        let error = Config::parse(&text, "test.toml").unwrap_err().to_string();
        assert!(error.contains("max_bacth"), "{error}");
    }

    #[test]
    fn a_malformed_value_is_named() {
        let text = EMBEDDED_DEFAULTS.replace("\"127.0.0.1:8080\"", "\"not an address\"");
        let error = Config::parse(&text, "test.toml").unwrap_err().to_string();
        assert!(error.contains("listen"), "{error}");
    }
}
