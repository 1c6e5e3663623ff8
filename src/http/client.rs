//! The client's address as every limiter counts it: the peer, or behind a trusted proxy the
//! right-most address of `X-Forwarded-For` that no trusted proxy wrote.

use std::net::IpAddr;

use actix_web::HttpRequest;
use ipnet::IpNet;

/// Where the peer address is unknown (a test harness, a Unix socket): one shared bucket.
const UNKNOWN: IpAddr = IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED);

/// The address a request is counted under. Only a peer in `trusted` may speak for another
/// address; the header is read from the right because each trusted proxy appends the address
/// it saw, so entries left of the first untrusted one could have been written by the client.
pub fn client_address(req: &HttpRequest, trusted: &[IpNet]) -> IpAddr {
    let peer = req.peer_addr().map_or(UNKNOWN, |a| a.ip());
    let forwarded: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    from_forwarded(peer, &forwarded, trusted)
}

/// [`client_address`] on plain values: the peer, the header's entries in order, the proxies.
pub fn from_forwarded(peer: IpAddr, forwarded: &[&str], trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |a: &IpAddr| trusted.iter().any(|n| n.contains(&canonical(*a)));
    if !is_trusted(&peer) {
        return peer;
    }
    let mut nearest = peer;
    for entry in forwarded.iter().rev() {
        // A malformed entry: nothing left of it can be believed, so the last proxy that handed
        // it on is the client as far as we can tell.
        let Some(addr) = parse(entry) else {
            return nearest;
        };
        if !is_trusted(&addr) {
            return addr;
        }
        nearest = addr;
    }
    nearest
}

/// An IPv4 peer on a dual-stack socket arrives as `::ffff:a.b.c.d`; proxies are listed as IPv4.
fn canonical(a: IpAddr) -> IpAddr {
    match a {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(a, IpAddr::V4),
        v4 => v4,
    }
}

/// An entry as proxies write it: `203.0.113.7`, `2001:db8::1`, or with a port (`1.2.3.4:5678`,
/// `[2001:db8::1]:443`).
fn parse(entry: &str) -> Option<IpAddr> {
    let e = entry.trim();
    e.parse::<IpAddr>()
        .ok()
        .or_else(|| e.parse::<std::net::SocketAddr>().ok().map(|s| s.ip()))
        .map(canonical)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|n| n.parse().unwrap()).collect()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_says() {
        let got = from_forwarded(ip("198.51.100.9"), &["203.0.113.7"], &nets(&["10.0.0.0/8"]));
        assert_eq!(got, ip("198.51.100.9"));
        assert_eq!(from_forwarded(ip("10.0.0.1"), &["203.0.113.7"], &[]), ip("10.0.0.1"));
    }

    #[test]
    fn behind_trusted_proxies_the_rightmost_untrusted_entry_is_the_client() {
        let trusted = nets(&["10.0.0.0/8", "192.0.2.7/32"]);
        // The client forged the left-most entry; the proxies appended what they saw.
        let got = from_forwarded(ip("10.0.0.1"), &["1.1.1.1", " 203.0.113.7", "192.0.2.7"], &trusted);
        assert_eq!(got, ip("203.0.113.7"));
        assert_eq!(
            from_forwarded(ip("::ffff:10.0.0.1"), &["[2001:db8::1]:443"], &trusted),
            ip("2001:db8::1")
        );
        // Only proxies in the header: the left-most of them is as far as we can see.
        assert_eq!(from_forwarded(ip("10.0.0.1"), &["10.0.0.2"], &trusted), ip("10.0.0.2"));
        // No header: the proxy itself.
        assert_eq!(from_forwarded(ip("10.0.0.1"), &[], &trusted), ip("10.0.0.1"));
        // Garbage stops the walk at the proxy that passed it on.
        assert_eq!(
            from_forwarded(ip("10.0.0.1"), &["203.0.113.7", "junk", "10.0.0.3"], &trusted),
            ip("10.0.0.3")
        );
    }
}
