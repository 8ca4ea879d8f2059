//! What the composition root learns about each call to a provider: which kind of
//! provider, which endpoint, how long it took and how it ended — bounded values only,
//! for metrics. Cache hits are not calls.

use std::time::Instant;

/// The provider endpoint a call went to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// The OpenID Connect discovery document.
    Discovery,
    /// The key set (JWKS).
    Jwks,
    /// The token endpoint (code redemption).
    Token,
    /// Userinfo, or a plain OAuth2 provider's profile or emails resource.
    Userinfo,
}

impl Endpoint {
    /// Its label.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Discovery => "discovery",
            Self::Jwks => "jwks",
            Self::Token => "token",
            Self::Userinfo => "userinfo",
        }
    }
}

/// How a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallResult {
    /// A usable answer.
    Ok,
    /// The provider answered with an OAuth error (e.g. `invalid_grant`,
    /// `invalid_client`).
    Refused,
    /// No answer within the provider timeout.
    Timeout,
    /// No connection, or the connection broke.
    Unreachable,
    /// The address guard refused the address.
    AddressRefused,
    /// An HTTP status that is not a usable answer.
    HttpStatus,
    /// An answer that could not be read (too large, not JSON, wrong shape).
    BadResponse,
}

impl CallResult {
    /// Its label.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Refused => "refused",
            Self::Timeout => "timeout",
            Self::Unreachable => "unreachable",
            Self::AddressRefused => "address_refused",
            Self::HttpStatus => "http_status",
            Self::BadResponse => "bad_response",
        }
    }

    /// The result of a failed request.
    pub(crate) fn of(e: &reqwest::Error) -> Self {
        if crate::net::refusal_in(e).is_some() {
            Self::AddressRefused
        } else if e.is_timeout() {
            Self::Timeout
        } else {
            Self::Unreachable
        }
    }
}

/// One finished call.
#[derive(Debug, Clone, Copy)]
pub struct Call {
    /// The provider kind (`google`, `openid_connect`, `oauth2`, `development`).
    pub kind: &'static str,
    /// The endpoint.
    pub endpoint: Endpoint,
    /// How it ended.
    pub result: CallResult,
    /// How long it took, in seconds.
    pub seconds: f64,
}

/// Receives every finished provider call.
pub trait CallObserver: Send + Sync + std::fmt::Debug {
    /// One call ended.
    fn observe(&self, call: Call);
}

/// A call being timed.
pub(crate) struct Timer<'a> {
    observer: Option<&'a dyn CallObserver>,
    kind: &'static str,
    endpoint: Endpoint,
    started: Instant,
}

impl<'a> Timer<'a> {
    pub(crate) fn start(
        observer: Option<&'a dyn CallObserver>,
        kind: &'static str,
        endpoint: Endpoint,
    ) -> Self {
        Self {
            observer,
            kind,
            endpoint,
            started: Instant::now(),
        }
    }

    /// Reports the call's end.
    pub(crate) fn end(self, result: CallResult) {
        if let Some(o) = self.observer {
            o.observe(Call {
                kind: self.kind,
                endpoint: self.endpoint,
                result,
                seconds: self.started.elapsed().as_secs_f64(),
            });
        }
    }
}
