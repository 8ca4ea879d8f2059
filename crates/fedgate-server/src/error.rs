//! The one error type of the HTTP layer: every failure becomes a status and a stable
//! JSON error code here, in one place. 5xx bodies are opaque; the cause chain goes
//! to the log with the request id.

use std::borrow::Cow;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use fedgate_domain::ValidationError;
use fedgate_domain::ports::StoreError;
use fedgate_domain::request_auth::AuthError;
use fedgate_wire::error::{ErrorBody, ErrorCode};

use crate::request_context;

/// An API error: status, stable code, message, optional field and cause.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: ErrorCode,
    message: Cow<'static, str>,
    field: Option<String>,
    retry_after: Option<u64>,
    cause: Option<anyhow::Error>,
    /// The rate limit that refused the request (metrics).
    limit: Option<&'static str>,
}

/// What a refused request's response tells the request middleware (for metrics).
#[derive(Debug, Clone, Copy)]
pub struct Refused {
    /// The error code.
    pub code: ErrorCode,
    /// The rate limit that refused it, if one did.
    pub limit: Option<&'static str>,
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
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            field: None,
            retry_after: None,
            cause: None,
            limit: None,
        }
    }

    /// 400 with `code`.
    pub fn bad_request(code: ErrorCode, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 404 `not_found`; the same for "absent" and "someone else's".
    pub fn not_found(what: &'static str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
            format!("{what} not found"),
        )
    }

    /// 401 with `code`.
    pub fn unauthorized(code: ErrorCode, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, message)
    }

    /// 403 with `code`.
    pub fn forbidden(code: ErrorCode, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, message)
    }

    /// 429 `too_many_requests` with a `Retry-After`, from the rate limit `limit`.
    pub fn too_many(
        limit: &'static str,
        message: impl Into<Cow<'static, str>>,
        retry_after_seconds: u64,
    ) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::TooManyRequests,
            message,
        );
        e.retry_after = Some(retry_after_seconds);
        e.limit = Some(limit);
        e
    }

    /// 503 `unavailable` with a `Retry-After`: the server is busy, not broken.
    pub fn busy(message: impl Into<Cow<'static, str>>, retry_after_seconds: u64) -> Self {
        let mut e = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Unavailable,
            message,
        );
        e.retry_after = Some(retry_after_seconds);
        e
    }

    /// 500 `internal_error`, keeping the cause for the log only.
    pub fn internal(cause: impl Into<anyhow::Error>) -> Self {
        let mut e = Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::InternalError,
            "internal error; quote the request id when reporting it",
        );
        e.cause = Some(cause.into());
        e
    }
}

impl ApiError {
    /// The stable code.
    #[must_use]
    pub const fn code(&self) -> ErrorCode {
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
            ErrorCode::ValidationFailed,
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
                ErrorCode::Conflict,
                format!("{what} already exists"),
            ),
            StoreError::LimitReached(what) => Self::new(
                StatusCode::CONFLICT,
                ErrorCode::LimitReached,
                format!("limit reached: {what}"),
            ),
            StoreError::Full => Self::busy(
                "Fedgate is at its capacity for pending requests; try again shortly",
                30,
            ),
            StoreError::Backend(_) => {
                let mut err = Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    ErrorCode::Unavailable,
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
        let code = match &e {
            AuthError::Store(_) => ErrorCode::Unavailable,
            AuthError::MissingHeader(_) => ErrorCode::SignatureMissing,
            AuthError::MalformedHeader(_) => ErrorCode::SignatureMalformed,
            AuthError::UnknownKey => ErrorCode::AccessKeyUnknown,
            AuthError::RevokedKey => ErrorCode::AccessKeyRevoked,
            AuthError::StaleTimestamp => ErrorCode::TimestampOutOfWindow,
            AuthError::BadSignature => ErrorCode::SignatureMismatch,
            AuthError::ReplayedNonce => ErrorCode::NonceReused,
            AuthError::UnreadableSecret => ErrorCode::AccessKeyUnusable,
        };
        match e {
            AuthError::Store(s) => s.into(),
            AuthError::UnreadableSecret => {
                let mut err =
                    Self::unauthorized(code, "this access key cannot be used; create a new one");
                err.cause = Some(anyhow::Error::new(e));
                err
            }
            other => Self::unauthorized(code, other.to_string()),
        }
    }
}

impl From<fedgate_provider::DiscoveryError> for ApiError {
    fn from(e: fedgate_provider::DiscoveryError) -> Self {
        use fedgate_provider::DiscoveryError as D;
        let code = match &e {
            D::Unreachable { .. } => ErrorCode::DiscoveryUnreachable,
            D::AddressRefused(_) => ErrorCode::DiscoveryAddressRefused,
            D::NotHttps { .. } => ErrorCode::DiscoveryNotHttps,
            D::HttpStatus(_) => ErrorCode::DiscoveryHttpStatus,
            D::InvalidJson(_) => ErrorCode::DiscoveryInvalidJson,
            D::IssuerMismatch { .. } => ErrorCode::DiscoveryIssuerMismatch,
            D::NoJwks => ErrorCode::DiscoveryNoJwks,
            D::NoCodeFlow(_) => ErrorCode::DiscoveryNoCodeFlow,
            D::NoS256 => ErrorCode::DiscoveryNoS256,
            D::NoUsableAlgorithm(_) => ErrorCode::DiscoveryNoUsableAlgorithm,
        };
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, e.to_string()).with_field("issuer")
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
                    code = self.code.as_str(),
                    error = format!("{cause:#}"),
                    "request failed"
                ),
                None => tracing::error!(code = self.code.as_str(), "request failed"),
            }
        } else {
            tracing::info!(
                code = self.code.as_str(),
                status = self.status.as_u16(),
                "request refused"
            );
        }
        let mut res = HttpResponse::build(self.status);
        res.insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
        if let Some(secs) = self.retry_after {
            res.insert_header((header::RETRY_AFTER, secs));
        }
        let mut res = res.json(ErrorBody {
            code: self.code,
            message: self.message.clone().into_owned(),
            request_id,
            field: self.field.clone(),
        });
        res.extensions_mut().insert(Refused {
            code: self.code,
            limit: self.limit,
        });
        res
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
            ErrorCode::UnsupportedMediaType,
            "the body must be JSON with Content-Type: application/json",
        ),
        J::Overflow { limit } | J::OverflowKnownLength { limit, .. } => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::PayloadTooLarge,
            format!("the body is larger than {limit} bytes"),
        ),
        J::Deserialize(de) if de.is_syntax() || de.is_eof() => ApiError::bad_request(
            ErrorCode::MalformedJson,
            format!("the body is not valid JSON: {de}"),
        ),
        J::Deserialize(de) => ApiError::bad_request(
            ErrorCode::InvalidBody,
            format!("the body does not have the expected shape: {de}"),
        ),
        _ => ApiError::bad_request(ErrorCode::InvalidBody, "the body could not be read"),
    };
    e.into()
}

/// Maps query-string failures to `invalid_query`.
pub fn query_error(
    err: actix_web::error::QueryPayloadError,
    _req: &actix_web::HttpRequest,
) -> actix_web::Error {
    ApiError::bad_request(
        ErrorCode::InvalidQuery,
        format!("invalid query string: {err}"),
    )
    .into()
}

/// Maps path-parameter failures to 404: a malformed id names nothing.
pub fn path_error(
    _err: actix_web::error::PathError,
    _req: &actix_web::HttpRequest,
) -> actix_web::Error {
    ApiError::not_found("resource").into()
}
