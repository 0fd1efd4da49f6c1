//! Lookup protocols that CAT tools already speak, as thin adapters over the same lookup.
//!
//! - amaGama / Translate Toolkit tmserver (Virtaal, Okapi's TranslateToolkitTMConnector):
//!   `GET /tmserver/{source_lang}/{target_lang}/unit/{text}`.
//! - MyMemory (tools with a MyMemory connector): `GET /get?q=…&langpair=zh|en`.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use serde_json::json;

use super::access::CallerOf;
use super::error::ApiError;
use super::params::bounded;
use super::segments::{check_lang, check_text, rfc3339};
use super::AppState;
use crate::auth::Caller;
use crate::tm::{LookupQuery, Match};

async fn run_lookup(state: &AppState, query: LookupQuery) -> Result<Vec<Match>, ApiError> {
    let tm = state.tm.clone();
    Ok(tokio::task::spawn_blocking(move || tm.lookup(&query)).await??)
}

/// One candidate in Translate Toolkit's tmserver shape.
#[derive(Serialize)]
pub struct TmserverCandidate {
    source: String,
    target: String,
    quality: f64,
    rank: f64,
}

/// `GET /tmserver/{source_lang}/{target_lang}/unit/{text}?min_similarity=&max_candidates=`
pub async fn tmserver(
    State(state): State<AppState>,
    caller: CallerOf,
    Path((source_lang, target_lang, text)): Path<(String, String, String)>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Vec<TmserverCandidate>>, ApiError> {
    check_lang("source_lang", &source_lang)?;
    check_lang("target_lang", &target_lang)?;
    check_text("text", &text, state.config.limits.max_text_chars)?;
    let max_results = state.config.limits.max_results;
    let min_score =
        bounded::<u8>(&params, "min_similarity", 0..=100)?.unwrap_or(state.config.lookup.min_score);
    let limit = bounded::<usize>(&params, "max_candidates", 1..=max_results)?
        .unwrap_or(state.config.lookup.limit);
    let matches = run_lookup(
        &state,
        LookupQuery {
            text,
            source_lang,
            target_lang,
            min_score,
            limit,
            collections: Vec::new(),
            hidden_collections: caller.hidden_collections.clone(),
        },
    )
    .await?;
    Ok(Json(
        matches
            .into_iter()
            .map(|found| TmserverCandidate {
                source: found.source.text,
                target: found.target.text,
                quality: found.score as f64,
                rank: found.score as f64,
            })
            .collect(),
    ))
}

/// A MyMemory-shaped error: tools read `responseStatus` and `responseDetails`; the usual
/// `error` object is there too.
fn mymemory_error(error: ApiError) -> Response {
    let body = json!({
        "responseData": {"translatedText": null, "match": null},
        "responseDetails": error.message,
        "responseStatus": error.status.as_u16(),
        "matches": [],
        "error": {"code": error.code, "message": error.message},
    });
    (error.status, Json(body)).into_response()
}

/// `GET /get?q=…&langpair=zh|en&numres=…` (`de` and `key` are accepted and ignored).
pub async fn mymemory(
    State(state): State<AppState>,
    caller: CallerOf,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    match mymemory_lookup(&state, &caller, &params).await {
        Ok(body) => (StatusCode::OK, Json(body)).into_response(),
        Err(error) => mymemory_error(error),
    }
}

async fn mymemory_lookup(
    state: &AppState,
    caller: &Caller,
    params: &HashMap<String, String>,
) -> Result<serde_json::Value, ApiError> {
    let text = params
        .get("q")
        .cloned()
        .ok_or_else(|| ApiError::bad_request("missing_field", "`q` is required"))?;
    check_text("q", &text, state.config.limits.max_text_chars)?;
    let langpair = params.get("langpair").ok_or_else(|| {
        ApiError::bad_request("missing_field", "`langpair` is required, e.g. zh|en")
    })?;
    let (source_lang, target_lang) = langpair.split_once('|').ok_or_else(|| {
        ApiError::invalid_field(
            "langpair",
            format!("`{langpair}` is not SOURCE|TARGET, e.g. zh|en"),
        )
    })?;
    check_lang("langpair (source)", source_lang)?;
    check_lang("langpair (target)", target_lang)?;
    let limit = bounded::<usize>(params, "numres", 1..=state.config.limits.max_results)?
        .unwrap_or(state.config.lookup.limit);
    let matches = run_lookup(
        state,
        LookupQuery {
            text,
            source_lang: source_lang.to_owned(),
            target_lang: target_lang.to_owned(),
            min_score: state.config.lookup.min_score,
            limit,
            collections: Vec::new(),
            hidden_collections: caller.hidden_collections.clone(),
        },
    )
    .await?;
    let best = matches.first();
    let response_data = json!({
        "translatedText": best.map(|found| found.target.text.clone()).unwrap_or_default(),
        "match": best.map(|found| found.score as f64 / 100.0).unwrap_or(0.0),
    });
    let matches: Vec<serde_json::Value> = matches
        .iter()
        .map(|found| {
            let author = found.unit.author.clone().unwrap_or_default();
            json!({
                "id": found.unit.id.to_string(),
                "segment": found.source.text,
                "translation": found.target.text,
                "source": found.source.lang,
                "target": found.target.lang,
                "quality": found.score.to_string(),
                "reference": found.unit.document,
                "usage-count": 0,
                "subject": found.unit.collection,
                "created-by": author,
                "last-updated-by": found.unit.changed_by.clone().unwrap_or(author.clone()),
                "create-date": rfc3339(found.unit.created_at),
                "last-update-date": rfc3339(found.unit.updated_at),
                "match": found.score as f64 / 100.0,
            })
        })
        .collect();
    Ok(json!({
        "responseData": response_data,
        "quotaFinished": false,
        "mtLangSupported": null,
        "responseDetails": "",
        "responseStatus": 200,
        "responderId": null,
        "exception_code": null,
        "matches": matches,
    }))
}
