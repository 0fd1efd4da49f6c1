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
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, State};
use axum::routing::{get, post};
use axum::Router;
use serde::Serialize;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::RequestBodyTimeoutLayer;

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
    with_service_layers(json_routes.merge(file_routes), state)
}

/// The layers every route runs inside: unknown routes and methods answered in our error
/// shape, panics caught, idle bodies cut off, the caller authenticated, each request tracked.
fn with_service_layers(routes: Router<AppState>, state: AppState) -> Router {
    routes
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
        .layer(RequestBodyTimeoutLayer::new(Duration::from_secs(
            state.config.limits.body_idle_seconds,
        )))
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

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use tower::ServiceExt;

    fn state(dir: &std::path::Path) -> AppState {
        let config = Config::embedded();
        AppState {
            tm: Arc::new(Tm::open(dir, crate::tm::OpenMode::ReadWrite).unwrap()),
            termbase: Arc::new(Termbase::open(dir).unwrap()),
            keyring: Arc::new(Keyring::from_config(&config.auth).unwrap()),
            rate_limits: Arc::new(access::RateLimits::new(0)),
            metrics: Arc::default(),
            config: Arc::new(config),
        }
    }

    #[tokio::test]
    async fn a_panicking_handler_gets_a_500_with_a_request_id_and_the_service_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let state = state(dir.path());
        let routes = Router::new()
            .route(
                "/boom",
                get(|| async {
                    if true {
                        panic!("a bug in a handler");
                    }
                    "never"
                }),
            )
            .route("/health", get(health))
            .route("/metrics", get(observe::metrics));
        let app = with_service_layers(routes, state);
        for _ in 0..2 {
            let response = app
                .clone()
                .oneshot(Request::get("/boom").body(Body::empty()).unwrap())
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
            assert!(response.headers().contains_key("x-request-id"));
            let body = axum::body::to_bytes(response.into_body(), 1 << 16)
                .await
                .unwrap();
            let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(body["error"]["code"], "internal");
        }
        let response = app
            .clone()
            .oneshot(Request::get("/health").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let response = app
            .oneshot(Request::get("/metrics").body(Body::empty()).unwrap())
            .await
            .unwrap();
        let metrics = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        let metrics = String::from_utf8_lossy(&metrics);
        assert!(
            metrics.lines().any(|line| line.contains("route=\"/boom\"")
                && line.contains("status=\"500\"")
                && line.ends_with(" 2")),
            "{metrics}"
        );
    }

    #[tokio::test]
    async fn ready_answers_503_once_the_index_writer_has_stopped() {
        let dir = tempfile::tempdir().unwrap();
        let state = state(dir.path());
        let app = with_service_layers(
            Router::new().route("/ready", get(observe::ready)),
            state.clone(),
        );
        let ready = |app: Router| async move {
            app.oneshot(Request::get("/ready").body(Body::empty()).unwrap())
                .await
                .unwrap()
                .status()
        };
        assert_eq!(ready(app.clone()).await, StatusCode::OK);
        let tm = state.tm.clone();
        tokio::task::spawn_blocking(move || tm.close())
            .await
            .unwrap();
        assert_eq!(ready(app).await, StatusCode::SERVICE_UNAVAILABLE);
    }
}
