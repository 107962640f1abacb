//! Visitor, session and erasure identities: keyed SipHash values.
//!
//! Each domain has its own 32-byte secret, so one browser gets unrelated
//! visitor ids on two domains (promise P2). In cookie mode the visitor id is
//! a keyed hash of the first-party client id; in cookieless mode it is a keyed
//! hash of a daily rotating salt, the IP and the user agent, and the salt is
//! deleted after 48 hours, after which the id can no longer be recomputed.

use crate::event::{SessionId, VisitorId};
use crate::time::Timestamp;
use siphasher::sip::SipHasher24;
use siphasher::sip128::{Hasher128, SipHasher24 as SipHasher128};
use std::hash::Hasher;
use std::net::IpAddr;

/// A domain's secret: two SipHash keys.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct DomainSecret {
    visitor_key: [u8; 16],
    aux_key: [u8; 16],
}

impl std::fmt::Debug for DomainSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DomainSecret(<hidden>)")
    }
}

/// The tag under which a tombstone and the per-segment visitor index know a
/// visitor: a 128-bit keyed hash of the visitor id, so that neither holds the
/// id itself.
pub(crate) type EraseTag = u128;

impl DomainSecret {
    pub(crate) fn generate() -> Result<DomainSecret, getrandom::Error> {
        let mut b = [0u8; 32];
        getrandom::fill(&mut b)?;
        Ok(DomainSecret::from_bytes(b))
    }

    pub(crate) fn from_bytes(b: [u8; 32]) -> DomainSecret {
        let mut visitor_key = [0u8; 16];
        let mut aux_key = [0u8; 16];
        visitor_key.copy_from_slice(&b[..16]);
        aux_key.copy_from_slice(&b[16..]);
        DomainSecret {
            visitor_key,
            aux_key,
        }
    }

    pub(crate) fn to_bytes(self) -> [u8; 32] {
        let mut b = [0u8; 32];
        b[..16].copy_from_slice(&self.visitor_key);
        b[16..].copy_from_slice(&self.aux_key);
        b
    }

    fn nonzero(h: u64) -> u64 {
        if h == 0 { 1 } else { h }
    }

    /// Cookie mode: the visitor id of a first-party client id.
    pub(crate) fn visitor_from_client(&self, client_id: &str) -> VisitorId {
        let mut h = SipHasher24::new_with_key(&self.visitor_key);
        h.write_u8(b'c');
        h.write(client_id.as_bytes());
        VisitorId(Self::nonzero(h.finish()))
    }

    /// Cookieless mode: the visitor id of an IP and user agent under the
    /// day's salt.
    pub(crate) fn visitor_cookieless(&self, salt: &[u8; 16], ip: IpAddr, ua: &str) -> VisitorId {
        let mut h = SipHasher24::new_with_key(&self.visitor_key);
        h.write_u8(b's');
        h.write(salt);
        match ip {
            IpAddr::V4(v4) => h.write(&v4.octets()),
            IpAddr::V6(v6) => h.write(&v6.octets()),
        }
        h.write(ua.as_bytes());
        VisitorId(Self::nonzero(h.finish()))
    }

    /// The session id of a tracker-side session id.
    pub(crate) fn session_from_client(&self, visitor: VisitorId, session: &str) -> SessionId {
        let mut h = SipHasher24::new_with_key(&self.aux_key);
        h.write_u8(b'k');
        h.write_u64(visitor.0);
        h.write(session.as_bytes());
        SessionId(Self::nonzero(h.finish()))
    }

    /// The session id of a visit that started at `start`.
    pub(crate) fn session_started(&self, visitor: VisitorId, start: Timestamp) -> SessionId {
        let mut h = SipHasher24::new_with_key(&self.aux_key);
        h.write_u8(b't');
        h.write_u64(visitor.0);
        h.write_i64(start.0);
        SessionId(Self::nonzero(h.finish()))
    }

    /// The erase tag of a visitor.
    pub(crate) fn visitor_tag(&self, visitor: VisitorId) -> EraseTag {
        let mut h = SipHasher128::new_with_key(&self.aux_key);
        h.write_u8(b'v');
        h.write_u64(visitor.0);
        h.finish128().as_u128()
    }

    /// The erase tag of a session.
    pub(crate) fn session_tag(&self, session: SessionId) -> EraseTag {
        let mut h = SipHasher128::new_with_key(&self.aux_key);
        h.write_u8(b's');
        h.write_u64(session.0);
        h.finish128().as_u128()
    }
}

/// The keyed hash under which the global registry stores an opt-out token.
pub(crate) fn opt_out_hash(key: &[u8; 16], token: &str) -> u128 {
    let mut h = SipHasher128::new_with_key(key);
    h.write(token.as_bytes());
    h.finish128().as_u128()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_differ_across_domains_and_modes() {
        let a = DomainSecret::from_bytes([1; 32]);
        let b = DomainSecret::from_bytes([2; 32]);
        assert_ne!(a.visitor_from_client("c1"), b.visitor_from_client("c1"));
        assert_eq!(a.visitor_from_client("c1"), a.visitor_from_client("c1"));
        let ip: IpAddr = [203, 0, 113, 9].into();
        let s1 = [7u8; 16];
        let s2 = [8u8; 16];
        assert_ne!(
            a.visitor_cookieless(&s1, ip, "ua"),
            a.visitor_cookieless(&s2, ip, "ua"),
            "a new salt gives a new id"
        );
        assert_ne!(
            a.visitor_cookieless(&s1, ip, "ua"),
            b.visitor_cookieless(&s1, ip, "ua")
        );
        let v = a.visitor_from_client("c1");
        assert_ne!(a.visitor_tag(v), b.visitor_tag(v));
        assert_eq!(DomainSecret::from_bytes(a.to_bytes()), a);
    }
}
