//! Authentication and rate limiting in front of every route, and the `Caller` extractor that
//! handlers use to check roles.
//!
//! The middleware only answers "who is this?" (401) and "too many requests" (429). What a
//! caller may do is checked by each handler with `caller.require(Role::…)`, next to the code
//! it guards, because one route can need different roles (a translator may edit their own
//! segment, an admin any segment). A test walks every documented route without a key.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::{AUTHORIZATION, RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use super::error::ApiError;
use super::AppState;
use crate::auth::{AuthError, Caller};

/// Paths anyone may call: probes for load balancers and the API description.
const PUBLIC_PATHS: [&str; 3] = ["/health", "/ready", "/api/v1/openapi.json"];

/// Requests per second per key.
pub struct RateLimits {
    limiter: Option<DefaultKeyedRateLimiter<String>>,
}

impl RateLimits {
    /// `per_second` 0: no limit.
    pub fn new(per_second: u32) -> RateLimits {
        RateLimits {
            limiter: NonZeroU32::new(per_second)
                .map(|rate| DefaultKeyedRateLimiter::keyed(Quota::per_second(rate))),
        }
    }

    /// `Err(wait)` when `key` has used its share for now.
    fn check(&self, key: &str) -> Result<(), Duration> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        limiter
            .check_key(&key.to_owned())
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }
}

impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> Self {
        let (status, code) = match error {
            AuthError::MissingKey | AuthError::MalformedHeader | AuthError::UnknownKey => {
                (StatusCode::UNAUTHORIZED, "unauthorized")
            }
            AuthError::Forbidden { .. } | AuthError::CollectionForbidden { .. } => {
                (StatusCode::FORBIDDEN, "forbidden")
            }
        };
        ApiError::new(status, code, error.to_string())
    }
}

/// Finds the caller of every non-public request and puts it in the request's extensions;
/// refuses unknown callers (401) and callers over their rate (429).
pub async fn authenticate(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    if PUBLIC_PATHS.contains(&path) || super::web::PAGE_PATHS.contains(&path) {
        return next.run(request).await;
    }
    let authorization = request
        .headers()
        .get(AUTHORIZATION)
        .map(|value| value.to_str().unwrap_or("\u{fffd}"));
    let caller = match state.keyring.authenticate(authorization) {
        Ok(caller) => caller,
        Err(error) => {
            let mut response = ApiError::from(error).into_response();
            response
                .headers_mut()
                .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            return response;
        }
    };
    if let Some(name) = &caller.name {
        if let Err(wait) = state.rate_limits.check(name) {
            let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
            let mut response = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!(
                    "the key `{name}` may make {} requests a second; retry in {seconds} s",
                    state.config.limits.requests_per_key_per_second
                ),
            )
            .into_response();
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(seconds));
            return response;
        }
    }
    request.extensions_mut().insert(Arc::new(caller));
    next.run(request).await
}

/// The caller of a request, as found by [`authenticate`].
pub struct CallerOf(pub Arc<Caller>);

impl std::ops::Deref for CallerOf {
    type Target = Caller;

    fn deref(&self) -> &Caller {
        &self.0
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CallerOf {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Arc<Caller>>()
            .cloned()
            .map(CallerOf)
            .ok_or_else(|| ApiError::internal("this route was not authenticated"))
    }
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct KeyDto {
    name: String,
    role: crate::auth::Role,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct KeysResponse {
    /// True when no key is configured: every request may do everything.
    open: bool,
    keys: Vec<KeyDto>,
    /// Restricted collection → the keys (besides admins) that may see it.
    restricted_collections: std::collections::BTreeMap<String, Vec<String>>,
}

/// `GET /api/v1/keys`: who may do what (names and roles; never keys or hashes). Keys are
/// added and removed in the configuration (`attache keys add|remove`), then the server is
/// restarted.
#[utoipa::path(get, path = "/api/v1/keys", tag = "service",
    responses((status = 200, body = KeysResponse), (status = 403, body = super::error::ErrorResponse)))]
pub async fn keys(
    State(state): State<AppState>,
    format: super::wire::WireFormat,
    caller: CallerOf,
) -> Result<super::wire::Reply<KeysResponse>, ApiError> {
    caller.require(crate::auth::Role::Admin)?;
    let keys = state
        .keyring
        .list()
        .into_iter()
        .map(|(name, role)| KeyDto { name, role })
        .collect();
    let restricted_collections = state
        .keyring
        .restricted()
        .iter()
        .map(|(collection, names)| (collection.clone(), names.iter().cloned().collect()))
        .collect();
    Ok(super::wire::Reply::ok(
        format,
        KeysResponse {
            open: state.keyring.is_open(),
            keys,
            restricted_collections,
        },
    ))
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct WhoAmI {
    /// True when the server has no keys: every request may do everything.
    open: bool,
    /// The key's name (`null` on an open server).
    name: Option<String>,
    role: crate::auth::Role,
}

/// `GET /api/v1/whoami`: the caller's name and role, so a client can show what it may do.
#[utoipa::path(get, path = "/api/v1/whoami", tag = "service",
    responses((status = 200, body = WhoAmI), (status = 401, body = super::error::ErrorResponse)))]
pub async fn whoami(
    State(state): State<AppState>,
    format: super::wire::WireFormat,
    caller: CallerOf,
) -> super::wire::Reply<WhoAmI> {
    super::wire::Reply::ok(
        format,
        WhoAmI {
            open: state.keyring.is_open(),
            name: caller.name.clone(),
            role: caller.role,
        },
    )
}
