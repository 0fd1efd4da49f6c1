//! Request and response bodies in JSON or MessagePack.
//!
//! A request body is MessagePack when its `Content-Type` says `application/msgpack` (or
//! `application/x-msgpack`), JSON otherwise. A response is MessagePack when the `Accept`
//! header asks for it, JSON otherwise. Errors are always JSON, so any client can read them.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::{ACCEPT, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::error::ApiError;

const MSGPACK: &str = "application/msgpack";

fn is_msgpack(value: Option<&HeaderValue>) -> bool {
    value
        .and_then(|value| value.to_str().ok())
        .map(|value| {
            value.contains("application/msgpack") || value.contains("application/x-msgpack")
        })
        .unwrap_or(false)
}

/// The encoding of a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireFormat {
    Json,
    MsgPack,
}

impl WireFormat {
    pub fn accepted(headers: &HeaderMap) -> WireFormat {
        if is_msgpack(headers.get(ACCEPT)) {
            WireFormat::MsgPack
        } else {
            WireFormat::Json
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for WireFormat {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(WireFormat::accepted(&parts.headers))
    }
}

/// A response body in the format the client accepts.
pub struct Reply<T> {
    pub format: WireFormat,
    pub status: StatusCode,
    pub body: T,
}

impl<T: Serialize> Reply<T> {
    pub fn ok(format: WireFormat, body: T) -> Self {
        Reply {
            format,
            status: StatusCode::OK,
            body,
        }
    }

    pub fn with_status(format: WireFormat, status: StatusCode, body: T) -> Self {
        Reply {
            format,
            status,
            body,
        }
    }
}

impl<T: Serialize> IntoResponse for Reply<T> {
    fn into_response(self) -> Response {
        match self.format {
            WireFormat::Json => (self.status, axum::Json(self.body)).into_response(),
            WireFormat::MsgPack => match rmp_serde::to_vec_named(&self.body) {
                Ok(bytes) => (
                    self.status,
                    [(CONTENT_TYPE, HeaderValue::from_static(MSGPACK))],
                    bytes,
                )
                    .into_response(),
                Err(error) => ApiError::internal(format!("cannot encode MessagePack: {error}"))
                    .into_response(),
            },
        }
    }
}

/// A request body decoded from JSON or MessagePack, with errors that name the field.
pub struct Payload<T>(pub T);

impl<S, T> FromRequest<S> for Payload<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let msgpack = is_msgpack(request.headers().get(CONTENT_TYPE));
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "payload_too_large",
                        "the request body is larger than the configured limit (limits.json_body_bytes)",
                    )
                } else {
                    super::limits::body_read_error(&rejection)
                }
            })?;
        if bytes.is_empty() {
            return Err(ApiError::bad_request(
                "bad_body",
                "the request body is empty; expected a JSON (or MessagePack) object",
            ));
        }
        if msgpack {
            let mut deserializer = rmp_serde::Deserializer::new(&bytes[..]);
            return serde_path_to_error::deserialize(&mut deserializer)
                .map(Payload)
                .map_err(|error| {
                    ApiError::bad_request(
                        "bad_body",
                        format!(
                            "malformed MessagePack body at `{}`: {}",
                            error.path(),
                            error.inner()
                        ),
                    )
                });
        }
        let mut deserializer = serde_json::Deserializer::from_slice(&bytes);
        let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
            let path = error.path().to_string();
            let inner = error.into_inner();
            let location = if path == "." {
                String::new()
            } else {
                format!(" in `{path}`")
            };
            ApiError::bad_request(
                "bad_body",
                format!("malformed JSON body{location}: {inner}"),
            )
        })?;
        deserializer.end().map_err(|error| {
            ApiError::bad_request("bad_body", format!("malformed JSON body: {error}"))
        })?;
        Ok(Payload(value))
    }
}
