//! Parsing the CIDR blocks of [`COUNTRY_NETWORKS`](crate::COUNTRY_NETWORKS)
//! and drawing host addresses from them.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A parsed network: base address and prefix length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Net {
    V4(u32, u8),
    V6(u128, u8),
}

impl Net {
    /// Parses `a.b.c.d/n` or `x:y::/n`; `None` if malformed.
    pub(crate) fn parse(cidr: &str) -> Option<Net> {
        let (addr, len) = cidr.split_once('/')?;
        let len: u8 = len.parse().ok()?;
        match addr.parse::<IpAddr>().ok()? {
            IpAddr::V4(a) if len <= 32 => {
                let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
                Some(Net::V4(u32::from(a) & mask, len))
            }
            IpAddr::V6(a) if len <= 128 => {
                let mask = if len == 0 {
                    0
                } else {
                    u128::MAX << (128 - len)
                };
                Some(Net::V6(u128::from(a) & mask, len))
            }
            _ => None,
        }
    }

    /// Whether the address lies in this network.
    #[cfg(test)]
    pub(crate) fn contains(&self, ip: IpAddr) -> bool {
        match (self, ip) {
            (Net::V4(base, len), IpAddr::V4(a)) => {
                let mask = if *len == 0 { 0 } else { u32::MAX << (32 - len) };
                u32::from(a) & mask == *base
            }
            (Net::V6(base, len), IpAddr::V6(a)) => {
                let mask = if *len == 0 {
                    0
                } else {
                    u128::MAX << (128 - len)
                };
                u128::from(a) & mask == *base
            }
            _ => false,
        }
    }

    pub(crate) fn is_v6(&self) -> bool {
        matches!(self, Net::V6(..))
    }

    /// A host address from a random 128-bit draw: never the network's first
    /// or (for IPv4) last address.
    pub(crate) fn host(&self, r: u128) -> IpAddr {
        match *self {
            Net::V4(base, len) => {
                let size = 1u64 << (32 - u32::from(len));
                let off = if size > 2 {
                    1 + (r as u64 % (size - 2))
                } else {
                    0
                };
                IpAddr::V4(Ipv4Addr::from(base.wrapping_add(off as u32)))
            }
            Net::V6(base, len) => {
                let host_bits = 128 - u32::from(len);
                let off = if host_bits >= 128 {
                    r
                } else {
                    r & ((1u128 << host_bits) - 1)
                };
                IpAddr::V6(Ipv6Addr::from(base | off.max(1)))
            }
        }
    }
}
