//! Observability: a request id on every request and response, one structured log line per
//! request, Prometheus metrics (`GET /metrics`) and readiness (`GET /ready`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use super::AppState;

/// The header that carries the request id, in and out.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    /// The route as declared (`/api/v1/terms/{id}`), so ids do not multiply the series.
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

type LatencyFamily = Family<RouteLabels, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    // 0.25 ms to about 4 s.
    Histogram::new(exponential_buckets(0.000_25, 2.0, 15))
}

/// The server's metrics. Sizes are read from the store when scraped.
pub struct Metrics {
    registry: Mutex<Registry>,
    requests: Family<RequestLabels, Counter>,
    latency: LatencyFamily,
    tm_units: Gauge,
    termbase_entries: Gauge,
    index_segments: Gauge,
    index_commits: Gauge,
    next_request: AtomicU64,
    started: u64,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("attache");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = LatencyFamily::new_with_constructor(latency_histogram);
        let tm_units = Gauge::default();
        let termbase_entries = Gauge::default();
        let index_segments = Gauge::default();
        let index_commits = Gauge::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route",
            latency.clone(),
        );
        registry.register(
            "tm_units",
            "Translation units in the memory",
            tm_units.clone(),
        );
        registry.register(
            "termbase_entries",
            "Entries in the glossary",
            termbase_entries.clone(),
        );
        registry.register(
            "index_segments",
            "Segments the index is in",
            index_segments.clone(),
        );
        registry.register(
            "index_commits",
            "Index commits since the server started",
            index_commits.clone(),
        );
        let started = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| since.as_secs());
        Metrics {
            registry: Mutex::new(registry),
            requests,
            latency,
            tm_units,
            termbase_entries,
            index_segments,
            index_commits,
            next_request: AtomicU64::new(1),
            started,
        }
    }
}

impl Metrics {
    /// A new id: unique within this process and, with the start time in it, across restarts.
    fn new_request_id(&self) -> String {
        let number = self.next_request.fetch_add(1, Ordering::Relaxed);
        format!("{:x}-{number}", self.started)
    }
}

/// A client's own request id is kept when it is short and printable; else one is made.
fn client_request_id(request: &Request) -> Option<String> {
    let value = request.headers().get(REQUEST_ID_HEADER)?.to_str().ok()?;
    let usable =
        !value.is_empty() && value.len() <= 64 && value.bytes().all(|byte| byte.is_ascii_graphic());
    usable.then(|| value.to_owned())
}

/// Middleware: request id, metrics and the request's log line.
pub async fn track(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let metrics = &state.metrics;
    let request_id = client_request_id(&request).unwrap_or_else(|| metrics.new_request_id());
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        request.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    // Only the standard methods become label values: any token is a valid method, and each
    // new label value would be a new series kept for ever.
    let method = match request.method().as_str() {
        known @ ("GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD" | "OPTIONS") => known,
        _ => "OTHER",
    }
    .to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let mut response = next.run(request).await;
    let status = response.status().as_u16();
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    let elapsed = started.elapsed();
    metrics
        .requests
        .get_or_create(&RequestLabels {
            method: method.clone(),
            route: route.clone(),
            status,
        })
        .inc();
    metrics
        .latency
        .get_or_create(&RouteLabels {
            method: method.clone(),
            route: route.clone(),
        })
        .observe(elapsed.as_secs_f64());
    let millis = elapsed.as_secs_f64() * 1000.0;
    if status >= 500 {
        tracing::error!(request_id, method, route, status, millis, "request failed");
    } else {
        tracing::info!(request_id, method, route, status, millis, "request");
    }
    response
}

/// `GET /metrics`: Prometheus (OpenMetrics) text.
pub async fn metrics(State(state): State<AppState>) -> Response {
    let tm = state.tm.clone();
    let sizes =
        tokio::task::spawn_blocking(move || (tm.count(), tm.index_segment_count(), tm.commits()))
            .await;
    let Ok((units, segments, commits)) = sizes else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let metrics = &state.metrics;
    metrics.tm_units.set(units as i64);
    metrics.termbase_entries.set(state.termbase.len() as i64);
    metrics.index_segments.set(segments as i64);
    metrics.index_commits.set(commits as i64);
    let mut text = String::new();
    let encoded = {
        let registry = metrics.registry.lock().expect("metrics registry lock");
        prometheus_client::encoding::text::encode(&mut text, &registry)
    };
    if encoded.is_err() {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

/// `GET /ready`: 200 when the server can take writes and answer lookups, 503 otherwise (the
/// index writer has stopped).
pub async fn ready(State(state): State<AppState>) -> Response {
    if state.tm.accepts_writes() {
        (
            StatusCode::OK,
            axum::Json(serde_json::json!({"status": "ready"})),
        )
            .into_response()
    } else {
        super::error::ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_ready",
            "the index writer has stopped; the server answers reads only",
        )
        .into_response()
    }
}
