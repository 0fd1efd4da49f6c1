//! Who may do what: API keys, their roles, and collections restricted to named keys.
//!
//! The configuration never holds a key, only its SHA-256. A key is 256 random bits, so unlike
//! a password there is nothing to guess from its hash and a slow password hash would buy
//! nothing but latency on every request.
//!
//! With no key configured the server is open: every request may do everything. That is meant
//! for one translator on their own machine, so the server refuses to start open on anything
//! but a loopback address (see `server::serve`).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What a key may do. Each role may do everything the roles before it may.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Deserialize,
    Serialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Lookup, concordance, recognition, QA, export.
    Reader,
    /// Reader, and add and edit their own segments, propose terms.
    Translator,
    /// Translator, and create, edit, approve and reject glossary entries, import termbases.
    Terminologist,
    /// Everything: bulk import, deletion, key listing.
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [
        Role::Reader,
        Role::Translator,
        Role::Terminologist,
        Role::Admin,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Role::Reader => "reader",
            Role::Translator => "translator",
            Role::Terminologist => "terminologist",
            Role::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.name() == text)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.name())
    }
}

/// One `[[auth.keys]]` table of the configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyConfig {
    /// Who holds the key; recorded as the author of what they change.
    pub name: String,
    pub role: Role,
    /// Lowercase hex SHA-256 of the key.
    pub sha256: String,
}

/// The `[auth]` section of the configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    pub keys: Vec<KeyConfig>,
    /// Collection name → names of the keys that may see it (admins see every collection).
    pub restricted_collections: BTreeMap<String, Vec<String>>,
}

/// A configuration mistake, with the key it is about.
#[derive(Debug, thiserror::Error)]
#[error("`{key}` {problem}")]
pub struct AuthConfigError {
    pub key: String,
    pub problem: String,
}

/// Why a request was refused before it reached a handler.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("this server needs an API key: send it as `Authorization: Bearer KEY`")]
    MissingKey,
    #[error("the `Authorization` header must be `Bearer KEY`")]
    MalformedHeader,
    #[error("the API key is not known to this server")]
    UnknownKey,
    #[error("the key `{name}` has the role {role}; this needs {needed}")]
    Forbidden {
        name: String,
        role: Role,
        needed: Role,
    },
    #[error("the key `{name}` may not write to the collection `{collection}`")]
    CollectionForbidden { name: String, collection: String },
}

/// Who is making a request.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The key's name; `None` on an open server.
    pub name: Option<String>,
    pub role: Role,
    /// Restricted collections this caller may not see: their units are left out of every
    /// answer, as if they did not exist.
    pub hidden_collections: Vec<String>,
}

impl Caller {
    /// The caller of an open server: may do everything, sees everything.
    pub fn open() -> Caller {
        Caller {
            name: None,
            role: Role::Admin,
            hidden_collections: Vec::new(),
        }
    }

    pub fn require(&self, needed: Role) -> Result<(), AuthError> {
        if self.role >= needed {
            Ok(())
        } else {
            Err(AuthError::Forbidden {
                name: self.name.clone().unwrap_or_default(),
                role: self.role,
                needed,
            })
        }
    }

    pub fn has(&self, role: Role) -> bool {
        self.role >= role
    }

    pub fn may_see(&self, collection: &str) -> bool {
        !self
            .hidden_collections
            .iter()
            .any(|hidden| hidden == collection)
    }

    /// Writing into a collection needs seeing it.
    pub fn may_write_to(&self, collection: &str) -> Result<(), AuthError> {
        if self.may_see(collection) {
            Ok(())
        } else {
            Err(AuthError::CollectionForbidden {
                name: self.name.clone().unwrap_or_default(),
                collection: collection.to_owned(),
            })
        }
    }

    /// The author to record for a change: the key's name. Only an open server (one user, on
    /// their own machine) takes the name the client gives.
    pub fn author(&self, claimed: Option<String>) -> Option<String> {
        match &self.name {
            Some(name) => Some(name.clone()),
            None => claimed.filter(|name| !name.trim().is_empty()),
        }
    }
}

struct KnownKey {
    name: String,
    role: Role,
}

/// The configured keys, looked up by their hash.
pub struct Keyring {
    by_hash: HashMap<[u8; 32], KnownKey>,
    /// Collection → key names that may see it.
    restricted: BTreeMap<String, BTreeSet<String>>,
}

impl Keyring {
    pub fn from_config(config: &AuthConfig) -> Result<Keyring, AuthConfigError> {
        let invalid = |key: String, problem: String| AuthConfigError { key, problem };
        let mut by_hash = HashMap::new();
        let mut names = BTreeSet::new();
        for (index, key) in config.keys.iter().enumerate() {
            let at = |field: &str| format!("auth.keys[{index}].{field}");
            let name = key.name.trim();
            if name.is_empty() || name.len() > 100 || name.chars().any(char::is_control) {
                return Err(invalid(
                    at("name"),
                    "must be 1 to 100 characters without control characters".into(),
                ));
            }
            if !names.insert(name.to_owned()) {
                return Err(invalid(at("name"), format!("repeats the name `{name}`")));
            }
            let hash = parse_hash(&key.sha256).ok_or_else(|| {
                invalid(
                    at("sha256"),
                    "must be 64 hexadecimal digits (the SHA-256 of the key)".into(),
                )
            })?;
            let known = KnownKey {
                name: name.to_owned(),
                role: key.role,
            };
            if by_hash.insert(hash, known).is_some() {
                return Err(invalid(at("sha256"), "repeats another key's hash".into()));
            }
        }
        let mut restricted = BTreeMap::new();
        for (collection, allowed) in &config.restricted_collections {
            let mut allowed_names = BTreeSet::new();
            for name in allowed {
                if !names.contains(name.trim()) {
                    return Err(invalid(
                        format!("auth.restricted_collections.{collection}"),
                        format!("names `{name}`, which is not a configured key"),
                    ));
                }
                allowed_names.insert(name.trim().to_owned());
            }
            restricted.insert(collection.clone(), allowed_names);
        }
        Ok(Keyring {
            by_hash,
            restricted,
        })
    }

    /// No key configured: every request may do everything.
    pub fn is_open(&self) -> bool {
        self.by_hash.is_empty()
    }

    /// The caller presenting `authorization` (the `Authorization` header, if any).
    pub fn authenticate(&self, authorization: Option<&str>) -> Result<Caller, AuthError> {
        if self.is_open() {
            return Ok(Caller::open());
        }
        let header = authorization.ok_or(AuthError::MissingKey)?;
        let (scheme, key) = header
            .trim()
            .split_once(' ')
            .ok_or(AuthError::MalformedHeader)?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(AuthError::MalformedHeader);
        }
        let known = self
            .by_hash
            .get(&hash_of(key.trim()))
            .ok_or(AuthError::UnknownKey)?;
        let hidden_collections = if known.role == Role::Admin {
            Vec::new()
        } else {
            self.restricted
                .iter()
                .filter(|(_, allowed)| !allowed.contains(&known.name))
                .map(|(collection, _)| collection.clone())
                .collect()
        };
        Ok(Caller {
            name: Some(known.name.clone()),
            role: known.role,
            hidden_collections,
        })
    }

    /// The configured keys' names and roles, by name.
    pub fn list(&self) -> Vec<(String, Role)> {
        let mut keys: Vec<(String, Role)> = self
            .by_hash
            .values()
            .map(|key| (key.name.clone(), key.role))
            .collect();
        keys.sort();
        keys
    }

    /// The restricted collections and who may see them.
    pub fn restricted(&self) -> &BTreeMap<String, BTreeSet<String>> {
        &self.restricted
    }
}

fn hash_of(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

fn parse_hash(hex: &str) -> Option<[u8; 32]> {
    let hex = hex.trim();
    if hex.len() != 64 || !hex.is_ascii() {
        return None;
    }
    let mut hash = [0u8; 32];
    for (index, byte) in hash.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[index * 2..index * 2 + 2], 16).ok()?;
    }
    Some(hash)
}

/// Lowercase hex SHA-256 of a key: what the configuration stores.
pub fn key_hash_hex(key: &str) -> String {
    hash_of(key)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// A new key: `attache_` and 256 random bits in hex.
pub fn generate_key() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    let hex: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
    Ok(format!("attache_{hex}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keyring() -> (Keyring, String, String) {
        let admin = generate_key().unwrap();
        let reader = generate_key().unwrap();
        let config = AuthConfig {
            keys: vec![
                KeyConfig {
                    name: "ops".into(),
                    role: Role::Admin,
                    sha256: key_hash_hex(&admin),
                },
                KeyConfig {
                    name: "li".into(),
                    role: Role::Reader,
                    sha256: key_hash_hex(&reader).to_uppercase(),
                },
            ],
            restricted_collections: [("drafts".to_owned(), vec!["ops".to_owned()])].into(),
        };
        (Keyring::from_config(&config).unwrap(), admin, reader)
    }

    #[test]
    fn keys_are_recognised_by_their_hash_only() {
        let (keyring, admin, reader) = keyring();
        let caller = keyring
            .authenticate(Some(&format!("Bearer {reader}")))
            .unwrap();
        assert_eq!(caller.name.as_deref(), Some("li"));
        assert_eq!(caller.role, Role::Reader);
        assert_eq!(caller.hidden_collections, vec!["drafts".to_owned()]);
        let caller = keyring
            .authenticate(Some(&format!("bearer {admin}")))
            .unwrap();
        assert!(caller.hidden_collections.is_empty());
        assert_eq!(
            keyring.authenticate(Some("Bearer attache_00")).unwrap_err(),
            AuthError::UnknownKey
        );
        assert_eq!(
            keyring.authenticate(None).unwrap_err(),
            AuthError::MissingKey
        );
        assert_eq!(
            keyring
                .authenticate(Some(&format!("Basic {admin}")))
                .unwrap_err(),
            AuthError::MalformedHeader
        );
    }

    #[test]
    fn roles_include_the_roles_below_them() {
        let caller = Caller {
            name: Some("t".into()),
            role: Role::Terminologist,
            hidden_collections: Vec::new(),
        };
        assert!(caller.require(Role::Reader).is_ok());
        assert!(caller.require(Role::Translator).is_ok());
        assert!(caller.require(Role::Terminologist).is_ok());
        assert!(caller.require(Role::Admin).is_err());
    }

    #[test]
    fn a_restriction_naming_an_unknown_key_is_refused() {
        let config = AuthConfig {
            keys: Vec::new(),
            restricted_collections: [("drafts".to_owned(), vec!["nobody".to_owned()])].into(),
        };
        let error = Keyring::from_config(&config).err().unwrap().to_string();
        assert!(
            error.contains("auth.restricted_collections.drafts"),
            "{error}"
        );
        assert!(error.contains("nobody"), "{error}");
    }

    #[test]
    fn generated_keys_differ_and_hash_to_64_hex_digits() {
        let first = generate_key().unwrap();
        assert_ne!(first, generate_key().unwrap());
        assert_eq!(key_hash_hex(&first).len(), 64);
        assert!(parse_hash(&key_hash_hex(&first)).is_some());
    }
}
