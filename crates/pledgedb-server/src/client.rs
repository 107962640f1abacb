//! Who the client is: its address (from the connection, or from the
//! `X-Forwarded-For` hops of trusted proxies), used once for the hit and the
//! rate limiter's keyed hash, never stored and never logged.

use std::net::IpAddr;

use axum::http::HeaderMap;

/// The client's address. Without trusted proxies it is the connection's
/// peer. With them, and only when the peer itself is a trusted proxy, the
/// `X-Forwarded-For` chain (every header, in order) is walked from the
/// right, skipping trusted hops: the first untrusted hop is the client. A
/// hop that is not an address stops the walk there and the last trusted
/// hop seen is used (a proxy we trust would not write garbage; whatever
/// is left of it was written by the client). If every hop is trusted, the
/// left-most one is the client.
#[must_use]
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[ipnet::IpNet]) -> IpAddr {
    let peer = canonical(peer);
    if trusted.is_empty() || !is_trusted(peer, trusted) {
        return peer;
    }
    let mut hops: Vec<&str> = Vec::new();
    for v in headers.get_all("x-forwarded-for") {
        let Ok(s) = v.to_str() else {
            return peer;
        };
        hops.extend(s.split(',').map(str::trim));
    }
    let mut last = peer;
    for hop in hops.iter().rev() {
        let Some(ip) = parse_hop(hop) else {
            return last;
        };
        if !is_trusted(ip, trusted) {
            return ip;
        }
        last = ip;
    }
    last
}

fn is_trusted(ip: IpAddr, trusted: &[ipnet::IpNet]) -> bool {
    trusted.iter().any(|n| n.contains(&ip))
}

/// An IPv4-mapped IPv6 address is the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// One hop: `203.0.113.9`, `203.0.113.9:1234`, `[2001:db8::1]:443` or
/// `2001:db8::1`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    if let Ok(sa) = hop.parse::<std::net::SocketAddr>() {
        return Some(canonical(sa.ip()));
    }
    None
}

/// Whether the request came in over TLS (as a trusted proxy reports it
/// with `X-Forwarded-Proto: https`).
#[must_use]
pub fn is_tls(peer: IpAddr, headers: &HeaderMap, trusted: &[ipnet::IpNet]) -> bool {
    is_trusted(canonical(peer), trusted)
        && headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn xff(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn the_chain_is_walked_from_the_right_past_trusted_hops() {
        let trusted = vec![
            "10.0.0.0/8".parse().unwrap(),
            "2001:db8:ffff::/48".parse().unwrap(),
        ];
        let proxy = ip("10.0.0.1");
        // (peer, headers, expected client)
        let table: Vec<(IpAddr, Vec<&str>, &str)> = vec![
            // no proxy trusted for this peer: the peer, whatever the header says
            (ip("198.51.100.7"), vec!["203.0.113.9"], "198.51.100.7"),
            // one trusted proxy
            (proxy, vec!["203.0.113.9"], "203.0.113.9"),
            // a client-forged left part is ignored
            (proxy, vec!["192.0.2.66, 203.0.113.9"], "203.0.113.9"),
            // two trusted hops
            (proxy, vec!["203.0.113.9, 10.1.1.1"], "203.0.113.9"),
            // several headers are one chain
            (
                proxy,
                vec!["192.0.2.66", "203.0.113.9, 10.2.2.2"],
                "203.0.113.9",
            ),
            // ports and brackets
            (proxy, vec!["[2001:db8::5]:443"], "2001:db8::5"),
            (proxy, vec!["203.0.113.9:5555"], "203.0.113.9"),
            // garbage stops the walk at the last trusted hop
            (proxy, vec!["junk, 10.3.3.3"], "10.3.3.3"),
            (proxy, vec!["junk"], "10.0.0.1"),
            // no header: the proxy itself
            (proxy, vec![], "10.0.0.1"),
            // every hop trusted: the left-most
            (proxy, vec!["10.9.9.9, 10.8.8.8"], "10.9.9.9"),
            // an IPv4-mapped peer counts as IPv4
            (ip("::ffff:10.0.0.1"), vec!["203.0.113.9"], "203.0.113.9"),
            (ip("2001:db8:ffff::1"), vec!["2001:db8::7"], "2001:db8::7"),
        ];
        for (peer, headers, want) in table {
            assert_eq!(
                client_ip(peer, &xff(&headers), &trusted),
                ip(want),
                "{peer} {headers:?}"
            );
        }
    }

    #[test]
    fn without_trusted_proxies_the_header_is_never_believed() {
        let peer = ip("198.51.100.7");
        assert_eq!(client_ip(peer, &xff(&["203.0.113.9"]), &[]), peer);
    }
}
