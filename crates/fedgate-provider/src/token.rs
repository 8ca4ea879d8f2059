//! The token endpoint: redeeming an authorization code (RFC 6749 §4.1.3 with PKCE),
//! with the client authenticated by HTTP Basic or in the form body, and the answer
//! read as JSON — or as a form, which some OAuth2 servers send.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;

use crate::client::ProviderError;

/// How the client authenticates at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClientAuth {
    /// `client_secret_basic`: HTTP Basic with the form-encoded id and secret.
    #[default]
    Basic,
    /// `client_secret_post`: `client_id` and `client_secret` in the form body.
    Post,
}

/// What a code redemption sends.
#[derive(Debug, Clone, Copy)]
pub struct CodeRedemption<'a> {
    /// OAuth client id.
    pub client_id: &'a str,
    /// OAuth client secret.
    pub client_secret: &'a str,
    /// How to authenticate.
    pub auth: ClientAuth,
    /// The redirect URI the authorization request used.
    pub redirect_uri: &'a str,
    /// The authorization code.
    pub code: &'a str,
    /// The PKCE code verifier (none when the authorization request had no challenge).
    pub pkce_verifier: Option<&'a str>,
}

/// Tokens from the token endpoint.
#[derive(Clone)]
pub struct TokenSet {
    /// Access token.
    pub access_token: String,
    /// Refresh token, with offline access.
    pub refresh_token: Option<String>,
    /// The ID token (compact JWS), not yet validated.
    pub id_token: Option<String>,
    /// The scopes granted, when the provider says (space- or comma-separated as sent).
    pub scope: Option<String>,
}

impl std::fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenSet([redacted])")
    }
}

fn form_encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// The form fields and, for Basic, the `Authorization` header value.
#[must_use]
pub fn request_parts(r: &CodeRedemption<'_>) -> (Vec<(&'static str, String)>, Option<String>) {
    let mut form = vec![
        ("grant_type", "authorization_code".to_owned()),
        ("code", r.code.to_owned()),
        ("redirect_uri", r.redirect_uri.to_owned()),
    ];
    if let Some(verifier) = r.pkce_verifier {
        form.push(("code_verifier", verifier.to_owned()));
    }
    let header = match r.auth {
        ClientAuth::Basic => {
            let pair = format!(
                "{}:{}",
                form_encode(r.client_id),
                form_encode(r.client_secret)
            );
            Some(format!("Basic {}", STANDARD.encode(pair)))
        }
        ClientAuth::Post => {
            form.push(("client_id", r.client_id.to_owned()));
            form.push(("client_secret", r.client_secret.to_owned()));
            None
        }
    };
    (form, header)
}

#[derive(Debug, Deserialize)]
struct RawTokens {
    access_token: Option<String>,
    token_type: Option<String>,
    refresh_token: Option<String>,
    id_token: Option<String>,
    scope: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

fn parse_body(content_type: &str, body: &[u8]) -> Result<RawTokens, String> {
    if content_type.split(';').next().is_some_and(|m| {
        m.trim()
            .eq_ignore_ascii_case("application/x-www-form-urlencoded")
    }) {
        let map: serde_json::Map<String, serde_json::Value> = url::form_urlencoded::parse(body)
            .map(|(k, v)| (k.into_owned(), serde_json::Value::String(v.into_owned())))
            .collect();
        return serde_json::from_value(serde_json::Value::Object(map)).map_err(|e| e.to_string());
    }
    serde_json::from_slice(body).map_err(|e| format!("the token response is not JSON: {e}"))
}

/// Interprets the token endpoint's answer.
pub fn interpret(status: u16, content_type: &str, body: &[u8]) -> Result<TokenSet, ProviderError> {
    let parsed = parse_body(content_type, body);
    if !(200..300).contains(&status) {
        return Err(match parsed {
            Ok(RawTokens {
                error: Some(error),
                error_description,
                ..
            }) if !error.is_empty() => ProviderError::Refused {
                error: crate::client::clean(&error, 64),
                description: error_description.map(|d| crate::client::clean(&d, 300)),
                status,
            },
            _ => ProviderError::HttpStatus {
                what: "token".into(),
                status,
            },
        });
    }
    let raw = parsed.map_err(ProviderError::BadResponse)?;
    if let Some(error) = raw.error.filter(|e| !e.is_empty()) {
        return Err(ProviderError::Refused {
            error: crate::client::clean(&error, 64),
            description: raw.error_description.map(|d| crate::client::clean(&d, 300)),
            status,
        });
    }
    let access_token = raw.access_token.filter(|t| !t.is_empty()).ok_or_else(|| {
        ProviderError::BadResponse("the token response has no access_token".into())
    })?;
    if let Some(kind) = &raw.token_type
        && !kind.eq_ignore_ascii_case("bearer")
    {
        return Err(ProviderError::BadResponse(format!(
            "the token type {kind:?} is not Bearer"
        )));
    }
    Ok(TokenSet {
        access_token,
        refresh_token: raw.refresh_token.filter(|t| !t.is_empty()),
        id_token: raw.id_token,
        scope: raw.scope.filter(|s| !s.is_empty()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_authentication_form_encodes_id_and_secret() {
        let r = CodeRedemption {
            client_id: "my app",
            client_secret: "s:e/c",
            auth: ClientAuth::Basic,
            redirect_uri: "https://fg.example.com/cb",
            code: "c",
            pkce_verifier: Some("v"),
        };
        let (form, header) = request_parts(&r);
        assert_eq!(
            header.unwrap(),
            format!("Basic {}", STANDARD.encode("my+app:s%3Ae%2Fc"))
        );
        assert!(!form.iter().any(|(k, _)| *k == "client_secret"));
        let (form, header) = request_parts(&CodeRedemption {
            auth: ClientAuth::Post,
            ..r
        });
        assert!(header.is_none());
        assert!(form.contains(&("client_secret", "s:e/c".to_owned())));
    }

    #[test]
    fn json_and_form_answers_are_read_and_errors_named() {
        let ok = interpret(
            200,
            "application/json",
            br#"{"access_token":"at","token_type":"Bearer","id_token":"x.y.z"}"#,
        )
        .unwrap();
        assert_eq!(
            (ok.access_token.as_str(), ok.id_token.as_deref()),
            ("at", Some("x.y.z"))
        );
        let form = interpret(
            200,
            "application/x-www-form-urlencoded; charset=utf-8",
            b"access_token=at2&token_type=bearer&scope=user",
        )
        .unwrap();
        assert_eq!(form.access_token, "at2");
        let refused = interpret(400, "application/json", br#"{"error":"invalid_grant"}"#);
        assert_eq!(
            refused.unwrap_err().reason(),
            "provider_refused:invalid_grant"
        );
        let broken = interpret(500, "text/plain", b"upstream exploded");
        assert_eq!(broken.unwrap_err().reason(), "provider_bad_response");
        let garbage = interpret(200, "application/json", b"<html>");
        assert_eq!(garbage.unwrap_err().reason(), "provider_bad_response");
        let mac = interpret(
            200,
            "application/json",
            br#"{"access_token":"a","token_type":"MAC"}"#,
        );
        assert_eq!(mac.unwrap_err().reason(), "provider_bad_response");
    }
}
