//! A fast seeded hasher for the engine's hash maps (and its users': ids are
//! already keyed hashes, so `SipHash` over them buys nothing).
//!
//! The standard `SipHash` was the largest cost of encoding. This hasher
//! folds each 64-bit word into the state with a 128-bit multiply by a random
//! per-encoder key, so that inputs chosen by an outsider (paths come from web
//! hits) cannot be made to collide without knowing the key.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

/// Multiplies as 128 bits and folds the halves together.
#[inline]
fn fold(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    (p as u64) ^ ((p >> 64) as u64)
}

/// Builds [`FoldHasher`]s sharing one random key.
#[derive(Clone, Debug)]
pub struct FoldState {
    init: u64,
    key: u64,
}

impl FoldState {
    /// A state with a fresh random key.
    pub fn new() -> Self {
        let rs = RandomState::new();
        FoldState {
            init: rs.hash_one(0x243f_6a88_85a3_08d3_u64),
            // Odd and with high bits set, so no word multiplies to zero by it.
            key: rs.hash_one(0x1319_8a2e_0370_7344_u64) | 0x8000_0000_0000_0001,
        }
    }
}

impl Default for FoldState {
    fn default() -> Self {
        FoldState::new()
    }
}

impl BuildHasher for FoldState {
    type Hasher = FoldHasher;

    #[inline]
    fn build_hasher(&self) -> FoldHasher {
        FoldHasher {
            acc: self.init,
            key: self.key,
        }
    }
}

/// The hasher of [`FoldState`].
#[derive(Clone, Debug)]
pub struct FoldHasher {
    acc: u64,
    key: u64,
}

impl FoldHasher {
    #[inline]
    fn word(&mut self, v: u64) {
        self.acc = fold(self.acc ^ v, self.key).rotate_left(23);
    }
}

impl Hasher for FoldHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.word(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            // The length keeps "a" and "a\0" apart.
            self.word(u64::from_le_bytes(w) ^ ((rest.len() as u64) << 59));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.word(u64::from(i) ^ 0x0100);
    }

    #[inline]
    fn write_u16(&mut self, i: u16) {
        self.word(u64::from(i));
    }

    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.word(u64::from(i));
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.word(i);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.word(i as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        fold(self.acc, self.key ^ 0x6a09_e667_f3bc_c909)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_short_strings_hash_apart() {
        let s = FoldState::new();
        let words = [
            "",
            "a",
            "a\0",
            "b",
            "ab",
            "/blog/1",
            "/blog/2",
            "12345678",
            "123456789",
        ];
        let mut hashes: Vec<u64> = words.iter().map(|w| s.hash_one(w)).collect();
        hashes.sort_unstable();
        hashes.dedup();
        assert_eq!(hashes.len(), words.len());
        assert_eq!(s.hash_one("x"), s.hash_one("x"));
    }
}
