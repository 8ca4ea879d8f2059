//! JSON request bodies: read within the size limit, `application/json` only, and a
//! JSON object only — serde would otherwise accept `[null, null]` as a struct.

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::web::{Bytes, BytesMut};
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use fedgate_wire::error::ErrorCode;
use futures_util::StreamExt;
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::state::AppState;

/// Reads the whole body, refusing more than `limit` bytes.
pub async fn read(payload: &mut Payload, limit: usize) -> Result<Bytes, ApiError> {
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| {
            ApiError::bad_request(ErrorCode::InvalidBody, "the body could not be read")
        })?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::PayloadTooLarge,
                format!("the body is larger than {limit} bytes"),
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// The request's media type without parameters, e.g. `application/json`.
pub fn media_type(req: &HttpRequest) -> String {
    req.mime_type()
        .ok()
        .flatten()
        .map(|m| m.essence_str().to_owned())
        .unwrap_or_default()
}

/// Parses `body` (sent as `media_type`) as a JSON object of shape `T`.
pub fn parse<T: DeserializeOwned>(media_type: &str, body: &[u8]) -> Result<T, ApiError> {
    if media_type != "application/json" {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::UnsupportedMediaType,
            "the body must be JSON with Content-Type: application/json",
        ));
    }
    let malformed = |e: serde_json::Error| {
        ApiError::bad_request(
            ErrorCode::MalformedJson,
            format!("the body is not valid JSON: {e}"),
        )
    };
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if first.is_some_and(|b| *b != b'{') {
        // Not JSON at all, or JSON but not an object.
        serde_json::from_slice::<serde::de::IgnoredAny>(body).map_err(malformed)?;
        return Err(ApiError::bad_request(
            ErrorCode::InvalidBody,
            "the body must be a JSON object",
        ));
    }
    serde_json::from_slice(body).map_err(|e| {
        if e.is_syntax() || e.is_eof() {
            malformed(e)
        } else {
            ApiError::bad_request(
                ErrorCode::InvalidBody,
                format!("the body does not have the expected shape: {e}"),
            )
        }
    })
}

/// A JSON object body of shape `T` (the management API's extractor).
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<T> JsonBody<T> {
    /// The parsed body.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for JsonBody<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let media = media_type(req);
        let limit = req.app_data::<web::Data<AppState>>().map_or_else(
            || crate::config::Limits::default().body_limit_bytes,
            |s| s.settings.limits.body_limit_bytes,
        );
        let mut payload = payload.take();
        Box::pin(async move {
            let body = read(&mut payload, limit).await?;
            parse(&media, &body).map(JsonBody)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code, reason = "only deserialized")]
    struct Shape {
        a: Option<String>,
        b: Option<String>,
    }

    #[test]
    fn only_json_objects_are_bodies() {
        let code = |media: &str, body: &str| {
            parse::<Shape>(media, body.as_bytes())
                .map(|_| "ok")
                .unwrap_or_else(|e| e.code().as_str())
        };
        assert_eq!(code("application/json", r#" {"a":"x"}"#), "ok");
        assert_eq!(code("application/json", "[null, null]"), "invalid_body");
        assert_eq!(code("application/json", r#""text""#), "invalid_body");
        assert_eq!(code("application/json", "{"), "malformed_json");
        assert_eq!(code("application/json", "not json"), "malformed_json");
        assert_eq!(code("application/json", ""), "malformed_json");
        assert_eq!(code("text/plain", "{}"), "unsupported_media_type");
    }
}
