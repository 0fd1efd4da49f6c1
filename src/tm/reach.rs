//! The second stage of a fuzzy lookup: every unit that can still beat the best match found.
//!
//! The first stage (`search::lookup`) ranks units by BM25 over the query's rarer terms. It is
//! fast and nearly always right, but it favours a unit sharing one rare word over a unit
//! sharing many common ones, and for a short English sentence the best match can be the
//! latter ("The nature of the incident and the motive of the gunman" → "With the trust of the
//! country and the goodwill of the people,", 53). This stage closes that gap with a bound
//! instead of a ranking.
//!
//! **The bound.** A stored text of `m` tokens scoring `s` against a query of `n` tokens is
//! `d` edits away with `100 × (max(n, m) − d) / max(n, m) ≥ s`, and every position an
//! alignment does not edit is a token the two share; so they share at least
//! `ceil(s × max(n, m) / 100)` tokens, counted with repeats. The count is exact over the
//! index: a query token occurring `q` times in the query and `f` times in a unit (the term
//! frequency of its `tokens` term) makes `min(q, f)` shared tokens.
//!
//! **The count, MaxScore-style.** A query token can add at most its `q` to a unit's count.
//! The most common tokens, as many as cannot make the needed count `t` together (their
//! `q`s sum below `t`), are only probed: a unit must also hold one of the other, rarer
//! tokens, whose lists are read whole. The common lists (`the`, `的`, `.`) are skipped
//! through to the units the rare lists brought in, and a unit is let go as soon as the lists
//! left cannot bring it to its needed count. Each survivor carries the bound
//! `100 × shared / max(n, m)` on its score; the caller fetches them best bound first and
//! stops at the first bound that cannot beat what it has.
//!
//! **The budget.** What this costs is the length of the lists it must read, known from the
//! term dictionary before anything is read. A query whose lists exceed the budget ([`budget`])
//! skips the stage and keeps the first stage's answer: on a long Chinese query with no good
//! match the rarer half of the characters can still fill a million postings, and the first
//! stage is reliable there, so long queries run the stage only to improve on a match.

use std::sync::Arc;

use tantivy::index::InvertedIndexReader;
use tantivy::postings::Postings;
use tantivy::postings::{SegmentPostings, TermInfo};
use tantivy::schema::IndexRecordOption;
use tantivy::{DocAddress, DocId, DocSet, Searcher, SegmentOrdinal, Term, TERMINATED};

use crate::text;
use crate::tm::lengths::LengthTables;
use crate::tm::schema::{token_term, Fields};
use crate::tm::search::{length_window, CandidateFilter, TermPostings};
use crate::tm::TmError;

/// The postings this stage may read for a query of `query_tokens` tokens, when the first
/// stage found a match (`found_match`) or not; `None`: the stage does not run.
///
/// Short queries get the most: the first stage has few terms to rank them by, and they are
/// where it misses (at 1M units, four of the five English misses of the benchmark's fresh
/// query set were sentences of 11–15 tokens with no match found; three needed
/// 87,000–222,000 postings, the fourth a million). Reading 250,000 postings takes about
/// 2.5 ms on the benchmark machine. A longer query gets 40,000, and only to improve on a
/// match the first stage found (the misses of 32 and 65 tokens had one, at 56 and 69, and
/// needed about 30,000): proving that a long query has no match at all would cost a
/// millisecond for most of them and has not found a match in the benchmarks.
pub fn budget(query_tokens: usize, found_match: bool) -> Option<u64> {
    if query_tokens <= SHORT_QUERY_TOKENS {
        Some(SHORT_QUERY_BUDGET)
    } else if found_match {
        Some(QUERY_BUDGET)
    } else {
        None
    }
}

/// Queries of at most this many tokens are short (see [`budget`]).
const SHORT_QUERY_TOKENS: usize = 16;
const SHORT_QUERY_BUDGET: u64 = 250_000;
const QUERY_BUDGET: u64 = 40_000;

/// A unit that may score at least the floor, and the most it can score.
pub struct Reachable {
    pub address: DocAddress,
    pub bound: u8,
}

/// One distinct query token as a term, with where it is in each segment.
struct QueryTerm {
    /// How many times the query holds it: the most it can add to a unit's shared count.
    in_query: u32,
    postings: TermPostings,
}

/// The query's distinct tokens as `tokens` terms, each with its count in the query; terms in
/// no unit are left out (they cannot be shared).
pub struct QueryTerms {
    /// The query's token count.
    query_tokens: usize,
    /// Most common first.
    terms: Vec<QueryTerm>,
}

impl QueryTerms {
    pub fn new(
        searcher: &Searcher,
        fields: &Fields,
        primary: &str,
        tokens: &[text::Token],
    ) -> Result<QueryTerms, TmError> {
        // Ordered, so ties in the sort below fall the same way on every call.
        let mut in_query: std::collections::BTreeMap<&str, u32> = Default::default();
        for token in tokens {
            *in_query.entry(token.text.as_str()).or_default() += 1;
        }
        let mut terms = Vec::with_capacity(in_query.len());
        for (token, count) in in_query {
            let term = Term::from_field_text(fields.tokens, &token_term(primary, token));
            let postings = TermPostings::look_up(searcher, term)?;
            if postings.doc_freq > 0 {
                terms.push(QueryTerm {
                    in_query: count,
                    postings,
                });
            }
        }
        // Most common first.
        terms.sort_by_key(|term| std::cmp::Reverse(term.postings.doc_freq));
        Ok(QueryTerms {
            query_tokens: tokens.len(),
            terms,
        })
    }

    /// Every unit (that `filter` admits) which can score `floor` or more, best bound first;
    /// `None` when finding them would read more than `budget` postings.
    pub fn units_that_can_reach(
        &self,
        searcher: &Searcher,
        tables: &LengthTables,
        filter: &CandidateFilter,
        floor: u8,
        budget: u64,
    ) -> Result<Option<Vec<Reachable>>, TmError> {
        let n = self.query_tokens;
        let Some(window) = length_window(n, floor) else {
            return Ok(Some(Vec::new()));
        };
        let filter = filter.with_window(window);
        let needed_at = |m: usize| (floor as usize * n.max(m)).div_ceil(100);
        // The most common terms whose counts sum below the least needed count are only
        // probed; the rest are read.
        let least_needed = needed_at(n).max(1);
        let mut probed_count = 0;
        let mut probed_weight = 0usize;
        while let Some(term) = self.terms.get(probed_count) {
            if probed_weight + term.in_query as usize >= least_needed {
                break;
            }
            probed_weight += term.in_query as usize;
            probed_count += 1;
        }
        let (probed, read) = self.terms.split_at(probed_count);
        if read.iter().map(|term| term.postings.doc_freq).sum::<u64>() > budget {
            return Ok(None);
        }

        let mut reachable = Vec::new();
        for (ordinal, reader) in searcher.segment_readers().iter().enumerate() {
            let segment_filter = filter.in_segment(searcher, reader, tables)?;
            let mut counts = DocCounts::take(reader.max_doc());
            for term in read {
                let Some((index, info)) = &term.postings.in_segments[ordinal] else {
                    continue;
                };
                // Whole blocks of 128 decoded documents at a time: the fastest way through.
                let mut blocks = index
                    .read_block_postings_from_terminfo(info, IndexRecordOption::WithFreqs)
                    .map_err(tantivy::TantivyError::from)?;
                loop {
                    let docs = blocks.docs();
                    if docs.is_empty() {
                        break;
                    }
                    for (&doc, &frequency) in docs.iter().zip(blocks.freqs()) {
                        counts.add(doc, frequency.min(term.in_query));
                    }
                    blocks.advance();
                }
            }
            // Probed rarest first: the likeliest to miss, so a unit that cannot qualify is
            // let go sooner.
            let mut probes: Vec<Probe> = probed
                .iter()
                .rev()
                .map(|term| Probe::of(term, ordinal))
                .collect();
            for (doc, shared) in counts.drain() {
                let Some(source_tokens) = segment_filter.source_tokens(doc) else {
                    continue;
                };
                let needed = needed_at(source_tokens);
                let mut total = shared as usize;
                // A unit that qualifies is probed in every list, so its count is exact.
                let mut remaining = probed_weight;
                for probe in probes.iter_mut() {
                    if total + remaining < needed {
                        break;
                    }
                    remaining -= probe.in_query as usize;
                    total += probe.frequency_in(doc)?.min(probe.in_query) as usize;
                }
                if total < needed || !segment_filter.admits(doc) {
                    continue;
                }
                reachable.push(Reachable {
                    address: DocAddress::new(ordinal as SegmentOrdinal, doc),
                    bound: (100 * total / n.max(source_tokens)).min(100) as u8,
                });
            }
        }
        reachable.sort_by(|left, right| {
            right
                .bound
                .cmp(&left.bound)
                .then(left.address.cmp(&right.address))
        });
        Ok(Some(reachable))
    }
}

/// A list that is probed, not read: opened on its first probe, then only skipped forward.
struct Probe {
    /// The term's count in the query.
    in_query: u32,
    list: ProbedList,
}

enum ProbedList {
    Absent,
    Unopened(Arc<InvertedIndexReader>, TermInfo),
    Open(Box<SegmentPostings>),
}

impl Probe {
    fn of(term: &QueryTerm, segment: usize) -> Probe {
        let list = match &term.postings.in_segments[segment] {
            Some((index, info)) => ProbedList::Unopened(index.clone(), info.clone()),
            None => ProbedList::Absent,
        };
        Probe {
            in_query: term.in_query,
            list,
        }
    }

    /// How many times `doc` holds the term (0 if not); documents must be asked in
    /// increasing order.
    fn frequency_in(&mut self, doc: DocId) -> Result<u32, TmError> {
        if let ProbedList::Unopened(index, info) = &self.list {
            let postings = index
                .read_postings_from_terminfo(info, IndexRecordOption::WithFreqs)
                .map_err(tantivy::TantivyError::from)?;
            self.list = ProbedList::Open(Box::new(postings));
        }
        let ProbedList::Open(postings) = &mut self.list else {
            return Ok(0);
        };
        let current = if postings.doc() < doc {
            postings.seek(doc)
        } else {
            postings.doc()
        };
        Ok(if current == doc && current != TERMINATED {
            postings.term_freq()
        } else {
            0
        })
    }
}

/// The shared tokens the read lists give each document of a segment: a count per document
/// and a bitmap of the documents counted, so they come out in order without a sort. The arrays
/// are kept per thread and handed back zeroed, so a lookup pays only for the entries it
/// touches, not for allocating and clearing arrays as long as the segment.
struct DocCounts {
    counts: Vec<u16>,
    counted: Vec<u64>,
    /// The bitmap words that cover this segment (the arrays may be longer, from a larger
    /// segment counted before).
    words: usize,
}

thread_local! {
    static SPARE_DOC_COUNTS: std::cell::RefCell<Option<DocCounts>> =
        const { std::cell::RefCell::new(None) };
}

impl DocCounts {
    /// Zeroed arrays for `max_doc` documents.
    fn take(max_doc: DocId) -> DocCounts {
        let mut arrays = SPARE_DOC_COUNTS
            .with(|spare| spare.borrow_mut().take())
            .unwrap_or(DocCounts {
                counts: Vec::new(),
                counted: Vec::new(),
                words: 0,
            });
        let max_doc = max_doc as usize;
        arrays.words = max_doc.div_ceil(64);
        if arrays.counts.len() < max_doc {
            arrays.counts.resize(max_doc, 0);
        }
        if arrays.counted.len() < max_doc.div_ceil(64) {
            arrays.counted.resize(max_doc.div_ceil(64), 0);
        }
        arrays
    }

    #[inline]
    fn add(&mut self, doc: DocId, shared: u32) {
        let count = &mut self.counts[doc as usize];
        *count = count.saturating_add(shared.min(u16::MAX as u32) as u16);
        self.counted[doc as usize / 64] |= 1 << (doc % 64);
    }

    /// Every counted document with its count, in document order. The arrays are zeroed on
    /// the way and go back to the thread when the iterator is dropped. (Arrays dropped
    /// without a drain, on an error, are simply freed: only zeroed ones are ever reused.)
    fn drain(self) -> DocCountsDrain {
        DocCountsDrain {
            arrays: Some(self),
            word: 0,
            bits: 0,
        }
    }
}

struct DocCountsDrain {
    arrays: Option<DocCounts>,
    /// The next bitmap word to look at, and what is left of the current one.
    word: usize,
    bits: u64,
}

/// The next counted document, zeroing its count and its bitmap word.
fn next_counted(arrays: &mut DocCounts, word: &mut usize, bits: &mut u64) -> Option<(DocId, u16)> {
    while *bits == 0 {
        *bits = std::mem::take(arrays.counted[..arrays.words].get_mut(*word)?);
        *word += 1;
    }
    let doc = (*word - 1) * 64 + bits.trailing_zeros() as usize;
    *bits &= *bits - 1;
    Some((doc as DocId, std::mem::take(&mut arrays.counts[doc])))
}

impl Iterator for DocCountsDrain {
    type Item = (DocId, u16);

    fn next(&mut self) -> Option<(DocId, u16)> {
        next_counted(self.arrays.as_mut()?, &mut self.word, &mut self.bits)
    }
}

impl Drop for DocCountsDrain {
    fn drop(&mut self) {
        if let Some(mut arrays) = self.arrays.take() {
            // Zero what an early stop left, then hand the arrays back.
            while next_counted(&mut arrays, &mut self.word, &mut self.bits).is_some() {}
            SPARE_DOC_COUNTS.with(|spare| *spare.borrow_mut() = Some(arrays));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::QueryTerms;
    use crate::tm::search::{fetch_unit, CandidateFilter, LookupQuery};
    use crate::tm::testing::{tm_in_segments, un_pairs, with_a_token_dropped};
    use crate::tm::{NewUnit, OpenMode, Tm};

    /// A lookup for the top five over every collection.
    fn lookup_of(text: &str, source_lang: &str, target_lang: &str, min_score: u8) -> LookupQuery {
        LookupQuery {
            text: text.to_owned(),
            source_lang: source_lang.to_owned(),
            target_lang: target_lang.to_owned(),
            min_score,
            limit: 5,
            collections: Vec::new(),
            hidden_collections: Vec::new(),
        }
    }

    /// The stage is exact within its budget: every stored unit scoring at least the floor is
    /// among the units it returns, with a bound no lower than its score. Checked against
    /// every unit of a 2,000-pair TM in several segments, in both directions, for stored
    /// sentences with a word dropped and sentences never stored, at three floors.
    #[test]
    fn every_unit_that_can_reach_the_floor_is_found_with_a_bound_above_its_score() {
        let pairs = un_pairs(2_300);
        let (stored, unseen) = pairs.split_at(2_000);
        let dir = tempfile::tempdir().unwrap();
        let tm = tm_in_segments(dir.path(), stored);
        let searcher = tm.reader.searcher();
        // Every stored unit by id: its Chinese and English text.
        let mut units = HashMap::new();
        tm.for_each_unit(None, |unit| {
            let text = |lang: &str| unit.variant_in(lang).unwrap().text.clone();
            units.insert(unit.id, (text("zh"), text("en")));
            Ok(())
        })
        .unwrap();
        // A stored sentence with one token dropped, in both languages; and sentences never
        // stored, which mostly have no good match at all.
        let mut queries = Vec::new();
        for (zh, en) in stored.iter().step_by(50) {
            queries.push(("zh", "en", with_a_token_dropped(zh)));
            queries.push(("en", "zh", with_a_token_dropped(en)));
        }
        for (zh, en) in unseen.iter().step_by(10) {
            queries.push(("zh", "en", zh.clone()));
            queries.push(("en", "zh", en.clone()));
        }
        let mut checked = 0;
        for (source_lang, target_lang, query) in queries {
            let lookup = lookup_of(&query, source_lang, target_lang, 1);
            let tokens = crate::text::tokens(&query);
            let terms = QueryTerms::new(&searcher, &tm.fields, source_lang, &tokens).unwrap();
            let filter = CandidateFilter::for_lookup(&tm.fields, &lookup, tokens.len());
            let scores: Vec<(u64, &String, u8)> = units
                .iter()
                .map(|(id, (zh, en))| {
                    let source = if source_lang == "zh" { zh } else { en };
                    (*id, source, crate::text::score(&query, source))
                })
                .collect();
            for floor in [50u8, 70, 90] {
                let found = terms
                    .units_that_can_reach(&searcher, &tm.length_tables, &filter, floor, u64::MAX)
                    .unwrap()
                    .expect("an unlimited budget always suffices");
                let bounds: HashMap<u64, u8> = found
                    .iter()
                    .map(|reachable| {
                        let unit = fetch_unit(&searcher, &tm.fields, reachable.address).unwrap();
                        (unit.id, reachable.bound)
                    })
                    .collect();
                for &(id, source, score) in &scores {
                    if score < floor {
                        continue;
                    }
                    checked += 1;
                    let bound = bounds.get(&id).unwrap_or_else(|| {
                        panic!("{query:?} → {source:?} scores {score} ≥ {floor} but was not found")
                    });
                    assert!(
                        *bound >= score,
                        "{query:?} → {source:?}: bound {bound} below the score {score}"
                    );
                }
            }
        }
        assert!(checked >= 100, "only {checked} units reached a floor");
    }

    /// A unit holding two texts in the query's language (Simplified and Traditional) is
    /// judged by either: its length in the filters stands for both, so neither text is
    /// pruned by the other's length, and the lookup scores the one that matches best.
    #[test]
    fn a_unit_with_two_source_texts_is_found_by_the_one_that_matches() {
        let dir = tempfile::tempdir().unwrap();
        let tm = Tm::open(dir.path(), OpenMode::ReadWrite).unwrap();
        let mut unit = NewUnit::pair(
            "zh-CN",
            "这是一个很长很长的句子，它和查询几乎没有任何共同之处，只是为了让长度远离查询的长度而已。",
            "en",
            "The meeting was chaired by the district secretary.",
        );
        unit.variants.push(crate::tm::Variant::plain(
            "zh-TW",
            "會議由昌平區委書記主持。",
        ));
        tm.add_blocking(vec![unit]).unwrap();
        let query = "會議由昌平區委副書記主持。";
        let lookup = lookup_of(query, "zh", "en", 50);
        let matches = tm.lookup(&lookup).unwrap();
        assert_eq!(matches.len(), 1);
        assert_eq!(matches[0].source.text, "會議由昌平區委書記主持。");
        assert_eq!(matches[0].score, 92);

        let searcher = tm.reader.searcher();
        let tokens = crate::text::tokens(query);
        let terms = QueryTerms::new(&searcher, &tm.fields, "zh", &tokens).unwrap();
        let filter = CandidateFilter::for_lookup(&tm.fields, &lookup, tokens.len());
        let found = terms
            .units_that_can_reach(&searcher, &tm.length_tables, &filter, 90, u64::MAX)
            .unwrap()
            .unwrap();
        assert_eq!(found.len(), 1);
        assert!(found[0].bound >= 92);
    }
}
