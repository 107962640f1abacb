//! The dictionary-coded column shapes shared by several columns: the id
//! sequence (packed bits, runs, or varints), text columns and fixed-width
//! enum columns, each with its encoder and its hostile-input-safe decoder.

use super::hash::FoldState;
use super::varint::{Reader, put_varint, varint_len};
use super::{CodecError, TextColumn};
use crate::text::Text;
use std::collections::HashMap;

/// Id sequence layout: `ceil(count * width / 8)` bytes of bit-packed ids.
pub(super) const MODE_PACKED: u8 = 0;
/// Id sequence layout: `(id, run length - 1)` varint pairs.
pub(super) const MODE_RUNS: u8 = 1;
/// Id sequence layout: one varint per id.
pub(super) const MODE_VARINT: u8 = 2;

/// How many values a column may claim, checked before anything is allocated.
#[derive(Clone, Copy, Debug)]
pub(super) enum Count {
    /// Exactly this many (a per-event column).
    Exactly(usize),
    /// At most this many (a per-kind or per-item column).
    AtMost(usize),
}

/// Reads the value count that starts every non-empty column. An empty column
/// body means zero values.
pub(super) fn read_count(
    r: &mut Reader<'_>,
    column: &'static str,
    expect: Count,
) -> Result<usize, CodecError> {
    let count = if r.remaining() == 0 {
        0
    } else {
        r.varint_usize()?
    };
    match expect {
        Count::Exactly(n) if count != n => Err(CodecError::CountMismatch {
            column,
            expected: n,
            found: count,
        }),
        Count::AtMost(max) if count > max => Err(CodecError::TooManyValues { column, count }),
        _ => Ok(count),
    }
}

/// Bits per id for a dictionary of `d` entries: 0 for one entry.
#[inline]
pub(super) fn bit_width(d: usize) -> u32 {
    if d <= 1 {
        0
    } else {
        usize::BITS - (d - 1).leading_zeros()
    }
}

/// Appends an id sequence (mode byte and data) for `ids` into a dictionary of
/// `d` entries, in the smallest layout. With `varint_only`, every id takes at
/// least one byte, which bounds the value count by the column length.
pub(super) fn put_ids(out: &mut Vec<u8>, ids: &[u32], d: usize, varint_only: bool) {
    let bits = bit_width(d);
    let mode = if varint_only {
        MODE_VARINT
    } else {
        let packed_size = (ids.len() * bits as usize).div_ceil(8);
        let mut mode = MODE_PACKED;
        let mut best = packed_size;
        // Runs cost at least two bytes each plus the run count: only size
        // them exactly when that could beat packing.
        let runs = 1 + ids.windows(2).filter(|w| w[0] != w[1]).count();
        if runs * 2 + 1 < best {
            let mut runs_size = varint_len(runs as u64);
            for_each_run(ids, |id, len| {
                runs_size += varint_len(u64::from(id)) + varint_len(len as u64 - 1);
            });
            if runs_size < best {
                mode = MODE_RUNS;
                best = runs_size;
            }
        }
        // Varints take at least a byte each, so they only win over wide ids.
        if bits > 8 && ids.len() < best {
            let varint_size: usize = ids.iter().map(|&id| varint_len(u64::from(id))).sum();
            if varint_size < best {
                mode = MODE_VARINT;
            }
        }
        mode
    };
    out.push(mode);
    match mode {
        MODE_PACKED => put_packed(out, ids, bits),
        MODE_RUNS => {
            let mut runs = 0u64;
            for_each_run(ids, |_, _| runs += 1);
            put_varint(out, runs);
            for_each_run(ids, |id, len| {
                put_varint(out, u64::from(id));
                put_varint(out, len as u64 - 1);
            });
        }
        _ => {
            for &id in ids {
                put_varint(out, u64::from(id));
            }
        }
    }
}

fn for_each_run(ids: &[u32], mut f: impl FnMut(u32, usize)) {
    let mut it = ids.iter();
    let Some(&first) = it.next() else { return };
    let (mut cur, mut len) = (first, 1usize);
    for &id in it {
        if id == cur {
            len += 1;
        } else {
            f(cur, len);
            cur = id;
            len = 1;
        }
    }
    f(cur, len);
}

/// Bit-packs `ids` at `bits` bits each, least significant bit first.
fn put_packed(out: &mut Vec<u8>, ids: &[u32], bits: u32) {
    if bits == 0 {
        return;
    }
    let mut acc = 0u64;
    let mut n = 0u32;
    for &id in ids {
        acc |= u64::from(id) << n;
        n += bits;
        while n >= 8 {
            out.push(acc as u8);
            acc >>= 8;
            n -= 8;
        }
    }
    if n > 0 {
        out.push(acc as u8);
    }
}

/// Reads an id sequence of `count` ids into a dictionary of `d` entries,
/// appending them to `out` in order. An id at or past `d` fails the read
/// (what was appended by then is for the caller to drop).
pub(super) fn read_ids(
    r: &mut Reader<'_>,
    column: &'static str,
    count: usize,
    d: usize,
    out: &mut Vec<u32>,
) -> Result<(), CodecError> {
    let out_of_range = |index: u64| CodecError::DictIndexOutOfRange {
        column,
        index,
        len: d,
    };
    match r.u8()? {
        MODE_PACKED => {
            let bits = bit_width(d);
            let needed = count
                .checked_mul(bits as usize)
                .map(|b| b.div_ceil(8))
                .ok_or(CodecError::TooManyValues { column, count })?;
            let bytes = r.bytes(needed)?;
            if bits == 0 {
                if count > 0 && d == 0 {
                    return Err(out_of_range(0));
                }
                out.resize(out.len() + count, 0);
                return Ok(());
            }
            if bits > 32 {
                return Err(CodecError::TooManyValues { column, count: d });
            }
            let mask = (1u64 << bits) - 1;
            let bits = bits as usize;
            // Id `i` starts at bit `i * bits`: it is read from the eight
            // bytes at its first byte (bits <= 32, so it never spans more),
            // out of a copy padded with eight zero bytes. The ids are
            // checked against the dictionary once, by their maximum.
            let mut padded = Vec::with_capacity(bytes.len() + 8);
            padded.extend_from_slice(bytes);
            padded.extend_from_slice(&[0; 8]);
            let start = out.len();
            out.extend((0..count).map(|i| {
                let bit = i * bits;
                let at = bit / 8;
                let word = padded
                    .get(at..at + 8)
                    .and_then(|w| <[u8; 8]>::try_from(w).ok())
                    .map_or(0, u64::from_le_bytes);
                ((word >> (bit % 8)) & mask) as u32
            }));
            let max = out[start..].iter().copied().max().unwrap_or(0);
            if u64::from(max) >= d as u64 {
                return Err(out_of_range(u64::from(max)));
            }
        }
        MODE_RUNS => {
            let runs = r.varint_usize()?;
            if runs > count {
                return Err(CodecError::CountMismatch {
                    column,
                    expected: count,
                    found: runs,
                });
            }
            let mut total = 0usize;
            for _ in 0..runs {
                let id = r.varint()?;
                if id >= d as u64 {
                    return Err(out_of_range(id));
                }
                let len = r.varint_usize()?.saturating_add(1);
                total = total.saturating_add(len);
                if total > count {
                    return Err(CodecError::CountMismatch {
                        column,
                        expected: count,
                        found: total,
                    });
                }
                out.resize(out.len() + len, id as u32);
            }
            if total != count {
                return Err(CodecError::CountMismatch {
                    column,
                    expected: count,
                    found: total,
                });
            }
        }
        MODE_VARINT => {
            out.reserve(count);
            for _ in 0..count {
                let id = r.varint()?;
                if id >= d as u64 {
                    return Err(out_of_range(id));
                }
                out.push(id as u32);
            }
        }
        mode => return Err(CodecError::UnknownIdMode { column, mode }),
    }
    Ok(())
}

/// Builds one text column: a dictionary of distinct strings in order of first
/// appearance and one id per value.
#[derive(Debug, Default)]
pub(super) struct TextBuilder {
    map: HashMap<Text, u32, FoldState>,
    /// The distinct strings, in id order.
    entries: Vec<Text>,
    /// The dictionary as it will be written: `varint len, bytes` per entry.
    dict: Vec<u8>,
    ids: Vec<u32>,
    /// The id of the previous value.
    last: u32,
}

impl TextBuilder {
    #[inline]
    pub(super) fn push(&mut self, t: &Text) {
        // Consecutive repeats are common (same browser, same form): skip the
        // hash lookup for them. Equal `Arc`s compare by pointer first.
        if self.entries.get(self.last as usize) == Some(t) {
            self.ids.push(self.last);
            return;
        }
        let id = match self.map.get(t) {
            Some(&id) => id,
            None => {
                let id = self.entries.len() as u32;
                self.map.insert(t.clone(), id);
                self.entries.push(t.clone());
                put_varint(&mut self.dict, t.as_str().len() as u64);
                self.dict.extend_from_slice(t.as_str().as_bytes());
                id
            }
        };
        self.ids.push(id);
        self.last = id;
    }

    /// Appends the column body (nothing at all when empty) and resets.
    pub(super) fn finish(&mut self, out: &mut Vec<u8>, varint_only: bool) {
        if !self.ids.is_empty() {
            put_varint(out, self.ids.len() as u64);
            put_varint(out, self.entries.len() as u64);
            out.extend_from_slice(&self.dict);
            put_ids(out, &self.ids, self.entries.len(), varint_only);
        }
        self.map.clear();
        self.entries.clear();
        self.dict.clear();
        self.ids.clear();
        self.last = 0;
    }
}

/// Decodes a text column body.
pub(super) fn read_text(
    bytes: &[u8],
    column: &'static str,
    expect: Count,
) -> Result<TextColumn, CodecError> {
    let mut r = Reader::new(bytes, column);
    let count = read_count(&mut r, column, expect)?;
    if count == 0 {
        r.finish()?;
        return Ok(TextColumn::default());
    }
    let d = r.varint_usize()?;
    // Every entry takes at least its length byte; a dictionary larger than
    // the values it serves is never written.
    if d > count || d > r.remaining() || d == 0 {
        return Err(CodecError::BadDictionary { column, len: d });
    }
    let mut dict = Vec::with_capacity(d);
    for _ in 0..d {
        let len = r.varint_usize()?;
        let s =
            std::str::from_utf8(r.bytes(len)?).map_err(|_| CodecError::InvalidUtf8 { column })?;
        dict.push(Text::from_stored(s));
    }
    let mut ids = Vec::with_capacity(count);
    read_ids(&mut r, column, count, d, &mut ids)?;
    r.finish()?;
    Ok(TextColumn { dict, ids })
}

/// Builds one enum column: a dictionary of distinct fixed-width values (1 or 2
/// bytes, kept as a little-endian `u16`) and one id per value.
#[derive(Debug)]
pub(super) struct EnumBuilder {
    width: usize,
    /// `id + 1` of each value seen, 0 for unseen: a direct-mapped dictionary,
    /// grown to the largest value seen and kept zeroed between blocks.
    table: Vec<u32>,
    dict: Vec<u16>,
    ids: Vec<u32>,
}

impl EnumBuilder {
    pub(super) fn new(width: usize) -> Self {
        EnumBuilder {
            width,
            table: Vec::new(),
            dict: Vec::new(),
            ids: Vec::new(),
        }
    }

    #[inline]
    pub(super) fn push(&mut self, v: u16) {
        let i = usize::from(v);
        if i >= self.table.len() {
            // 256 slots for one-byte codes; countries (two ASCII letters,
            // at most 0x5a5a) need 32768.
            self.table.resize((i + 1).next_power_of_two().max(256), 0);
        }
        let slot = &mut self.table[i];
        if *slot == 0 {
            self.dict.push(v);
            *slot = self.dict.len() as u32;
        }
        self.ids.push(*slot - 1);
    }

    /// Appends the column body (nothing at all when empty) and resets.
    pub(super) fn finish(&mut self, out: &mut Vec<u8>) {
        if !self.ids.is_empty() {
            put_varint(out, self.ids.len() as u64);
            put_varint(out, self.dict.len() as u64);
            for &v in &self.dict {
                out.extend_from_slice(&v.to_le_bytes()[..self.width]);
            }
            put_ids(out, &self.ids, self.dict.len(), false);
        }
        for &v in &self.dict {
            if let Some(slot) = self.table.get_mut(usize::from(v)) {
                *slot = 0;
            }
        }
        self.dict.clear();
        self.ids.clear();
    }
}

/// Decodes an enum column body of `width`-byte values, mapping each
/// dictionary entry once through `map`.
pub(super) fn read_enum<T: Copy>(
    bytes: &[u8],
    column: &'static str,
    width: usize,
    expect: Count,
    mut map: impl FnMut(&[u8]) -> Result<T, CodecError>,
) -> Result<Vec<T>, CodecError> {
    let mut r = Reader::new(bytes, column);
    let count = read_count(&mut r, column, expect)?;
    if count == 0 {
        r.finish()?;
        return Ok(Vec::new());
    }
    let d = r.varint_usize()?;
    let dict_bytes = d
        .checked_mul(width)
        .filter(|&b| d != 0 && d <= count && b <= r.remaining())
        .ok_or(CodecError::BadDictionary { column, len: d })?;
    let dict = r
        .bytes(dict_bytes)?
        .chunks_exact(width)
        .map(&mut map)
        .collect::<Result<Vec<T>, CodecError>>()?;
    let mut ids = Vec::with_capacity(count);
    read_ids(&mut r, column, count, d, &mut ids)?;
    r.finish()?;
    // Every id is below `d`, the dictionary's length (read_ids checked),
    // so the fallback to the first entry is never taken.
    let Some(&first) = dict.first() else {
        return Err(CodecError::BadDictionary { column, len: d });
    };
    Ok(ids
        .iter()
        .map(|&id| *dict.get(id as usize).unwrap_or(&first))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip_ids(ids: &[u32], d: usize, varint_only: bool) -> (u8, usize) {
        let mut out = Vec::new();
        put_ids(&mut out, ids, d, varint_only);
        let mut r = Reader::new(&out, "t");
        let mut back = Vec::new();
        read_ids(&mut r, "t", ids.len(), d, &mut back).unwrap();
        r.finish().unwrap();
        assert_eq!(back, ids);
        (out[0], out.len())
    }

    #[test]
    fn id_sequences_pick_the_smallest_layout() {
        // One distinct value: zero bits per id.
        assert_eq!(round_trip_ids(&[0; 4096], 1, false), (MODE_PACKED, 1));
        // Long runs of several values.
        let mut runs = vec![0u32; 2000];
        runs.extend([1u32; 2000]);
        runs.extend([2u32; 96]);
        let (mode, len) = round_trip_ids(&runs, 3, false);
        assert_eq!(mode, MODE_RUNS);
        assert!(len < 20, "{len}");
        // Mixed values of a 10-entry dictionary: 4 bits each.
        let mixed: Vec<u32> = (0..4096u32).map(|i| (i * 7) % 10).collect();
        assert_eq!(round_trip_ids(&mixed, 10, false), (MODE_PACKED, 1 + 2048));
        // Forced varints.
        assert_eq!(round_trip_ids(&mixed, 10, true), (MODE_VARINT, 1 + 4096));
        // Wide ids.
        let wide: Vec<u32> = (0..1000u32).map(|i| i * 4_000_000).collect();
        round_trip_ids(&wide, 4_000_000_000, false);
        round_trip_ids(&[], 0, false);
    }

    #[test]
    fn packed_ids_beyond_the_dictionary_are_rejected() {
        // d = 3 needs 2 bits; the value 3 is out of range.
        let bytes = [MODE_PACKED, 0b0000_0011];
        let mut r = Reader::new(&bytes, "t");
        assert!(matches!(
            read_ids(&mut r, "t", 1, 3, &mut Vec::new()),
            Err(CodecError::DictIndexOutOfRange {
                column: "t",
                index: 3,
                len: 3
            })
        ));
    }

    #[test]
    fn runs_longer_than_the_count_are_rejected() {
        let mut bytes = vec![MODE_RUNS, 1, 0];
        put_varint(&mut bytes, u64::MAX);
        let mut r = Reader::new(&bytes, "t");
        assert!(matches!(
            read_ids(&mut r, "t", 5, 1, &mut Vec::new()),
            Err(CodecError::BadVarint { .. } | CodecError::CountMismatch { .. })
        ));
    }
}
