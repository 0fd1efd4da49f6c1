//! The one place where errors become HTTP statuses.
//!
//! Every error answer is `{"error":{"code","message"}}`: `code` is a stable machine-readable
//! word, `message` says what was wrong and where (the field, or the line and column of a file).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::formats::FormatError;
use crate::tm::TmError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

#[derive(Serialize)]
struct ErrorDetail<'a> {
    code: &'a str,
    message: &'a str,
}

/// The shape of every error answer, for the OpenAPI description.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorResponse {
    error: ErrorFields,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorFields {
    /// A stable machine-readable word, e.g. `invalid_field`.
    code: String,
    /// What was wrong and where.
    message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    /// A request whose shape or values are wrong.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// A field with a wrong value: the message starts with the field's name.
    pub fn invalid_field(field: &str, problem: impl std::fmt::Display) -> Self {
        ApiError::bad_request("invalid_field", format!("`{field}` {problem}"))
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn too_large(limit_bytes: u64) -> Self {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the request body is larger than the limit of {limit_bytes} bytes"),
        )
    }

    pub fn internal(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }

    /// 507 when `error` comes from a full disk, else 500. A write refused for lack of space
    /// is rolled back, so the message can say that nothing was stored.
    pub fn internal_or_disk_full(error: &(dyn std::error::Error + 'static)) -> Self {
        if is_disk_full(error) {
            tracing::error!(%error, "the disk is full");
            ApiError::new(
                StatusCode::INSUFFICIENT_STORAGE,
                "disk_full",
                "no space left on the disk holding the data directory; nothing of this request \
                 was stored",
            )
        } else {
            ApiError::internal(error.to_string())
        }
    }
}

/// Whether an error, or any error under it, is the disk running out of space. Some layers
/// keep only the message of the I/O error, so the message is checked too.
pub fn is_disk_full(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = cause {
        if let Some(io) = current.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::StorageFull || io.raw_os_error() == Some(28) {
                return true;
            }
        }
        let message = current.to_string();
        if message.contains("No space left on device") || message.contains("os error 28") {
            return true;
        }
        cause = current.source();
    }
    false
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::error!(status = %self.status, message = %self.message, "request failed");
        }
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: &self.message,
            },
        };
        (self.status, axum::Json(body)).into_response()
    }
}

impl From<TmError> for ApiError {
    fn from(error: TmError) -> Self {
        match error {
            TmError::NotFound(_) => ApiError::not_found(error.to_string()),
            TmError::Duplicate { .. } => {
                ApiError::new(StatusCode::CONFLICT, "duplicate", error.to_string())
            }
            TmError::InvalidEdit(message) => ApiError::bad_request("invalid_field", message),
            TmError::CommitFailed(_) if is_disk_full(&error) => {
                ApiError::internal_or_disk_full(&error)
            }
            TmError::CommitFailed(_)
            | TmError::WriterStopped
            | TmError::ReadOnly
            | TmError::ImportAborted => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                error.to_string(),
            ),
            other => ApiError::internal_or_disk_full(&other),
        }
    }
}

impl From<FormatError> for ApiError {
    fn from(error: FormatError) -> Self {
        match error {
            FormatError::Syntax { .. } => {
                ApiError::bad_request("malformed_file", error.to_string())
            }
            FormatError::Io(_) => ApiError::internal_or_disk_full(&error),
            FormatError::Aborted(_) => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                error.to_string(),
            ),
        }
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(error: tokio::task::JoinError) -> Self {
        ApiError::internal(format!("a background task failed: {error}"))
    }
}
