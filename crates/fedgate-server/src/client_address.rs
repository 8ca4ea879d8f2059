//! The client's address for rate limits: the peer, or — when the peer is one of the
//! deployment's `trusted_proxies` — the right-most `X-Forwarded-For` address that is
//! not a trusted proxy. The left-most value is whatever the client wrote and is never
//! believed.

use std::net::IpAddr;

/// An address block such as `10.0.0.0/8` or `::1/128` (a bare address is `/32` or
/// `/128`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Parses `a.b.c.d/n`, `x::y/n` or a bare address.
    pub fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim();
        let (addr, prefix) = t.split_once('/').map_or((t, None), |(a, p)| (a, Some(p)));
        let network: IpAddr = addr
            .parse()
            .map_err(|_| format!("{t:?} is not an address or address block"))?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{t:?}: the prefix length must be 0 to {max}"))?,
        };
        Ok(Self { network, prefix })
    }

    /// Whether `ip` is inside the block (IPv4-mapped IPv6 addresses count as IPv4).
    #[must_use]
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 @ IpAddr::V4(_) => v4,
        };
        match (self.network, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

/// The client's address, given the connection's `peer`, the `X-Forwarded-For` header
/// (all of its values, in order) and the trusted proxies.
#[must_use]
pub fn client_address(peer: IpAddr, forwarded_for: &[&str], trusted: &[Cidr]) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|c| c.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    let mut nearest = peer;
    for hop in forwarded_for
        .iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .rev()
    {
        let Ok(ip) = hop.parse::<IpAddr>() else {
            // Not an address: nothing to its left can be believed.
            return nearest;
        };
        if !is_trusted(ip) {
            return ip;
        }
        nearest = ip;
    }
    nearest
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn blocks_parse_and_contain() {
        let lan = Cidr::parse("10.0.0.0/8").unwrap();
        assert!(lan.contains(ip("10.1.2.3")) && !lan.contains(ip("11.0.0.1")));
        assert!(lan.contains(ip("::ffff:10.9.9.9")), "IPv4-mapped");
        assert!(Cidr::parse("::1").unwrap().contains(ip("::1")));
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
        for bad in ["10.0.0.0/33", "nonsense", "10.0.0/8", "::/129"] {
            assert!(Cidr::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_right_most_untrusted_address_is_the_client() {
        let proxies = [
            Cidr::parse("127.0.0.1").unwrap(),
            Cidr::parse("10.0.0.0/8").unwrap(),
        ];
        let proxy = ip("127.0.0.1");
        // The client wrote the first value; the proxies appended the rest.
        assert_eq!(
            client_address(proxy, &["203.0.113.9, 198.51.100.7, 10.0.0.2"], &proxies),
            ip("198.51.100.7")
        );
        assert_eq!(
            client_address(proxy, &["203.0.113.9", "198.51.100.7"], &proxies),
            ip("198.51.100.7"),
            "several headers are one list"
        );
        // A peer that is not a trusted proxy is the client, whatever it writes.
        assert_eq!(
            client_address(ip("198.51.100.7"), &["203.0.113.9"], &proxies),
            ip("198.51.100.7")
        );
        // Garbage stops the walk at the nearest proxy.
        assert_eq!(
            client_address(proxy, &["203.0.113.9, garbage, 10.0.0.2"], &proxies),
            ip("10.0.0.2")
        );
        // No header: the proxy itself.
        assert_eq!(client_address(proxy, &[], &proxies), proxy);
    }
}
