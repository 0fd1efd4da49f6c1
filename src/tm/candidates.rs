//! The first stage of a fuzzy lookup: the units with the best BM25 score over the query's
//! selective terms, which are then fetched and scored exactly (`search::lookup`).
//!
//! Two ways find the same units:
//!
//! - **Accumulating.** Every posting of every term is read, a block of 128 at a time, and its
//!   BM25 contribution added to a per-document score array, one window of 65,536 documents
//!   at a time so the array stays in cache; the documents touched are then ranked.
//!   Selective terms are rare (each in at most 0.2 % of the units), so a typical query
//!   reads about 10,000 postings at 1M units: a few tens of microseconds.
//! - **Block-max WAND**, Tantivy's pruning loop (`Weight::for_each_pruning`). It skips the
//!   blocks of postings that cannot beat the `limit`-th score so far, which pays off when a
//!   query keeps common terms (its rarest terms are kept however common they are). But it
//!   re-sorts its terms by document after every document it scores, and with a `limit` of
//!   about a hundred and 20–30 terms it scores most of what the rare terms bring in; for
//!   every query but those with the longest lists, that cost more than reading everything.
//!
//! A query whose lists hold at most [`ACCUMULATE_POSTINGS`] postings is accumulated; a longer
//! one, or one with a filter clause (a region subtag, a collection), goes through block-max
//! WAND. Both score with Tantivy's BM25 over the searcher's statistics and break ties by
//! address, so they choose the same units.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use tantivy::fieldnorm::FieldNormReader;
use tantivy::postings::BlockSegmentPostings;
use tantivy::query::{
    Bm25StatisticsProvider, Bm25Weight, BooleanQuery, EnableScoring, Occur, Query, TermQuery,
};
use tantivy::schema::IndexRecordOption;
use tantivy::{DocAddress, DocId, Score, Searcher, SegmentOrdinal, TERMINATED};

use crate::tm::lengths::LengthTables;
use crate::tm::search::{CandidateFilter, TermPostings};
use crate::tm::TmError;

/// The most postings a query's terms may hold to be accumulated rather than searched with
/// block-max WAND. At 1M units the median query's terms hold about 10,000 postings, the 90th
/// percentile's 18,000 and the 99th's 130,000–780,000 (queries whose rarest terms are
/// common). In-process on the benchmark's 1M TM (the `ACCUMULATE_POSTINGS` A/B in
/// BENCHMARKS.md), every limit from 100,000 up gave a median of 0.75–0.95 ms against
/// 1.2–1.5 ms with WAND alone; 1,000,000 also cut the Chinese p99 from 5.5 to 3.1 ms and the
/// slowest query from 22 to 8 ms. Above it, WAND's skipping through long lists wins.
pub const ACCUMULATE_POSTINGS: u64 = 1_000_000;

/// The best `limit` documents by BM25 over `terms` that pass `filter` (and every one of
/// `filter_clauses`), best first, with the token count of their source text.
pub fn top_candidates(
    searcher: &Searcher,
    terms: Vec<TermPostings>,
    filter_clauses: Vec<(Occur, Box<dyn Query>)>,
    limit: usize,
    filter: &CandidateFilter,
    tables: &LengthTables,
) -> Result<Vec<(DocAddress, usize)>, TmError> {
    let postings: u64 = terms.iter().map(|term| term.doc_freq).sum();
    let best = if filter_clauses.is_empty() && postings <= ACCUMULATE_POSTINGS {
        by_accumulating(searcher, &terms, limit, filter, tables)?
    } else {
        by_block_wand(searcher, terms, filter_clauses, limit, filter, tables)?
    };
    let mut ranked: Vec<Scored> = best.into_iter().map(|Reverse(scored)| scored).collect();
    ranked.sort_by(|left, right| right.cmp(left));
    Ok(ranked
        .into_iter()
        .map(|Scored(_, address, source_tokens)| (address, source_tokens))
        .collect())
}

/// Reads every posting of `terms` into a score array, segment by segment, and keeps the best
/// `limit` documents that pass the filter.
fn by_accumulating(
    searcher: &Searcher,
    terms: &[TermPostings],
    limit: usize,
    filter: &CandidateFilter,
    tables: &LengthTables,
) -> Result<TopScored, TmError> {
    // The statistics Tantivy's own BM25 uses, so both ways score alike.
    let total_docs = searcher.total_num_docs()?;
    let mut weights = Vec::with_capacity(terms.len());
    for candidate in terms {
        let field = candidate.term.field();
        let average_fieldnorm =
            searcher.total_num_tokens(field)? as Score / total_docs.max(1) as Score;
        weights.push(Bm25Weight::for_one_term_without_explain(
            candidate.doc_freq,
            total_docs,
            average_fieldnorm,
        ));
    }
    let mut best = TopScored::with_capacity(limit + 1);
    let mut scores = ScoreArray::take();
    for (ordinal, reader) in searcher.segment_readers().iter().enumerate() {
        let mut cursors = Vec::with_capacity(terms.len());
        for (candidate, weight) in terms.iter().zip(&weights) {
            let Some((index, info)) = &candidate.in_segments[ordinal] else {
                continue;
            };
            cursors.push(Cursor {
                blocks: index
                    .read_block_postings_from_terminfo(info, IndexRecordOption::WithFreqs)
                    .map_err(tantivy::TantivyError::from)?,
                at: 0,
                weight,
                fieldnorms: reader.get_fieldnorms_reader(candidate.term.field())?,
            });
        }
        let segment_filter = filter.in_segment(searcher, reader, tables)?;
        // Window after window, each starting at the first document any list has left.
        loop {
            let start = cursors.iter().map(Cursor::doc).min().unwrap_or(TERMINATED);
            if start == TERMINATED {
                break;
            }
            let end = start.saturating_add(WINDOW_DOCS);
            for cursor in &mut cursors {
                cursor.add_until(start, end, &mut scores);
            }
            for (offset, score) in scores.drain() {
                let doc = start + offset;
                // Strictly below cannot enter; an equal score may, by address.
                if score < threshold(&best, limit) {
                    continue;
                }
                let Some(source_tokens) = segment_filter.accepts(doc) else {
                    continue;
                };
                let scored = Scored(
                    score,
                    DocAddress::new(ordinal as SegmentOrdinal, doc),
                    source_tokens,
                );
                if best.len() < limit {
                    best.push(Reverse(scored));
                } else if best.peek().is_some_and(|Reverse(lowest)| scored > *lowest) {
                    best.pop();
                    best.push(Reverse(scored));
                }
            }
        }
    }
    scores.give_back();
    Ok(best)
}

/// Tantivy's block-max WAND over the disjunction of `terms`, with `filter` applied inside its
/// pruning loop: a `FilterCollector` around `TopDocs` would score every matching document
/// instead, and restart from zero in each segment. Segments are searched one after the other
/// with the threshold carried over (BM25 statistics are the searcher's, so scores compare
/// across segments).
fn by_block_wand(
    searcher: &Searcher,
    terms: Vec<TermPostings>,
    mut filter_clauses: Vec<(Occur, Box<dyn Query>)>,
    limit: usize,
    filter: &CandidateFilter,
    tables: &LengthTables,
) -> Result<TopScored, TmError> {
    let should: Vec<(Occur, Box<dyn Query>)> = terms
        .into_iter()
        .map(|candidate| {
            let query: Box<dyn Query> =
                Box::new(TermQuery::new(candidate.term, IndexRecordOption::WithFreqs));
            (Occur::Should, query)
        })
        .collect();
    let disjunction = BooleanQuery::new(should);
    let query: Box<dyn Query> = if filter_clauses.is_empty() {
        Box::new(disjunction)
    } else {
        filter_clauses.push((Occur::Must, Box::new(disjunction)));
        Box::new(BooleanQuery::new(filter_clauses))
    };
    let weight = query.weight(EnableScoring::enabled_from_searcher(searcher))?;
    let mut best = TopScored::with_capacity(limit + 1);
    for (ordinal, reader) in searcher.segment_readers().iter().enumerate() {
        let segment_filter = filter.in_segment(searcher, reader, tables)?;
        weight.for_each_pruning(threshold(&best, limit), reader, &mut |doc, score| {
            if let Some(source_tokens) = segment_filter.accepts(doc) {
                best.push(Reverse(Scored(
                    score,
                    DocAddress::new(ordinal as SegmentOrdinal, doc),
                    source_tokens,
                )));
                if best.len() > limit {
                    best.pop();
                }
            }
            threshold(&best, limit)
        })?;
    }
    Ok(best)
}

/// Documents scored at a time. The scores of a window (256 KiB), and the field norms and
/// token counts read for it, stay in the core's cache; one array for a whole segment of
/// millions of units would be missed on nearly every posting. Unit tests use windows of 64
/// documents, so their small segments span many windows.
const WINDOW_DOCS: DocId = if cfg!(test) { 64 } else { 1 << 16 };

/// One term's postings in a segment, read a block at a time, and where it is in them.
struct Cursor<'w> {
    blocks: BlockSegmentPostings,
    /// The next posting's index in the current block.
    at: usize,
    weight: &'w Bm25Weight,
    fieldnorms: FieldNormReader,
}

impl Cursor<'_> {
    /// The next document in the list (`TERMINATED` at its end).
    fn doc(&self) -> DocId {
        self.blocks
            .docs()
            .get(self.at)
            .copied()
            .unwrap_or(TERMINATED)
    }

    /// Adds the BM25 contribution of every posting before `end` to the scores of the window
    /// starting at `start`.
    fn add_until(&mut self, start: DocId, end: DocId, scores: &mut ScoreArray) {
        let Cursor {
            blocks,
            at,
            weight,
            fieldnorms,
        } = self;
        loop {
            let docs = blocks.docs();
            if docs.is_empty() {
                return;
            }
            let frequencies = blocks.freqs();
            while let Some(&doc) = docs.get(*at) {
                if doc >= end {
                    return;
                }
                let score = weight.score(fieldnorms.fieldnorm_id(doc), frequencies[*at]);
                scores.add(doc - start, score);
                *at += 1;
            }
            blocks.advance();
            *at = 0;
        }
    }
}

/// Min-heap of the best documents so far.
type TopScored = BinaryHeap<Reverse<Scored>>;

/// The score a document must beat to enter `best`.
fn threshold(best: &TopScored, limit: usize) -> Score {
    if best.len() < limit {
        Score::MIN
    } else {
        best.peek().map_or(Score::MIN, |lowest| lowest.0 .0)
    }
}

/// A scored document (with its source's token count), ordered by score, then by address,
/// the lower first (for a deterministic heap, and the order WAND visits ties in).
#[derive(Clone, Copy, PartialEq)]
struct Scored(Score, DocAddress, usize);

impl Eq for Scored {}

impl PartialOrd for Scored {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Scored {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0
            .total_cmp(&other.0)
            .then(other.1.cmp(&self.1))
            .then(other.2.cmp(&self.2))
    }
}

/// Per-document scores of one window and the documents touched (as offsets in the window),
/// kept per thread between lookups so a lookup allocates nothing: every score is zeroed again
/// as it is drained (a BM25 contribution is always positive, so zero means untouched).
struct ScoreArray {
    scores: Vec<Score>,
    touched: Vec<DocId>,
}

thread_local! {
    static SPARE_SCORE_ARRAY: std::cell::RefCell<Option<ScoreArray>> =
        const { std::cell::RefCell::new(None) };
}

impl ScoreArray {
    /// Zeroed scores for one window.
    fn take() -> ScoreArray {
        SPARE_SCORE_ARRAY
            .with(|spare| spare.borrow_mut().take())
            .unwrap_or_else(|| ScoreArray {
                scores: vec![0.0; WINDOW_DOCS as usize],
                touched: Vec::new(),
            })
    }

    fn add(&mut self, doc: DocId, score: Score) {
        let slot = &mut self.scores[doc as usize];
        if *slot == 0.0 {
            self.touched.push(doc);
        }
        *slot += score;
    }

    /// The touched documents and their scores, zeroing both as it goes.
    fn drain(&mut self) -> impl Iterator<Item = (DocId, Score)> + '_ {
        let scores = &mut self.scores;
        self.touched
            .drain(..)
            .map(move |doc| (doc, std::mem::take(&mut scores[doc as usize])))
    }

    fn give_back(self) {
        SPARE_SCORE_ARRAY.with(|spare| *spare.borrow_mut() = Some(self));
    }
}

#[cfg(test)]
mod tests {
    use tantivy::{DocAddress, Score};

    use super::{by_accumulating, by_block_wand, TopScored};
    use crate::tm::search::{candidate_terms, CandidateFilter, LookupQuery};
    use crate::tm::testing::{tm_in_segments, un_pairs, with_a_token_dropped};

    /// Best first, as (score, address).
    fn ranked(best: TopScored) -> Vec<(Score, DocAddress)> {
        let mut ranked: Vec<_> = best.into_iter().map(|scored| scored.0).collect();
        ranked.sort_by(|left, right| right.cmp(left));
        ranked
            .into_iter()
            .map(|scored| (scored.0, scored.1))
            .collect()
    }

    /// Accumulating and block-max WAND choose the same candidates: the same scores rank by
    /// rank, and the same units wherever a score is not tied with the last one kept (the two
    /// add a unit's term scores in different orders, so a tie may round either way). Over a
    /// 2,000-pair TM of real UN sentences in four segments, both directions, stored sentences
    /// with a token dropped and sentences never stored, with a length window that rejects
    /// candidates.
    #[test]
    fn accumulating_and_block_wand_choose_the_same_candidates() {
        let pairs = un_pairs(2_300);
        let (stored, unseen) = pairs.split_at(2_000);
        let dir = tempfile::tempdir().unwrap();
        let tm = tm_in_segments(dir.path(), stored);
        let searcher = tm.reader.searcher();

        let mut queries = Vec::new();
        for (zh, en) in stored.iter().step_by(40).chain(unseen.iter().step_by(10)) {
            queries.push(("zh", "en", with_a_token_dropped(zh)));
            queries.push(("en", "zh", with_a_token_dropped(en)));
        }
        let (mut compared, mut rejected_by_window) = (0, 0);
        for (source_lang, target_lang, text) in &queries {
            let tokens = crate::text::tokens(text);
            let query = LookupQuery {
                text: text.clone(),
                source_lang: source_lang.to_string(),
                target_lang: target_lang.to_string(),
                min_score: 70,
                limit: 5,
                collections: Vec::new(),
                hidden_collections: Vec::new(),
            };
            let filter = CandidateFilter::for_lookup(&tm.fields, &query, tokens.len());
            let terms = || candidate_terms(&searcher, &tm.fields, source_lang, &tokens).unwrap();
            let limit = 40;
            let accumulated = ranked(
                by_accumulating(&searcher, &terms(), limit, &filter, &tm.length_tables).unwrap(),
            );
            let searched = ranked(
                by_block_wand(
                    &searcher,
                    terms(),
                    Vec::new(),
                    limit,
                    &filter,
                    &tm.length_tables,
                )
                .unwrap(),
            );
            let unfiltered = ranked(
                by_accumulating(
                    &searcher,
                    &terms(),
                    limit,
                    &filter.with_window((0, usize::MAX)),
                    &tm.length_tables,
                )
                .unwrap(),
            );
            if unfiltered != accumulated {
                rejected_by_window += 1;
            }
            assert_eq!(accumulated.len(), searched.len(), "{text}");
            for (rank, (left, right)) in accumulated.iter().zip(&searched).enumerate() {
                assert!(
                    (left.0 - right.0).abs() <= 1e-4 * left.0,
                    "{text}: rank {rank} scores {} by accumulating, {} by WAND",
                    left.0,
                    right.0
                );
            }
            let last = accumulated.last().map_or(0.0, |last| last.0);
            let clearly_in = |ranked: &[(Score, DocAddress)]| {
                let mut addresses: Vec<DocAddress> = ranked
                    .iter()
                    .filter(|(score, _)| *score > last + 1e-4 * last)
                    .map(|(_, address)| *address)
                    .collect();
                addresses.sort();
                addresses
            };
            assert_eq!(clearly_in(&accumulated), clearly_in(&searched), "{text}");
            compared += 1;
        }
        assert!(compared >= 120, "{compared} queries compared");
        // The window did its part: it turned some candidates away.
        assert!(rejected_by_window > 20, "{rejected_by_window}");
    }
}
