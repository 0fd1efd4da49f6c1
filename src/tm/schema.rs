//! The Tantivy schema and how a unit becomes a document.
//!
//! Text is analyzed by [`crate::text`], so the index, the query and the score share one
//! normalization and one tokenizer. Tantivy receives the finished terms joined by spaces and
//! splits them with its built-in `whitespace` tokenizer (no term contains ASCII whitespace):
//! nothing has to be registered when the index is opened, and, unlike pre-tokenized values,
//! which Tantivy round-trips through JSON inside each document, this costs almost nothing. Every term is prefixed with the primary language
//! subtag (`zh:`), so one field holds all languages of a unit without mixing them.
//!
//! | field     | content                                                       | used by          |
//! |-----------|---------------------------------------------------------------|------------------|
//! | `id`      | stable unit id (indexed, stored, fast)                        | get, update      |
//! | `unit`    | the whole [`Unit`] as MessagePack (stored)                    | every read       |
//! | `lang`    | every subtag prefix of every variant's tag (`zh`, `zh-cn`)    | language filter  |
//! | `collection` | the collection name                                        | collection filter|
//! | `content` | 64 bits of the hash of the unit's languages and texts (indexed) | duplicate check |
//! | `tokens`  | score tokens with positions (`zh:会`, `en:meeting`)           | candidates, second stage, concordance |
//! | `bigrams` | adjacent score-token pairs (`zh:会\u{1}议`)                   | fuzzy candidates |
//! | `lengths` | per variant: language hash and token count, packed (fast) | length window    |
//!
//! Import speed is the number of terms Tantivy adds, so nothing is indexed that a query can
//! derive: stemmed concordance finds the surface forms of a stem in the `tokens` dictionary
//! ([`crate::tm::stems`]) instead of reading a field of stems, and the duplicate check's key
//! is a number, not 32 hexadecimal digits (a unique term per unit, which the term dictionary
//! cannot share between units).

use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, FAST, INDEXED, STORED, STRING,
};
use tantivy::TantivyDocument;

use crate::tm::unit::Unit;
use crate::{lang, text};

/// Bumped whenever analysis changes what terms a text produces: an index built by another
/// analyzer version must be rebuilt from its stored units.
pub const ANALYZER_VERSION: u32 = 3;

/// Separates the two tokens of a bigram term; it never occurs inside a token.
pub const BIGRAM_SEPARATOR: char = '\u{1}';

/// The tokenizer of the term fields: Tantivy's own, splitting on ASCII whitespace.
const TERMS_TOKENIZER: &str = "whitespace";

#[derive(Clone)]
pub struct Fields {
    pub id: Field,
    pub unit: Field,
    pub lang: Field,
    pub collection: Field,
    pub content: Field,
    pub tokens: Field,
    pub bigrams: Field,
    pub lengths: Field,
}

pub fn build_schema() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    let with_positions = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(TERMS_TOKENIZER)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let with_freqs = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(TERMS_TOKENIZER)
            .set_index_option(IndexRecordOption::WithFreqs),
    );
    let fields = Fields {
        id: builder.add_u64_field("id", INDEXED | STORED | FAST),
        unit: builder.add_bytes_field("unit", STORED),
        lang: builder.add_text_field("lang", STRING),
        collection: builder.add_text_field("collection", STRING),
        content: builder.add_u64_field("content", INDEXED),
        tokens: builder.add_text_field("tokens", with_positions),
        bigrams: builder.add_text_field("bigrams", with_freqs),
        lengths: builder.add_u64_field("lengths", FAST),
    };
    (builder.build(), fields)
}

/// Bits of a `lengths` value that hold the token count; the rest identify the language.
pub const LENGTH_BITS: u32 = 24;

/// The `lengths` value of a variant of `primary` language with `token_count` tokens. Values of
/// one language are contiguous, so a range query selects a window of lengths in it. Two
/// languages whose hashes collide would share a window: a filter that lets a few extra
/// candidates through, never one that drops a match.
pub fn length_key(primary: &str, token_count: usize) -> u64 {
    let language = xxhash_rust::xxh3::xxh3_64(primary.as_bytes()) >> LENGTH_BITS;
    let count = (token_count as u64).min((1 << LENGTH_BITS) - 1);
    (language << LENGTH_BITS) | count
}

/// `zh:会` — a token term in the language's posting space.
pub fn token_term(primary: &str, token: &str) -> String {
    format!("{primary}:{token}")
}

/// `zh:会\u{1}议` — a bigram term.
pub fn bigram_term(primary: &str, first: &str, second: &str) -> String {
    format!("{primary}:{first}{BIGRAM_SEPARATOR}{second}")
}

/// Appends `primary:first[\u{1}second]` and the space that ends a term.
fn push_term(terms: &mut String, primary: &str, first: &str, second: Option<&str>) {
    terms.push_str(primary);
    terms.push(':');
    terms.push_str(first);
    if let Some(second) = second {
        terms.push(BIGRAM_SEPARATOR);
        terms.push_str(second);
    }
    terms.push(' ');
}

/// The document for a unit. The unit must carry at least one variant.
pub fn unit_document(fields: &Fields, unit: &Unit) -> TantivyDocument {
    let mut document = TantivyDocument::default();
    document.add_u64(fields.id, unit.id);
    let encoded = rmp_serde::to_vec_named(unit).expect("a unit always serializes");
    document.add_bytes(fields.unit, &encoded);
    document.add_text(fields.collection, &unit.collection);
    document.add_u64(fields.content, content_term(unit.content_key()));
    let mut seen_prefixes = std::collections::BTreeSet::new();
    for variant in &unit.variants {
        for prefix in lang::tag_prefixes(&variant.lang) {
            if seen_prefixes.insert(prefix.clone()) {
                document.add_text(fields.lang, prefix);
            }
        }
        let primary = lang::primary_subtag(&variant.lang);
        let normalized = text::normalize(&variant.text);
        // About 7 bytes of terms per 3 bytes of Chinese, and less for words; sized once.
        let mut token_terms = String::with_capacity(normalized.len() * 3);
        let mut bigram_terms = String::with_capacity(normalized.len() * 5);
        let mut previous: Option<&str> = None;
        let mut token_count = 0;
        text::for_each_token(&normalized, |token, _| {
            push_term(&mut token_terms, &primary, token, None);
            if let Some(previous) = previous {
                push_term(&mut bigram_terms, &primary, previous, Some(token));
            }
            previous = Some(token);
            token_count += 1;
        });
        document.add_u64(fields.lengths, length_key(&primary, token_count));
        document.add_text(fields.tokens, token_terms);
        document.add_text(fields.bigrams, bigram_terms);
    }
    document
}

/// The `content` term of a content key: its low 64 bits. Two units whose keys share them
/// are told apart by comparing their variants, as with any key.
pub fn content_term(content_key: u128) -> u64 {
    content_key as u64
}
