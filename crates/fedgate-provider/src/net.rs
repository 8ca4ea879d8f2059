//! Outbound calls to subscriber-given URLs (discovery, token, userinfo, JWKS): which
//! addresses may be reached, a DNS resolver that drops every other address — so the
//! address checked is the address connected to, with no DNS-rebinding window —, and
//! bounded reads.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::Url;

/// Why an address may not be reached from a subscriber-given URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockedAddress {
    /// 127.0.0.0/8, ::1.
    Loopback,
    /// RFC 1918 (10/8, 172.16/12, 192.168/16).
    Private,
    /// 169.254/16 (cloud metadata lives here), fe80::/10.
    LinkLocal,
    /// 100.64/10 (carrier-grade NAT).
    SharedAddressSpace,
    /// 0.0.0.0/8, ::.
    Unspecified,
    /// 224/4, ff00::/8, 255.255.255.255.
    Multicast,
    /// fc00::/7.
    UniqueLocal,
    /// Reserved, documentation and benchmarking ranges, IETF assignments.
    Reserved,
}

impl BlockedAddress {
    /// In words, for error messages.
    #[must_use]
    pub const fn describe(self) -> &'static str {
        match self {
            Self::Loopback => "a loopback address",
            Self::Private => "a private (RFC 1918) address",
            Self::LinkLocal => "a link-local or cloud-metadata address",
            Self::SharedAddressSpace => "a carrier-grade NAT address",
            Self::Unspecified => "an unspecified address",
            Self::Multicast => "a multicast or broadcast address",
            Self::UniqueLocal => "a unique-local IPv6 address",
            Self::Reserved => "a reserved address",
        }
    }
}

fn classify_v4(ip: Ipv4Addr) -> Option<BlockedAddress> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b) {
        (127, _) => BlockedAddress::Loopback,
        (10, _) | (192, 168) => BlockedAddress::Private,
        (172, b) if (16..32).contains(&b) => BlockedAddress::Private,
        (169, 254) => BlockedAddress::LinkLocal,
        (100, b) if (64..128).contains(&b) => BlockedAddress::SharedAddressSpace,
        (0, _) => BlockedAddress::Unspecified,
        (224..=239, _) => BlockedAddress::Multicast,
        (255, 255) if ip.is_broadcast() => BlockedAddress::Multicast,
        (240..=255, _) => BlockedAddress::Reserved,
        (192, 0) if c == 0 || c == 2 => BlockedAddress::Reserved,
        (198, 18 | 19) => BlockedAddress::Reserved,
        (198, 51) if c == 100 => BlockedAddress::Reserved,
        (203, 0) if c == 113 => BlockedAddress::Reserved,
        _ => return None,
    })
}

fn classify_v6(ip: Ipv6Addr) -> Option<BlockedAddress> {
    if ip.is_loopback() {
        return Some(BlockedAddress::Loopback);
    }
    if ip.is_unspecified() {
        return Some(BlockedAddress::Unspecified);
    }
    // IPv4-mapped (::ffff:a.b.c.d) and the deprecated IPv4-compatible (::a.b.c.d)
    // forms reach the IPv4 address they embed.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return classify_v4(v4);
    }
    let s = ip.segments();
    if s[..6] == [0; 6] {
        return classify_v4(Ipv4Addr::from(u32::from(s[6]) << 16 | u32::from(s[7])));
    }
    // NAT64 (64:ff9b::/96) translates to the embedded IPv4 address.
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return classify_v4(Ipv4Addr::from(u32::from(s[6]) << 16 | u32::from(s[7])));
    }
    Some(match s[0] {
        x if x & 0xfe00 == 0xfc00 => BlockedAddress::UniqueLocal,
        x if x & 0xffc0 == 0xfe80 => BlockedAddress::LinkLocal,
        x if x & 0xff00 == 0xff00 => BlockedAddress::Multicast,
        0x2001 if s[1] == 0x0db8 => BlockedAddress::Reserved,
        _ => return None,
    })
}

/// Why `ip` may not be reached, or `None` when it is a public address.
#[must_use]
pub fn classify(ip: IpAddr) -> Option<BlockedAddress> {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

/// Whether `ip` may be reached, given whether loopback is allowed (tests and local
/// development only).
#[must_use]
pub fn allowed(ip: IpAddr, allow_loopback: bool) -> bool {
    match classify(ip) {
        None => true,
        Some(BlockedAddress::Loopback) => allow_loopback,
        Some(_) => false,
    }
}

/// An outbound URL or address was refused before any connection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Not `https` (plain `http` only to loopback, with loopback allowed).
    #[error("{0} is not an https URL")]
    NotHttps(String),
    /// The host is, or resolves only to, addresses that may not be reached.
    #[error("{host} resolves to {what}, which Fedgate does not call")]
    Address {
        /// The host name or literal.
        host: String,
        /// Which kind of address.
        what: &'static str,
    },
}

fn is_loopback_host(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => {
            d.eq_ignore_ascii_case("localhost") || d.to_ascii_lowercase().ends_with(".localhost")
        }
        None => false,
    }
}

/// Checks a subscriber-given URL before it is called: `https` (or `http` to a loopback
/// host when loopback is allowed) and, for an IP literal (which skips DNS), an address
/// that may be reached. Names are checked when they resolve ([`GuardedResolver`]).
pub fn check_url(url: &Url, allow_loopback: bool) -> Result<(), Refusal> {
    let plain_ok = url.scheme() == "http" && allow_loopback && is_loopback_host(url);
    if url.scheme() != "https" && !plain_ok {
        return Err(Refusal::NotHttps(url.to_string()));
    }
    let literal = match url.host() {
        Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
        _ => None,
    };
    if let Some(ip) = literal
        && !allowed(ip, allow_loopback)
    {
        return Err(Refusal::Address {
            host: ip.to_string(),
            what: classify(ip).map_or("a reserved address", BlockedAddress::describe),
        });
    }
    Ok(())
}

/// The operating system's resolver.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemResolver;

impl Resolve for SystemResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// Resolves with `inner` and keeps only addresses that may be reached; a name left
/// with none fails with [`Refusal::Address`] before any connection is attempted.
#[derive(Clone)]
pub struct GuardedResolver {
    inner: Arc<dyn Resolve>,
    allow_loopback: bool,
    tap: Option<ConnectTap>,
}

impl std::fmt::Debug for GuardedResolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GuardedResolver")
            .field("allow_loopback", &self.allow_loopback)
            .finish_non_exhaustive()
    }
}

impl GuardedResolver {
    /// Guards `inner`.
    #[must_use]
    pub fn new(inner: Arc<dyn Resolve>, allow_loopback: bool) -> Self {
        Self {
            inner,
            allow_loopback,
            tap: None,
        }
    }

    /// With a test's tap after the guard.
    #[must_use]
    pub fn tapped(mut self, tap: Option<ConnectTap>) -> Self {
        self.tap = tap;
        self
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        let lookup = self.inner.resolve(name);
        let allow_loopback = self.allow_loopback;
        let tap = self.tap.clone();
        Box::pin(async move {
            let all: Vec<SocketAddr> = lookup.await?.collect();
            let first_blocked = all.iter().find_map(|a| classify(a.ip()));
            let mut usable: Vec<SocketAddr> = all
                .into_iter()
                .filter(|a| allowed(a.ip(), allow_loopback))
                .collect();
            if let Some(tap) = tap {
                tap.record(&usable);
                let passed = usable.len();
                usable.retain(|a| a.ip().is_loopback());
                if usable.is_empty() && passed > 0 {
                    return Err(Box::new(Refusal::Address {
                        host,
                        what: "an address outside this machine (tests reach loopback only)",
                    }) as _);
                }
            }
            if usable.is_empty() {
                let what = first_blocked.map_or("no address", BlockedAddress::describe);
                return Err(Box::new(Refusal::Address { host, what }) as _);
            }
            Ok(Box::new(usable.into_iter()) as Addrs)
        })
    }
}

/// The [`Refusal`] somewhere in an error's source chain, if the error is one.
#[must_use]
pub fn refusal_in(error: &(dyn std::error::Error + 'static)) -> Option<Refusal> {
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(r) = e.downcast_ref::<Refusal>() {
            return Some(r.clone());
        }
        current = e.source();
    }
    None
}

/// Reads a response body, refusing one larger than `max` bytes.
pub async fn read_capped(mut res: reqwest::Response, max: usize) -> Result<Vec<u8>, String> {
    if res
        .content_length()
        .is_some_and(|n| n > u64::try_from(max).unwrap_or(u64::MAX))
    {
        return Err(format!("the response is larger than {max} bytes"));
    }
    let mut body = Vec::new();
    while let Some(chunk) = res.chunk().await.map_err(|e| e.to_string())? {
        if body.len() + chunk.len() > max {
            return Err(format!("the response is larger than {max} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Where a test sees the addresses the guarded client would connect to. With a tap
/// installed, the resolver records every address that passed the guard and then hands
/// on loopback ones only, so a test can prove a refused address never reached the
/// connector without any traffic leaving the machine, even if the guard were broken.
#[derive(Debug, Clone, Default)]
pub struct ConnectTap(Arc<Mutex<Vec<SocketAddr>>>);

impl ConnectTap {
    /// Every address that passed the guard so far.
    #[must_use]
    pub fn seen(&self) -> Vec<SocketAddr> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn record(&self, addrs: &[SocketAddr]) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(addrs);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_classified() {
        let table: [(&str, Option<BlockedAddress>); 22] = [
            ("127.0.0.1", Some(BlockedAddress::Loopback)),
            ("127.255.0.9", Some(BlockedAddress::Loopback)),
            ("::1", Some(BlockedAddress::Loopback)),
            ("10.0.0.1", Some(BlockedAddress::Private)),
            ("172.16.0.1", Some(BlockedAddress::Private)),
            ("172.31.255.255", Some(BlockedAddress::Private)),
            ("192.168.1.1", Some(BlockedAddress::Private)),
            ("169.254.169.254", Some(BlockedAddress::LinkLocal)),
            ("100.64.0.1", Some(BlockedAddress::SharedAddressSpace)),
            ("100.127.255.254", Some(BlockedAddress::SharedAddressSpace)),
            ("0.0.0.0", Some(BlockedAddress::Unspecified)),
            ("::", Some(BlockedAddress::Unspecified)),
            ("224.0.0.1", Some(BlockedAddress::Multicast)),
            ("ff02::1", Some(BlockedAddress::Multicast)),
            ("fc00::1", Some(BlockedAddress::UniqueLocal)),
            ("fd00::1", Some(BlockedAddress::UniqueLocal)),
            ("fe80::1", Some(BlockedAddress::LinkLocal)),
            ("::ffff:10.0.0.1", Some(BlockedAddress::Private)),
            ("::ffff:169.254.169.254", Some(BlockedAddress::LinkLocal)),
            ("64:ff9b::a9fe:a9fe", Some(BlockedAddress::LinkLocal)),
            ("93.184.216.34", None),
            ("2606:4700:4700::1111", None),
        ];
        for (text, expected) in table {
            let ip: IpAddr = text.parse().unwrap();
            assert_eq!(classify(ip), expected, "{text}");
        }
        assert_eq!(classify("172.32.0.1".parse().unwrap()), None);
        assert_eq!(classify("100.128.0.1".parse().unwrap()), None);
    }

    #[test]
    fn loopback_is_reachable_only_when_allowed() {
        let lo: IpAddr = "127.0.0.1".parse().unwrap();
        assert!(!allowed(lo, false));
        assert!(allowed(lo, true));
        let metadata: IpAddr = "169.254.169.254".parse().unwrap();
        assert!(!allowed(metadata, true));
        assert!(!allowed("::ffff:127.0.0.1".parse().unwrap(), false));
    }

    #[test]
    fn urls_need_https_and_a_reachable_literal() {
        let url = |s: &str| Url::parse(s).unwrap();
        assert!(check_url(&url("https://idp.example.com/realms/a"), false).is_ok());
        assert!(matches!(
            check_url(&url("http://idp.example.com"), true),
            Err(Refusal::NotHttps(_))
        ));
        assert!(matches!(
            check_url(&url("http://127.0.0.1:8080"), false),
            Err(Refusal::NotHttps(_))
        ));
        assert!(check_url(&url("http://127.0.0.1:8080"), true).is_ok());
        assert!(check_url(&url("http://localhost:8080"), true).is_ok());
        assert!(matches!(
            check_url(&url("https://127.0.0.1"), false),
            Err(Refusal::Address { .. })
        ));
        assert!(matches!(
            check_url(&url("https://[fd00::1]"), true),
            Err(Refusal::Address { .. })
        ));
        assert!(matches!(
            check_url(&url("https://169.254.169.254/latest"), true),
            Err(Refusal::Address { .. })
        ));
    }

    #[tokio::test]
    async fn the_guarded_resolver_drops_refused_addresses() {
        #[derive(Debug)]
        struct Fixed(Vec<SocketAddr>);
        impl Resolve for Fixed {
            fn resolve(&self, _: Name) -> Resolving {
                let addrs = self.0.clone();
                Box::pin(async move { Ok(Box::new(addrs.into_iter()) as Addrs) })
            }
        }
        let mixed = Fixed(vec![
            "10.0.0.1:0".parse().unwrap(),
            "93.184.216.34:0".parse().unwrap(),
        ]);
        let guard = GuardedResolver::new(Arc::new(mixed), false);
        let name: Name = "idp.test".parse().unwrap();
        let got: Vec<SocketAddr> = guard.resolve(name).await.unwrap().collect();
        assert_eq!(got, vec!["93.184.216.34:0".parse().unwrap()]);

        let only_private = Fixed(vec!["169.254.169.254:0".parse().unwrap()]);
        let guard = GuardedResolver::new(Arc::new(only_private), true);
        let name: Name = "metadata.test".parse().unwrap();
        let Err(err) = guard.resolve(name).await else {
            panic!("resolved")
        };
        assert!(matches!(
            refusal_in(err.as_ref()),
            Some(Refusal::Address { .. })
        ));
    }
}
