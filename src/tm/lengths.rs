//! The token count of every unit's text in one language, per index segment, as a plain array.
//!
//! Lookup asks "how long is this unit's source text, and does it have a target text?" for
//! every document a posting list brings in — up to hundreds of thousands per lookup when the
//! shared-token count runs (see `search::units_that_can_reach`). The `lengths` fast field
//! answers that, but it packs a language hash with each count, so its values are bit-packed at
//! 64 bits and a read costs tens of nanoseconds; an array read costs one. A table is built
//! the first time a language is looked up in a segment (about 30 ms per million units) and
//! kept while the segment lives: segments are immutable, deletions live in Tantivy's alive
//! bitset, so a table never goes stale.

use std::convert::Infallible;
use std::sync::Arc;

use tantivy::columnar::Column;
use tantivy::{DocId, Searcher, SegmentReader};

use crate::tm::per_segment::PerSegment;
use crate::tm::schema::LENGTH_BITS;

/// The token count of each document's text in one language.
pub struct LengthTable {
    counts: Vec<u16>,
}

/// What a [`LengthTable`] holds for one document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextLength {
    /// The document has no text in the language.
    Absent,
    /// Its one text there has this many tokens.
    Tokens(usize),
    /// Several texts (`zh-CN` and `zh-TW`), or one too long for the table: ask the column.
    SeeColumn,
}

/// Marks [`TextLength::SeeColumn`] in the table.
const SEE_COLUMN: u16 = u16::MAX;

impl LengthTable {
    fn build(lengths: &Column<u64>, max_doc: DocId, language: u64) -> LengthTable {
        let mut counts = vec![0u16; max_doc as usize];
        for (doc, slot) in counts.iter_mut().enumerate() {
            for value in lengths.values_for_doc(doc as DocId) {
                if value >> LENGTH_BITS != language {
                    continue;
                }
                let tokens = (value & ((1 << LENGTH_BITS) - 1)) as u16;
                // A text of no token still counts as present (1 would be a lie; keep it apart).
                *slot = if *slot != 0 || tokens >= SEE_COLUMN - 1 {
                    SEE_COLUMN
                } else {
                    tokens + 1
                };
            }
        }
        LengthTable { counts }
    }

    pub fn get(&self, doc: DocId) -> TextLength {
        match self.counts[doc as usize] {
            0 => TextLength::Absent,
            SEE_COLUMN => TextLength::SeeColumn,
            stored => TextLength::Tokens(stored as usize - 1),
        }
    }
}

/// The tables of the segments searched so far, shared by all lookups of one index.
#[derive(Default)]
pub struct LengthTables {
    tables: PerSegment<u64, LengthTable>,
}

impl LengthTables {
    /// The table of `language` (the language bits of a `lengths` value) in `segment`, one
    /// of the segments of `searcher`.
    pub fn get(
        &self,
        searcher: &Searcher,
        segment: &SegmentReader,
        lengths: &Column<u64>,
        language: u64,
    ) -> Arc<LengthTable> {
        let Ok(table) = self.tables.get_or_build(searcher, segment, language, || {
            Ok::<_, Infallible>(LengthTable::build(lengths, segment.max_doc(), language))
        });
        table
    }
}
