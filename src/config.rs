//! Configuration: `config.toml`, embedded in the binary as the defaults.
//!
//! A file given with `--config` must hold every key; unknown keys are refused. Both mistakes
//! are reported with the key's name (and the line, from the TOML parser), because a server
//! silently running on a default its operator thought they had changed is worse than one that
//! does not start.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::auth::{AuthConfig, Keyring, Role};

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
    pub auth: AuthConfig,
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
    /// 0: no limit.
    pub requests_per_key_per_second: u32,
    pub body_idle_seconds: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LookupDefaults {
    pub min_score: u8,
    pub limit: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read or write the config file {}: {source}", path.display())]
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
            ("limits.body_idle_seconds", self.limits.body_idle_seconds),
        ] {
            if value == 0 {
                return Err(invalid(key, "must be at least 1"));
            }
        }
        Keyring::from_config(&self.auth).map_err(|error| ConfigError::Invalid {
            origin: origin.to_owned(),
            message: error.to_string(),
        })?;
        Ok(())
    }
}

/// Adds `[[auth.keys]]` for a new key to the config file at `path`, keeping its comments and
/// layout. The file is checked as a whole before it replaces the old one, so a mistake never
/// leaves a config the server would refuse.
pub fn add_key_to_file(
    path: &Path,
    name: &str,
    role: Role,
    sha256: &str,
) -> Result<(), ConfigError> {
    edit_keys(path, |keys| {
        if keys
            .iter()
            .any(|key| key.get("name").and_then(|value| value.as_str()) == Some(name))
        {
            return Err(format!("a key named `{name}` is already configured"));
        }
        let mut table = toml_edit::Table::new();
        table.insert("name", toml_edit::value(name));
        table.insert("role", toml_edit::value(role.name()));
        table.insert("sha256", toml_edit::value(sha256));
        keys.push(table);
        Ok(())
    })
}

/// Removes the key named `name` from the config file at `path`.
pub fn remove_key_from_file(path: &Path, name: &str) -> Result<(), ConfigError> {
    edit_keys(path, |keys| {
        let before = keys.len();
        keys.retain(|key| key.get("name").and_then(|value| value.as_str()) != Some(name));
        if keys.len() == before {
            return Err(format!("no key named `{name}` is configured"));
        }
        Ok(())
    })
}

fn edit_keys(
    path: &Path,
    change: impl FnOnce(&mut toml_edit::ArrayOfTables) -> Result<(), String>,
) -> Result<(), ConfigError> {
    let origin = path.display().to_string();
    let invalid = |message: String| ConfigError::Invalid {
        origin: origin.clone(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    // The file must be valid before it is changed too: never build on a broken config.
    Config::parse(&text, &origin)?;
    let mut document: toml_edit::DocumentMut = text
        .parse()
        .map_err(|error: toml_edit::TomlError| invalid(error.to_string()))?;
    let auth = document["auth"]
        .as_table_mut()
        .ok_or_else(|| invalid("`auth` must be a table ([auth])".into()))?;
    // `keys = []` (the shipped form) becomes an array of tables on the first key.
    let mut keys = match auth.remove("keys") {
        Some(toml_edit::Item::ArrayOfTables(keys)) => keys,
        Some(toml_edit::Item::Value(toml_edit::Value::Array(array))) if array.is_empty() => {
            toml_edit::ArrayOfTables::new()
        }
        Some(_) => {
            return Err(invalid(
                "`auth.keys` must be [[auth.keys]] tables to be edited here".into(),
            ))
        }
        None => toml_edit::ArrayOfTables::new(),
    };
    change(&mut keys).map_err(invalid)?;
    if keys.is_empty() {
        auth.insert("keys", toml_edit::value(toml_edit::Array::new()));
    } else {
        auth.insert("keys", toml_edit::Item::ArrayOfTables(keys));
    }
    let changed = document.to_string();
    Config::parse(&changed, &origin)?;
    let directory = path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty());
    let write = || -> std::io::Result<()> {
        let mut temporary = tempfile::NamedTempFile::new_in(directory.unwrap_or(Path::new(".")))?;
        std::io::Write::write_all(&mut temporary, changed.as_bytes())?;
        temporary.as_file().sync_all()?;
        temporary.persist(path).map_err(|error| error.error)?;
        Ok(())
    };
    write().map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })
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
    fn keys_are_added_to_and_removed_from_a_config_file_keeping_its_comments() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, EMBEDDED_DEFAULTS).unwrap();
        let hash = "ab".repeat(32);
        add_key_to_file(&path, "li.wei", Role::Translator, &hash).unwrap();
        add_key_to_file(&path, "ops", Role::Admin, &"cd".repeat(32)).unwrap();
        let error = add_key_to_file(&path, "ops", Role::Admin, &"ef".repeat(32)).unwrap_err();
        assert!(error.to_string().contains("already configured"), "{error}");
        let config = Config::load(&path).unwrap();
        assert_eq!(config.auth.keys.len(), 2);
        assert_eq!(config.auth.keys[0].name, "li.wei");
        assert_eq!(config.auth.keys[0].role, Role::Translator);
        assert_eq!(config.auth.keys[0].sha256, hash);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.contains("# Address the HTTP API listens on."),
            "{text}"
        );
        remove_key_from_file(&path, "li.wei").unwrap();
        remove_key_from_file(&path, "ops").unwrap();
        assert!(Config::load(&path).unwrap().auth.keys.is_empty());
        assert!(remove_key_from_file(&path, "ops").is_err());
    }

    #[test]
    fn a_malformed_value_is_named() {
        let text = EMBEDDED_DEFAULTS.replace("\"127.0.0.1:8080\"", "\"not an address\"");
        let error = Config::parse(&text, "test.toml").unwrap_err().to_string();
        assert!(error.contains("listen"), "{error}");
    }
}
