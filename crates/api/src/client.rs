//! Who the client is: the socket's peer, or — only when that peer is a trusted proxy —
//! the right-most address of `X-Forwarded-For` that is not a trusted proxy. Any client
//! can write `X-Forwarded-For`; only the entries our own proxies appended are believed.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use actix_web::http::header::HeaderMap;

/// One trusted network: an address and how many leading bits must match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Network {
    addr: u128,
    bits: u32,
    v4: bool,
}

fn bits_of(ip: IpAddr) -> (u128, bool) {
    match ip {
        IpAddr::V4(v4) => (u128::from(u32::from(v4)), true),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => (u128::from(u32::from(v4)), true),
            None => (u128::from(v6), false),
        },
    }
}

impl Network {
    fn parse(s: &str) -> Option<Self> {
        let (ip, bits) = match s.split_once('/') {
            Some((ip, bits)) => (ip.parse::<IpAddr>().ok()?, Some(bits.parse::<u32>().ok()?)),
            None => (s.parse::<IpAddr>().ok()?, None),
        };
        let (addr, v4) = bits_of(ip);
        let width = if v4 { 32 } else { 128 };
        let bits = bits.unwrap_or(width);
        (bits <= width).then_some(Self { addr, bits, v4 })
    }

    fn contains(&self, ip: IpAddr) -> bool {
        let (addr, v4) = bits_of(ip);
        if v4 != self.v4 {
            return false;
        }
        let width = if v4 { 32 } else { 128 };
        let shift = width - self.bits;
        shift >= width || (addr >> shift) == (self.addr >> shift)
    }
}

/// The proxies whose `X-Forwarded-For` is believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<Network>);

impl TrustedProxies {
    /// Parses IPs and CIDRs; the first entry that is neither is the error.
    pub fn parse(entries: &[String]) -> Result<Self, String> {
        entries
            .iter()
            .map(|e| Network::parse(e.trim()).ok_or_else(|| e.clone()))
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|n| n.contains(ip))
    }

    /// The client address of a request from `peer` with these `headers`.
    pub fn client(&self, peer: Option<SocketAddr>, headers: &HeaderMap) -> IpAddr {
        let peer = peer.map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |p| p.ip());
        if !self.trusts(peer) {
            return peer;
        }
        let forwarded: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        let mut client = peer;
        for hop in forwarded.iter().rev() {
            match hop.parse::<IpAddr>() {
                Ok(ip) if self.trusts(ip) => client = ip,
                Ok(ip) => return ip,
                // Not an address: nothing to its left can be believed.
                Err(_) => return client,
            }
        }
        client
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append(
                HeaderName::from_static("x-forwarded-for"),
                HeaderValue::from_str(v).unwrap_or(HeaderValue::from_static("")),
            );
        }
        h
    }

    fn peer(s: &str) -> Option<SocketAddr> {
        s.parse().ok()
    }

    #[test]
    fn forwarded_addresses_count_only_from_trusted_proxies() {
        let none = TrustedProxies::default();
        let proxies =
            TrustedProxies::parse(&["10.0.0.0/8".into(), "192.168.1.5".into()]).unwrap_or_default();
        let spoofed = headers(&["6.6.6.6"]);
        assert_eq!(
            none.client(peer("203.0.113.9:5000"), &spoofed).to_string(),
            "203.0.113.9",
            "no proxy configured: the header is ignored"
        );
        assert_eq!(
            proxies
                .client(peer("203.0.113.9:5000"), &spoofed)
                .to_string(),
            "203.0.113.9",
            "an untrusted peer's header is ignored"
        );
        // client → proxy 10.1.2.3 → proxy 192.168.1.5 → us; the client forged a first entry.
        let chain = headers(&["6.6.6.6, 198.51.100.7", "10.1.2.3"]);
        assert_eq!(
            proxies.client(peer("192.168.1.5:443"), &chain).to_string(),
            "198.51.100.7"
        );
        assert_eq!(
            proxies
                .client(peer("10.9.9.9:443"), &headers(&["garbage, 10.1.1.1"]))
                .to_string(),
            "10.1.1.1"
        );
        assert_eq!(
            proxies
                .client(peer("[::ffff:10.0.0.1]:443"), &headers(&["2001:db8::1"]))
                .to_string(),
            "2001:db8::1"
        );
        assert!(TrustedProxies::parse(&["10.0.0.0/33".into()]).is_err());
        assert!(TrustedProxies::parse(&["example.com".into()]).is_err());
    }
}
