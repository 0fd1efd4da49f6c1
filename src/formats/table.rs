//! CSV and TSV tables with a header row (RFC 4180 quoting), mapped to units by column role.
//!
//! The roles of the columns come from `columns` (`source,target,author,document`, in file
//! order; `-` skips a column) or, without it, from the header row's names. Every row must have
//! as many fields as the header; a row that does not, or a file that is not UTF-8, rejects the
//! whole file with its line. A row with an empty source or target is skipped and reported.

use std::io::Read;

use super::{pair_problem, FormatError, ImportOptions, Parsed, Skipped};
use crate::tm::Status;

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnRole {
    Source,
    Target,
    Author,
    Document,
    Collection,
    Status,
    Ignore,
}

impl ColumnRole {
    pub fn parse(name: &str) -> Option<ColumnRole> {
        Some(match name.trim().to_ascii_lowercase().as_str() {
            "source" => ColumnRole::Source,
            "target" => ColumnRole::Target,
            "author" => ColumnRole::Author,
            "document" => ColumnRole::Document,
            "collection" => ColumnRole::Collection,
            "status" => ColumnRole::Status,
            "-" | "skip" | "ignore" => ColumnRole::Ignore,
            _ => return None,
        })
    }
}

pub const ROLE_NAMES: &str = "source, target, author, document, collection, status, - (skip)";

/// Parses a `columns` list; the error names the first unknown role.
pub fn parse_columns(list: &str) -> Result<Vec<ColumnRole>, String> {
    let roles = list
        .split(',')
        .map(|name| {
            ColumnRole::parse(name)
                .ok_or_else(|| format!("`{}` is not a column role ({ROLE_NAMES})", name.trim()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    for required in [ColumnRole::Source, ColumnRole::Target] {
        if !roles.contains(&required) {
            return Err(format!("names no {required:?} column").to_lowercase());
        }
    }
    Ok(roles)
}

pub fn read<R: Read>(
    input: R,
    delimiter: u8,
    columns: Option<Vec<ColumnRole>>,
    options: &ImportOptions,
) -> Result<Parsed, FormatError> {
    read_into(input, delimiter, columns, options, Parsed::default())
}

/// [`read`], delivering units through `parsed` (which may stream them into an import).
pub fn read_into<R: Read>(
    input: R,
    delimiter: u8,
    columns: Option<Vec<ColumnRole>>,
    options: &ImportOptions,
    mut parsed: Parsed,
) -> Result<Parsed, FormatError> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(true)
        .flexible(false)
        .from_reader(input);
    let syntax = |error: csv::Error| {
        let (line, message) = match error.kind() {
            csv::ErrorKind::UnequalLengths {
                pos,
                expected_len,
                len,
            } => (
                pos.as_ref().map_or(0, |pos| pos.line()),
                format!("expected {expected_len} fields as in the header row, found {len}"),
            ),
            csv::ErrorKind::Utf8 { pos, .. } => (
                pos.as_ref().map_or(0, |pos| pos.line()),
                "the file is not valid UTF-8".to_owned(),
            ),
            _ => (
                error.position().map_or(0, |pos| pos.line()),
                error.to_string(),
            ),
        };
        FormatError::Syntax {
            line,
            column: 1,
            message,
        }
    };
    let header = reader.headers().map_err(syntax)?.clone();
    let roles = match columns {
        Some(roles) => {
            if roles.len() != header.len() {
                return Err(FormatError::Syntax {
                    line: 1,
                    column: 1,
                    message: format!(
                        "`columns` names {} columns but the header row has {}",
                        roles.len(),
                        header.len()
                    ),
                });
            }
            roles
        }
        None => {
            let names: Vec<&str> = header
                .iter()
                .map(|name| name.trim_start_matches('\u{feff}'))
                .collect();
            let mut roles = Vec::with_capacity(names.len());
            for (index, name) in names.iter().enumerate() {
                roles.push(ColumnRole::parse(name).ok_or_else(|| FormatError::Syntax {
                    line: 1,
                    column: index as u64 + 1,
                    message: format!(
                        "the header names an unknown column `{name}` (known: {ROLE_NAMES}); \
                         or give `columns`"
                    ),
                })?);
            }
            parse_columns(&names.join(",")).map_err(|message| FormatError::Syntax {
                line: 1,
                column: 1,
                message: format!("the header row {message}"),
            })?;
            roles
        }
    };
    for record in reader.records() {
        let record = record.map_err(syntax)?;
        let line = record.position().map_or(0, |pos| pos.line());
        let field = |role: ColumnRole| -> Option<&str> {
            roles
                .iter()
                .position(|candidate| *candidate == role)
                .and_then(|index| record.get(index))
        };
        let source = field(ColumnRole::Source).unwrap_or_default();
        let target = field(ColumnRole::Target).unwrap_or_default();
        if let Some(message) = pair_problem(source, target, options.max_text_chars) {
            parsed.skipped.push(Skipped {
                at: format!("line {line}"),
                message,
            });
            continue;
        }
        let mut unit = options.pair(source, target);
        let non_empty = |value: Option<&str>| {
            value
                .map(str::trim)
                .filter(|value| !value.is_empty())
                .map(str::to_owned)
        };
        if let Some(author) = non_empty(field(ColumnRole::Author)) {
            unit.author = Some(author);
        }
        unit.document = non_empty(field(ColumnRole::Document));
        if let Some(collection) = non_empty(field(ColumnRole::Collection)) {
            unit.collection = collection;
        }
        match non_empty(field(ColumnRole::Status)).as_deref() {
            None => {}
            Some("approved") => unit.status = Status::Approved,
            Some("draft") => unit.status = Status::Draft,
            Some(other) => {
                parsed.skipped.push(Skipped {
                    at: format!("line {line}"),
                    message: format!("status `{other}` is not approved or draft"),
                });
                continue;
            }
        }
        parsed.push(unit)?;
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> ImportOptions {
        ImportOptions::for_tests(100)
    }

    #[test]
    fn quoted_fields_and_header_roles() {
        let input = "target,source,document\n\"Hello, \"\"world\"\"\",你好，世界,doc-1\n\"Two\nlines\",两行,\n";
        let parsed = read(input.as_bytes(), b',', None, &options()).unwrap();
        assert_eq!(parsed.units.len(), 2);
        assert_eq!(parsed.units[0].variants[0].text, "你好，世界");
        assert_eq!(parsed.units[0].variants[1].text, "Hello, \"world\"");
        assert_eq!(parsed.units[0].document.as_deref(), Some("doc-1"));
        assert_eq!(parsed.units[1].variants[1].text, "Two\nlines");
    }

    #[test]
    fn a_short_row_names_its_line() {
        let input = "source\ttarget\n甲\tA\n乙\n";
        let columns = parse_columns("source,target").unwrap();
        let error = read(input.as_bytes(), b'\t', Some(columns), &options()).unwrap_err();
        assert!(
            matches!(error, FormatError::Syntax { line: 3, .. }),
            "{error}"
        );
    }

    #[test]
    fn unknown_roles_are_named() {
        assert!(parse_columns("source,target,colour")
            .unwrap_err()
            .contains("colour"));
        assert!(parse_columns("source,author")
            .unwrap_err()
            .contains("target"));
    }
}
