//! File formats translators exchange: reading them into units and writing units back.
//!
//! Readers take any `BufRead` and produce [`NewUnit`]s plus the list of what they skipped and
//! why; a syntax error anywhere rejects the whole file (nothing of it is imported) and says
//! where, as a line and column. Writers stream to any `Write`. This module knows nothing of
//! HTTP or of the index.

pub mod inline;
pub mod table;
pub mod tbx;
pub mod tmx;
pub mod tsv;
pub mod xliff;
pub mod xml;

use std::fmt;

use crate::tm::{NewUnit, Origin, Status};

/// The formats the import and export endpoints accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One pair a line, source TAB target, no header (or, with `columns`, a TSV table).
    Tsv,
    /// A CSV table with a header row.
    Csv,
    Tmx,
    /// XLIFF 1.2 or 2.0.
    Xliff,
}

impl Format {
    pub fn parse(name: &str) -> Option<Format> {
        match name.to_ascii_lowercase().as_str() {
            "tsv" => Some(Format::Tsv),
            "csv" => Some(Format::Csv),
            "xliff" | "xlf" => Some(Format::Xliff),
            "tmx" => Some(Format::Tmx),
            _ => None,
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            Format::Tsv => "tsv",
            Format::Csv => "csv",
            Format::Xliff => "xliff",
            Format::Tmx => "tmx",
        })
    }
}

/// Reads a file of pairs in `format`. `columns` gives the column roles of a CSV or TSV table
/// (a TSV without it is the plain `source<TAB>target` format); `states` the XLIFF target states
/// to import; `counter` counts bytes read.
pub fn read_pairs_file(
    path: &std::path::Path,
    format: Format,
    columns: Option<Vec<table::ColumnRole>>,
    states: Option<Vec<String>>,
    options: &ImportOptions,
    counter: Option<std::sync::Arc<std::sync::atomic::AtomicU64>>,
    parsed: Parsed,
) -> Result<Parsed, FormatError> {
    let open = || -> Result<Box<dyn std::io::Read>, FormatError> {
        let file = std::fs::File::open(path)?;
        Ok(match counter.clone() {
            Some(counter) => Box::new(CountingReader::new(file, counter)),
            None => Box::new(file),
        })
    };
    match (format, columns) {
        (Format::Tsv, None) => tsv::read_into(
            std::io::BufReader::with_capacity(64 * 1024, open()?),
            options,
            parsed,
        ),
        (Format::Tsv, Some(columns)) => {
            table::read_into(open()?, b'\t', Some(columns), options, parsed)
        }
        (Format::Csv, columns) => table::read_into(open()?, b',', columns, options, parsed),
        (Format::Tmx, _) => tmx::read_file_counting(path, options, counter, parsed),
        (Format::Xliff, _) => xliff::read_file(path, options, states.as_deref(), parsed),
    }
}

/// How to turn a file's entries into units.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub source_lang: String,
    pub target_lang: String,
    pub collection: String,
    pub status: Status,
    pub author: Option<String>,
    /// Entries whose text is longer than this (in characters) are skipped.
    pub max_text_chars: usize,
}

impl ImportOptions {
    /// zh → en into `default`, approved: what the format tests read with.
    #[cfg(test)]
    pub(crate) fn for_tests(max_text_chars: usize) -> ImportOptions {
        ImportOptions {
            source_lang: "zh".into(),
            target_lang: "en".into(),
            collection: "default".into(),
            status: Status::Approved,
            author: None,
            max_text_chars,
        }
    }

    pub(crate) fn pair(&self, source: &str, target: &str) -> NewUnit {
        let mut unit = NewUnit::pair(&self.source_lang, source, &self.target_lang, target);
        unit.collection = self.collection.clone();
        unit.status = self.status;
        unit.origin = Origin::Import;
        unit.author = self.author.clone();
        unit
    }
}

/// An entry left out of an import, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Skipped {
    /// Where: `line 12`, or `tu 3 (line 40)`.
    pub at: String,
    pub message: String,
}

/// What a reader produced: the units (collected, or streamed into an import) and what it
/// skipped.
#[derive(Default)]
pub struct Parsed {
    pub units: Vec<NewUnit>,
    pub skipped: Vec<Skipped>,
    /// When set, units go straight to this import instead of into `units`, so a file of any
    /// size is read in constant memory.
    pub feed: Option<crate::tm::ImportFeed>,
    /// The file's header (TMX), when it was read without a feed.
    pub header: Option<crate::tm::FileHeader>,
}

impl std::fmt::Debug for Parsed {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Parsed")
            .field("units", &self.units.len())
            .field("skipped", &self.skipped)
            .field("streaming", &self.feed.is_some())
            .finish()
    }
}

impl Parsed {
    /// Units will be sent to `feed` as they are read.
    pub fn streaming(feed: crate::tm::ImportFeed) -> Parsed {
        Parsed {
            feed: Some(feed),
            ..Parsed::default()
        }
    }

    /// Keeps the file's header for the collection the file is imported into.
    pub(crate) fn set_header(
        &mut self,
        collection: &str,
        header: crate::tm::FileHeader,
    ) -> Result<(), FormatError> {
        match &mut self.feed {
            Some(feed) => feed
                .header(collection, header)
                .map_err(|error| FormatError::Aborted(error.to_string())),
            None => {
                self.header = Some(header);
                Ok(())
            }
        }
    }

    pub(crate) fn push(&mut self, unit: NewUnit) -> Result<(), FormatError> {
        match &mut self.feed {
            Some(feed) => feed
                .push(unit)
                .map_err(|error| FormatError::Aborted(error.to_string())),
            None => {
                self.units.push(unit);
                Ok(())
            }
        }
    }
}

/// Why a file was refused as a whole.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    #[error("line {line}, column {column}: {message}")]
    Syntax {
        line: u64,
        column: u64,
        message: String,
    },
    #[error("cannot read the file: {0}")]
    Io(#[from] std::io::Error),
    #[error("the import stopped: {0}")]
    Aborted(String),
}

/// Why a text cannot be stored. Its `Display` reads after the field's name: "`source` is
/// empty".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextProblem {
    Empty,
    TooLong {
        length: usize,
        max_chars: usize,
    },
    /// A character XML 1.0 cannot carry, so the text could never be exported.
    ControlCharacter {
        character: char,
        position: usize,
    },
}

impl fmt::Display for TextProblem {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TextProblem::Empty => formatter.write_str("is empty"),
            TextProblem::TooLong { length, max_chars } => write!(
                formatter,
                "is {length} characters long, over the limit of {max_chars}"
            ),
            TextProblem::ControlCharacter {
                character,
                position,
            } => write!(
                formatter,
                "contains the control character U+{:04X} at character {position}",
                *character as u32
            ),
        }
    }
}

/// What keeps a text from being stored, if anything: empty, too long, or holding characters
/// XML cannot carry.
pub fn text_problem(text: &str, max_chars: usize) -> Option<TextProblem> {
    if text.trim().is_empty() {
        return Some(TextProblem::Empty);
    }
    let length = text.chars().count();
    if length > max_chars {
        return Some(TextProblem::TooLong { length, max_chars });
    }
    text.chars()
        .enumerate()
        .find(|(_, character)| !is_xml_char(*character))
        .map(|(index, character)| TextProblem::ControlCharacter {
            character,
            position: index + 1,
        })
}

/// Why a source/target pair cannot be stored (see [`text_problem`]), naming the side.
pub(crate) fn pair_problem(source: &str, target: &str, max_chars: usize) -> Option<String> {
    text_problem(source, max_chars)
        .map(|problem| format!("the source {problem}"))
        .or_else(|| text_problem(target, max_chars).map(|problem| format!("the target {problem}")))
}

/// Characters allowed in XML 1.0 documents.
pub fn is_xml_char(character: char) -> bool {
    matches!(character,
        '\u{9}' | '\u{A}' | '\u{D}' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

/// Whether `name` is an XML 1.0 `Name` (fifth edition): what an element or attribute name
/// must be for an export to be well-formed. quick-xml passes names on unchecked, so a mangled
/// tag inside a segment (`<hi a☀b="1">`) would otherwise reach the TMX we write.
pub fn is_xml_name(name: &str) -> bool {
    let mut characters = name.chars();
    characters.next().is_some_and(is_name_start_char)
        && characters.all(|character| {
            is_name_start_char(character)
                || matches!(character,
                    '-' | '.' | '0'..='9' | '\u{B7}' | '\u{300}'..='\u{36F}' | '\u{203F}'..='\u{2040}')
        })
}

fn is_name_start_char(character: char) -> bool {
    matches!(character,
        ':' | 'A'..='Z' | '_' | 'a'..='z' | '\u{C0}'..='\u{D6}' | '\u{D8}'..='\u{F6}'
        | '\u{F8}'..='\u{2FF}' | '\u{370}'..='\u{37D}' | '\u{37F}'..='\u{1FFF}'
        | '\u{200C}'..='\u{200D}' | '\u{2070}'..='\u{218F}' | '\u{2C00}'..='\u{2FEF}'
        | '\u{3001}'..='\u{D7FF}' | '\u{F900}'..='\u{FDCF}' | '\u{FDF0}'..='\u{FFFD}'
        | '\u{10000}'..='\u{EFFFF}')
}

/// Counts the bytes read through it, for progress reports.
pub struct CountingReader<R> {
    inner: R,
    counter: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl<R> CountingReader<R> {
    pub fn new(inner: R, counter: std::sync::Arc<std::sync::atomic::AtomicU64>) -> Self {
        CountingReader { inner, counter }
    }
}

impl<R: std::io::Read> std::io::Read for CountingReader<R> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        let read = self.inner.read(buffer)?;
        self.counter
            .fetch_add(read as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(read)
    }
}

#[cfg(test)]
mod tests {
    use super::is_xml_name;

    #[test]
    fn xml_names_follow_the_xml_1_0_productions() {
        for name in ["bpt", "x:ph", "_a", "a-b.c9", "été", "名称", "a\u{B7}b"] {
            assert!(is_xml_name(name), "{name:?} is an XML name");
        }
        for name in [
            "", "1a", "-a", ".a", "a b", "a☀b", "a\u{0}b", "a=b", "\u{B7}a",
        ] {
            assert!(!is_xml_name(name), "{name:?} is not an XML name");
        }
    }
}
