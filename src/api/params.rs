//! Query-string and path parameters, checked the same way on every endpoint.

use std::collections::HashMap;
use std::ops::RangeInclusive;

use super::error::ApiError;

/// Refuses a parameter the endpoint does not know: a misspelt one would otherwise be ignored
/// silently.
pub fn reject_unknown(params: &HashMap<String, String>, known: &[&str]) -> Result<(), ApiError> {
    match params.keys().find(|key| !known.contains(&key.as_str())) {
        Some(unknown) => Err(ApiError::bad_request(
            "invalid_parameter",
            format!(
                "unknown query parameter `{unknown}`; expected one of {}",
                known.join(", ")
            ),
        )),
        None => Ok(()),
    }
}

/// A number parameter within `range`, if given.
pub fn bounded<T>(
    params: &HashMap<String, String>,
    name: &str,
    range: RangeInclusive<T>,
) -> Result<Option<T>, ApiError>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display,
{
    match params.get(name) {
        None => Ok(None),
        Some(raw) => raw
            .trim()
            .parse::<T>()
            .ok()
            .filter(|value| range.contains(value))
            .map(Some)
            .ok_or_else(|| {
                ApiError::invalid_field(
                    name,
                    format!(
                        "must be a number between {} and {}, got `{raw}`",
                        range.start(),
                        range.end()
                    ),
                )
            }),
    }
}

/// A resource id from the path: a positive integer. `noun` names the resource in the error.
pub fn parse_id(raw: &str, noun: &str) -> Result<u64, ApiError> {
    raw.parse::<u64>().ok().filter(|id| *id > 0).ok_or_else(|| {
        ApiError::bad_request(
            "invalid_id",
            format!("`{raw}` is not {noun} id (a positive integer)"),
        )
    })
}
