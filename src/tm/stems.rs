//! The surface forms of a stem: stemmed concordance without a field of stems.
//!
//! Concordance finds "meetings" for "meeting" by comparing stems. Indexing a stem beside
//! every word added a sixth of the terms an import writes, and import time is the number of
//! terms Tantivy adds; so nothing of the kind is indexed. Instead, the first time a stemmed
//! concordance asks about a language in a segment, the words of that language in the
//! segment's `tokens` dictionary are grouped by stem (about 40,000 English words in the
//! benchmark's million-unit TM: a few milliseconds), and the table is kept while the segment
//! lives. Segments are immutable, so a table never goes stale; those of merged-away segments
//! are dropped when the next table is built. A stemmed phrase is then a phrase whose every
//! word position accepts any surface form of that word's stem (`tm::search::concordance`).

use std::collections::{BTreeSet, HashMap};

use tantivy::schema::Field;
use tantivy::{Searcher, SegmentReader};

use crate::text;
use crate::tm::per_segment::PerSegment;
use crate::tm::TmError;

/// The words of one language in one segment, by stem.
struct StemTable {
    forms: HashMap<String, Vec<String>>,
}

impl StemTable {
    fn build(
        segment: &SegmentReader,
        field: Field,
        primary: &str,
        stemmer: &rust_stemmers::Stemmer,
    ) -> Result<StemTable, TmError> {
        // Terms are `primary:token`; `;` follows `:`, so the range holds exactly this language.
        let start = format!("{primary}:");
        let end = format!("{primary};");
        let inverted = segment.inverted_index(field)?;
        let mut stream = inverted
            .terms()
            .range()
            .ge(start.as_bytes())
            .lt(end.as_bytes())
            .into_stream()
            .map_err(tantivy::TantivyError::from)?;
        let mut forms: HashMap<String, Vec<String>> = HashMap::new();
        while stream.advance() {
            let Ok(token) = std::str::from_utf8(&stream.key()[start.len()..]) else {
                continue;
            };
            if text::is_word(token) {
                forms
                    .entry(stemmer.stem(token).into_owned())
                    .or_default()
                    .push(token.to_owned());
            }
        }
        Ok(StemTable { forms })
    }
}

/// The tables of the segments asked about so far, shared by all searches of one index.
#[derive(Default)]
pub struct StemTables {
    tables: PerSegment<String, StemTable>,
}

impl StemTables {
    /// For each of `stems` (stems of language `primary` by `stemmer`), every word of that
    /// language in the `tokens` field `field` of `searcher`'s segments with that stem.
    pub fn surface_forms(
        &self,
        searcher: &Searcher,
        field: Field,
        primary: &str,
        stemmer: &rust_stemmers::Stemmer,
        stems: &[&str],
    ) -> Result<Vec<BTreeSet<String>>, TmError> {
        let mut found = vec![BTreeSet::new(); stems.len()];
        for segment in searcher.segment_readers() {
            let table = self
                .tables
                .get_or_build(searcher, segment, primary.to_owned(), || {
                    StemTable::build(segment, field, primary, stemmer)
                })?;
            for (stem, forms) in stems.iter().zip(found.iter_mut()) {
                if let Some(words) = table.forms.get(*stem) {
                    forms.extend(words.iter().cloned());
                }
            }
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use crate::tm::testing::{tm_in_segments, un_pairs};

    /// Every English word of the stored texts, grouped by stem the slow way, is what the
    /// tables give for its stem: none missing (from any segment) and none of another stem or
    /// language.
    #[test]
    fn every_stored_word_is_found_under_its_stem_across_segments() {
        let pairs = un_pairs(600);
        let dir = tempfile::tempdir().unwrap();
        let tm = tm_in_segments(dir.path(), &pairs);
        let searcher = tm.reader.searcher();
        let stemmer = crate::text::stemmer_for("en").unwrap();

        let mut expected: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (_, en) in &pairs {
            for token in crate::text::tokens(en) {
                if token.kind == crate::text::TokenKind::Word {
                    let stem = stemmer.stem(&token.text).into_owned();
                    expected.entry(stem).or_default().insert(token.text);
                }
            }
        }
        let stems: Vec<&str> = expected.keys().map(String::as_str).collect();
        let found = tm
            .stem_tables
            .surface_forms(&searcher, tm.fields.tokens, "en", &stemmer, &stems)
            .unwrap();
        let found: BTreeMap<String, BTreeSet<String>> = stems
            .iter()
            .map(|stem| stem.to_string())
            .zip(found)
            .collect();
        assert_eq!(found, expected);
        // A stem with several forms, so the test shows grouping and not only lookup.
        assert!(expected.values().any(|forms| forms.len() >= 3));

        // Chinese characters are not words: no table entry, whatever the stemmer says.
        let none = tm
            .stem_tables
            .surface_forms(&searcher, tm.fields.tokens, "zh", &stemmer, &["会"])
            .unwrap();
        assert!(none[0].is_empty());
    }
}
