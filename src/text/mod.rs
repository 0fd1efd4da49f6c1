//! Text analysis: the one normalization, the one tokenizer and the fuzzy-match score.
//!
//! Everything that compares or indexes text goes through [`normalize`] and [`tokens`]: the
//! score, the Tantivy index terms and the query terms are all built from the same token
//! sequence, so a candidate filter built on shared tokens can reason exactly about the score.
//!
//! The score is the one defined in the project's match-score document: NFKC, lowercase, one
//! token per Han/Kana character, one token per run of other letters and digits, one token per
//! punctuation or symbol character, Levenshtein distance over tokens,
//! `floor(100 × (L − d) / L)` capped at 99 unless the strings are byte-identical.
//!
//! This module is pure: no I/O, no knowledge of HTTP, Tantivy or storage.

pub mod diff;
pub mod sentences;

use std::ops::Range;

use rapidfuzz::distance::levenshtein;
use unicode_general_category::{get_general_category, GeneralCategory};
use unicode_normalization::char::canonical_combining_class;
use unicode_normalization::UnicodeNormalization;

/// Characters of scripts written without spaces: each one is a token of its own.
const NO_SPACE_RANGES: [(u32, u32); 6] = [
    (0x3007, 0x3007),   // 〇
    (0x3040, 0x30FF),   // Hiragana, Katakana
    (0x3400, 0x4DBF),   // CJK Extension A
    (0x4E00, 0x9FFF),   // CJK Unified Ideographs
    (0xF900, 0xFAFF),   // CJK Compatibility Ideographs
    (0x20000, 0x323AF), // CJK Extensions B..H
];

/// Is `c` a character of a script written without spaces (one token per character)?
pub fn is_no_space_char(c: char) -> bool {
    let code = c as u32;
    NO_SPACE_RANGES
        .iter()
        .any(|&(low, high)| low <= code && code <= high)
}

/// Letters and digits (general category L* or N*) outside the no-space scripts: they form words.
fn is_word_char(c: char) -> bool {
    use GeneralCategory::*;
    let letter_or_number = matches!(
        get_general_category(c),
        UppercaseLetter
            | LowercaseLetter
            | TitlecaseLetter
            | ModifierLetter
            | OtherLetter
            | DecimalNumber
            | LetterNumber
            | OtherNumber
    );
    letter_or_number && !is_no_space_char(c)
}

/// White space as the score's definition means it: the characters Python's `str.isspace`
/// accepts (bidirectional class WS, B or S, or category Zs). This differs from Rust's
/// `char::is_whitespace` on U+001C..U+001F, which must separate tokens here too.
fn is_separator_space(c: char) -> bool {
    matches!(
        c,
        '\u{9}'..='\u{d}'
            | '\u{1c}'..='\u{20}'
            | '\u{85}'
            | '\u{a0}'
            | '\u{1680}'
            | '\u{2000}'..='\u{200a}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{202f}'
            | '\u{205f}'
            | '\u{3000}'
    )
}

/// The one normalization: Unicode NFKC (folds full-width Latin, digits and ASCII punctuation
/// to half-width), then lowercase. Stored text is never changed; this is only for comparing.
pub fn normalize(text: &str) -> String {
    // Most stored text is already NFKC; the quick check spares re-composing it on every
    // candidate a lookup scores. `Maybe` and `No` take the full path.
    if unicode_normalization::is_nfkc_quick(text.chars())
        == unicode_normalization::IsNormalized::Yes
    {
        return text.to_lowercase();
    }
    let composed: String = text.nfkc().collect();
    composed.to_lowercase()
}

/// What kind of token a token is; the index treats words and single characters alike, but
/// the stemmer only applies to words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// One Han, Kana or 〇 character.
    NoSpaceChar,
    /// A maximal run of other letters and digits.
    Word,
    /// One punctuation or symbol character.
    Symbol,
}

/// A token of normalized text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub text: String,
    pub kind: TokenKind,
}

/// Splits already-normalized text into tokens. `chars` yields each character with the index
/// where it starts and the index just after it (positions in a `&[char]`, or byte offsets in
/// a `&str`); `emit(range, kind)` receives each token's range in those indices, so callers
/// slice their own storage and no token is copied here.
fn split_tokens<F>(chars: impl Iterator<Item = (usize, char, usize)>, mut emit: F)
where
    F: FnMut(Range<usize>, TokenKind),
{
    let mut word: Option<Range<usize>> = None;
    for (start, c, end) in chars {
        if is_word_char(c) {
            match &mut word {
                Some(range) => range.end = end,
                None => word = Some(start..end),
            }
            continue;
        }
        if let Some(range) = word.take() {
            emit(range, TokenKind::Word);
        }
        if is_separator_space(c) {
            continue;
        }
        let kind = if is_no_space_char(c) {
            TokenKind::NoSpaceChar
        } else {
            TokenKind::Symbol
        };
        emit(start..end, kind);
    }
    if let Some(range) = word {
        emit(range, TokenKind::Word);
    }
}

/// Is `token` (one token of [`tokens`]) a word, the kind of token a stemmer applies to?
pub fn is_word(token: &str) -> bool {
    token.chars().next().is_some_and(is_word_char)
}

/// The characters of a `&str` for [`split_tokens`], indexed by byte offset.
fn str_chars(text: &str) -> impl Iterator<Item = (usize, char, usize)> + '_ {
    text.char_indices()
        .map(|(start, c)| (start, c, start + c.len_utf8()))
}

/// Calls `emit` with each token of already-[`normalize`]d text, borrowed from it: the
/// allocation-free form of [`tokens`], for the indexer.
pub fn for_each_token<'a>(normalized: &'a str, mut emit: impl FnMut(&'a str, TokenKind)) {
    split_tokens(str_chars(normalized), |range, kind| {
        emit(&normalized[range], kind)
    });
}

/// The score's token sequence of `text` (normalized first).
pub fn tokens(text: &str) -> Vec<Token> {
    let normalized = normalize(text);
    let mut out = Vec::new();
    for_each_token(&normalized, |token, kind| {
        out.push(Token {
            text: token.to_owned(),
            kind,
        })
    });
    out
}

/// A token together with the Unicode-character range of the original (unnormalized) text
/// it came from: used to report highlights in the text as the client sent or stored it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocatedToken {
    pub token: Token,
    pub chars: Range<usize>,
}

/// Tokens of `text` with their character offsets in `text` itself.
///
/// Normalization can change the number of characters (`㈱` becomes three), so the text is
/// normalized one cluster at a time (a starter and the combining marks after it) and every
/// normalized character remembers the original cluster it came from. For ordinary text this
/// gives exactly the tokens of [`tokens`].
pub fn located_tokens(text: &str) -> Vec<LocatedToken> {
    let original: Vec<char> = text.chars().collect();
    let mut normalized_chars: Vec<char> = Vec::with_capacity(original.len());
    let mut origin: Vec<Range<usize>> = Vec::with_capacity(original.len());
    let mut cluster_start = 0;
    while cluster_start < original.len() {
        let mut cluster_end = cluster_start + 1;
        while cluster_end < original.len() && canonical_combining_class(original[cluster_end]) != 0
        {
            cluster_end += 1;
        }
        let cluster: String = original[cluster_start..cluster_end].iter().collect();
        for c in normalize(&cluster).chars() {
            normalized_chars.push(c);
            origin.push(cluster_start..cluster_end);
        }
        cluster_start = cluster_end;
    }
    let mut out = Vec::new();
    let indexed = normalized_chars
        .iter()
        .enumerate()
        .map(|(index, &c)| (index, c, index + 1));
    split_tokens(indexed, |range, kind| {
        out.push(LocatedToken {
            token: Token {
                text: normalized_chars[range.clone()].iter().collect(),
                kind,
            },
            chars: origin[range.start].start..origin[range.end - 1].end,
        })
    });
    out
}

/// A token as a number for the edit-distance kernel: a single character is its code point,
/// a longer word a 63-bit hash with the top bit set (so it never equals a code point).
fn token_id(token: &str) -> u64 {
    let mut chars = token.chars();
    if let (Some(single), None) = (chars.next(), chars.next()) {
        return single as u64;
    }
    xxhash_rust::xxh3::xxh3_64(token.as_bytes()) | (1 << 63)
}

/// The token sequence of `text` as numbers (see [`token_id`]).
pub fn token_ids(text: &str) -> Vec<u64> {
    let normalized = normalize(text);
    let mut out = Vec::with_capacity(normalized.len());
    for_each_token(&normalized, |token, _| out.push(token_id(token)));
    out
}

/// The score from a distance and the two sequence lengths, per the definition.
fn score_from_distance(distance: usize, query_len: usize, candidate_len: usize) -> u8 {
    let longest = query_len.max(candidate_len);
    if longest == 0 {
        // Both are blank but not byte-identical.
        return 99;
    }
    let similar = longest - distance.min(longest);
    ((100 * similar) / longest).min(99) as u8
}

/// The fuzzy-match score (0..=100) of a stored segment `candidate` for `query`.
pub fn score(query: &str, candidate: &str) -> u8 {
    if query == candidate {
        return 100;
    }
    let query_ids = token_ids(query);
    let candidate_ids = token_ids(candidate);
    let distance = levenshtein::distance(query_ids.iter(), candidate_ids.iter());
    score_from_distance(distance, query_ids.len(), candidate_ids.len())
}

/// Scores many candidates against one query, preparing the query once.
pub struct QueryScorer {
    query: String,
    query_len: usize,
    comparator: levenshtein::BatchComparator<u64>,
}

impl QueryScorer {
    pub fn new(query: &str) -> Self {
        let ids = token_ids(query);
        QueryScorer {
            query: query.to_owned(),
            query_len: ids.len(),
            comparator: levenshtein::BatchComparator::new(ids),
        }
    }

    /// Number of tokens in the query.
    pub fn query_len(&self) -> usize {
        self.query_len
    }

    pub fn score(&self, candidate: &str) -> u8 {
        if self.query == candidate {
            return 100;
        }
        self.score_tokens(candidate, &token_ids(candidate))
    }

    /// [`QueryScorer::score`] for a candidate whose [`token_ids`] are already known.
    pub fn score_tokens(&self, candidate: &str, candidate_ids: &[u64]) -> u8 {
        if self.query == candidate {
            return 100;
        }
        let distance = self.comparator.distance(candidate_ids.iter().copied());
        score_from_distance(distance, self.query_len, candidate_ids.len())
    }
}

/// The English (and other space-delimited languages') stemmer used for concordance, chosen by
/// the primary language subtag. `None` for languages without one (Chinese, Japanese…).
pub fn stemmer_for(primary_language: &str) -> Option<rust_stemmers::Stemmer> {
    use rust_stemmers::Algorithm::*;
    let algorithm = match primary_language {
        "en" => English,
        "fr" => French,
        "de" => German,
        "es" => Spanish,
        "it" => Italian,
        "pt" => Portuguese,
        "nl" => Dutch,
        "ru" => Russian,
        "sv" => Swedish,
        "da" => Danish,
        "no" | "nb" | "nn" => Norwegian,
        "fi" => Finnish,
        "hu" => Hungarian,
        "ro" => Romanian,
        "tr" => Turkish,
        "ar" => Arabic,
        "el" => Greek,
        _ => return None,
    };
    Some(rust_stemmers::Stemmer::create(algorithm))
}

/// The stem of a token: words are stemmed, single characters and symbols stay as they are.
pub fn stem_token(stemmer: &rust_stemmers::Stemmer, token: &Token) -> String {
    match token.kind {
        TokenKind::Word => stemmer.stem(&token.text).into_owned(),
        TokenKind::NoSpaceChar | TokenKind::Symbol => token.text.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn examples_from_the_definition() {
        assert_eq!(
            score("会议由昌平区委书记主持。", "会议由昌平区委副书记主持。"),
            92
        );
        assert_eq!(
            score("The meeting was held.", "The meeting was held recently."),
            83
        );
        assert_eq!(score("ＡＢＣ，2025", "abc,2025"), 99);
        assert_eq!(score("same", "same"), 100);
        assert_eq!(score(" ", "  "), 99);
    }

    #[test]
    fn tokens_split_han_words_and_symbols() {
        let texts: Vec<String> = tokens("推进“一带一路”建设 in 2025, BRI!")
            .into_iter()
            .map(|t| t.text)
            .collect();
        assert_eq!(
            texts,
            [
                "推", "进", "“", "一", "带", "一", "路", "”", "建", "设", "in", "2025", ",", "bri",
                "!"
            ]
        );
    }

    #[test]
    fn file_separator_controls_split_tokens_like_python_isspace() {
        assert_eq!(tokens("a\u{1c}b").len(), 2);
    }

    #[test]
    fn located_tokens_point_into_the_original_text() {
        let located = located_tokens("ＷＴＯ成员 met");
        assert_eq!(located[0].token.text, "wto");
        assert_eq!(located[0].chars, 0..3);
        assert_eq!(located[1].chars, 3..4);
        assert_eq!(located[3].token.text, "met");
        assert_eq!(located[3].chars, 6..9);
    }

    #[test]
    fn batch_scorer_agrees_with_score() {
        let scorer = QueryScorer::new("The meeting was held.");
        assert_eq!(scorer.score("The meeting was held recently."), 83);
        assert_eq!(scorer.score("The meeting was held."), 100);
    }

    /// Every row of the shared golden file must get exactly its score.
    #[test]
    fn golden_scores_match_the_reference_implementation() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/data/match-score-golden.tsv"
        );
        let golden = std::fs::read_to_string(path)
            .unwrap_or_else(|error| panic!("cannot read {path}: {error}"));
        let mut checked = 0;
        let mut failures = Vec::new();
        for (line_number, line) in golden.lines().enumerate().skip(1) {
            let mut columns = line.split('\t');
            let (Some(query), Some(candidate), Some(expected)) =
                (columns.next(), columns.next(), columns.next())
            else {
                panic!("line {}: expected three columns", line_number + 1);
            };
            let expected: u8 = expected.trim().parse().expect("score column");
            let got = score(query, candidate);
            let batch = QueryScorer::new(query).score(candidate);
            if got != expected || batch != expected {
                failures.push(format!(
                    "line {}: {query:?} vs {candidate:?}: expected {expected}, got {got}/{batch}",
                    line_number + 1
                ));
            }
            checked += 1;
        }
        assert_eq!(checked, 856, "golden file should hold 856 pairs");
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }
}
