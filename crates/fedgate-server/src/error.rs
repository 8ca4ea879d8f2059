//! The one error type of the HTTP layer: every failure becomes a status and a stable
//! JSON error code here, in one place. 5xx bodies are opaque; the cause chain goes
//! to the log with the request id.

use std::borrow::Cow;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use fedgate_domain::ValidationError;
use fedgate_domain::access_key::AuthError;
use fedgate_domain::ports::StoreError;
use fedgate_wire::error::ErrorBody;

use crate::request_context;

/// An API error: status, stable code, message, optional field and cause.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: Cow<'static, str>,
    field: Option<String>,
    retry_after: Option<u64>,
    cause: Option<anyhow::Error>,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl ApiError {
    /// An error with the given status, code and message.
    pub fn new(
        status: StatusCode,
        code: &'static str,
        message: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            field: None,
            retry_after: None,
            cause: None,
        }
    }

    /// 400 with `code`.
    pub fn bad_request(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 404 `not_found`; the same for "absent" and "someone else's".
    pub fn not_found(what: &'static str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        )
    }

    /// 401 with `code`.
    pub fn unauthorized(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, message)
    }

    /// 403 with `code`.
    pub fn forbidden(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, message)
    }

    /// 429 `too_many_requests` with a `Retry-After`.
    pub fn too_many(message: impl Into<Cow<'static, str>>, retry_after_seconds: u64) -> Self {
        let mut e = Self::new(StatusCode::TOO_MANY_REQUESTS, "too_many_requests", message);
        e.retry_after = Some(retry_after_seconds);
        e
    }

    /// 500 `internal_error`, keeping the cause for the log only.
    pub fn internal(cause: impl Into<anyhow::Error>) -> Self {
        let mut e = Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "internal error; quote the request id when reporting it",
        );
        e.cause = Some(cause.into());
        e
    }
}

impl ApiError {
    /// The stable code.
    #[must_use]
    pub const fn code(&self) -> &'static str {
        self.code
    }

    /// The same error naming `field` (e.g. an element of a list: `locators[2]`).
    #[must_use]
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }
}

impl From<ValidationError> for ApiError {
    fn from(e: ValidationError) -> Self {
        let mut err = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            format!("{}: {}", e.field, e.message),
        );
        err.field = Some(e.field.into_owned());
        err
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(what) => Self::new(
                StatusCode::CONFLICT,
                "conflict",
                format!("{what} already exists"),
            ),
            StoreError::LimitReached(what) => Self::new(
                StatusCode::CONFLICT,
                "limit_reached",
                format!("limit reached: {what}"),
            ),
            StoreError::Backend(_) => {
                let mut err = Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "a backing service is unavailable; try again",
                );
                err.cause = Some(anyhow::Error::new(e));
                err
            }
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Store(s) => s.into(),
            AuthError::UnreadableSecret => {
                let mut err = Self::unauthorized(
                    e.code(),
                    "this access key cannot be used; create a new one",
                );
                err.cause = Some(anyhow::Error::new(e));
                err
            }
            other => Self::unauthorized(other.code(), other.to_string()),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let request_id = request_context::current_id();
        if self.status.is_server_error() {
            match &self.cause {
                Some(cause) => tracing::error!(
                    code = self.code,
                    error = format!("{cause:#}"),
                    "request failed"
                ),
                None => tracing::error!(code = self.code, "request failed"),
            }
        } else {
            tracing::info!(
                code = self.code,
                status = self.status.as_u16(),
                "request refused"
            );
        }
        let mut res = HttpResponse::build(self.status);
        res.insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
        if let Some(secs) = self.retry_after {
            res.insert_header((header::RETRY_AFTER, secs));
        }
        res.json(ErrorBody {
            code: self.code.to_owned(),
            message: self.message.clone().into_owned(),
            request_id,
            field: self.field.clone(),
        })
    }
}

/// Maps the JSON extractor's failures to stable codes instead of actix's plain text.
pub fn json_error(
    err: actix_web::error::JsonPayloadError,
    _req: &actix_web::HttpRequest,
) -> actix_web::Error {
    use actix_web::error::JsonPayloadError as J;
    let e = match &err {
        J::ContentType => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "the body must be JSON with Content-Type: application/json",
        ),
        J::Overflow { limit } | J::OverflowKnownLength { limit, .. } => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the body is larger than {limit} bytes"),
        ),
        J::Deserialize(de) if de.is_syntax() || de.is_eof() => ApiError::bad_request(
            "malformed_json",
            format!("the body is not valid JSON: {de}"),
        ),
        J::Deserialize(de) => ApiError::bad_request(
            "invalid_body",
            format!("the body does not have the expected shape: {de}"),
        ),
        _ => ApiError::bad_request("invalid_body", "the body could not be read"),
    };
    e.into()
}

/// Maps query-string failures to `invalid_query`.
pub fn query_error(
    err: actix_web::error::QueryPayloadError,
    _req: &actix_web::HttpRequest,
) -> actix_web::Error {
    ApiError::bad_request("invalid_query", format!("invalid query string: {err}")).into()
}

/// Maps path-parameter failures to 404: a malformed id names nothing.
pub fn path_error(
    _err: actix_web::error::PathError,
    _req: &actix_web::HttpRequest,
) -> actix_web::Error {
    ApiError::not_found("resource").into()
}
