//! Slow request bodies: a body that sends nothing for `limits.body_idle_seconds` ends with a
//! [`BodyIdle`] error, which the extractors turn into 408. Without it a client could hold a
//! connection, a spooled upload and an import slot for as long as it likes.

use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;
use futures_util::StreamExt;

use super::error::ApiError;
use super::AppState;

/// The error a body stream ends with when the client stopped sending.
#[derive(Debug, thiserror::Error)]
#[error("the request body sent nothing for {0} s")]
pub struct BodyIdle(pub u64);

/// Wraps every request body so that each chunk must arrive within the idle limit.
pub async fn body_idle_timeout(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let seconds = state.config.limits.body_idle_seconds;
    let idle = Duration::from_secs(seconds);
    let request = request.map(|body| {
        let stream = body.into_data_stream();
        let timed = futures_util::stream::unfold(Some(stream), move |stream| async move {
            let mut stream = stream?;
            match tokio::time::timeout(idle, stream.next()).await {
                Ok(Some(Ok(chunk))) => Some((Ok(chunk), Some(stream))),
                Ok(Some(Err(error))) => Some((Err(axum::BoxError::from(error)), None)),
                Ok(None) => None,
                Err(_) => Some((Err(axum::BoxError::from(BodyIdle(seconds))), None)),
            }
        });
        Body::from_stream(timed.boxed())
    });
    next.run(request).await
}

/// The answer to a request body that could not be read: 408 if the client went quiet, 400
/// otherwise (it broke off, or sent something that is not HTTP).
pub fn body_read_error(error: &(dyn std::error::Error + 'static)) -> ApiError {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = cause {
        if let Some(idle) = current.downcast_ref::<BodyIdle>() {
            return ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "body_timeout",
                idle.to_string(),
            );
        }
        cause = current.source();
    }
    ApiError::bad_request(
        "bad_body",
        format!("the request body could not be read: {error}"),
    )
}
