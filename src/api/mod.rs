//! The HTTP API: axum routes, request and response bodies, errors.
//!
//! Only this module knows HTTP, JSON and MessagePack. Handlers validate everything before
//! they touch the store (a rejected request changes nothing) and run searches on the blocking
//! pool, never on the async executor.

pub mod access;
pub mod compat;
pub mod error;
pub mod files;
pub mod limits;
pub mod observe;
pub mod openapi;
pub mod params;
pub mod segments;
pub mod terms;
pub mod web;
pub mod wire;

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, State};
use axum::routing::{get, post};
use axum::Router;
use serde::Serialize;
use tower_http::catch_panic::CatchPanicLayer;

use crate::auth::Keyring;
use crate::config::Config;
use crate::termbase::Termbase;
use crate::tm::Tm;
use error::ApiError;
use wire::{Reply, WireFormat};

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub tm: Arc<Tm>,
    pub termbase: Arc<Termbase>,
    pub config: Arc<Config>,
    pub metrics: Arc<observe::Metrics>,
    pub keyring: Arc<Keyring>,
    pub rate_limits: Arc<access::RateLimits>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HealthResponse {
    status: &'static str,
    segments: u64,
    terms: usize,
    /// Tantivy segments the index is in right now (after a large import they are merged into
    /// one in the background; lookups are fastest once that is done).
    index_segments: usize,
    version: &'static str,
}

#[utoipa::path(get, path = "/health", tag = "service", responses((status = 200, body = HealthResponse)))]
async fn health(
    State(state): State<AppState>,
    format: WireFormat,
) -> Result<Reply<HealthResponse>, ApiError> {
    let tm = state.tm.clone();
    let (segments, index_segments) =
        tokio::task::spawn_blocking(move || (tm.count(), tm.index_segment_count())).await?;
    Ok(Reply::ok(
        format,
        HealthResponse {
            status: "ok",
            segments,
            terms: state.termbase.len(),
            index_segments,
            version: env!("CARGO_PKG_VERSION"),
        },
    ))
}

async fn unknown_route(request: axum::extract::Request) -> ApiError {
    ApiError::not_found(format!(
        "no such endpoint: {} {}",
        request.method(),
        request.uri().path()
    ))
}

pub fn router(state: AppState) -> Router {
    let json_limit = state.config.limits.json_body_bytes;
    let json_routes = Router::new()
        .route("/api/v1/lookup", post(segments::lookup))
        .route("/api/v1/lookup/batch", post(segments::lookup_batch))
        .route("/api/v1/split", post(segments::split))
        .route("/api/v1/segments", post(segments::add))
        .route(
            "/api/v1/segments/{id}",
            get(segments::get)
                .put(segments::update)
                .delete(segments::delete),
        )
        .route("/api/v1/concordance", get(segments::concordance))
        .route("/api/v1/export", get(files::export))
        .route("/api/v1/terms", post(terms::create).get(terms::search))
        .route(
            "/api/v1/terms/{id}",
            get(terms::get)
                .put(terms::replace)
                .patch(terms::patch)
                .delete(terms::delete),
        )
        .route("/api/v1/terms/{id}/approve", post(terms::approve))
        .route("/api/v1/terms/{id}/reject", post(terms::reject))
        .route("/api/v1/terms/{id}/history", get(terms::history))
        .route("/api/v1/terms/changes", get(terms::changes))
        .route("/api/v1/terms/recognize", post(terms::recognize))
        .route("/api/v1/qa", post(terms::check))
        .route("/api/v1/termbase/export", get(terms::export))
        .route("/api/v1/keys", get(access::keys))
        .route("/api/v1/whoami", get(access::whoami))
        .route("/", get(web::index))
        .route("/assets/app.js", get(web::app_js))
        .route("/assets/app.css", get(web::app_css))
        .route("/health", get(health))
        .route("/ready", get(observe::ready))
        .route("/metrics", get(observe::metrics))
        .route("/api/v1/openapi.json", get(openapi::openapi_json))
        .route(
            "/tmserver/{source_lang}/{target_lang}/unit/{*text}",
            get(compat::tmserver),
        )
        .route("/get", get(compat::mymemory))
        .layer(DefaultBodyLimit::max(json_limit));
    // Imports stream to disk and count their own bytes against limits.import_body_bytes.
    let file_routes = Router::new()
        .route("/api/v1/import", post(files::import))
        .route("/api/v1/termbase/import", post(terms::import))
        .layer(DefaultBodyLimit::disable());
    json_routes
        .merge(file_routes)
        .fallback(unknown_route)
        .method_not_allowed_fallback(|request: axum::extract::Request| async move {
            ApiError::new(
                axum::http::StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                format!(
                    "{} is not allowed on {}",
                    request.method(),
                    request.uri().path()
                ),
            )
        })
        .layer(CatchPanicLayer::custom(|_panic| {
            axum::response::IntoResponse::into_response(ApiError::internal(
                "the server hit an internal error while handling this request",
            ))
        }))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            limits::body_idle_timeout,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            access::authenticate,
        ))
        // Outside the panic catcher and the authentication, so a panic's 500 and a 401 are
        // counted, logged and carry the request id too.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            observe::track,
        ))
        .with_state(state)
}
