//! Slow request bodies: tower-http's `RequestBodyTimeoutLayer` (set up in `router`) ends a
//! body that sends nothing for `limits.body_idle_seconds` with its `TimeoutError`, which the
//! extractors turn into 408 here. Without it a client could hold a connection, a spooled
//! upload and an import slot for as long as it likes. The timer starts only when a handler
//! reads the body, so requests without one pay nothing.

use axum::http::StatusCode;
use tower_http::timeout::TimeoutError;

use super::error::ApiError;

/// The answer to a request body that could not be read: 408 if the client went quiet, 400
/// otherwise (it broke off, or sent something that is not HTTP).
pub fn body_read_error(error: &(dyn std::error::Error + 'static)) -> ApiError {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = cause {
        if current.downcast_ref::<TimeoutError>().is_some() {
            return ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "body_timeout",
                "the request body stopped arriving: nothing came for longer than \
                 limits.body_idle_seconds",
            );
        }
        cause = current.source();
    }
    ApiError::bad_request(
        "bad_body",
        format!("the request body could not be read: {error}"),
    )
}
