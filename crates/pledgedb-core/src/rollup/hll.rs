//! HyperLogLog sketches for unique-visitor counts that merge across days,
//! so a 30-day unique count needs no raw ids.
//!
//! Precision 12: 4,096 one-byte registers, a relative standard error of
//! 1.04 / sqrt(4096) = 1.6 %. Small sketches are kept sparse (the register
//! index and rank of each non-zero register), so a page seen by a handful of
//! visitors costs a few bytes. The input is a visitor id, itself a keyed
//! hash; it is mixed once more so that register choice does not depend on
//! how the id was made. Sketches hold no visitor id: a register keeps only
//! the position of the highest leading one-bit seen.

use serde::{Deserialize, Serialize};

/// Bits of the hash used for the register index.
pub const PRECISION: u32 = 12;
const REGISTERS: usize = 1 << PRECISION;
/// Beyond this many non-zero registers the sparse form is larger than the
/// dense one.
const SPARSE_MAX: usize = REGISTERS / 3;

/// The relative standard error of an estimate.
pub const STANDARD_ERROR: f64 = 1.04 / 64.0;

/// A mergeable distinct-count sketch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Hll {
    /// Sorted `(register << 8) | rank` entries of non-zero registers.
    Sparse(Vec<u32>),
    /// All registers.
    Dense(Vec<u8>),
}

impl Default for Hll {
    fn default() -> Self {
        Hll::Sparse(Vec::new())
    }
}

fn mix(mut x: u64) -> u64 {
    // splitmix64 finaliser
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

fn register_of(id: u64) -> (usize, u8) {
    let h = mix(id);
    let idx = (h >> (64 - PRECISION)) as usize;
    let rest = (h << PRECISION) | (1 << (PRECISION - 1));
    (idx, (rest.leading_zeros() + 1) as u8)
}

/// Builds a sketch from many ids at a cheap cost per id: the entries are
/// appended unsorted and sorted once (or when the buffer grows large), and
/// the result is exactly the [`Hll`] that inserting the same ids one by one
/// gives (the form, sparse or dense, depends only on the registers set).
#[derive(Clone, Debug, Default)]
pub struct HllBuilder {
    /// Unsorted `(register << 8) | rank` entries, or nothing once dense.
    buffer: Vec<u32>,
    /// The registers, once more than the sparse form's maximum are set.
    dense: Option<Vec<u8>>,
}

/// Entries buffered before they are sorted and merged in place.
const BUFFER_MAX: usize = 4 * REGISTERS;

impl HllBuilder {
    /// Adds one id.
    #[inline]
    pub fn insert(&mut self, id: u64) {
        let (idx, rank) = register_of(id);
        match &mut self.dense {
            Some(regs) => {
                if let Some(r) = regs.get_mut(idx) {
                    *r = (*r).max(rank);
                }
            }
            None => {
                self.buffer.push(((idx as u32) << 8) | u32::from(rank));
                if self.buffer.len() >= BUFFER_MAX {
                    self.compact();
                }
            }
        }
    }

    /// Sorts the buffer, keeps the highest rank of each register, and turns
    /// dense when more registers are set than the sparse form holds.
    fn compact(&mut self) {
        // Sorted by register then rank: the last entry of a register is its
        // highest rank.
        self.buffer.sort_unstable();
        let mut out: Vec<u32> = Vec::with_capacity(self.buffer.len());
        for &e in &self.buffer {
            match out.last_mut() {
                Some(last) if *last >> 8 == e >> 8 => *last = e,
                _ => out.push(e),
            }
        }
        if out.len() > SPARSE_MAX {
            let mut regs = vec![0u8; REGISTERS];
            for e in &out {
                if let Some(r) = regs.get_mut((e >> 8) as usize) {
                    *r = (*r).max((e & 0xff) as u8);
                }
            }
            self.dense = Some(regs);
            self.buffer = Vec::new();
        } else {
            self.buffer = out;
        }
    }

    /// The sketch.
    #[must_use]
    pub fn finish(mut self) -> Hll {
        if self.dense.is_none() {
            self.compact();
        }
        match self.dense {
            Some(regs) => Hll::Dense(regs),
            None => Hll::Sparse(self.buffer),
        }
    }
}

impl Hll {
    /// An empty sketch.
    #[must_use]
    pub fn new() -> Self {
        Hll::default()
    }

    /// Adds one id.
    pub fn insert(&mut self, id: u64) {
        let (idx, rank) = register_of(id);
        self.set(idx, rank);
    }

    fn set(&mut self, idx: usize, rank: u8) {
        match self {
            Hll::Dense(regs) => {
                if let Some(r) = regs.get_mut(idx)
                    && *r < rank
                {
                    *r = rank;
                }
            }
            Hll::Sparse(entries) => {
                let key = (idx as u32) << 8;
                match entries.binary_search_by(|e| (e & !0xff).cmp(&key)) {
                    Ok(i) => {
                        if (entries[i] & 0xff) < u32::from(rank) {
                            entries[i] = key | u32::from(rank);
                        }
                    }
                    Err(i) => {
                        entries.insert(i, key | u32::from(rank));
                        if entries.len() > SPARSE_MAX {
                            self.densify();
                        }
                    }
                }
            }
        }
    }

    fn densify(&mut self) {
        if let Hll::Sparse(entries) = self {
            let mut regs = vec![0u8; REGISTERS];
            for e in entries.iter() {
                let idx = (e >> 8) as usize;
                if let Some(r) = regs.get_mut(idx) {
                    *r = (*r).max((e & 0xff) as u8);
                }
            }
            *self = Hll::Dense(regs);
        }
    }

    /// Merges another sketch into this one (register-wise maximum).
    pub fn merge(&mut self, other: &Hll) {
        match other {
            Hll::Sparse(entries) => {
                for e in entries {
                    self.set((e >> 8) as usize, (e & 0xff) as u8);
                }
            }
            Hll::Dense(regs) => {
                self.densify();
                if let Hll::Dense(mine) = self {
                    for (m, o) in mine.iter_mut().zip(regs) {
                        *m = (*m).max(*o);
                    }
                }
            }
        }
    }

    /// The estimated number of distinct ids. Total on any sketch, also one
    /// decoded from a damaged file: register numbers past the last register
    /// are ignored, and a short dense sketch counts its missing registers
    /// as zero.
    #[must_use]
    pub fn estimate(&self) -> u64 {
        let mut regs = [0u8; REGISTERS];
        match self {
            Hll::Sparse(entries) => {
                for e in entries {
                    if let Some(r) = regs.get_mut((e >> 8) as usize) {
                        *r = (*r).max((e & 0xff) as u8);
                    }
                }
            }
            Hll::Dense(d) => {
                for (r, v) in regs.iter_mut().zip(d) {
                    *r = *v;
                }
            }
        }
        let m = REGISTERS as f64;
        let zeros = regs.iter().filter(|r| **r == 0).count();
        if zeros == REGISTERS {
            return 0;
        }
        let sum: f64 = regs.iter().map(|r| 2f64.powi(-i32::from(*r))).sum();
        let alpha = 0.7213 / (1.0 + 1.079 / m);
        let raw = alpha * m * m / sum;
        let est = if raw <= 2.5 * m && zeros > 0 {
            // Linear counting is exact-ish for small cardinalities.
            m * (m / zeros as f64).ln()
        } else {
            raw
        };
        est.round() as u64
    }

    /// Whether nothing was inserted.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        match self {
            Hll::Sparse(e) => e.is_empty(),
            Hll::Dense(r) => r.iter().all(|x| *x == 0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The builder gives exactly the sketch of inserting one by one, sparse
    /// or dense, across buffer compactions.
    #[test]
    fn the_builder_equals_inserting_one_by_one() {
        for n in [0u64, 1, 7, 500, 1_365, 1_366, 2_000, 20_000, 70_000] {
            let mut one = Hll::new();
            let mut b = HllBuilder::default();
            for i in 0..n {
                // Repeats as well as new ids.
                let id = (i % (n / 2 + 1)).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ n;
                one.insert(id);
                b.insert(id);
            }
            assert_eq!(b.finish(), one, "{n} ids");
        }
    }

    #[test]
    fn estimates_within_error_and_merges() {
        for n in [1u64, 10, 100, 1_000, 10_000, 100_000] {
            let mut h = Hll::new();
            for i in 0..n {
                h.insert(i.wrapping_mul(0x9e37_79b9_7f4a_7c15));
                h.insert(i.wrapping_mul(0x9e37_79b9_7f4a_7c15));
            }
            let est = h.estimate() as f64;
            let err = (est - n as f64).abs() / n as f64;
            assert!(err <= 4.0 * STANDARD_ERROR, "n={n} est={est}");
        }
        let mut a = Hll::new();
        let mut b = Hll::new();
        let mut both = Hll::new();
        for i in 0..5_000u64 {
            a.insert(i);
            both.insert(i);
        }
        for i in 2_500..9_000u64 {
            b.insert(i);
            both.insert(i);
        }
        let mut merged = a.clone();
        merged.merge(&b);
        assert_eq!(
            merged.estimate(),
            both.estimate(),
            "merge equals inserting all"
        );
        let mut other_way = b.clone();
        other_way.merge(&a);
        assert_eq!(other_way.estimate(), both.estimate());
        assert_eq!(Hll::new().estimate(), 0);
    }

    #[test]
    fn small_sketches_are_small() {
        let mut h = Hll::new();
        for i in 0..20u64 {
            h.insert(i);
        }
        let bytes = postcard::to_allocvec(&h).unwrap_or_default();
        assert!(bytes.len() < 100, "{}", bytes.len());
        assert_eq!(h.estimate(), 20);
    }
}
