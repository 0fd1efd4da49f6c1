//! The Tantivy schema and how a unit becomes a document.
//!
//! Text is analyzed by [`crate::text`] and handed to Tantivy pre-tokenized, so the index,
//! the query and the score share one normalization and one tokenizer, and no tokenizer has to
//! be registered when the index is opened. Every term is prefixed with the primary language
//! subtag (`zh:`), so one field holds all languages of a unit without mixing them.
//!
//! | field     | content                                                       | used by          |
//! |-----------|---------------------------------------------------------------|------------------|
//! | `id`      | stable unit id (indexed, stored, fast)                        | get, update      |
//! | `unit`    | the whole [`Unit`] as MessagePack (stored)                    | every read       |
//! | `lang`    | every subtag prefix of every variant's tag (`zh`, `zh-cn`)    | language filter  |
//! | `collection` | the collection name                                        | collection filter|
//! | `content` | hash of the unit's languages and texts                       | duplicate check  |
//! | `tokens`  | score tokens with positions (`zh:会`, `en:meeting`)           | concordance      |
//! | `bigrams` | adjacent score-token pairs (`zh:会\u{1}议`)                   | fuzzy candidates |
//! | `stems`   | stemmed word tokens with positions (`en:meet`)                | concordance      |
//! | `lengths` | per variant: language hash and token count, packed (fast) | length window    |

use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, FAST, INDEXED, STORED, STRING,
};
use tantivy::tokenizer::{PreTokenizedString, Token as TantivyToken};
use tantivy::TantivyDocument;

use crate::tm::unit::Unit;
use crate::{lang, text};

/// Bumped whenever analysis changes what terms a text produces: an index built by another
/// analyzer version must be rebuilt from its stored units.
pub const ANALYZER_VERSION: u32 = 1;

/// Separates the two tokens of a bigram term; it never occurs inside a token.
pub const BIGRAM_SEPARATOR: char = '\u{1}';

#[derive(Clone)]
pub struct Fields {
    pub id: Field,
    pub unit: Field,
    pub lang: Field,
    pub collection: Field,
    pub content: Field,
    pub tokens: Field,
    pub bigrams: Field,
    pub stems: Field,
    pub lengths: Field,
}

pub fn build_schema() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    let with_positions = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer("raw")
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let with_freqs = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer("raw")
            .set_index_option(IndexRecordOption::WithFreqs),
    );
    let fields = Fields {
        id: builder.add_u64_field("id", INDEXED | STORED | FAST),
        unit: builder.add_bytes_field("unit", STORED),
        lang: builder.add_text_field("lang", STRING),
        collection: builder.add_text_field("collection", STRING),
        content: builder.add_text_field("content", STRING),
        tokens: builder.add_text_field("tokens", with_positions.clone()),
        bigrams: builder.add_text_field("bigrams", with_freqs),
        stems: builder.add_text_field("stems", with_positions),
        lengths: builder.add_u64_field("lengths", FAST),
    };
    (builder.build(), fields)
}

/// Bits of a `lengths` value that hold the token count; the rest identify the language.
const LENGTH_BITS: u32 = 24;

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

fn pre_tokenized(terms: Vec<String>) -> PreTokenizedString {
    let tokens = terms
        .into_iter()
        .enumerate()
        .map(|(position, term)| TantivyToken {
            offset_from: 0,
            offset_to: 0,
            position,
            text: term,
            position_length: 1,
        })
        .collect();
    PreTokenizedString {
        text: String::new(),
        tokens,
    }
}

/// The document for a unit. The unit must carry at least one variant.
pub fn unit_document(fields: &Fields, unit: &Unit) -> TantivyDocument {
    let mut document = TantivyDocument::default();
    document.add_u64(fields.id, unit.id);
    let encoded = rmp_serde::to_vec_named(unit).expect("a unit always serializes");
    document.add_bytes(fields.unit, &encoded);
    document.add_text(fields.collection, &unit.collection);
    document.add_text(fields.content, unit.content_key());
    let mut seen_prefixes = std::collections::BTreeSet::new();
    for variant in &unit.variants {
        for prefix in lang::tag_prefixes(&variant.lang) {
            if seen_prefixes.insert(prefix.clone()) {
                document.add_text(fields.lang, prefix);
            }
        }
        let primary = lang::primary_subtag(&variant.lang);
        let tokens = text::tokens(&variant.text);
        let token_terms: Vec<String> = tokens
            .iter()
            .map(|token| token_term(&primary, &token.text))
            .collect();
        let bigram_terms: Vec<String> = tokens
            .windows(2)
            .map(|pair| bigram_term(&primary, &pair[0].text, &pair[1].text))
            .collect();
        if let Some(stemmer) = text::stemmer_for(&primary) {
            let stem_terms: Vec<String> = tokens
                .iter()
                .map(|token| token_term(&primary, &text::stem_token(&stemmer, token)))
                .collect();
            document.add_pre_tokenized_text(fields.stems, pre_tokenized(stem_terms));
        }
        document.add_u64(fields.lengths, length_key(&primary, tokens.len()));
        document.add_pre_tokenized_text(fields.tokens, pre_tokenized(token_terms));
        document.add_pre_tokenized_text(fields.bigrams, pre_tokenized(bigram_terms));
    }
    document
}
