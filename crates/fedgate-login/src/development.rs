//! The built-in development provider, as the login sees it: an OpenID Connect provider
//! whose issuer is Fedgate's own `{base}/dev-provider`, reached through discovery like
//! any other. Each application is its client; client ids and secrets are derived from
//! a key that lives only in this process, so nothing needs to be configured or stored.

use fedgate_domain::ids::ApplicationId;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use url::Url;

/// The prefix of the development provider's client ids.
const CLIENT_PREFIX: &str = "fedgate-dev-";

/// The development provider's issuer and client credentials.
#[derive(Clone)]
pub struct Development {
    issuer: String,
    key: [u8; 32],
}

impl std::fmt::Debug for Development {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Development")
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

impl Development {
    /// The development provider of the Fedgate reached at `base`, with a fresh key.
    #[must_use]
    pub fn new(base: &Url) -> Self {
        Self {
            issuer: format!("{}/dev-provider", base.as_str().trim_end_matches('/')),
            key: fedgate_domain::random::bytes::<32>(),
        }
    }

    /// Its issuer, `{base}/dev-provider`.
    #[must_use]
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The client id of `app`.
    #[must_use]
    pub fn client_id(&self, app: ApplicationId) -> String {
        format!("{CLIENT_PREFIX}{app}")
    }

    /// The application a client id belongs to.
    #[must_use]
    pub fn application_of(&self, client_id: &str) -> Option<ApplicationId> {
        client_id
            .strip_prefix(CLIENT_PREFIX)
            .and_then(ApplicationId::parse)
    }

    fn mac(&self, client_id: &str) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(client_id.as_bytes());
        mac
    }

    /// The client secret of `app`.
    #[must_use]
    pub fn client_secret(&self, app: ApplicationId) -> String {
        hex::encode(self.mac(&self.client_id(app)).finalize().into_bytes())
    }

    /// Whether `secret` is the client secret of `client_id` (constant time).
    #[must_use]
    pub fn authenticates(&self, client_id: &str, secret: &str) -> bool {
        self.application_of(client_id).is_some()
            && hex::decode(secret).is_ok_and(|s| self.mac(client_id).verify_slice(&s).is_ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_application_has_its_own_credentials() {
        let base = Url::parse("http://localhost:8080/").unwrap();
        let dev = Development::new(&base);
        assert_eq!(dev.issuer(), "http://localhost:8080/dev-provider");
        let (a, b) = (ApplicationId::generate(), ApplicationId::generate());
        let id = dev.client_id(a);
        assert_eq!(dev.application_of(&id), Some(a));
        assert!(dev.authenticates(&id, &dev.client_secret(a)));
        assert!(!dev.authenticates(&id, &dev.client_secret(b)));
        assert!(!dev.authenticates(&id, "zz"));
        // Another process's key makes other secrets.
        assert!(!Development::new(&base).authenticates(&id, &dev.client_secret(a)));
    }
}
