//! The termbase over HTTP: curation (`/api/v1/terms`), recognition, QA and TBX exchange.
//!
//! The author recorded for a change is the API key's name. Only an open server (no keys: one
//! user on their own machine) takes it from the `X-Attache-User` header (absent: `null`).

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::{Path, Query, Request, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::access::CallerOf;
use super::error::ApiError;
use super::params::{bounded, parse_id, reject_unknown};
use super::segments::{check_lang, check_text};
use super::wire::{Payload, Reply, WireFormat};
use super::AppState;
use crate::auth::{Caller, Role};
use crate::formats::tbx::Dialect;
use crate::termbase::qa::{self, Issue};
use crate::termbase::recognize::Hit;
use crate::termbase::{
    Entry, EntryInput, EntryPatch, HistoryItem, TermStatus, TermbaseError, Workflow,
};

/// The header naming who makes a change.
pub const USER_HEADER: &str = "x-attache-user";

fn author(caller: &Caller, headers: &HeaderMap) -> Option<String> {
    let claimed = headers
        .get(USER_HEADER)
        .and_then(|value| value.to_str().ok())
        .map(|value| value.trim().to_owned());
    caller.author(claimed)
}

impl From<TermbaseError> for ApiError {
    fn from(error: TermbaseError) -> Self {
        match &error {
            TermbaseError::Invalid(_) => ApiError::bad_request("invalid_field", error.to_string()),
            TermbaseError::NotFound(_) => ApiError::not_found(error.to_string()),
            TermbaseError::Duplicate { existing, .. } => ApiError {
                status: StatusCode::CONFLICT,
                code: "duplicate",
                message: format!("{error} (existing entry id {existing})"),
            },
            TermbaseError::Locked(_) => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                error.to_string(),
            ),
            TermbaseError::Io { .. } | TermbaseError::Corrupt { .. } => {
                ApiError::internal_or_disk_full(&error)
            }
        }
    }
}

/// Runs a termbase write on the blocking pool (it fsyncs and rebuilds the matchers).
async fn blocking<T, F>(state: &AppState, work: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&crate::termbase::Termbase) -> Result<T, TermbaseError> + Send + 'static,
{
    let termbase = state.termbase.clone();
    Ok(tokio::task::spawn_blocking(move || work(&termbase)).await??)
}

#[utoipa::path(post, path = "/api/v1/terms", tag = "termbase", request_body = EntryInput,
    responses((status = 201, body = Entry), (status = 400, body = super::error::ErrorResponse), (status = 409, body = super::error::ErrorResponse)))]
pub async fn create(
    State(state): State<AppState>,
    format: WireFormat,
    caller: CallerOf,
    headers: HeaderMap,
    Payload(input): Payload<EntryInput>,
) -> Result<Reply<Entry>, ApiError> {
    // Translators propose; only terminologists may create an entry in another state.
    caller.require(Role::Translator)?;
    if input
        .workflow
        .is_some_and(|workflow| workflow != Workflow::Proposed)
    {
        caller.require(Role::Terminologist)?;
    }
    let by = author(&caller, &headers);
    let entry = blocking(&state, move |termbase| termbase.create(input, by)).await?;
    Ok(Reply::with_status(format, StatusCode::CREATED, entry))
}

#[utoipa::path(get, path = "/api/v1/terms/{id}", tag = "termbase", params(("id" = u64, Path)),
    responses((status = 200, body = Entry), (status = 404, body = super::error::ErrorResponse)))]
pub async fn get(
    State(state): State<AppState>,
    format: WireFormat,
    Path(raw_id): Path<String>,
) -> Result<Reply<Entry>, ApiError> {
    let id = parse_id(&raw_id, "an entry")?;
    let entry = state
        .termbase
        .get(id)
        .ok_or_else(|| ApiError::not_found(format!("entry {id} not found")))?;
    Ok(Reply::ok(format, entry))
}

#[utoipa::path(put, path = "/api/v1/terms/{id}", tag = "termbase", params(("id" = u64, Path)), request_body = EntryInput,
    responses((status = 200, body = Entry), (status = 404, body = super::error::ErrorResponse)))]
pub async fn replace(
    State(state): State<AppState>,
    format: WireFormat,
    caller: CallerOf,
    headers: HeaderMap,
    Path(raw_id): Path<String>,
    Payload(input): Payload<EntryInput>,
) -> Result<Reply<Entry>, ApiError> {
    caller.require(Role::Terminologist)?;
    let id = parse_id(&raw_id, "an entry")?;
    let by = author(&caller, &headers);
    let entry = blocking(&state, move |termbase| termbase.replace(id, input, by)).await?;
    Ok(Reply::ok(format, entry))
}

#[utoipa::path(patch, path = "/api/v1/terms/{id}", tag = "termbase", params(("id" = u64, Path)), request_body = EntryPatch,
    responses((status = 200, body = Entry), (status = 404, body = super::error::ErrorResponse)))]
pub async fn patch(
    State(state): State<AppState>,
    format: WireFormat,
    caller: CallerOf,
    headers: HeaderMap,
    Path(raw_id): Path<String>,
    Payload(patch): Payload<EntryPatch>,
) -> Result<Reply<Entry>, ApiError> {
    caller.require(Role::Terminologist)?;
    let id = parse_id(&raw_id, "an entry")?;
    let by = author(&caller, &headers);
    let entry = blocking(&state, move |termbase| termbase.patch(id, patch, by)).await?;
    Ok(Reply::ok(format, entry))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Deleted {
    id: u64,
    deleted: bool,
}

#[utoipa::path(delete, path = "/api/v1/terms/{id}", tag = "termbase", params(("id" = u64, Path)),
    responses((status = 200, body = Deleted), (status = 404, body = super::error::ErrorResponse)))]
pub async fn delete(
    State(state): State<AppState>,
    format: WireFormat,
    caller: CallerOf,
    headers: HeaderMap,
    Path(raw_id): Path<String>,
) -> Result<Reply<Deleted>, ApiError> {
    caller.require(Role::Admin)?;
    let id = parse_id(&raw_id, "an entry")?;
    let by = author(&caller, &headers);
    blocking(&state, move |termbase| termbase.delete(id, by)).await?;
    Ok(Reply::ok(format, Deleted { id, deleted: true }))
}

async fn set_workflow(
    state: AppState,
    format: WireFormat,
    caller: CallerOf,
    headers: HeaderMap,
    raw_id: String,
    workflow: Workflow,
) -> Result<Reply<Entry>, ApiError> {
    caller.require(Role::Terminologist)?;
    let id = parse_id(&raw_id, "an entry")?;
    let by = author(&caller, &headers);
    let entry = blocking(&state, move |termbase| {
        termbase.set_workflow(id, workflow, by)
    })
    .await?;
    Ok(Reply::ok(format, entry))
}

#[utoipa::path(post, path = "/api/v1/terms/{id}/approve", tag = "termbase", params(("id" = u64, Path)),
    responses((status = 200, body = Entry), (status = 404, body = super::error::ErrorResponse)))]
pub async fn approve(
    State(state): State<AppState>,
    format: WireFormat,
    caller: CallerOf,
    headers: HeaderMap,
    Path(raw_id): Path<String>,
) -> Result<Reply<Entry>, ApiError> {
    set_workflow(state, format, caller, headers, raw_id, Workflow::Approved).await
}

#[utoipa::path(post, path = "/api/v1/terms/{id}/reject", tag = "termbase", params(("id" = u64, Path)),
    responses((status = 200, body = Entry), (status = 404, body = super::error::ErrorResponse)))]
pub async fn reject(
    State(state): State<AppState>,
    format: WireFormat,
    caller: CallerOf,
    headers: HeaderMap,
    Path(raw_id): Path<String>,
) -> Result<Reply<Entry>, ApiError> {
    set_workflow(state, format, caller, headers, raw_id, Workflow::Rejected).await
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct History {
    id: u64,
    changes: Vec<HistoryItem>,
}

#[utoipa::path(get, path = "/api/v1/terms/{id}/history", tag = "termbase", params(("id" = u64, Path)),
    responses((status = 200, body = History), (status = 404, body = super::error::ErrorResponse)))]
pub async fn history(
    State(state): State<AppState>,
    format: WireFormat,
    Path(raw_id): Path<String>,
) -> Result<Reply<History>, ApiError> {
    let id = parse_id(&raw_id, "an entry")?;
    let changes = state
        .termbase
        .history(id)
        .ok_or_else(|| ApiError::not_found(format!("entry {id} has no history")))?;
    Ok(Reply::ok(format, History { id, changes }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RecentChange {
    entry_id: u64,
    #[serde(flatten)]
    change: HistoryItem,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RecentChanges {
    changes: Vec<RecentChange>,
}

/// `GET /api/v1/terms/changes?limit=N`: the latest changes to the glossary, newest first.
#[utoipa::path(get, path = "/api/v1/terms/changes", tag = "termbase",
    params(("limit" = Option<usize>, Query, description = "1 to max_results; default 20")),
    responses((status = 200, body = RecentChanges), (status = 400, body = super::error::ErrorResponse)))]
pub async fn changes(
    State(state): State<AppState>,
    format: WireFormat,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Reply<RecentChanges>, ApiError> {
    reject_unknown(&params, &["limit"])?;
    let max_results = state.config.limits.max_results;
    let limit = bounded(&params, "limit", 1..=max_results)?.unwrap_or(20.min(max_results));
    let changes = state
        .termbase
        .recent_changes(limit)
        .into_iter()
        .map(|(entry_id, change)| RecentChange { entry_id, change })
        .collect();
    Ok(Reply::ok(format, RecentChanges { changes }))
}

// ---------------------------------------------------------------------------------------
// Search

#[derive(Serialize, utoipa::ToSchema)]
pub struct SearchHit {
    #[serde(rename = "match")]
    match_kind: &'static str,
    entry: Entry,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SearchResponse {
    total: usize,
    page: usize,
    per_page: usize,
    results: Vec<SearchHit>,
}

const SEARCH_PARAMETERS: [&str; 7] = [
    "q", "lang", "status", "workflow", "subject", "page", "per_page",
];

/// How well a term matches a search: exact, prefix, or within a few character edits.
fn match_rank(query: &str, term: &str) -> Option<(u8, usize)> {
    let query = crate::text::normalize(query.trim());
    let term = crate::text::normalize(term.trim());
    if term == query {
        return Some((0, 0));
    }
    if term.starts_with(&query) {
        return Some((1, term.chars().count() - query.chars().count()));
    }
    // One wrong character in Chinese, a typo or two in English words.
    let allowed = (query.chars().count() / 8).max(1);
    let distance = rapidfuzz::distance::levenshtein::distance(query.chars(), term.chars());
    if distance <= allowed {
        return Some((2, distance));
    }
    // A typo in a prefix of a longer term ("diplomcy" → "Xi Jinping Thought on Diplomacy").
    let term_prefix: String = term.chars().take(query.chars().count()).collect();
    let words_distance = term
        .split_whitespace()
        .map(|word| rapidfuzz::distance::levenshtein::distance(query.chars(), word.chars()))
        .min()
        .unwrap_or(usize::MAX);
    let prefix_distance =
        rapidfuzz::distance::levenshtein::distance(query.chars(), term_prefix.chars());
    let best = words_distance.min(prefix_distance);
    (best <= allowed && query.chars().count() >= 3).then_some((3, best))
}

#[utoipa::path(get, path = "/api/v1/terms", tag = "termbase",
    params(("q" = Option<String>, Query), ("lang" = Option<String>, Query), ("status" = Option<String>, Query), ("workflow" = Option<String>, Query),
           ("subject" = Option<String>, Query), ("page" = Option<usize>, Query), ("per_page" = Option<usize>, Query)),
    responses((status = 200, body = SearchResponse), (status = 400, body = super::error::ErrorResponse)))]
pub async fn search(
    State(state): State<AppState>,
    format: WireFormat,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Reply<SearchResponse>, ApiError> {
    reject_unknown(&params, &SEARCH_PARAMETERS)?;
    let query = params.get("q").cloned().unwrap_or_default();
    let lang = params.get("lang").cloned();
    if let Some(lang) = &lang {
        check_lang("lang", lang)?;
    }
    let status = params
        .get("status")
        .map(|raw| {
            TermStatus::parse(raw).ok_or_else(|| {
                ApiError::invalid_field(
                    "status",
                    format!("`{raw}` is not one of preferred, admitted, deprecated, superseded"),
                )
            })
        })
        .transpose()?;
    let workflow = params
        .get("workflow")
        .map(|raw| {
            Workflow::parse(raw).ok_or_else(|| {
                ApiError::invalid_field(
                    "workflow",
                    format!("`{raw}` is not one of proposed, approved, rejected"),
                )
            })
        })
        .transpose()?;
    let subject = params.get("subject").cloned();
    let page = bounded(&params, "page", 1..=usize::MAX)?.unwrap_or(1);
    let per_page = bounded(&params, "per_page", 1..=state.config.limits.max_results)?.unwrap_or(20);

    let entries = state.termbase.entries();
    let results = tokio::task::spawn_blocking(move || {
        let mut ranked: Vec<((u8, usize, u64), &'static str, Entry)> = Vec::new();
        for entry in entries {
            if workflow.is_some_and(|wanted| entry.workflow != wanted) {
                continue;
            }
            if let Some(subject) = &subject {
                let matches_subject = entry
                    .subject_field
                    .as_deref()
                    .is_some_and(|field| field.eq_ignore_ascii_case(subject));
                if !matches_subject {
                    continue;
                }
            }
            let best = entry
                .terms
                .iter()
                .filter(|term| {
                    lang.as_deref()
                        .is_none_or(|lang| crate::lang::matches(lang, &term.lang))
                })
                .filter(|term| status.is_none_or(|status| term.status == status))
                .filter_map(|term| {
                    if query.trim().is_empty() {
                        Some((0, 0))
                    } else {
                        match_rank(&query, &term.text)
                    }
                })
                .min();
            if let Some((kind, distance)) = best {
                let label = match kind {
                    0 if query.trim().is_empty() => "all",
                    0 => "exact",
                    1 => "prefix",
                    _ => "fuzzy",
                };
                ranked.push(((kind, distance, entry.id), label, entry));
            }
        }
        ranked.sort_by_key(|(rank, _, _)| *rank);
        ranked
    })
    .await?;
    let total = results.len();
    let results = results
        .into_iter()
        .skip((page - 1).saturating_mul(per_page))
        .take(per_page)
        .map(|(_, match_kind, entry)| SearchHit { match_kind, entry })
        .collect();
    Ok(Reply::ok(
        format,
        SearchResponse {
            total,
            page,
            per_page,
            results,
        },
    ))
}

// ---------------------------------------------------------------------------------------
// Recognition and QA

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecognizeRequest {
    text: Option<String>,
    lang: Option<String>,
    target_lang: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RecognizeResponse {
    hits: Vec<Hit>,
}

/// `include=proposed` adds proposed entries to the approved ones.
pub fn include_proposed(params: &HashMap<String, String>) -> Result<bool, ApiError> {
    match params.get("include").map(String::as_str) {
        None | Some("approved") => Ok(false),
        Some("proposed") => Ok(true),
        Some(other) => Err(ApiError::invalid_field(
            "include",
            format!("`{other}` is not `proposed`"),
        )),
    }
}

/// Recognition for a lookup or the recognize endpoint, on the blocking pool.
pub async fn recognize_text(
    state: &AppState,
    text: String,
    lang: String,
    target_lang: Option<String>,
    include_proposed: bool,
) -> Result<Vec<Hit>, ApiError> {
    let matchers = state.termbase.matchers();
    Ok(tokio::task::spawn_blocking(move || {
        matchers
            .get(include_proposed)
            .recognize(&text, &lang, target_lang.as_deref())
    })
    .await?)
}

#[utoipa::path(post, path = "/api/v1/terms/recognize", tag = "termbase", request_body = RecognizeRequest,
    params(("include" = Option<String>, Query, description = "`proposed` adds entries not yet approved")),
    responses((status = 200, body = RecognizeResponse), (status = 400, body = super::error::ErrorResponse)))]
pub async fn recognize(
    State(state): State<AppState>,
    format: WireFormat,
    Query(params): Query<HashMap<String, String>>,
    Payload(request): Payload<RecognizeRequest>,
) -> Result<Reply<RecognizeResponse>, ApiError> {
    let include = include_proposed(&params)?;
    let text = request
        .text
        .ok_or_else(|| ApiError::bad_request("missing_field", "`text` is required"))?;
    check_text("text", &text, state.config.limits.max_text_chars)?;
    let lang = request
        .lang
        .ok_or_else(|| ApiError::bad_request("missing_field", "`lang` is required"))?;
    check_lang("lang", &lang)?;
    if let Some(target_lang) = &request.target_lang {
        check_lang("target_lang", target_lang)?;
    }
    let hits = recognize_text(&state, text, lang, request.target_lang, include).await?;
    Ok(Reply::ok(format, RecognizeResponse { hits }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QaRequest {
    source: Option<String>,
    target: Option<String>,
    source_lang: Option<String>,
    target_lang: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct QaResponse {
    issues: Vec<Issue>,
}

#[utoipa::path(post, path = "/api/v1/qa", tag = "termbase", request_body = QaRequest,
    responses((status = 200, body = QaResponse), (status = 400, body = super::error::ErrorResponse)))]
pub async fn check(
    State(state): State<AppState>,
    format: WireFormat,
    Payload(request): Payload<QaRequest>,
) -> Result<Reply<QaResponse>, ApiError> {
    let max_chars = state.config.limits.max_text_chars;
    let mut fields = Vec::new();
    for (name, value) in [
        ("source", request.source),
        ("target", request.target),
        ("source_lang", request.source_lang),
        ("target_lang", request.target_lang),
    ] {
        let value = value.ok_or_else(|| {
            ApiError::bad_request("missing_field", format!("`{name}` is required"))
        })?;
        if name.ends_with("_lang") {
            check_lang(name, &value)?;
        } else {
            check_text(name, &value, max_chars)?;
        }
        fields.push(value);
    }
    let [source, target, source_lang, target_lang]: [String; 4] =
        fields.try_into().expect("four fields");
    let matchers = state.termbase.matchers();
    let issues = tokio::task::spawn_blocking(move || {
        qa::check(
            &matchers.approved,
            &source,
            &target,
            &source_lang,
            &target_lang,
        )
    })
    .await?;
    Ok(Reply::ok(format, QaResponse { issues }))
}

// ---------------------------------------------------------------------------------------
// TBX

#[utoipa::path(get, path = "/api/v1/termbase/export", tag = "termbase",
    params(("format" = Option<String>, Query, description = "tbx (TBX-Basic 2019) or tbx2 (martif)")),
    responses((status = 200, description = "A TBX document", content_type = "application/x-tbx+xml", body = String)))]
pub async fn export(
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let dialect = match params.get("format").map(String::as_str) {
        None | Some("tbx") => Dialect::Basic2019,
        Some("tbx2") => Dialect::Martif,
        Some(other) => {
            return Err(ApiError::invalid_field(
                "format",
                format!(
                "`{other}` is not supported; use tbx (TBX-Basic, ISO 30042:2019) or tbx2 (martif)"
            ),
            ))
        }
    };
    let entries = state.termbase.entries();
    let document = tokio::task::spawn_blocking(move || {
        crate::formats::tbx::write_tbx(Vec::new(), &entries, "Attaché termbase export", dialect)
    })
    .await?
    .map_err(|error| ApiError::internal(format!("cannot write TBX: {error}")))?;
    let mut response = Body::from(document).into_response();
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/x-tbx+xml; charset=utf-8"),
    );
    response.headers_mut().insert(
        CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"attache-termbase.tbx\""),
    );
    Ok(response)
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TermbaseImportResponse {
    imported: usize,
    ids: Vec<u64>,
    duplicates: usize,
    skipped: usize,
    errors: Vec<crate::formats::Skipped>,
}

#[utoipa::path(post, path = "/api/v1/termbase/import", tag = "termbase",
    params(("format" = Option<String>, Query), ("workflow" = Option<String>, Query)),
    request_body(content = String, description = "A TBX file", content_type = "application/xml"),
    responses((status = 200, body = TermbaseImportResponse), (status = 400, body = super::error::ErrorResponse)))]
pub async fn import(
    State(state): State<AppState>,
    format: WireFormat,
    caller: CallerOf,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
    request: Request,
) -> Result<Reply<TermbaseImportResponse>, ApiError> {
    caller.require(Role::Terminologist)?;
    match params.get("format").map(String::as_str) {
        None | Some("tbx") => {}
        Some(other) => {
            return Err(ApiError::invalid_field(
                "format",
                format!("`{other}` is not supported; use tbx"),
            ))
        }
    }
    // Given, it sets every entry's state; absent, each keeps its file's state (else proposed).
    let workflow = match params.get("workflow") {
        None => None,
        Some(raw) => Some(Workflow::parse(raw).ok_or_else(|| {
            ApiError::invalid_field(
                "workflow",
                format!("`{raw}` is not one of proposed, approved, rejected"),
            )
        })?),
    };
    let spool = super::files::spool_body(&state, request.into_body()).await?;
    let by = author(&caller, &headers);
    let termbase = state.termbase.clone();
    let (entries, skipped) = tokio::task::spawn_blocking(move || -> Result<_, ApiError> {
        let path: &std::path::Path = &spool;
        let parsed = crate::formats::tbx::read_file(path, Workflow::Proposed)?;
        let inputs = crate::formats::tbx::with_workflow(parsed.entries, workflow);
        Ok((termbase.import(inputs, by)?, parsed.skipped))
    })
    .await??;
    Ok(Reply::ok(
        format,
        TermbaseImportResponse {
            imported: entries.entries.len(),
            ids: entries.entries.iter().map(|entry| entry.id).collect(),
            duplicates: entries.duplicates,
            skipped: skipped.len(),
            errors: skipped,
        },
    ))
}
