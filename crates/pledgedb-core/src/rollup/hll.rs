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

/// Builds a sketch from many ids at a cheap cost per id, and gives exactly
/// the [`Hll`] that inserting the same ids one by one gives: the form,
/// sparse or dense, depends only on the registers set, and registers only
/// grow. A few ids are appended unsorted and sorted once at the end; past
/// [`BUFFER_MAX`] entries (the size of the dense registers) the builder
/// keeps the registers themselves and sets each id's directly.
#[derive(Clone, Debug, Default)]
pub struct HllBuilder {
    /// Unsorted `(register << 8) | rank` entries, or nothing once dense.
    buffer: Vec<u32>,
    /// The registers, once more ids came than the buffer holds.
    dense: Option<Box<[u8; REGISTERS]>>,
}

/// Entries buffered before the builder keeps registers instead: as many
/// bytes as the registers take.
const BUFFER_MAX: usize = REGISTERS / 4;

/// The `(register << 8) | rank` entry of an id: computed once, it can be
/// added to several builders ([`HllBuilder::insert_entry`]).
#[inline]
#[must_use]
pub fn entry_of(id: u64) -> u32 {
    let (idx, rank) = register_of(id);
    ((idx as u32) << 8) | u32::from(rank)
}

impl HllBuilder {
    /// Adds one id.
    #[inline]
    pub fn insert(&mut self, id: u64) {
        self.insert_entry(entry_of(id));
    }

    /// Adds the id whose [`entry_of`] is `e`.
    #[inline]
    pub fn insert_entry(&mut self, e: u32) {
        match &mut self.dense {
            Some(regs) => set_max(&mut regs[..], e),
            None => {
                self.buffer.push(e);
                if self.buffer.len() >= BUFFER_MAX {
                    let mut regs = Box::new([0u8; REGISTERS]);
                    for &e in &self.buffer {
                        set_max(&mut regs[..], e);
                    }
                    self.dense = Some(regs);
                    self.buffer = Vec::new();
                }
            }
        }
    }

    /// The sketch.
    #[must_use]
    pub fn finish(self) -> Hll {
        match self.dense {
            Some(regs) => {
                let set = regs.iter().filter(|r| **r != 0).count();
                if set > SPARSE_MAX {
                    Hll::Dense(regs.to_vec())
                } else {
                    Hll::Sparse(
                        (0u32..)
                            .zip(regs.iter())
                            .filter(|(_, r)| **r != 0)
                            .map(|(i, r)| (i << 8) | u32::from(*r))
                            .collect(),
                    )
                }
            }
            None => {
                let mut entries = self.buffer;
                // Sorted by register then rank: the last entry of a
                // register is its highest rank.
                entries.sort_unstable();
                let mut out: Vec<u32> = Vec::with_capacity(entries.len());
                for e in entries {
                    match out.last_mut() {
                        Some(last) if *last >> 8 == e >> 8 => *last = e,
                        _ => out.push(e),
                    }
                }
                // BUFFER_MAX < SPARSE_MAX: a buffer never needs the dense form.
                Hll::Sparse(out)
            }
        }
    }
}

/// Raises the register of entry `e` to its rank (an entry naming a
/// register past the last, from a damaged file, changes nothing).
#[inline]
fn set_max(regs: &mut [u8], e: u32) {
    if let Some(r) = regs.get_mut((e >> 8) as usize) {
        *r = (*r).max((e & 0xff) as u8);
    }
}

/// `2^-r` for a register value, without a call into `powi`.
#[inline]
fn inverse_power(r: u8) -> f64 {
    // 2^-r is the double with exponent field 1023 - r and no mantissa; a
    // register never exceeds 255, so the exponent stays normal.
    f64::from_bits((1023 - u64::from(r)) << 52)
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
            for &e in entries.iter() {
                set_max(&mut regs, e);
            }
            *self = Hll::Dense(regs);
        }
    }

    /// Merges another sketch into this one (register-wise maximum). Two
    /// sparse sketches merge in one pass over both.
    pub fn merge(&mut self, other: &Hll) {
        match (&mut *self, other) {
            (Hll::Sparse(mine), Hll::Sparse(theirs)) => {
                if theirs.is_empty() {
                    return;
                }
                if mine.is_empty() {
                    mine.clone_from(theirs);
                } else {
                    *mine = merge_sorted(mine, theirs);
                }
                if mine.len() > SPARSE_MAX {
                    self.densify();
                }
            }
            (Hll::Dense(mine), Hll::Sparse(theirs)) => {
                for &e in theirs {
                    set_max(mine, e);
                }
            }
            (_, Hll::Dense(regs)) => {
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
    /// are ignored, a sparse sketch out of order or with repeated registers
    /// counts each register's highest rank, and a short dense sketch counts
    /// its missing registers as zero.
    #[must_use]
    pub fn estimate(&self) -> u64 {
        let (zeros, sum) = match self {
            Hll::Sparse(entries) if strictly_sorted(entries) => {
                // One entry a register set: the rest are zeros (2^-0 each).
                let (set, sum) = entries
                    .iter()
                    .filter(|e| (**e >> 8) < REGISTERS as u32)
                    .fold((0usize, 0f64), |(n, sum), e| {
                        (n + 1, sum + inverse_power((e & 0xff) as u8))
                    });
                (REGISTERS - set, sum + (REGISTERS - set) as f64)
            }
            _ => {
                let mut regs = [0u8; REGISTERS];
                match self {
                    Hll::Sparse(entries) => {
                        for &e in entries {
                            set_max(&mut regs, e);
                        }
                    }
                    Hll::Dense(d) => {
                        for (r, v) in regs.iter_mut().zip(d) {
                            *r = *v;
                        }
                    }
                }
                let zeros = regs.iter().filter(|r| **r == 0).count();
                (zeros, regs.iter().map(|r| inverse_power(*r)).sum())
            }
        };
        if zeros == REGISTERS {
            return 0;
        }
        let m = REGISTERS as f64;
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

/// Whether sparse entries name each register once, in increasing order.
fn strictly_sorted(entries: &[u32]) -> bool {
    entries.windows(2).all(|w| (w[0] >> 8) < (w[1] >> 8))
}

/// The register-wise maximum of two sparse entry lists, each sorted by
/// register. Entries of a damaged sketch out of order still merge into a
/// list that holds every register's highest rank (the estimate reads any
/// order).
fn merge_sorted(a: &[u32], b: &[u32]) -> Vec<u32> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while let (Some(&x), Some(&y)) = (a.get(i), b.get(j)) {
        match (x >> 8).cmp(&(y >> 8)) {
            std::cmp::Ordering::Less => {
                out.push(x);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                out.push(y);
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                out.push(x.max(y));
                i += 1;
                j += 1;
            }
        }
    }
    out.extend_from_slice(a.get(i..).unwrap_or_default());
    out.extend_from_slice(b.get(j..).unwrap_or_default());
    out
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

    /// The estimate as the registers define it, with `powi`: what the fast
    /// paths must equal.
    fn reference_estimate(h: &Hll) -> u64 {
        let mut regs = [0u8; REGISTERS];
        match h {
            Hll::Sparse(entries) => {
                for e in entries {
                    if let Some(r) = regs.get_mut((e >> 8) as usize) {
                        *r = (*r).max((e & 0xff) as u8);
                    }
                }
            }
            Hll::Dense(d) => regs.iter_mut().zip(d).for_each(|(r, v)| *r = *v),
        }
        let m = REGISTERS as f64;
        let zeros = regs.iter().filter(|r| **r == 0).count();
        if zeros == REGISTERS {
            return 0;
        }
        let sum: f64 = regs.iter().map(|r| 2f64.powi(-i32::from(*r))).sum();
        let raw = 0.7213 / (1.0 + 1.079 / m) * m * m / sum;
        let est = if raw <= 2.5 * m && zeros > 0 {
            m * (m / zeros as f64).ln()
        } else {
            raw
        };
        est.round() as u64
    }

    /// Merging two sketches in one pass gives the sketch of inserting every
    /// id of both, on each side of the sparse limit, and the estimate of
    /// every form equals the registers' estimate.
    #[test]
    fn merge_equals_inserting_both_and_estimates_equal_the_reference() {
        for (n, m) in [
            (0u64, 0u64),
            (0, 5),
            (5, 0),
            (3, 900),
            (700, 700),
            (1_300, 200),
            (5_000, 10),
            (20_000, 20_000),
        ] {
            let id = |i: u64| i.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x55;
            let (mut a, mut b, mut both) = (Hll::new(), Hll::new(), Hll::new());
            for i in 0..n {
                a.insert(id(i));
                both.insert(id(i));
            }
            for i in n / 2..n / 2 + m {
                b.insert(id(i));
                both.insert(id(i));
            }
            let mut merged = a.clone();
            merged.merge(&b);
            assert_eq!(merged, both, "{n} + {m}");
            for h in [&a, &b, &merged] {
                assert_eq!(h.estimate(), reference_estimate(h), "{n} + {m}");
            }
        }
        // A damaged sparse sketch: out of order, repeated registers, a
        // register past the last.
        let damaged = Hll::Sparse(vec![
            (7 << 8) | 3,
            (2 << 8) | 1,
            (7 << 8) | 9,
            (5000 << 8) | 2,
        ]);
        assert_eq!(damaged.estimate(), reference_estimate(&damaged));
        let mut grown = Hll::new();
        grown.merge(&damaged);
        grown.merge(&Hll::Sparse(vec![(2 << 8) | 4]));
        assert_eq!(grown.estimate(), reference_estimate(&grown));
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
