//! Term recognition: which glossary terms occur in a segment, and where.
//!
//! Two kinds of matching, chosen per term:
//! - **Characters** (terms written in Han or Kana): the text and the terms are folded —
//!   NFKC (width), lowercase, quotation marks dropped (“十四五” and 十四五 are one term),
//!   Traditional to Simplified with OpenCC's tables — and an Aho-Corasick automaton finds the
//!   leftmost-longest matches (一带一路倡议 wins over 一带一路).
//! - **Words** (everything else): the text's tokens (see [`crate::text`]) are stemmed with
//!   the language's Snowball stemmer, and the longest run of tokens that spells a term wins, so
//!   "Belt and Road initiatives" finds "Belt and Road Initiative". Case-sensitive terms
//!   (acronyms such as `BRI`) match the text as written instead.
//!
//! Offsets are Unicode character offsets into the text as sent. A [`Recognizer`] is built
//! from a snapshot of the entries and never changes; the store swaps in a new one after every
//! change, so readers never wait and always see a whole glossary.

use std::collections::{HashMap, HashSet};

use aho_corasick::{AhoCorasick, MatchKind};
use serde::Serialize;
use unicode_normalization::UnicodeNormalization;

use super::model::{Entry, TermStatus, TermType, Workflow};
use crate::{lang, text};

/// A recognized term in a segment.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Hit {
    pub start: usize,
    pub end: usize,
    pub text: String,
    pub entry_id: u64,
    pub term_status: TermStatus,
    /// The matched term as stored in the glossary.
    pub term: String,
    pub targets: Vec<TargetTerm>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct TargetTerm {
    pub text: String,
    pub status: TermStatus,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub term_type: Option<TermType>,
    /// Matched only as written (acronyms).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub case_sensitive: bool,
}

/// Quotation marks that vary between sources and carry no meaning for matching.
fn is_dropped_quote(character: char) -> bool {
    matches!(
        character,
        '"' | '“'
            | '”'
            | '„'
            | '‟'
            | '「'
            | '」'
            | '『'
            | '』'
            | '‘'
            | '’'
            | '\''
            | '〝'
            | '〞'
    )
}

/// Folds text for character matching, remembering for each folded character the original
/// character it came from.
pub fn fold_chars(original: &str) -> (String, Vec<usize>) {
    let mut folded = String::new();
    let mut origin = Vec::new();
    for (index, character) in original.chars().enumerate() {
        let mut buffer = [0u8; 4];
        for normalized in character.encode_utf8(&mut buffer).nfkc() {
            for lower in normalized.to_lowercase() {
                if is_dropped_quote(lower) || lower.is_whitespace() {
                    continue;
                }
                folded.push(lower);
                origin.push(index);
            }
        }
    }
    // Traditional → Simplified. OpenCC maps characters one to one almost always; when a
    // phrase rule changes the length, convert character by character to keep the offsets.
    let simplified = zhconv::zhconv(&folded, zhconv::Variant::ZhHans);
    if simplified.chars().count() == origin.len() {
        return (simplified, origin);
    }
    let per_character: String = folded
        .chars()
        .map(|character| {
            let converted = zhconv::zhconv(&character.to_string(), zhconv::Variant::ZhHans);
            if converted.chars().count() == 1 {
                converted
            } else {
                character.to_string()
            }
        })
        .collect();
    (per_character, origin)
}

/// Does the term need character matching (it contains Han or Kana)?
fn is_character_term(term_text: &str) -> bool {
    term_text.chars().any(text::is_no_space_char)
}

/// Typographic quotes and apostrophes as their ASCII forms: "Beijing’s" and "Beijing's" are
/// one spelling for matching.
fn fold_quote(token: String) -> String {
    match token.as_str() {
        "’" | "‘" | "′" | "`" => "'".to_owned(),
        "“" | "”" | "„" => "\"".to_owned(),
        _ => token,
    }
}

/// A token of a text with both of its matching keys.
struct KeyedToken {
    /// Lowercased and stemmed (or just lowercased where the language has no stemmer).
    stem: String,
    /// As written, after NFKC: for case-sensitive terms.
    exact: String,
    chars: std::ops::Range<usize>,
}

fn keyed_tokens(original: &str, stemmer: Option<&rust_stemmers::Stemmer>) -> Vec<KeyedToken> {
    let characters: Vec<char> = original.chars().collect();
    text::located_tokens(original)
        .into_iter()
        .map(|located| {
            let surface: String = characters[located.chars.clone()].iter().collect();
            KeyedToken {
                stem: fold_quote(match stemmer {
                    Some(stemmer) => text::stem_token(stemmer, &located.token),
                    None => located.token.text.clone(),
                }),
                exact: fold_quote(surface.nfkc().collect()),
                chars: located.chars,
            }
        })
        .collect()
}

const KEY_SEPARATOR: char = '\u{1}';

/// An English term's leading article is not part of what must match: "the Belt and Road
/// Initiative" is also written "Belt and Road Initiative cooperation".
fn without_leading_article(primary: &str, mut tokens: Vec<KeyedToken>) -> Vec<KeyedToken> {
    let is_article = |token: &KeyedToken| matches!(token.stem.as_str(), "the" | "a" | "an");
    if primary == "en" && tokens.len() > 1 && is_article(&tokens[0]) {
        tokens.remove(0);
    }
    tokens
}

/// Term key sequences (joined) for longest-match lookup over tokens.
#[derive(Default)]
struct WordDictionary {
    sequences: HashMap<String, Vec<TermRef>>,
    prefixes: HashSet<String>,
    longest: usize,
}

impl WordDictionary {
    fn insert(&mut self, keys: &[String], term: TermRef) {
        let mut joined = String::new();
        for (index, key) in keys.iter().enumerate() {
            if index > 0 {
                joined.push(KEY_SEPARATOR);
            }
            joined.push_str(key);
            self.prefixes.insert(joined.clone());
        }
        self.longest = self.longest.max(keys.len());
        self.sequences.entry(joined).or_default().push(term);
    }

    /// The longest term starting at each token: (first token, last token, terms).
    fn find<'a, F>(&'a self, tokens: &[KeyedToken], key_of: F, found: &mut Vec<Candidate<'a>>)
    where
        F: Fn(&KeyedToken) -> &str,
    {
        if self.sequences.is_empty() {
            return;
        }
        for start in 0..tokens.len() {
            let mut joined = String::new();
            let mut best: Option<(usize, &Vec<TermRef>)> = None;
            let window_end = tokens.len().min(start + self.longest);
            for (end, token) in tokens.iter().enumerate().take(window_end).skip(start) {
                if end > start {
                    joined.push(KEY_SEPARATOR);
                }
                joined.push_str(key_of(token));
                if !self.prefixes.contains(&joined) {
                    break;
                }
                if let Some(terms) = self.sequences.get(&joined) {
                    best = Some((end, terms));
                }
            }
            if let Some((end, terms)) = best {
                found.push(Candidate {
                    start: tokens[start].chars.start,
                    end: tokens[end].chars.end,
                    terms,
                });
            }
        }
    }
}

/// Where a term lives: entry index in the recognizer's snapshot, term index in the entry.
#[derive(Debug, Clone, Copy)]
struct TermRef {
    entry: usize,
    term: usize,
}

struct Candidate<'a> {
    start: usize,
    end: usize,
    terms: &'a [TermRef],
}

/// The matchers of one source language (by primary subtag).
#[derive(Default)]
struct LanguageMatcher {
    character_patterns: Vec<String>,
    /// Pattern text → its index in `character_patterns` (one pattern per distinct text).
    pattern_index: HashMap<String, usize>,
    character_terms: Vec<Vec<TermRef>>,
    automaton: Option<AhoCorasick>,
    stems: WordDictionary,
    exact: WordDictionary,
}

/// Recognition over one snapshot of the glossary.
pub struct Recognizer {
    entries: Vec<Entry>,
    languages: HashMap<String, LanguageMatcher>,
}

impl Recognizer {
    pub fn build<'a>(entries: impl Iterator<Item = &'a Entry>) -> Recognizer {
        let entries: Vec<Entry> = entries.cloned().collect();
        let mut languages: HashMap<String, LanguageMatcher> = HashMap::new();
        let mut stemmers: HashMap<String, Option<rust_stemmers::Stemmer>> = HashMap::new();
        for (entry_index, entry) in entries.iter().enumerate() {
            for (term_index, term) in entry.terms.iter().enumerate() {
                let primary = lang::primary_subtag(&term.lang);
                let reference = TermRef {
                    entry: entry_index,
                    term: term_index,
                };
                let matcher = languages.entry(primary.clone()).or_default();
                if is_character_term(&term.text) {
                    let (pattern, _) = fold_chars(&term.text);
                    if pattern.is_empty() {
                        continue;
                    }
                    match matcher.pattern_index.get(&pattern) {
                        Some(&index) => matcher.character_terms[index].push(reference),
                        None => {
                            matcher
                                .pattern_index
                                .insert(pattern.clone(), matcher.character_patterns.len());
                            matcher.character_patterns.push(pattern);
                            matcher.character_terms.push(vec![reference]);
                        }
                    }
                    continue;
                }
                let stemmer = stemmers
                    .entry(primary.clone())
                    .or_insert_with(|| text::stemmer_for(&primary));
                let tokens =
                    without_leading_article(&primary, keyed_tokens(&term.text, stemmer.as_ref()));
                if tokens.is_empty() {
                    continue;
                }
                if term.case_sensitive {
                    let keys: Vec<String> = tokens.into_iter().map(|token| token.exact).collect();
                    matcher.exact.insert(&keys, reference);
                } else {
                    let keys: Vec<String> = tokens.into_iter().map(|token| token.stem).collect();
                    matcher.stems.insert(&keys, reference);
                }
            }
        }
        for matcher in languages.values_mut() {
            if !matcher.character_patterns.is_empty() {
                matcher.automaton = Some(
                    AhoCorasick::builder()
                        .match_kind(MatchKind::LeftmostLongest)
                        .build(&matcher.character_patterns)
                        .expect("glossary patterns build an automaton"),
                );
            }
        }
        Recognizer { entries, languages }
    }

    pub fn entry_count(&self) -> usize {
        self.entries.len()
    }

    /// Terms of `lang` found in `original`, leftmost-longest, with their renderings in
    /// `target_lang` (all the entry's other-language terms when `None`).
    pub fn recognize(&self, original: &str, lang: &str, target_lang: Option<&str>) -> Vec<Hit> {
        let primary = lang::primary_subtag(lang);
        let Some(matcher) = self.languages.get(&primary) else {
            return Vec::new();
        };
        let mut candidates: Vec<Candidate> = Vec::new();
        if let Some(automaton) = &matcher.automaton {
            let (folded, origin) = fold_chars(original);
            // Byte offsets of the folded text → folded character indices.
            let mut char_index_of_byte = vec![0usize; folded.len() + 1];
            for (char_index, (byte_index, _)) in folded.char_indices().enumerate() {
                char_index_of_byte[byte_index] = char_index;
            }
            char_index_of_byte[folded.len()] = origin.len();
            for found in automaton.find_iter(&folded) {
                let first = char_index_of_byte[found.start()];
                let last = char_index_of_byte[found.end()] - 1;
                candidates.push(Candidate {
                    start: origin[first],
                    end: origin[last] + 1,
                    terms: &matcher.character_terms[found.pattern().as_usize()],
                });
            }
        }
        if !matcher.stems.sequences.is_empty() || !matcher.exact.sequences.is_empty() {
            let stemmer = text::stemmer_for(&primary);
            let tokens = keyed_tokens(original, stemmer.as_ref());
            matcher
                .stems
                .find(&tokens, |token| &token.stem, &mut candidates);
            matcher
                .exact
                .find(&tokens, |token| &token.exact, &mut candidates);
        }
        // Leftmost-longest across both kinds of matching, without overlaps.
        candidates.sort_by(|left, right| {
            left.start
                .cmp(&right.start)
                .then((right.end - right.start).cmp(&(left.end - left.start)))
        });
        let characters: Vec<char> = original.chars().collect();
        let mut hits = Vec::new();
        let mut covered_until = 0;
        for candidate in candidates {
            if candidate.start < covered_until {
                continue;
            }
            covered_until = candidate.end;
            let mut seen_entries = HashSet::new();
            for reference in candidate.terms {
                let entry = &self.entries[reference.entry];
                if !seen_entries.insert(entry.id) {
                    continue;
                }
                let term = &entry.terms[reference.term];
                let targets = entry
                    .terms
                    .iter()
                    .filter(|other| match target_lang {
                        Some(target) => lang::compatible(target, &other.lang),
                        None => lang::primary_subtag(&other.lang) != primary,
                    })
                    .map(|other| TargetTerm {
                        text: other.text.clone(),
                        status: other.status,
                        term_type: other.term_type,
                        case_sensitive: other.case_sensitive,
                    })
                    .collect::<Vec<_>>();
                let mut targets = targets;
                targets.sort_by_key(|target| target.status);
                hits.push(Hit {
                    start: candidate.start,
                    end: candidate.end,
                    text: characters[candidate.start..candidate.end].iter().collect(),
                    entry_id: entry.id,
                    term_status: term.status,
                    term: term.text.clone(),
                    targets,
                });
            }
        }
        hits
    }
}

/// A text prepared once for finding many terms in it, matched the way recognition matches:
/// folded characters for Han/Kana terms, stemmed (or exact) word sequences for the rest.
pub struct PreparedText {
    primary: String,
    stemmer: Option<rust_stemmers::Stemmer>,
    folded: String,
    origin: Vec<usize>,
    tokens: Vec<KeyedToken>,
}

impl PreparedText {
    pub fn new(original: &str, lang: &str) -> PreparedText {
        let primary = lang::primary_subtag(lang);
        let stemmer = text::stemmer_for(&primary);
        let (folded, origin) = fold_chars(original);
        let tokens = keyed_tokens(original, stemmer.as_ref());
        PreparedText {
            primary,
            stemmer,
            folded,
            origin,
            tokens,
        }
    }

    /// Where `term_text` occurs: character offsets into the original text.
    pub fn find(&self, term_text: &str, case_sensitive: bool) -> Option<(usize, usize)> {
        if is_character_term(term_text) {
            let (pattern, _) = fold_chars(term_text);
            let byte = self.folded.find(&pattern)?;
            let first = self.folded[..byte].chars().count();
            let last = first + pattern.chars().count() - 1;
            return Some((self.origin[first], self.origin[last] + 1));
        }
        let needle = without_leading_article(
            &self.primary,
            keyed_tokens(term_text, self.stemmer.as_ref()),
        );
        fn key(token: &KeyedToken, case_sensitive: bool) -> &str {
            if case_sensitive {
                &token.exact
            } else {
                &token.stem
            }
        }
        if needle.is_empty() || self.tokens.len() < needle.len() {
            return None;
        }
        self.tokens.windows(needle.len()).find_map(|window| {
            let same = window
                .iter()
                .zip(&needle)
                .all(|(token, wanted)| key(token, case_sensitive) == key(wanted, case_sensitive));
            same.then(|| (window[0].chars.start, window[needle.len() - 1].chars.end))
        })
    }
}

/// Where `term_text` (a term of `lang`) occurs in `original`; see [`PreparedText`].
pub fn find_term(
    original: &str,
    lang: &str,
    term_text: &str,
    case_sensitive: bool,
) -> Option<(usize, usize)> {
    PreparedText::new(original, lang).find(term_text, case_sensitive)
}

/// The recognizers for the two workflow views: approved entries only (the default), and
/// approved plus proposed (`?include=proposed`).
pub struct Matchers {
    pub approved: Recognizer,
    pub with_proposed: Recognizer,
}

impl Matchers {
    pub fn build<'a>(entries: impl Iterator<Item = &'a Entry> + Clone) -> Matchers {
        Matchers {
            approved: Recognizer::build(
                entries
                    .clone()
                    .filter(|entry| entry.workflow == Workflow::Approved),
            ),
            with_proposed: Recognizer::build(
                entries.filter(|entry| entry.workflow != Workflow::Rejected),
            ),
        }
    }

    pub fn get(&self, include_proposed: bool) -> &Recognizer {
        if include_proposed {
            &self.with_proposed
        } else {
            &self.approved
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::termbase::model::{Term, Workflow};

    fn term(lang: &str, text: &str, status: TermStatus) -> Term {
        Term {
            lang: lang.into(),
            text: text.into(),
            status,
            term_type: None,
            part_of_speech: None,
            context: None,
            note: None,
            case_sensitive: false,
        }
    }

    fn entry(id: u64, terms: Vec<Term>) -> Entry {
        Entry {
            id,
            subject_field: None,
            definition: None,
            note: None,
            source: None,
            workflow: Workflow::Approved,
            valid_from: None,
            valid_until: None,
            terms,
        }
    }

    #[test]
    fn chinese_matching_is_leftmost_longest_and_folds_width_quotes_and_script() {
        let entries = [
            entry(
                1,
                vec![
                    term("zh", "一带一路", TermStatus::Preferred),
                    term("en", "the Belt and Road Initiative", TermStatus::Preferred),
                ],
            ),
            entry(
                2,
                vec![
                    term("zh", "一带一路倡议", TermStatus::Preferred),
                    term("en", "the Belt and Road Initiative", TermStatus::Preferred),
                ],
            ),
            entry(
                3,
                vec![
                    term("zh", "“十四五”规划", TermStatus::Preferred),
                    term("en", "the 14th Five-Year Plan", TermStatus::Preferred),
                ],
            ),
        ];
        let recognizer = Recognizer::build(entries.iter());
        let hits = recognizer.recognize("推进一帶一路倡議，落实十四五規劃。", "zh-CN", Some("en"));
        assert_eq!(hits.len(), 2, "{hits:?}");
        assert_eq!((hits[0].start, hits[0].end, hits[0].entry_id), (2, 8, 2));
        assert_eq!(hits[0].text, "一帶一路倡議");
        assert_eq!(hits[1].text, "十四五規劃");
        assert_eq!(hits[1].targets[0].text, "the 14th Five-Year Plan");
    }

    #[test]
    fn english_matching_stems_and_respects_case_sensitive_acronyms() {
        let mut bri = term("en", "BRI", TermStatus::Admitted);
        bri.case_sensitive = true;
        let entries = [entry(
            1,
            vec![
                term("zh", "一带一路倡议", TermStatus::Preferred),
                term("en", "Belt and Road Initiative", TermStatus::Preferred),
                bri,
            ],
        )];
        let recognizer = Recognizer::build(entries.iter());
        let hits = recognizer.recognize(
            "Two Belt and Road initiatives; BRI partners, not bri.",
            "en",
            Some("zh"),
        );
        let found: Vec<&str> = hits.iter().map(|hit| hit.text.as_str()).collect();
        assert_eq!(found, ["Belt and Road initiatives", "BRI"]);
        assert_eq!(hits[0].targets[0].text, "一带一路倡议");
    }

    #[test]
    fn find_term_uses_the_same_matching() {
        assert_eq!(
            find_term(
                "the 14th Five-Year Plans",
                "en",
                "14th five-year plan",
                false
            ),
            Some((4, 24))
        );
        assert_eq!(
            find_term("高质量共建“一带一路”", "zh", "一带一路", false),
            Some((6, 10))
        );
        assert_eq!(find_term("bri", "en", "BRI", true), None);
    }
}
