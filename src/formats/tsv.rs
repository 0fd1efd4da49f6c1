//! Tab-separated pairs: one pair a line, source then target, UTF-8 (a BOM is allowed).
//!
//! A line that is not two columns, or not UTF-8, rejects the file with its line and column:
//! silently dropping half a file is worse than refusing it. A line whose source or target is
//! empty or too long is skipped and reported.

use std::io::BufRead;

use super::{pair_problem, FormatError, ImportOptions, Parsed, Skipped};

pub fn read<R: BufRead>(input: R, options: &ImportOptions) -> Result<Parsed, FormatError> {
    read_into(input, options, Parsed::default())
}

/// [`read`], delivering units through `parsed` (which may stream them into an import).
pub fn read_into<R: BufRead>(
    mut input: R,
    options: &ImportOptions,
    mut parsed: Parsed,
) -> Result<Parsed, FormatError> {
    let mut raw_line = Vec::new();
    let mut line_number: u64 = 0;
    loop {
        raw_line.clear();
        if input.read_until(b'\n', &mut raw_line)? == 0 {
            break;
        }
        line_number += 1;
        let mut bytes: &[u8] = &raw_line;
        if line_number == 1 {
            bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        }
        let bytes = bytes.strip_suffix(b"\n").unwrap_or(bytes);
        let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
        let line = std::str::from_utf8(bytes).map_err(|error| {
            let valid = std::str::from_utf8(&bytes[..error.valid_up_to()]).unwrap_or_default();
            FormatError::Syntax {
                line: line_number,
                column: valid.chars().count() as u64 + 1,
                message: "the file is not valid UTF-8".to_owned(),
            }
        })?;
        if line.trim().is_empty() {
            continue;
        }
        let columns: Vec<&str> = line.split('\t').collect();
        if columns.len() != 2 {
            let column = if columns.len() < 2 {
                line.chars().count() as u64 + 1
            } else {
                // Where the third column starts.
                (columns[0].chars().count() + columns[1].chars().count() + 3) as u64
            };
            return Err(FormatError::Syntax {
                line: line_number,
                column,
                message: format!(
                    "expected 2 tab-separated columns (source, target), found {}",
                    columns.len()
                ),
            });
        }
        let (source, target) = (columns[0], columns[1]);
        if let Some(message) = pair_problem(source, target, options.max_text_chars) {
            parsed.skipped.push(Skipped {
                at: format!("line {line_number}"),
                message,
            });
            continue;
        }
        parsed.push(options.pair(source, target))?;
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> ImportOptions {
        ImportOptions::for_tests(20)
    }

    #[test]
    fn reads_pairs_and_skips_empty_sides() {
        let input = "\u{feff}会议开始。\tThe meeting began.\r\n\n空\t\n";
        let parsed = read(input.as_bytes(), &options()).unwrap();
        assert_eq!(parsed.units.len(), 1);
        assert_eq!(parsed.units[0].variants[0].text, "会议开始。");
        assert_eq!(parsed.units[0].variants[1].text, "The meeting began.");
        assert_eq!(parsed.skipped.len(), 1);
        assert_eq!(parsed.skipped[0].at, "line 3");
    }

    #[test]
    fn a_line_without_a_tab_rejects_the_file_with_its_position() {
        let error = read("a\tb\nno tab here\n".as_bytes(), &options()).unwrap_err();
        let FormatError::Syntax { line, column, .. } = error else {
            panic!("expected a syntax error");
        };
        assert_eq!((line, column), (2, 12));
    }

    #[test]
    fn invalid_utf8_names_line_and_column() {
        let error = read(&b"ab\tc\nx\xff\ty\n"[..], &options()).unwrap_err();
        assert!(matches!(
            error,
            FormatError::Syntax {
                line: 2,
                column: 2,
                ..
            }
        ));
    }
}
