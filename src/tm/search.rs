//! Reads: fuzzy lookup, concordance, fetching units by id or content, and walking all units.
//!
//! All functions here are synchronous CPU work over one searcher snapshot; the HTTP layer runs
//! them on the blocking pool. A `DocAddress` never leaves this module: units are addressed by
//! their stable id.

use std::collections::BTreeSet;
use std::sync::Arc;

use tantivy::collector::{Count, DocSetCollector, TopDocs};
use tantivy::columnar::Column;
use tantivy::index::InvertedIndexReader;
use tantivy::postings::TermInfo;
use tantivy::query::{
    AllQuery, BooleanQuery, ConstScoreQuery, Occur, PhraseQuery, Query, RegexPhraseQuery,
    TermQuery, TermSetQuery,
};
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::{DocAddress, DocId, DocSet, Order, Searcher, SegmentReader, TERMINATED};
use tantivy::{TantivyDocument, Term};

use crate::tm::candidates;
use crate::tm::lengths::{LengthTable, LengthTables, TextLength};
use crate::tm::reach;
use crate::tm::schema::{bigram_term, length_key, token_term, Fields, LENGTH_BITS};
use crate::tm::stems::StemTables;
use crate::tm::unit::{Status, Unit, Variant};
use crate::tm::TmError;
use crate::{lang, text};

/// A fuzzy lookup as the store understands it (already validated by the caller).
#[derive(Debug, Clone)]
pub struct LookupQuery {
    pub text: String,
    pub source_lang: String,
    pub target_lang: String,
    pub min_score: u8,
    pub limit: usize,
    /// Empty: every collection.
    pub collections: Vec<String>,
    /// Collections whose units are never returned (the caller may not see them).
    pub hidden_collections: Vec<String>,
}

/// One fuzzy match: the stored unit, which of its variants matched and how well.
#[derive(Debug, Clone)]
pub struct Match {
    pub score: u8,
    pub source: Variant,
    pub target: Variant,
    pub unit: Unit,
}

/// How many candidates the index hands to the exact re-rank. Candidates are ranked by BM25
/// over shared token bigrams; the exact score then decides. More candidates cost about
/// 12 µs each (fetching the stored unit) and buy recall on near-repeat-heavy memories. Short
/// queries get more: their few terms rank many units alike (at 1M units, 60 candidates missed
/// the best match of "This is a terrorist attack." among the many "This is a …" sentences).
fn candidate_count(limit: usize, query_tokens: usize) -> usize {
    if query_tokens <= SHORT_QUERY_TOKENS {
        (limit * 8).max(120)
    } else {
        (limit * 4).max(60)
    }
}

/// Queries of at most this many tokens are short (see [`candidate_count`]).
const SHORT_QUERY_TOKENS: usize = 8;

/// The best score a source of `stored` tokens can reach against a query of `query` tokens:
/// at least `|query − stored|` edits apart, so at most `floor(100 × min / max)`.
fn length_bound(query: usize, stored: usize) -> u8 {
    if query == 0 || stored == 0 {
        return 0;
    }
    (100 * query.min(stored) / query.max(stored)) as u8
}

/// Decodes the stored unit of a document.
fn decode_unit(fields: &Fields, document: &TantivyDocument) -> Result<Unit, TmError> {
    let bytes = document
        .get_first(fields.unit)
        .and_then(|value| value.as_bytes())
        .ok_or_else(|| TmError::Corrupt("a document has no stored unit".to_owned()))?;
    rmp_serde::from_slice(bytes)
        .map_err(|error| TmError::Corrupt(format!("stored unit cannot be decoded: {error}")))
}

pub(super) fn fetch_unit(
    searcher: &Searcher,
    fields: &Fields,
    address: DocAddress,
) -> Result<Unit, TmError> {
    let document: TantivyDocument = searcher.doc(address)?;
    decode_unit(fields, &document)
}

/// The unit with `id`, if it exists in this snapshot.
pub fn unit_by_id(searcher: &Searcher, fields: &Fields, id: u64) -> Result<Option<Unit>, TmError> {
    let query = TermQuery::new(
        Term::from_field_u64(fields.id, id),
        IndexRecordOption::Basic,
    );
    let hits = searcher.search(&query, &TopDocs::with_limit(1).order_by_score())?;
    match hits.first() {
        Some((_, address)) => fetch_unit(searcher, fields, *address).map(Some),
        None => Ok(None),
    }
}

/// Units whose content key shares its `content` term with `key` (normally zero or one).
pub fn units_by_content(
    searcher: &Searcher,
    fields: &Fields,
    key: u128,
) -> Result<Vec<Unit>, TmError> {
    let query = TermQuery::new(
        Term::from_field_u64(fields.content, crate::tm::schema::content_term(key)),
        IndexRecordOption::Basic,
    );
    let hits = searcher.search(&query, &TopDocs::with_limit(16).order_by_score())?;
    hits.into_iter()
        .map(|(_, address)| fetch_unit(searcher, fields, address))
        .collect()
}

/// A filter clause that restricts without contributing to the BM25 ranking.
fn filter(query: Box<dyn Query>) -> (Occur, Box<dyn Query>) {
    (Occur::Must, Box::new(ConstScoreQuery::new(query, 0.0)))
}

fn term_filter(term: Term) -> (Occur, Box<dyn Query>) {
    filter(Box::new(TermQuery::new(term, IndexRecordOption::Basic)))
}

/// Filters shared by lookup and concordance: the languages a unit must have and the
/// collections it may be in.
fn common_filters(
    fields: &Fields,
    languages: &[&str],
    collections: &[String],
    hidden_collections: &[String],
) -> Vec<(Occur, Box<dyn Query>)> {
    let mut clauses = Vec::new();
    for tag in languages {
        let normalized = tag.trim().to_ascii_lowercase().replace('_', "-");
        clauses.push(term_filter(Term::from_field_text(fields.lang, &normalized)));
    }
    if !collections.is_empty() {
        let any_collection: Vec<(Occur, Box<dyn Query>)> = collections
            .iter()
            .map(|name| {
                let query: Box<dyn Query> = Box::new(TermQuery::new(
                    Term::from_field_text(fields.collection, name),
                    IndexRecordOption::Basic,
                ));
                (Occur::Should, query)
            })
            .collect();
        clauses.push(filter(Box::new(BooleanQuery::new(any_collection))));
    }
    for name in hidden_collections {
        let query: Box<dyn Query> = Box::new(TermQuery::new(
            Term::from_field_text(fields.collection, name),
            IndexRecordOption::Basic,
        ));
        clauses.push((Occur::MustNot, query));
    }
    clauses
}

/// Ties between equal scores: approved before draft, newer before older, then higher id.
fn tie_break(left: &Match, right: &Match) -> std::cmp::Ordering {
    let status_rank = |status: Status| match status {
        Status::Approved => 0,
        Status::Draft => 1,
    };
    right
        .score
        .cmp(&left.score)
        .then(status_rank(left.unit.status).cmp(&status_rank(right.unit.status)))
        .then(right.unit.updated_at.cmp(&left.unit.updated_at))
        .then(right.unit.id.cmp(&left.unit.id))
}

/// The token counts a stored source can have and still reach `min_score` against a query of
/// `query_len` tokens. A candidate of `m` tokens is at least `|n − m|` edits away, so its
/// score is at most `100 × min(n, m) / max(n, m)`; requiring that to reach `s` gives
/// `ceil(s × n / 100) ≤ m ≤ floor(100 × n / s)`. Exact: the filter never drops a match.
pub fn length_window(query_len: usize, min_score: u8) -> Option<(usize, usize)> {
    if min_score == 0 {
        return None;
    }
    let score = min_score as usize;
    let shortest = (score * query_len).div_ceil(100);
    let longest = (100 * query_len) / score;
    Some((shortest, longest))
}

/// Which documents may become lookup candidates: those with a source text whose token count
/// lies inside the length window, a text in the target language, and not in a hidden
/// collection.
#[derive(Clone)]
pub(super) struct CandidateFilter {
    /// Inclusive range of token counts the source text may have.
    window: (usize, usize),
    /// The query's token count (stands for the length of a unit with several source texts).
    query_tokens: usize,
    /// The language bits of the source and target languages' `lengths` values.
    source_language: u64,
    target_language: u64,
    /// Collections whose units the caller may not see.
    hidden_collections: Vec<Term>,
}

impl CandidateFilter {
    /// The filter of a lookup for a query of `query_tokens` tokens. Its length window is
    /// exact: it never drops a source that can reach `min_score`.
    pub(super) fn for_lookup(
        fields: &Fields,
        query: &LookupQuery,
        query_tokens: usize,
    ) -> CandidateFilter {
        let language_bits = |tag: &str| length_key(&lang::primary_subtag(tag), 0) >> LENGTH_BITS;
        CandidateFilter {
            window: length_window(query_tokens, query.min_score).unwrap_or((0, usize::MAX)),
            query_tokens,
            source_language: language_bits(&query.source_lang),
            target_language: language_bits(&query.target_lang),
            hidden_collections: query
                .hidden_collections
                .iter()
                .map(|name| Term::from_field_text(fields.collection, name))
                .collect(),
        }
    }

    /// The same filter with another length window.
    pub(super) fn with_window(&self, window: (usize, usize)) -> CandidateFilter {
        CandidateFilter {
            window,
            ..self.clone()
        }
    }

    /// The filter's view of one segment.
    pub(super) fn in_segment<'a>(
        &'a self,
        searcher: &Searcher,
        reader: &'a SegmentReader,
        tables: &LengthTables,
    ) -> Result<SegmentFilter<'a>, TmError> {
        let lengths: Column<u64> = reader.fast_fields().u64("lengths")?;
        Ok(SegmentFilter {
            source: tables.get(searcher, reader, &lengths, self.source_language),
            target: tables.get(searcher, reader, &lengths, self.target_language),
            lengths,
            alive: reader.alive_bitset(),
            hidden: documents_with_any(reader, &self.hidden_collections)?,
            filter: self,
        })
    }
}

/// A [`CandidateFilter`] over one segment.
pub(super) struct SegmentFilter<'a> {
    filter: &'a CandidateFilter,
    source: Arc<LengthTable>,
    target: Arc<LengthTable>,
    /// Asked only for a unit with several source texts.
    lengths: Column<u64>,
    alive: Option<&'a tantivy::fastfield::AliveBitSet>,
    /// Documents of hidden collections, sorted.
    hidden: Vec<DocId>,
}

impl SegmentFilter<'_> {
    /// For a document that may be a candidate, the token count of its source text (see
    /// [`SegmentFilter::source_tokens`]).
    pub(super) fn accepts(&self, doc: DocId) -> Option<usize> {
        self.source_tokens(doc).filter(|_| self.admits(doc))
    }

    /// The token count of the document's source text if it lies inside the window. For a
    /// unit with several source texts (`zh-CN` and `zh-TW`) with one inside, the query's own
    /// count: every bound computed from it is then the loosest any of the texts could have,
    /// so no text is pruned by another's length.
    pub(super) fn source_tokens(&self, doc: DocId) -> Option<usize> {
        let (shortest, longest) = self.filter.window;
        match self.source.get(doc) {
            TextLength::Absent => None,
            TextLength::Tokens(count) => {
                Some(count).filter(|count| (shortest..=longest).contains(count))
            }
            TextLength::SeeColumn => self.any_in_column(doc),
        }
    }

    /// Whether the document has a target text, is not deleted and not hidden.
    pub(super) fn admits(&self, doc: DocId) -> bool {
        self.target.get(doc) != TextLength::Absent
            && self.alive.is_none_or(|alive| alive.is_alive(doc))
            && self.hidden.binary_search(&doc).is_err()
    }

    /// The query's token count if any source text of the document lies inside the window.
    fn any_in_column(&self, doc: DocId) -> Option<usize> {
        let (shortest, longest) = self.filter.window;
        self.lengths
            .values_for_doc(doc)
            .filter(|value| value >> LENGTH_BITS == self.filter.source_language)
            .map(|value| (value & ((1 << LENGTH_BITS) - 1)) as usize)
            .any(|count| (shortest..=longest).contains(&count))
            .then_some(self.filter.query_tokens)
    }
}

/// The documents of a segment that hold any of `terms`, sorted. Meant for the few units of
/// restricted collections; with no term it reads nothing.
fn documents_with_any(reader: &SegmentReader, terms: &[Term]) -> Result<Vec<DocId>, TmError> {
    let mut documents = Vec::new();
    for term in terms {
        let index = reader.inverted_index(term.field())?;
        let postings = index
            .read_postings(term, IndexRecordOption::Basic)
            .map_err(tantivy::TantivyError::from)?;
        if let Some(mut postings) = postings {
            let mut doc = postings.doc();
            while doc != TERMINATED {
                documents.push(doc);
                doc = postings.advance();
            }
        }
    }
    documents.sort_unstable();
    documents.dedup();
    Ok(documents)
}

/// A query term with where its postings are in each segment, looked up once per lookup and
/// shared by the ranking that selects terms and the stages that read them.
pub(super) struct TermPostings {
    pub term: Term,
    /// Units holding it, over all segments (deleted ones included, as Tantivy's own
    /// `Searcher::doc_freq` and BM25 count them).
    pub doc_freq: u64,
    /// Its postings in each segment, by segment ordinal (`None`: not in that segment).
    pub in_segments: Vec<Option<(Arc<InvertedIndexReader>, TermInfo)>>,
}

impl TermPostings {
    pub(super) fn look_up(searcher: &Searcher, term: Term) -> Result<TermPostings, TmError> {
        let mut in_segments = Vec::with_capacity(searcher.segment_readers().len());
        let mut doc_freq = 0u64;
        for reader in searcher.segment_readers() {
            let index = reader.inverted_index(term.field())?;
            let info = index
                .get_term_info(&term)
                .map_err(tantivy::TantivyError::from)?;
            doc_freq += info.as_ref().map_or(0, |info| info.doc_freq as u64);
            in_segments.push(info.map(|info| (index, info)));
        }
        Ok(TermPostings {
            term,
            doc_freq,
            in_segments,
        })
    }
}

/// A term found in more than this share of the units is too common to point at a match…
const COMMON_TERM_SHARE: f64 = 0.002;
/// …unless the TM is small, where every term is cheap.
const COMMON_TERM_MIN_DOCS: u64 = 2_000;
/// The rarest terms of a query are always kept, however common: at least this many…
const ALWAYS_KEPT_TERMS: usize = 8;
/// …and at least this share of them.
const ALWAYS_KEPT_SHARE: f64 = 0.34;
/// No more than this many terms are searched: the rarest. Block-max WAND, which ranks the
/// queries whose lists are long, re-sorts its terms at every step, so its cost grows faster
/// than the number of terms.
const MAX_TERMS: usize = 32;

/// The query terms worth searching: common ones (in more than 0.2 % of the units) are left
/// out, since they select nothing and dominate the cost of a large TM (their posting lists
/// are the longest), but the rarest third, and at least eight, are always kept.
/// Terms in no unit are dropped: they cannot select anything.
fn selective_terms(
    searcher: &Searcher,
    terms: BTreeSet<Term>,
) -> Result<Vec<TermPostings>, TmError> {
    let units = searcher.num_docs();
    let common = ((units as f64 * COMMON_TERM_SHARE) as u64).max(COMMON_TERM_MIN_DOCS);
    let mut by_rarity = Vec::with_capacity(terms.len());
    for term in terms {
        let postings = TermPostings::look_up(searcher, term)?;
        if postings.doc_freq > 0 {
            by_rarity.push(postings);
        }
    }
    by_rarity.sort_by_key(|candidate| candidate.doc_freq);
    let always_kept =
        ALWAYS_KEPT_TERMS.max((by_rarity.len() as f64 * ALWAYS_KEPT_SHARE).ceil() as usize);
    Ok(by_rarity
        .into_iter()
        .enumerate()
        .filter(|(rank, candidate)| *rank < always_kept || candidate.doc_freq <= common)
        .take(MAX_TERMS)
        .map(|(_, candidate)| candidate)
        .collect())
}

/// The selective terms the first stage ranks candidates by. Bigrams carry most of the
/// signal; single tokens are added for short queries (where one edit can destroy every
/// bigram) and for words (an English word is as selective as a Chinese bigram).
pub(super) fn candidate_terms(
    searcher: &Searcher,
    fields: &Fields,
    primary: &str,
    tokens: &[text::Token],
) -> Result<Vec<TermPostings>, TmError> {
    let mut terms: BTreeSet<Term> = tokens
        .windows(2)
        .map(|pair| {
            Term::from_field_text(
                fields.bigrams,
                &bigram_term(primary, &pair[0].text, &pair[1].text),
            )
        })
        .collect();
    for token in tokens {
        if tokens.len() <= 4 || token.kind == text::TokenKind::Word {
            terms.insert(Term::from_field_text(
                fields.tokens,
                &token_term(primary, &token.text),
            ));
        }
    }
    selective_terms(searcher, terms)
}

/// Fuzzy lookup: candidates from the index, re-ranked by the exact score.
pub fn lookup(
    searcher: &Searcher,
    fields: &Fields,
    tables: &LengthTables,
    query: &LookupQuery,
) -> Result<Vec<Match>, TmError> {
    let primary = lang::primary_subtag(&query.source_lang);
    let tokens = text::tokens(&query.text);
    if tokens.is_empty() || query.limit == 0 {
        return Ok(Vec::new());
    }
    let terms = candidate_terms(searcher, fields, &primary, &tokens)?;
    // Languages are checked on each candidate inside the collection (the `lengths` fast field
    // says which languages a unit has, and how long each text is), so the candidates are
    // ranked by the terms alone (see `candidates`). Only what that field cannot tell — a
    // region or script subtag (`zh-TW`), a collection — becomes a filter clause, which takes
    // the slower way.
    let mut filters = Vec::new();
    for tag in [&query.source_lang, &query.target_lang] {
        if !lang::primary_subtag(tag).eq_ignore_ascii_case(tag.trim()) {
            filters.extend(common_filters(fields, &[tag.as_str()], &[], &[]));
        }
    }
    // Hidden collections are left out inside the candidate filter instead: a `MustNot`
    // clause would send every caller that has one the slower way.
    filters.extend(common_filters(fields, &[], &query.collections, &[]));
    // The length window is exact: it never drops a source that can reach `min_score`.
    let filter = CandidateFilter::for_lookup(fields, query, tokens.len());
    let candidates = candidates::top_candidates(
        searcher,
        terms,
        filters,
        candidate_count(query.limit, tokens.len()),
        &filter,
        tables,
    )?;

    let scorer = text::QueryScorer::new(&query.text);
    let mut answer = Answer::new(query);
    for (address, source_tokens) in candidates {
        if answer.cannot_enter(length_bound(tokens.len(), source_tokens)) {
            continue;
        }
        answer.consider(fetch_unit(searcher, fields, address)?, &scorer);
    }

    // The ranking above favours units sharing rare terms. A unit it missed that would beat
    // the best match found shares enough tokens with the query to be found by counting
    // them (see `reach`), when that is cheap enough.
    let best = answer.best_score();
    let found_match = best >= query.min_score;
    if let Some(budget) = reach::budget(tokens.len(), found_match).filter(|_| best < 100) {
        let floor = query.min_score.max(best + 1);
        let terms = reach::QueryTerms::new(searcher, fields, &primary, &tokens)?;
        let reachable = terms.units_that_can_reach(searcher, tables, &filter, floor, budget)?;
        for unit in reachable.into_iter().flatten() {
            // Best bound first: once a bound cannot beat the best match, none can.
            if unit.bound <= answer.best_score() {
                break;
            }
            let unit = fetch_unit(searcher, fields, unit.address)?;
            if !answer.holds(unit.id) {
                answer.consider(unit, &scorer);
            }
        }
    }
    Ok(answer.into_matches())
}

/// The matches of a lookup as they are found.
struct Answer<'q> {
    query: &'q LookupQuery,
    matches: Vec<Match>,
    /// Scores of the matches so far, best first.
    scores: Vec<u8>,
}

impl<'q> Answer<'q> {
    fn new(query: &'q LookupQuery) -> Self {
        Answer {
            query,
            matches: Vec::new(),
            scores: Vec::new(),
        }
    }

    /// The best score found so far (0 for none).
    fn best_score(&self) -> u8 {
        self.scores.first().copied().unwrap_or(0)
    }

    /// Whether a unit that can score at most `bound` cannot enter the answer: the bound is
    /// below `min_score`, or `limit` matches are found and the last of them scores more.
    fn cannot_enter(&self, bound: u8) -> bool {
        bound < self.query.min_score
            || (self.scores.len() >= self.query.limit && bound < self.scores[self.query.limit - 1])
    }

    fn holds(&self, id: u64) -> bool {
        self.matches.iter().any(|found| found.unit.id == id)
    }

    /// Scores `unit` and keeps it if it has both languages and reaches `min_score`.
    fn consider(&mut self, unit: Unit, scorer: &text::QueryScorer) {
        let Some(target) = unit.variant_in(&self.query.target_lang).cloned() else {
            return;
        };
        let best_source = unit
            .variants_in(&self.query.source_lang)
            .map(|variant| (scorer.score(&variant.text), variant))
            .max_by_key(|(score, _)| *score);
        let Some((score, source)) = best_source else {
            return;
        };
        if score < self.query.min_score {
            return;
        }
        let source = source.clone();
        let rank = self.scores.partition_point(|better| *better >= score);
        self.scores.insert(rank, score);
        self.matches.push(Match {
            score,
            source,
            target,
            unit,
        });
    }

    fn into_matches(mut self) -> Vec<Match> {
        self.matches.sort_by(tie_break);
        self.matches.truncate(self.query.limit);
        self.matches
    }
}

/// A concordance search: every unit whose `lang` text contains `q` as a phrase.
#[derive(Debug, Clone)]
pub struct ConcordanceQuery {
    pub q: String,
    pub lang: String,
    pub target_lang: Option<String>,
    pub limit: usize,
    pub collections: Vec<String>,
    /// Collections whose units are never returned (the caller may not see them).
    pub hidden_collections: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct ConcordanceHit {
    pub unit: Unit,
    pub source: Variant,
    pub target: Option<Variant>,
    /// `[start, end)` in Unicode characters of `source.text`.
    pub highlights: Vec<(usize, usize)>,
}

#[derive(Debug, Clone)]
pub struct ConcordanceResult {
    pub total: usize,
    pub hits: Vec<ConcordanceHit>,
}

/// The comparison key of a token for concordance: its stem where the language has a stemmer.
fn concordance_key(stemmer: Option<&rust_stemmers::Stemmer>, token: &text::Token) -> String {
    match stemmer {
        Some(stemmer) => text::stem_token(stemmer, token),
        None => token.text.clone(),
    }
}

/// Where the phrase `needle` (keys) occurs in `haystack`, as character ranges of the
/// original text.
fn phrase_occurrences(
    stemmer: Option<&rust_stemmers::Stemmer>,
    needle: &[String],
    haystack_text: &str,
) -> Vec<(usize, usize)> {
    let located = text::located_tokens(haystack_text);
    let keys: Vec<String> = located
        .iter()
        .map(|located| concordance_key(stemmer, &located.token))
        .collect();
    let mut out = Vec::new();
    if needle.is_empty() || keys.len() < needle.len() {
        return out;
    }
    for start in 0..=keys.len() - needle.len() {
        if keys[start..start + needle.len()] == *needle {
            let end = start + needle.len() - 1;
            out.push((located[start].chars.start, located[end].chars.end));
        }
    }
    out
}

/// The phrase `tokens` (with `needle`, their concordance keys) where every word stands for
/// any surface form of its stem found in the index; `None` when a word's stem has no form
/// there, so that nothing can match.
fn stemmed_phrase(
    searcher: &Searcher,
    fields: &Fields,
    stem_tables: &StemTables,
    primary: &str,
    stemmer: &rust_stemmers::Stemmer,
    tokens: &[text::Token],
    needle: &[String],
) -> Result<Option<Box<dyn Query>>, TmError> {
    let is_word = |token: &text::Token| token.kind == text::TokenKind::Word;
    let stems: Vec<&str> = tokens
        .iter()
        .zip(needle)
        .filter(|(token, _)| is_word(token))
        .map(|(_, stem)| stem.as_str())
        .collect();
    let mut forms_of_stems = stem_tables
        .surface_forms(searcher, fields.tokens, primary, stemmer, &stems)?
        .into_iter();
    let mut positions: Vec<Vec<String>> = Vec::with_capacity(tokens.len());
    for token in tokens {
        if !is_word(token) {
            positions.push(vec![token.text.clone()]);
            continue;
        }
        let forms = forms_of_stems.next().unwrap_or_default();
        if forms.is_empty() {
            return Ok(None);
        }
        positions.push(forms.into_iter().collect());
    }
    if let [forms] = positions.as_slice() {
        let terms = forms
            .iter()
            .map(|form| Term::from_field_text(fields.tokens, &token_term(primary, form)));
        return Ok(Some(Box::new(TermSetQuery::new(terms))));
    }
    // One regular expression per position, matching exactly its listed terms.
    let patterns: Vec<String> = positions
        .iter()
        .map(|forms| {
            let alternatives: Vec<String> = forms.iter().map(|form| regex::escape(form)).collect();
            format!("{}:(?:{})", regex::escape(primary), alternatives.join("|"))
        })
        .collect();
    Ok(Some(Box::new(RegexPhraseQuery::new(
        fields.tokens,
        patterns,
    ))))
}

pub fn concordance(
    searcher: &Searcher,
    fields: &Fields,
    stem_tables: &StemTables,
    query: &ConcordanceQuery,
) -> Result<ConcordanceResult, TmError> {
    let primary = lang::primary_subtag(&query.lang);
    let stemmer = text::stemmer_for(&primary);
    let tokens = text::tokens(&query.q);
    let needle: Vec<String> = tokens
        .iter()
        .map(|token| concordance_key(stemmer.as_ref(), token))
        .collect();
    if needle.is_empty() {
        return Ok(ConcordanceResult {
            total: 0,
            hits: Vec::new(),
        });
    }
    let phrase_on = |field, keys: &[String]| -> Box<dyn Query> {
        let terms: Vec<Term> = keys
            .iter()
            .map(|key| Term::from_field_text(field, &token_term(&primary, key)))
            .collect();
        if terms.len() == 1 {
            Box::new(TermQuery::new(
                terms[0].clone(),
                IndexRecordOption::WithFreqs,
            ))
        } else {
            Box::new(PhraseQuery::new(terms))
        }
    };
    let mut languages = vec![query.lang.as_str()];
    if let Some(target) = &query.target_lang {
        languages.push(target.as_str());
    }
    let filtered = |phrase: Box<dyn Query>| {
        let mut clauses = common_filters(
            fields,
            &languages,
            &query.collections,
            &query.hidden_collections,
        );
        clauses.push((Occur::Must, phrase));
        BooleanQuery::new(clauses)
    };
    let newest_first = |limit: usize| {
        TopDocs::with_limit(limit.max(1)).order_by_fast_field::<u64>("id", Order::Desc)
    };
    // Words as written come first; with a stemmer, inflected forms fill the rest. (Stems
    // overreach — Snowball maps "initiative" and "initially" to one stem — so the exact
    // phrase must not be buried under them.)
    let (total, top) = match &stemmer {
        None => searcher.search(
            &filtered(phrase_on(fields.tokens, &needle)),
            &(Count, newest_first(query.limit)),
        )?,
        Some(stemmer) => {
            let surface: Vec<String> = tokens.iter().map(|token| token.text.clone()).collect();
            let exact = searcher.search(
                &filtered(phrase_on(fields.tokens, &surface)),
                &newest_first(query.limit),
            )?;
            // Every exact hit is a stemmed hit too, so the stemmed count is the total.
            let stemmed_query = stemmed_phrase(
                searcher,
                fields,
                stem_tables,
                &primary,
                stemmer,
                &tokens,
                &needle,
            )?;
            let (total, stemmed) = match stemmed_query {
                Some(stemmed_query) => searcher.search(
                    &filtered(stemmed_query),
                    &(Count, newest_first(query.limit + exact.len())),
                )?,
                None => (exact.len(), Vec::new()),
            };
            let mut top = exact;
            for candidate in stemmed {
                if top.len() >= query.limit {
                    break;
                }
                if !top.iter().any(|(_, address)| *address == candidate.1) {
                    top.push(candidate);
                }
            }
            (total, top)
        }
    };
    let mut hits = Vec::new();
    for (_, address) in top.into_iter().take(query.limit) {
        let unit = fetch_unit(searcher, fields, address)?;
        // The phrase may sit in any variant under `lang` (zh-CN and zh-TW alike).
        let found = unit.variants_in(&query.lang).find_map(|variant| {
            let highlights = phrase_occurrences(stemmer.as_ref(), &needle, &variant.text);
            (!highlights.is_empty()).then(|| (variant.clone(), highlights))
        });
        let Some((source, highlights)) = found else {
            continue;
        };
        let target = match &query.target_lang {
            Some(target_lang) => unit.variant_in(target_lang).cloned(),
            None => unit
                .variants
                .iter()
                .find(|variant| !lang::matches(&query.lang, &variant.lang))
                .cloned(),
        };
        hits.push(ConcordanceHit {
            unit,
            source,
            target,
            highlights,
        });
    }
    Ok(ConcordanceResult { total, hits })
}

/// Number of units in the snapshot.
pub fn count(searcher: &Searcher) -> u64 {
    searcher.num_docs()
}

/// Number of units in `collection`.
pub fn count_in(searcher: &Searcher, fields: &Fields, collection: &str) -> Result<u64, TmError> {
    let query = TermQuery::new(
        Term::from_field_text(fields.collection, collection),
        IndexRecordOption::Basic,
    );
    Ok(searcher.search(&query, &tantivy::collector::Count)? as u64)
}

/// Calls `visit` with every unit (of `collection`, if given) in id order. Memory grows with
/// the number of ids (16 bytes each), not with the size of the units.
pub fn for_each_unit<F>(
    searcher: &Searcher,
    fields: &Fields,
    collection: Option<&str>,
    mut visit: F,
) -> Result<(), TmError>
where
    F: FnMut(Unit) -> Result<(), TmError>,
{
    let addresses = match collection {
        Some(name) => searcher.search(
            &TermQuery::new(
                Term::from_field_text(fields.collection, name),
                IndexRecordOption::Basic,
            ),
            &DocSetCollector,
        )?,
        None => searcher.search(&AllQuery, &DocSetCollector)?,
    };
    // One id column per segment, opened once.
    let id_columns = searcher
        .segment_readers()
        .iter()
        .map(|segment| segment.fast_fields().u64("id"))
        .collect::<Result<Vec<_>, _>>()?;
    let mut ordered: Vec<(u64, DocAddress)> = addresses
        .into_iter()
        .map(|address| {
            let ids = &id_columns[address.segment_ord as usize];
            (ids.first(address.doc_id).unwrap_or_default(), address)
        })
        .collect();
    ordered.sort_unstable();
    for (_, address) in ordered {
        visit(fetch_unit(searcher, fields, address)?)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{length_bound, length_window};

    /// Skipping a candidate by its length is safe only if no text of that length scores more.
    #[test]
    fn length_bound_is_never_below_the_real_score() {
        let texts = [
            "会议由昌平区委书记主持。",
            "会议由昌平区委副书记主持。",
            "会议由区委书记主持",
            "中方愿同各方一道努力，推动构建人类命运共同体。",
            "The meeting was chaired by the Secretary of the CPC Changping District Committee.",
            "The meeting was chaired by the Secretary.",
            "meeting chaired",
            "一带一路",
            "一带一路。",
        ];
        for query in texts {
            for stored in texts {
                let (query_tokens, stored_tokens) = (
                    crate::text::tokens(query).len(),
                    crate::text::tokens(stored).len(),
                );
                let score = crate::text::score(query, stored);
                assert!(
                    score <= length_bound(query_tokens, stored_tokens),
                    "{query:?} / {stored:?}: score {score} above the bound"
                );
            }
        }
    }

    /// The window is exactly the lengths whose best possible score reaches the threshold.
    #[test]
    fn length_window_keeps_every_length_that_can_reach_the_score() {
        for query_len in 1..60usize {
            for min_score in 1..=100u8 {
                let (shortest, longest) = length_window(query_len, min_score).unwrap();
                for candidate_len in 0..200usize {
                    let longer = query_len.max(candidate_len);
                    let best_possible = 100 * query_len.min(candidate_len) / longer;
                    let reachable = best_possible >= min_score as usize;
                    let inside = (shortest..=longest).contains(&candidate_len);
                    assert_eq!(
                        reachable, inside,
                        "n={query_len} s={min_score} m={candidate_len}"
                    );
                }
            }
        }
        assert_eq!(length_window(10, 0), None);
    }
}
