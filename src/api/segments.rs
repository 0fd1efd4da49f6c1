//! Lookup, concordance and the segment resource (`/api/v1/segments`).

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::access::CallerOf;
use super::error::ApiError;
use super::params::{bounded, parse_id, reject_unknown};
use super::wire::{Payload, Reply, WireFormat};
use super::AppState;
use crate::auth::{Caller, Role};
use crate::formats::inline;
use crate::formats::{text_problem, TextProblem};
use crate::tm::{self, ConcordanceQuery, LookupQuery, NewUnit, Origin, Status, Unit, Variant};

/// RFC 3339 text of a millisecond timestamp.
pub fn rfc3339(millis: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(millis as i128 * 1_000_000)
        .ok()
        .and_then(|date| {
            date.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// Checks a language tag field.
pub fn check_lang(field: &str, tag: &str) -> Result<(), ApiError> {
    crate::lang::validate(tag)
        .map_err(|error| ApiError::bad_request("invalid_language", format!("`{field}`: {error}")))
}

/// Checks a segment text field: present, not blank, within the length limit, XML-safe.
pub fn check_text(field: &str, text: &str, max_chars: usize) -> Result<(), ApiError> {
    match text_problem(text, max_chars) {
        None => Ok(()),
        Some(problem @ TextProblem::TooLong { .. }) => Err(ApiError::bad_request(
            "text_too_long",
            format!("`{field}` {problem}"),
        )),
        Some(problem) => Err(ApiError::invalid_field(field, problem)),
    }
}

fn check_collection(field: &str, name: &str) -> Result<(), ApiError> {
    if name.trim().is_empty() {
        return Err(ApiError::invalid_field(field, "is empty"));
    }
    if name.chars().count() > 200 {
        return Err(ApiError::invalid_field(
            field,
            "is longer than 200 characters",
        ));
    }
    Ok(())
}

fn require<T>(field: &str, value: Option<T>) -> Result<T, ApiError> {
    value.ok_or_else(|| ApiError::bad_request("missing_field", format!("`{field}` is required")))
}

// ---------------------------------------------------------------------------------------
// Lookup

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LookupRequest {
    text: Option<String>,
    source_lang: Option<String>,
    target_lang: Option<String>,
    min_score: Option<f64>,
    limit: Option<i64>,
    collections: Option<Vec<String>>,
    /// Also recognize glossary terms in `text`.
    terms: Option<bool>,
    /// `text` carries inline codes as placeholders (`{1}`, `{/1}`, `{2/}`): take them out of
    /// the looked-up text and report `code_penalty` against them.
    placeholders: Option<bool>,
    /// Also give each match a character diff of its source against `text`.
    diff: Option<bool>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MatchDto {
    id: u64,
    score: u8,
    source: String,
    target: String,
    source_lang: String,
    target_lang: String,
    collection: String,
    status: Status,
    origin: Origin,
    author: Option<String>,
    document: Option<String>,
    created_at: String,
    updated_at: String,
    /// The source with its inline codes as placeholders (`{1}…{/1}`, `{2/}`), when it has
    /// codes; `source` itself never contains them.
    #[serde(skip_serializing_if = "Option::is_none")]
    source_tagged: Option<String>,
    /// The target with its inline codes as placeholders, when it has codes.
    #[serde(skip_serializing_if = "Option::is_none")]
    target_tagged: Option<String>,
    /// How many inline codes must be added, removed or moved to turn the match source's codes
    /// into the query's (placeholders `{1}`, `{/1}`, `{2/}` in the query's `text`); 0 when
    /// they agree. Never folded into `score`.
    code_penalty: u32,
    /// When the request asked with `"diff": true`: the pieces that turn `source` into the
    /// query, character by character (`delete`: only in `source`; `insert`: only in the
    /// query).
    #[serde(skip_serializing_if = "Option::is_none")]
    diff: Option<Vec<crate::text::diff::DiffPiece>>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LookupResponse {
    matches: Vec<MatchDto>,
    /// Glossary terms in the query, when the request asked with `"terms": true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    terms: Option<Vec<crate::termbase::recognize::Hit>>,
}

/// Validated lookup parameters shared by the native API and the CLI.
/// Checked `min_score`, `limit` and `collections` of a lookup.
pub struct LookupOptions {
    pub min_score: u8,
    pub limit: usize,
    pub collections: Vec<String>,
}

pub fn lookup_options(
    state: &AppState,
    min_score: Option<f64>,
    limit: Option<i64>,
    collections: Option<Vec<String>>,
) -> Result<LookupOptions, ApiError> {
    let max_results = state.config.limits.max_results;
    let min_score = match min_score {
        None => state.config.lookup.min_score,
        Some(value) if (0.0..=100.0).contains(&value) => value.ceil() as u8,
        Some(value) => {
            return Err(ApiError::invalid_field(
                "min_score",
                format!("must be between 0 and 100, got {value}"),
            ))
        }
    };
    let limit = match limit {
        None => state.config.lookup.limit,
        Some(value) if value >= 1 && value as usize <= max_results => value as usize,
        Some(value) => {
            return Err(ApiError::invalid_field(
                "limit",
                format!("must be between 1 and {max_results}, got {value}"),
            ))
        }
    };
    let collections = collections.unwrap_or_default();
    for (index, name) in collections.iter().enumerate() {
        check_collection(&format!("collections[{index}]"), name)?;
    }
    Ok(LookupOptions {
        min_score,
        limit,
        collections,
    })
}

/// Validated lookup parameters, and the inline codes the text was sent with (placeholders are
/// taken out of the text that is looked up).
pub fn lookup_query(
    state: &AppState,
    caller: &Caller,
    request: LookupRequest,
) -> Result<(LookupQuery, Vec<inline::Code>), ApiError> {
    let limits = &state.config.limits;
    let text = require("text", request.text)?;
    let (text, codes) = plain_query_text(
        "text",
        &text,
        limits.max_text_chars,
        request.placeholders.unwrap_or(false),
    )?;
    let source_lang = require("source_lang", request.source_lang)?;
    check_lang("source_lang", &source_lang)?;
    let target_lang = require("target_lang", request.target_lang)?;
    check_lang("target_lang", &target_lang)?;
    let options = lookup_options(state, request.min_score, request.limit, request.collections)?;
    let query = LookupQuery {
        text,
        source_lang,
        target_lang,
        min_score: options.min_score,
        limit: options.limit,
        collections: options.collections,
        hidden_collections: caller.hidden_collections.clone(),
    };
    Ok((query, codes))
}

/// Checks a query text and, when the client says it carries placeholders, takes them out.
/// Without that, braces are text: `{0}` in a software string must still match itself.
fn plain_query_text(
    field: &str,
    text: &str,
    max_chars: usize,
    placeholders: bool,
) -> Result<(String, Vec<inline::Code>), ApiError> {
    check_text(field, text, max_chars)?;
    if !placeholders {
        return Ok((text.to_owned(), Vec::new()));
    }
    let (plain, codes) = inline::split_placeholders(text);
    if plain.trim().is_empty() {
        return Err(ApiError::invalid_field(
            field,
            "holds only inline-code placeholders, no text",
        ));
    }
    Ok((plain, codes))
}

impl MatchDto {
    /// The match as clients see it; `query_codes` are the inline codes the query was sent with.
    fn new(found: tm::Match, query_codes: &[inline::Code], diff_against: Option<&str>) -> Self {
        let tagged = |variant: &Variant| variant.markup.as_deref().map(inline::placeholder_text);
        let source_tagged = tagged(&found.source);
        let target_tagged = tagged(&found.target);
        let match_codes = found
            .source
            .markup
            .as_deref()
            .map(inline::codes_in_markup)
            .unwrap_or_default();
        MatchDto {
            diff: diff_against.map(|query| crate::text::diff::char_diff(&found.source.text, query)),
            code_penalty: inline::code_penalty(query_codes, &match_codes),
            source_tagged,
            target_tagged,
            id: found.unit.id,
            score: found.score,
            source: found.source.text,
            target: found.target.text,
            source_lang: found.source.lang,
            target_lang: found.target.lang,
            collection: found.unit.collection,
            status: found.unit.status,
            origin: found.unit.origin,
            author: found.unit.author,
            document: found.unit.document,
            created_at: rfc3339(found.unit.created_at),
            updated_at: rfc3339(found.unit.updated_at),
        }
    }
}

#[utoipa::path(post, path = "/api/v1/lookup", tag = "tm",
    request_body = LookupRequest,
    responses((status = 200, description = "Fuzzy matches, best first", body = LookupResponse),
              (status = 400, description = "A field is missing or wrong", body = super::error::ErrorResponse)))]
pub async fn lookup(
    State(state): State<AppState>,
    format: WireFormat,
    caller: CallerOf,
    Payload(request): Payload<LookupRequest>,
) -> Result<Reply<LookupResponse>, ApiError> {
    let want_terms = request.terms.unwrap_or(false);
    let want_diff = request.diff.unwrap_or(false);
    let (query, query_codes) = lookup_query(&state, &caller, request)?;
    let query_text = query.text.clone();
    let terms = if want_terms {
        Some(
            super::terms::recognize_text(
                &state,
                query.text.clone(),
                query.source_lang.clone(),
                Some(query.target_lang.clone()),
                false,
            )
            .await?,
        )
    } else {
        None
    };
    let tm = state.tm.clone();
    // Diffs are CPU work too: made on the blocking pool with the lookup.
    let matches = tokio::task::spawn_blocking(move || {
        tm.lookup(&query).map(|matches| {
            matches
                .into_iter()
                .map(|found| {
                    MatchDto::new(
                        found,
                        &query_codes,
                        want_diff.then_some(query_text.as_str()),
                    )
                })
                .collect::<Vec<_>>()
        })
    })
    .await??;
    Ok(Reply::ok(format, LookupResponse { matches, terms }))
}

// ---------------------------------------------------------------------------------------
// Sentence splitting

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SplitRequest {
    text: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SplitResponse {
    sentences: Vec<crate::text::sentences::Sentence>,
}

/// `POST /api/v1/split`: the sentences of a paragraph, by the rules the workbench uses.
#[utoipa::path(post, path = "/api/v1/split", tag = "tm",
    request_body = SplitRequest,
    responses((status = 200, description = "Sentences in order, with character offsets", body = SplitResponse),
              (status = 400, body = super::error::ErrorResponse)))]
pub async fn split(
    State(state): State<AppState>,
    format: WireFormat,
    Payload(request): Payload<SplitRequest>,
) -> Result<Reply<SplitResponse>, ApiError> {
    let text = require("text", request.text)?;
    // A paragraph may hold many sentences: allow a batch's worth of text.
    let max_chars = state.config.limits.max_text_chars * 10;
    if text.chars().count() > max_chars {
        return Err(ApiError::invalid_field(
            "text",
            format!("is longer than the limit of {max_chars} characters"),
        ));
    }
    Ok(Reply::ok(
        format,
        SplitResponse {
            sentences: crate::text::sentences::split(&text),
        },
    ))
}

// ---------------------------------------------------------------------------------------
// Batch lookup

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchLookupRequest {
    texts: Option<Vec<String>>,
    source_lang: Option<String>,
    target_lang: Option<String>,
    min_score: Option<f64>,
    limit: Option<i64>,
    collections: Option<Vec<String>>,
    /// The texts carry inline codes as placeholders (see the single lookup).
    placeholders: Option<bool>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BatchResult {
    text: String,
    matches: Vec<MatchDto>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BatchLookupResponse {
    results: Vec<BatchResult>,
}

/// `POST /api/v1/lookup/batch`: many texts in one call (pre-translating a document), looked
/// up on every core.
#[utoipa::path(post, path = "/api/v1/lookup/batch", tag = "tm",
    request_body = BatchLookupRequest,
    responses((status = 200, description = "Matches for every text, in order", body = BatchLookupResponse),
              (status = 400, description = "A field is missing or wrong", body = super::error::ErrorResponse)))]
pub async fn lookup_batch(
    State(state): State<AppState>,
    format: WireFormat,
    caller: CallerOf,
    Payload(request): Payload<BatchLookupRequest>,
) -> Result<Reply<BatchLookupResponse>, ApiError> {
    let limits = &state.config.limits;
    let texts = require("texts", request.texts)?;
    if texts.is_empty() {
        return Err(ApiError::invalid_field("texts", "is empty"));
    }
    if texts.len() > limits.max_batch {
        return Err(ApiError::invalid_field(
            "texts",
            format!(
                "holds {} texts, over the limit of {} per request",
                texts.len(),
                limits.max_batch
            ),
        ));
    }
    let mut plain_texts = Vec::with_capacity(texts.len());
    let mut query_codes = Vec::with_capacity(texts.len());
    for (index, text) in texts.iter().enumerate() {
        let (plain, codes) = plain_query_text(
            &format!("texts[{index}]"),
            text,
            limits.max_text_chars,
            request.placeholders.unwrap_or(false),
        )?;
        plain_texts.push(plain);
        query_codes.push(codes);
    }
    let source_lang = require("source_lang", request.source_lang)?;
    check_lang("source_lang", &source_lang)?;
    let target_lang = require("target_lang", request.target_lang)?;
    check_lang("target_lang", &target_lang)?;
    let options = lookup_options(
        &state,
        request.min_score,
        request.limit,
        request.collections,
    )?;
    let queries: Vec<LookupQuery> = plain_texts
        .into_iter()
        .map(|text| LookupQuery {
            text,
            source_lang: source_lang.clone(),
            target_lang: target_lang.clone(),
            min_score: options.min_score,
            limit: options.limit,
            collections: options.collections.clone(),
            hidden_collections: caller.hidden_collections.clone(),
        })
        .collect();
    let tm = state.tm.clone();
    let answers = tokio::task::spawn_blocking(move || lookup_on_all_cores(&tm, &queries)).await??;
    let results = answers
        .into_iter()
        .zip(texts.into_iter().zip(query_codes))
        .map(|(matches, (text, codes))| BatchResult {
            text,
            matches: matches
                .into_iter()
                .map(|found| MatchDto::new(found, &codes, None))
                .collect(),
        })
        .collect();
    Ok(Reply::ok(format, BatchLookupResponse { results }))
}

/// Runs the lookups split across the machine's cores, answers in the order of the queries.
fn lookup_on_all_cores(
    tm: &tm::Tm,
    queries: &[LookupQuery],
) -> Result<Vec<Vec<tm::Match>>, tm::TmError> {
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let chunk = queries.len().div_ceil(workers).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = queries
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|query| tm.lookup(query))
                        .collect::<Result<Vec<_>, tm::TmError>>()
                })
            })
            .collect();
        let mut answers = Vec::with_capacity(queries.len());
        for handle in handles {
            answers.extend(handle.join().expect("a lookup thread panicked")?);
        }
        Ok(answers)
    })
}

// ---------------------------------------------------------------------------------------
// Segments

/// A stored segment as the API shows it. `source`/`target` are the unit's first two
/// variants; `variants` lists all of them.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SegmentDto {
    id: u64,
    source: String,
    target: String,
    source_lang: String,
    target_lang: String,
    variants: Vec<Variant>,
    collection: String,
    document: Option<String>,
    author: Option<String>,
    changed_by: Option<String>,
    status: Status,
    origin: Origin,
    created_at: String,
    updated_at: String,
    tuid: Option<String>,
    props: Vec<tm::Prop>,
    notes: Vec<String>,
}

impl From<Unit> for SegmentDto {
    fn from(unit: Unit) -> Self {
        let first = unit.variants.first().cloned().unwrap_or(Variant::default());
        let second = unit.variants.get(1).cloned().unwrap_or(Variant::default());
        SegmentDto {
            id: unit.id,
            source: first.text,
            target: second.text,
            source_lang: first.lang,
            target_lang: second.lang,
            variants: unit.variants,
            collection: unit.collection,
            document: unit.document,
            author: unit.author,
            changed_by: unit.changed_by,
            status: unit.status,
            origin: unit.origin,
            created_at: rfc3339(unit.created_at),
            updated_at: rfc3339(unit.updated_at),
            tuid: unit.tuid,
            props: unit.props,
            notes: unit.notes,
        }
    }
}

/// One new pair.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSegment {
    source_lang: Option<String>,
    target_lang: Option<String>,
    source: Option<String>,
    target: Option<String>,
    collection: Option<String>,
    document: Option<String>,
    author: Option<String>,
    status: Option<Status>,
}

/// `POST /api/v1/segments`: one pair, or `{"segments":[...]}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddRequest {
    segments: Option<Vec<NewSegment>>,
    source_lang: Option<String>,
    target_lang: Option<String>,
    source: Option<String>,
    target: Option<String>,
    collection: Option<String>,
    document: Option<String>,
    author: Option<String>,
    status: Option<Status>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AddOneResponse {
    id: u64,
    created: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AddManyResponse {
    ids: Vec<u64>,
    created: usize,
    duplicates: usize,
}

fn new_unit(
    state: &AppState,
    caller: &Caller,
    prefix: &str,
    segment: NewSegment,
) -> Result<NewUnit, ApiError> {
    let max_chars = state.config.limits.max_text_chars;
    let field = |name: &str| format!("{prefix}{name}");
    let source_lang = require(&field("source_lang"), segment.source_lang)?;
    check_lang(&field("source_lang"), &source_lang)?;
    let target_lang = require(&field("target_lang"), segment.target_lang)?;
    check_lang(&field("target_lang"), &target_lang)?;
    let source = require(&field("source"), segment.source)?;
    check_text(&field("source"), &source, max_chars)?;
    let target = require(&field("target"), segment.target)?;
    check_text(&field("target"), &target, max_chars)?;
    let mut unit = NewUnit::pair(&source_lang, &source, &target_lang, &target);
    if let Some(collection) = segment.collection {
        check_collection(&field("collection"), &collection)?;
        unit.collection = collection;
    }
    caller.may_write_to(&unit.collection)?;
    unit.document = segment.document.filter(|document| !document.is_empty());
    unit.author = recorded_author(caller, &field("author"), segment.author)?;
    unit.status = segment.status.unwrap_or(Status::Approved);
    unit.origin = Origin::Human;
    Ok(unit)
}

#[utoipa::path(post, path = "/api/v1/segments", tag = "tm",
    request_body = AddRequest,
    responses((status = 201, description = "Stored (one pair: `{id, created}`; a batch: `{ids, created, duplicates}`)", body = AddOneResponse),
              (status = 200, description = "Already stored: the existing id", body = AddOneResponse),
              (status = 400, description = "A field is missing or wrong", body = super::error::ErrorResponse)))]
pub async fn add(
    State(state): State<AppState>,
    format: WireFormat,
    caller: CallerOf,
    Payload(request): Payload<AddRequest>,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    caller.require(Role::Translator)?;
    let single = NewSegment {
        source_lang: request.source_lang,
        target_lang: request.target_lang,
        source: request.source,
        target: request.target,
        collection: request.collection,
        document: request.document,
        author: request.author,
        status: request.status,
    };
    let Some(segments) = request.segments else {
        let unit = new_unit(&state, &caller, "", single)?;
        let outcome = state.tm.add(vec![unit]).await?;
        let outcome = outcome[0];
        let status = if outcome.created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        };
        return Ok(Reply::with_status(
            format,
            status,
            AddOneResponse {
                id: outcome.id,
                created: outcome.created,
            },
        )
        .into_response());
    };
    let single_given = single.source_lang.is_some()
        || single.target_lang.is_some()
        || single.source.is_some()
        || single.target.is_some()
        || single.collection.is_some()
        || single.document.is_some()
        || single.author.is_some()
        || single.status.is_some();
    if single_given {
        return Err(ApiError::bad_request(
            "bad_body",
            "give either `segments` or the fields of one segment, not both",
        ));
    }
    if segments.is_empty() {
        return Err(ApiError::invalid_field("segments", "is empty"));
    }
    let max_batch = state.config.limits.max_batch;
    if segments.len() > max_batch {
        return Err(ApiError::invalid_field(
            "segments",
            format!(
                "holds {} segments, over the limit of {max_batch} per request",
                segments.len()
            ),
        ));
    }
    // Validate everything before storing anything: a rejected request changes nothing.
    let units = segments
        .into_iter()
        .enumerate()
        .map(|(index, segment)| new_unit(&state, &caller, &format!("segments[{index}]."), segment))
        .collect::<Result<Vec<_>, _>>()?;
    let outcomes = state.tm.add(units).await?;
    let created = outcomes.iter().filter(|outcome| outcome.created).count();
    let status = if created > 0 {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(Reply::with_status(
        format,
        status,
        AddManyResponse {
            ids: outcomes.iter().map(|outcome| outcome.id).collect(),
            created,
            duplicates: outcomes.len() - created,
        },
    )
    .into_response())
}

#[utoipa::path(get, path = "/api/v1/segments/{id}", tag = "tm",
    params(("id" = u64, Path, description = "Segment id")),
    responses((status = 200, body = SegmentDto), (status = 404, body = super::error::ErrorResponse)))]
pub async fn get(
    State(state): State<AppState>,
    format: WireFormat,
    caller: CallerOf,
    Path(raw_id): Path<String>,
) -> Result<Reply<SegmentDto>, ApiError> {
    let id = parse_id(&raw_id, "a segment")?;
    let unit = visible_segment(&state, &caller, id).await?;
    Ok(Reply::ok(format, unit.into()))
}

/// The segment `id` if the caller may see it. One not there and one in a collection hidden
/// from the caller get the same 404: the answer must not tell that it exists.
async fn visible_segment(state: &AppState, caller: &Caller, id: u64) -> Result<Unit, ApiError> {
    let tm = state.tm.clone();
    let unit = tokio::task::spawn_blocking(move || tm.get(id)).await??;
    unit.filter(|unit| caller.may_see(&unit.collection))
        .ok_or_else(|| ApiError::not_found(format!("segment {id} not found")))
}

/// The author to record: the key's name. A client may repeat it but not name someone else;
/// only an open server takes the name it is given.
fn recorded_author(
    caller: &Caller,
    field: &str,
    claimed: Option<String>,
) -> Result<Option<String>, ApiError> {
    if let (Some(name), Some(claimed)) = (&caller.name, &claimed) {
        if claimed.trim() != name && !claimed.trim().is_empty() {
            return Err(ApiError::invalid_field(
                field,
                format!("is set from the API key (`{name}`); leave it out"),
            ));
        }
    }
    Ok(caller.author(claimed))
}

/// `PUT /api/v1/segments/{id}`: change the text of a variant or the metadata.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateRequest {
    source: Option<String>,
    source_lang: Option<String>,
    target: Option<String>,
    target_lang: Option<String>,
    collection: Option<String>,
    document: Option<String>,
    author: Option<String>,
    status: Option<Status>,
}

/// Which variant a `source`/`target` edit applies to: the one under `lang` if given, else
/// the unit's first (source) or second (target) variant.
fn edit_variant(
    unit: &mut Unit,
    field: &str,
    lang: Option<&str>,
    default_index: usize,
    text: String,
) -> Result<(), tm::TmError> {
    let index = match lang {
        Some(lang) => unit
            .variants
            .iter()
            .position(|variant| crate::lang::matches(lang, &variant.lang))
            .ok_or_else(|| {
                tm::TmError::InvalidEdit(format!(
                    "`{field}_lang`: segment {} has no {lang} text",
                    unit.id
                ))
            })?,
        None => default_index,
    };
    let variant = unit.variants.get_mut(index).ok_or_else(|| {
        tm::TmError::InvalidEdit(format!("segment {} has no {field} variant", unit.id))
    })?;
    variant.text = text;
    Ok(())
}

#[utoipa::path(put, path = "/api/v1/segments/{id}", tag = "tm",
    params(("id" = u64, Path, description = "Segment id")), request_body = UpdateRequest,
    responses((status = 200, body = SegmentDto), (status = 404, body = super::error::ErrorResponse),
              (status = 409, description = "The change would duplicate another segment", body = super::error::ErrorResponse)))]
pub async fn update(
    State(state): State<AppState>,
    format: WireFormat,
    caller: CallerOf,
    Path(raw_id): Path<String>,
    Payload(request): Payload<UpdateRequest>,
) -> Result<Reply<SegmentDto>, ApiError> {
    caller.require(Role::Translator)?;
    let id = parse_id(&raw_id, "a segment")?;
    let max_chars = state.config.limits.max_text_chars;
    let nothing = request.source.is_none()
        && request.target.is_none()
        && request.collection.is_none()
        && request.document.is_none()
        && request.status.is_none();
    if nothing {
        return Err(ApiError::bad_request(
            "bad_body",
            "nothing to change: give `source`, `target`, `collection`, `document` or `status`",
        ));
    }
    for (field, lang) in [
        ("source_lang", &request.source_lang),
        ("target_lang", &request.target_lang),
    ] {
        if let Some(lang) = lang {
            check_lang(field, lang)?;
        }
    }
    if let Some(source) = &request.source {
        check_text("source", source, max_chars)?;
    }
    if let Some(target) = &request.target {
        check_text("target", target, max_chars)?;
    }
    if let Some(collection) = &request.collection {
        check_collection("collection", collection)?;
        caller.may_write_to(collection)?;
    }
    let changed_by = recorded_author(&caller, "author", request.author.clone())?;
    // Translators and terminologists edit their own segments; admins any segment.
    let current = visible_segment(&state, &caller, id).await?;
    if !caller.has(Role::Admin) && current.author != caller.name {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!(
                "segment {id} is not by `{}`: this key may edit only its own segments",
                caller.name.clone().unwrap_or_default()
            ),
        ));
    }
    let edit: tm::UnitEdit = Box::new(move |unit: &mut Unit| {
        if let Some(source) = request.source {
            edit_variant(unit, "source", request.source_lang.as_deref(), 0, source)?;
        }
        if let Some(target) = request.target {
            edit_variant(unit, "target", request.target_lang.as_deref(), 1, target)?;
        }
        if let Some(collection) = request.collection {
            unit.collection = collection;
        }
        if let Some(document) = request.document {
            unit.document = (!document.is_empty()).then_some(document);
        }
        if let Some(status) = request.status {
            unit.status = status;
        }
        Ok(())
    });
    let unit = state.tm.update(id, changed_by, edit).await?;
    Ok(Reply::ok(format, unit.into()))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeleteResponse {
    id: u64,
    deleted: bool,
}

#[utoipa::path(delete, path = "/api/v1/segments/{id}", tag = "tm",
    params(("id" = u64, Path, description = "Segment id")),
    responses((status = 200, body = DeleteResponse), (status = 404, body = super::error::ErrorResponse)))]
pub async fn delete(
    State(state): State<AppState>,
    format: WireFormat,
    caller: CallerOf,
    Path(raw_id): Path<String>,
) -> Result<Reply<DeleteResponse>, ApiError> {
    caller.require(Role::Admin)?;
    let id = parse_id(&raw_id, "a segment")?;
    state.tm.delete(id).await?;
    Ok(Reply::ok(format, DeleteResponse { id, deleted: true }))
}

// ---------------------------------------------------------------------------------------
// Concordance

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ConcordanceHitDto {
    id: u64,
    source: String,
    target: Option<String>,
    source_lang: String,
    target_lang: Option<String>,
    collection: String,
    status: Status,
    author: Option<String>,
    document: Option<String>,
    updated_at: String,
    /// `[start, end)` offsets in Unicode characters of `source`.
    highlights: Vec<[usize; 2]>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ConcordanceResponse {
    total: usize,
    hits: Vec<ConcordanceHitDto>,
}

const CONCORDANCE_PARAMETERS: [&str; 5] = ["q", "lang", "target_lang", "limit", "collections"];

#[utoipa::path(get, path = "/api/v1/concordance", tag = "tm",
    params(("q" = String, Query, description = "Phrase to find"), ("lang" = String, Query, description = "Language of the phrase"),
           ("target_lang" = Option<String>, Query), ("limit" = Option<usize>, Query), ("collections" = Option<String>, Query, description = "Comma-separated")),
    responses((status = 200, body = ConcordanceResponse), (status = 400, body = super::error::ErrorResponse)))]
pub async fn concordance(
    State(state): State<AppState>,
    format: WireFormat,
    caller: CallerOf,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Reply<ConcordanceResponse>, ApiError> {
    reject_unknown(&params, &CONCORDANCE_PARAMETERS)?;
    let max_chars = state.config.limits.max_text_chars;
    let q = require("q", params.get("q").cloned())?;
    check_text("q", &q, max_chars)?;
    let lang = require("lang", params.get("lang").cloned())?;
    check_lang("lang", &lang)?;
    let target_lang = params.get("target_lang").cloned();
    if let Some(target_lang) = &target_lang {
        check_lang("target_lang", target_lang)?;
    }
    let max_results = state.config.limits.max_results;
    let limit = bounded(&params, "limit", 1..=max_results)?.unwrap_or(20.min(max_results));
    let collections: Vec<String> = params
        .get("collections")
        .map(|raw| raw.split(',').map(|name| name.trim().to_owned()).collect())
        .unwrap_or_default();
    for (index, name) in collections.iter().enumerate() {
        check_collection(&format!("collections[{index}]"), name)?;
    }
    let query = ConcordanceQuery {
        q,
        lang,
        target_lang,
        limit,
        collections,
        hidden_collections: caller.hidden_collections.clone(),
    };
    let tm = state.tm.clone();
    let result = tokio::task::spawn_blocking(move || tm.concordance(&query)).await??;
    let hits = result
        .hits
        .into_iter()
        .map(|hit| ConcordanceHitDto {
            id: hit.unit.id,
            source: hit.source.text,
            source_lang: hit.source.lang,
            target: hit.target.as_ref().map(|target| target.text.clone()),
            target_lang: hit.target.map(|target| target.lang),
            collection: hit.unit.collection,
            status: hit.unit.status,
            author: hit.unit.author,
            document: hit.unit.document,
            updated_at: rfc3339(hit.unit.updated_at),
            highlights: hit
                .highlights
                .into_iter()
                .map(|(start, end)| [start, end])
                .collect(),
        })
        .collect();
    Ok(Reply::ok(
        format,
        ConcordanceResponse {
            total: result.total,
            hits,
        },
    ))
}
