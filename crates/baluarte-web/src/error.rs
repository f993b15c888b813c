//! Error policy of the HTTP layer.
//!
//! - Every error an API client sees is RFC 9457 `application/problem+json`: a stable `type`, a
//!   human `title`, the `status`, a `detail`, and for invalid input an `errors` list naming each field
//!   with the service's code and parameters (`too_long`, `{"max": 200}`) and an English message.
//! - Status follows the service layer's verdict: NotFound 404 (also for records the caller may not
//!   see: existence never leaks), Forbidden 403, Unauthenticated 401, Invalid 422, Conflict 409,
//!   TooManyAttempts 429 with `Retry-After`.
//! - Storage and internal failures are 500 with a generic detail; the cause goes to the log only.
//! - Pages render the same verdicts as HTML (see `pages::error_page`); forms show field errors inline.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use baluarte_core::{CoreError, FieldCode, FieldError};
use serde::Serialize;

pub const PROBLEM_JSON: &str = "application/problem+json";

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldProblem>,
}

/// One rejected field of a request: the service's code and parameters, for a client to act on, and the
/// English text for a person reading the response.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FieldProblem {
    /// The field as the request named it (`title`, `observables[2]`, `Idempotency-Key`).
    pub field: String,
    pub code: FieldCode,
    /// The values the code refers to (`max`, `choices`, `value`, `detail`, …).
    #[schema(value_type = Object)]
    pub params: std::collections::BTreeMap<String, serde_json::Value>,
    pub message: String,
}

impl From<FieldError> for FieldProblem {
    fn from(e: FieldError) -> Self {
        FieldProblem {
            message: crate::i18n::english().error(&e),
            field: e.field,
            code: e.code,
            params: e.params,
        }
    }
}

impl Problem {
    pub fn new(status: StatusCode, slug: &str, detail: impl Into<Option<String>>) -> Self {
        Problem {
            kind: format!("urn:baluarte:problem:{slug}"),
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            status: status.as_u16(),
            detail: detail.into(),
            errors: Vec::new(),
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut res = (status, body).into_response();
        res.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        res
    }
}

/// The one application error type of the API.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Core(#[from] CoreError),
    #[error("{1}")]
    Http(StatusCode, String),
}

impl ApiError {
    pub fn bad_request(detail: impl Into<String>) -> Self {
        ApiError::Http(StatusCode::BAD_REQUEST, detail.into())
    }
}

/// Map a service-layer error to a status, a problem type and a safe detail.
pub fn classify(err: &CoreError) -> (StatusCode, &'static str, Option<String>) {
    match err {
        CoreError::NotFound => (StatusCode::NOT_FOUND, "not-found", Some("no such record".into())),
        CoreError::Forbidden(what) => (
            StatusCode::FORBIDDEN,
            "forbidden",
            Some(format!("your role may not do this ({what})")),
        ),
        CoreError::Unauthenticated => (
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            Some("valid credentials are required".into()),
        ),
        CoreError::Invalid(_) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-input",
            Some("some fields are not valid".into()),
        ),
        CoreError::Conflict(what) => (StatusCode::CONFLICT, "conflict", Some(what.clone())),
        CoreError::TooManyAttempts { retry_after_secs } => (
            StatusCode::TOO_MANY_REQUESTS,
            "too-many-attempts",
            Some(format!("too many failed attempts; retry in {retry_after_secs} s")),
        ),
        CoreError::Storage(_) | CoreError::Internal { .. } => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            Some("an internal error occurred; it has been logged".into()),
        ),
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Core(err) => {
                let (status, slug, detail) = classify(&err);
                if status.is_server_error() {
                    tracing::error!(error = %err.chain(), "request failed");
                }
                let retry_after = match err {
                    CoreError::TooManyAttempts { retry_after_secs } => Some(retry_after_secs),
                    _ => None,
                };
                let mut p = Problem::new(status, slug, detail);
                if let CoreError::Invalid(errors) = err {
                    p.errors = errors.into_iter().map(FieldProblem::from).collect();
                }
                let mut res = p.into_response();
                if let Some(secs) = retry_after {
                    res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
                }
                if status == StatusCode::UNAUTHORIZED {
                    res.headers_mut()
                        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
                }
                res
            }
            ApiError::Http(status, detail) => Problem::new(status, slug_for(status), Some(detail)).into_response(),
        }
    }
}

pub fn slug_for(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "bad-request",
        401 => "unauthenticated",
        403 => "forbidden",
        404 => "not-found",
        405 => "method-not-allowed",
        406 => "not-acceptable",
        408 => "timeout",
        409 => "conflict",
        413 => "payload-too-large",
        415 => "unsupported-media-type",
        422 => "invalid-input",
        429 => "too-many-attempts",
        s if s >= 500 => "internal",
        _ => "error",
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
