//! BCP 47 language tags: validation and the "a lookup for `zh` matches `zh-CN`" rule.
//!
//! Tags are stored as the client or the file gave them (`zh-CN`, `En-uS`); every comparison
//! is case-insensitive and by whole subtags, so `zh` matches `zh-CN` and `zh-Hant-TW` but not
//! `zha`.

use language_tags::LanguageTag;

/// Why a language tag was refused.
#[derive(Debug, thiserror::Error)]
pub enum LangError {
    #[error("empty language tag")]
    Empty,
    #[error("`{tag}` is not a well-formed BCP 47 language tag: {reason}")]
    Malformed { tag: String, reason: String },
    #[error("`{tag}` is not a known BCP 47 language tag: {reason}")]
    Unknown { tag: String, reason: String },
}

/// Checks that `tag` is a well-formed BCP 47 tag whose subtags are in the IANA registry.
pub fn validate(tag: &str) -> Result<(), LangError> {
    let trimmed = tag.trim();
    if trimmed.is_empty() {
        return Err(LangError::Empty);
    }
    let parsed = LanguageTag::parse(trimmed).map_err(|error| LangError::Malformed {
        tag: tag.to_owned(),
        reason: error.to_string(),
    })?;
    parsed.validate().map_err(|error| LangError::Unknown {
        tag: tag.to_owned(),
        reason: error.to_string(),
    })
}

/// The primary language subtag, lowercased: `zh` for `zh-Hans-CN`. Index terms are keyed by
/// it so that all variants of one language share an analyzer and a posting space.
pub fn primary_subtag(tag: &str) -> String {
    tag.trim()
        .split(['-', '_'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// Every prefix of the tag by whole subtags, lowercased: `zh-Hans-CN` gives `zh`, `zh-hans`,
/// `zh-hans-cn`. A unit is indexed under all of them, so a lookup can filter on the tag it
/// was given, however specific.
pub fn tag_prefixes(tag: &str) -> Vec<String> {
    let lower = tag.trim().to_ascii_lowercase().replace('_', "-");
    let mut prefixes = Vec::new();
    let mut current = String::new();
    for subtag in lower.split('-') {
        if !current.is_empty() {
            current.push('-');
        }
        current.push_str(subtag);
        prefixes.push(current.clone());
    }
    prefixes
}

/// Does the stored tag fall under the requested one? `zh` matches `zh-CN`; `zh-CN` matches
/// `zh-cn` but not `zh-TW` nor plain `zh`.
pub fn matches(requested: &str, stored: &str) -> bool {
    let requested = requested.trim().to_ascii_lowercase().replace('_', "-");
    let stored = stored.trim().to_ascii_lowercase().replace('_', "-");
    stored == requested
        || (stored.starts_with(&requested) && stored.as_bytes().get(requested.len()) == Some(&b'-'))
}

/// Do two tags name compatible languages, either way round? A glossary term tagged `en`
/// serves a request for `en-GB`, and one tagged `en-GB` serves a request for `en`.
pub fn compatible(left: &str, right: &str) -> bool {
    matches(left, right) || matches(right, left)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requested_tag_matches_more_specific_stored_tags() {
        assert!(matches("zh", "zh-CN"));
        assert!(matches("ZH-cn", "zh-CN"));
        assert!(matches("en", "En-uS"));
        assert!(!matches("zh-CN", "zh-TW"));
        assert!(!matches("zh-CN", "zh"));
        assert!(!matches("zh", "zha"));
    }

    #[test]
    fn validation_accepts_real_tags_and_names_bad_ones() {
        for good in ["zh", "zh-CN", "en-GB", "zh-Hant-TW", "fr", "En-uS"] {
            validate(good).unwrap_or_else(|error| panic!("{good}: {error}"));
        }
        for bad in ["", "english", "zz-ZZ-1", "e", "zh CN"] {
            assert!(validate(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn prefixes_cover_every_subtag_boundary() {
        assert_eq!(tag_prefixes("zh-Hans-CN"), ["zh", "zh-hans", "zh-hans-cn"]);
        assert_eq!(primary_subtag("En-uS"), "en");
    }
}
