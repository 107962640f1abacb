//! A per-client token bucket in memory. Buckets are keyed by SipHash-1-3 of
//! the client's address under a random key drawn when the server starts:
//! the address itself is never stored, and the key is never written
//! anywhere, so the table cannot be turned back into addresses. Time is the
//! engine's clock (a `ManualClock` in tests).

use std::collections::HashMap;
use std::hash::Hasher;
use std::net::IpAddr;

use parking_lot::Mutex;
use pledgedb_core::Clock;
use siphasher::sip::SipHasher13;

/// The most buckets kept; beyond it, full (idle) buckets are forgotten.
const MAX_BUCKETS: usize = 100_000;

struct Bucket {
    tokens: f64,
    last_ms: i64,
}

/// Token buckets keyed by a keyed hash of the client address.
pub struct RateLimiter {
    key: [u8; 16],
    per_ms: f64,
    burst: f64,
    buckets: Mutex<HashMap<u64, Bucket>>,
}

impl RateLimiter {
    /// `per_second` tokens are added per second, up to `burst`.
    #[must_use]
    pub fn new(per_second: f64, burst: u32) -> RateLimiter {
        let mut key = [0u8; 16];
        // Without the OS's randomness, std's per-process random hash keys
        // are still unknown to a client.
        if getrandom::fill(&mut key).is_err() {
            use std::hash::BuildHasher;
            let a = std::collections::hash_map::RandomState::new().hash_one(1u8);
            let b = std::collections::hash_map::RandomState::new().hash_one(2u8);
            key[..8].copy_from_slice(&a.to_le_bytes());
            key[8..].copy_from_slice(&b.to_le_bytes());
        }
        RateLimiter {
            key,
            per_ms: per_second / 1000.0,
            burst: f64::from(burst),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    fn hash(&self, ip: IpAddr) -> u64 {
        let mut h = SipHasher13::new_with_key(&self.key);
        match ip {
            IpAddr::V4(v4) => h.write(&v4.octets()),
            // One IPv6 client usually holds a whole /64: key by it, so
            // rotating addresses within it does not escape the limit.
            IpAddr::V6(v6) => h.write(&v6.octets()[..8]),
        }
        h.finish()
    }

    /// Takes `cost` tokens from the client's bucket at time `now_ms`;
    /// `false` when there are not enough (answer 429).
    pub fn allow_at(&self, ip: IpAddr, cost: u32, now_ms: i64) -> bool {
        let k = self.hash(ip);
        let mut map = self.buckets.lock();
        if map.len() >= MAX_BUCKETS && !map.contains_key(&k) {
            let (per_ms, burst) = (self.per_ms, self.burst);
            map.retain(|_, b| b.tokens + (now_ms - b.last_ms).max(0) as f64 * per_ms < burst);
            if map.len() >= MAX_BUCKETS {
                // Still full (a flood from many addresses): forget the
                // buckets idle for a minute, then all, so memory stays
                // bounded.
                map.retain(|_, b| now_ms - b.last_ms < 60_000);
                if map.len() >= MAX_BUCKETS {
                    map.clear();
                }
            }
        }
        let b = map.entry(k).or_insert(Bucket {
            tokens: self.burst,
            last_ms: now_ms,
        });
        let elapsed = (now_ms - b.last_ms).max(0) as f64;
        b.tokens = (b.tokens + elapsed * self.per_ms).min(self.burst);
        b.last_ms = b.last_ms.max(now_ms);
        let cost = f64::from(cost);
        if b.tokens >= cost {
            b.tokens -= cost;
            true
        } else {
            false
        }
    }

    /// [`RateLimiter::allow_at`] by a clock.
    pub fn allow(&self, ip: IpAddr, cost: u32, clock: &dyn Clock) -> bool {
        self.allow_at(ip, cost, clock.now().millis())
    }

    /// Buckets held (tests).
    #[must_use]
    pub fn len(&self) -> usize {
        self.buckets.lock().len()
    }

    /// Whether no bucket is held.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_empties_and_refills_by_the_clock() {
        let r = RateLimiter::new(2.0, 3);
        let a: IpAddr = "203.0.113.9".parse().unwrap();
        let b: IpAddr = "2001:db8::1".parse().unwrap();
        for _ in 0..3 {
            assert!(r.allow_at(a, 1, 0));
        }
        assert!(!r.allow_at(a, 1, 0));
        // another client is not affected
        assert!(r.allow_at(b, 3, 0));
        // half a second adds one token
        assert!(r.allow_at(a, 1, 500));
        assert!(!r.allow_at(a, 1, 500));
        // a long pause refills to the burst, not beyond
        assert!(r.allow_at(a, 3, 100_000));
        assert!(!r.allow_at(a, 1, 100_000));
        // a batch costs its size
        assert!(!r.allow_at(b, 4, 100_000));
    }

    #[test]
    fn addresses_of_one_ipv6_64_share_a_bucket_and_memory_stays_bounded() {
        let r = RateLimiter::new(0.001, 2);
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert!(r.allow_at(a, 1, 0));
        assert!(r.allow_at(b, 1, 0));
        assert!(!r.allow_at(a, 1, 0));
        assert!(r.allow_at(c, 1, 0));
        for i in 0..(MAX_BUCKETS as u32 + 10) {
            r.allow_at(IpAddr::V4(std::net::Ipv4Addr::from(i)), 1, 1);
        }
        assert!(r.len() <= MAX_BUCKETS);
    }

    #[test]
    fn the_table_holds_no_address() {
        let r = RateLimiter::new(1.0, 1);
        let a: IpAddr = "203.0.113.9".parse().unwrap();
        r.allow_at(a, 1, 0);
        let keys: Vec<u64> = r.buckets.lock().keys().copied().collect();
        assert_eq!(keys.len(), 1);
        let octets = u32::from_be_bytes([203, 0, 113, 9]);
        assert_ne!(keys[0] as u32, octets);
        assert_ne!((keys[0] >> 32) as u32, octets);
    }
}
