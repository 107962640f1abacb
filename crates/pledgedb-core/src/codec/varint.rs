//! Byte-level primitives of the block format: LEB128 varints, zigzag, and a
//! bounds-checked reader that never panics on hostile input.

use super::CodecError;

/// Appends `v` as an unsigned LEB128 varint (7 bits a byte, low bits first,
/// high bit set on every byte but the last).
#[inline]
pub(super) fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// The number of bytes [`put_varint`] writes for `v`.
#[inline]
pub(super) fn varint_len(v: u64) -> usize {
    let bits = 64 - (v | 1).leading_zeros() as usize;
    bits.div_ceil(7)
}

/// Maps signed to unsigned so that small magnitudes stay small:
/// 0, -1, 1, -2, 2 … become 0, 1, 2, 3, 4 ….
#[inline]
pub(super) fn zigzag64(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

/// The inverse of [`zigzag64`].
#[inline]
pub(super) fn unzigzag64(u: u64) -> i64 {
    ((u >> 1) as i64) ^ -((u & 1) as i64)
}

/// 32-bit zigzag, for click coordinates.
#[inline]
pub(super) fn zigzag32(v: i32) -> u32 {
    ((v << 1) ^ (v >> 31)) as u32
}

/// The inverse of [`zigzag32`].
#[inline]
pub(super) fn unzigzag32(u: u32) -> i32 {
    ((u >> 1) as i32) ^ -((u & 1) as i32)
}

/// A cursor over one column (or the header). Every read is bounds-checked and
/// reports the column it was reading when it fails.
pub(super) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    column: &'static str,
}

impl<'a> Reader<'a> {
    pub(super) fn new(buf: &'a [u8], column: &'static str) -> Self {
        Reader {
            buf,
            pos: 0,
            column,
        }
    }

    /// Bytes not read yet.
    #[inline]
    pub(super) fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    #[inline]
    fn truncated(&self) -> CodecError {
        CodecError::Truncated {
            column: self.column,
        }
    }

    #[inline]
    pub(super) fn u8(&mut self) -> Result<u8, CodecError> {
        let b = *self.buf.get(self.pos).ok_or_else(|| self.truncated())?;
        self.pos += 1;
        Ok(b)
    }

    #[inline]
    pub(super) fn bytes(&mut self, n: usize) -> Result<&'a [u8], CodecError> {
        let end = self.pos.checked_add(n).ok_or_else(|| self.truncated())?;
        let s = self
            .buf
            .get(self.pos..end)
            .ok_or_else(|| self.truncated())?;
        self.pos = end;
        Ok(s)
    }

    #[inline]
    pub(super) fn array<const N: usize>(&mut self) -> Result<[u8; N], CodecError> {
        let s = self.bytes(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    #[inline]
    pub(super) fn u64_le(&mut self) -> Result<u64, CodecError> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    #[inline]
    pub(super) fn i64_le(&mut self) -> Result<i64, CodecError> {
        Ok(i64::from_le_bytes(self.array()?))
    }

    /// An unsigned LEB128 varint of at most 10 bytes that fits in 64 bits.
    #[inline]
    pub(super) fn varint(&mut self) -> Result<u64, CodecError> {
        // Most values of a block (deltas, codes, ids) take one byte.
        if let Some(&b) = self.buf.get(self.pos)
            && b < 0x80
        {
            self.pos += 1;
            return Ok(u64::from(b));
        }
        self.varint_long()
    }

    #[inline(never)]
    fn varint_long(&mut self) -> Result<u64, CodecError> {
        let mut result = 0u64;
        let mut shift = 0u32;
        loop {
            let b = self.u8()?;
            if shift == 63 && b > 1 {
                return Err(CodecError::BadVarint {
                    column: self.column,
                });
            }
            result |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(result);
            }
            shift += 7;
        }
    }

    /// A varint that must fit in `u32`.
    #[inline]
    pub(super) fn varint_u32(&mut self) -> Result<u32, CodecError> {
        let v = self.varint()?;
        u32::try_from(v).map_err(|_| CodecError::BadVarint {
            column: self.column,
        })
    }

    /// A varint used as a count or length: it must fit in `usize`.
    #[inline]
    pub(super) fn varint_usize(&mut self) -> Result<usize, CodecError> {
        let v = self.varint()?;
        usize::try_from(v).map_err(|_| CodecError::BadVarint {
            column: self.column,
        })
    }

    /// Fails unless every byte was read.
    pub(super) fn finish(self) -> Result<(), CodecError> {
        if self.remaining() == 0 {
            Ok(())
        } else {
            Err(CodecError::TrailingBytes {
                column: self.column,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varint_round_trip_and_length() {
        for v in [
            0u64,
            1,
            127,
            128,
            16_383,
            16_384,
            u64::from(u32::MAX),
            u64::MAX - 1,
            u64::MAX,
        ] {
            let mut out = Vec::new();
            put_varint(&mut out, v);
            assert_eq!(out.len(), varint_len(v), "length of {v}");
            let mut r = Reader::new(&out, "t");
            assert_eq!(r.varint().ok(), Some(v));
            assert!(r.finish().is_ok());
        }
    }

    #[test]
    fn varint_overflow_and_truncation_are_errors() {
        // 10th byte carrying more than the 64th bit.
        let mut bytes = vec![0xffu8; 9];
        bytes.push(0x02);
        assert!(matches!(
            Reader::new(&bytes, "t").varint(),
            Err(CodecError::BadVarint { column: "t" })
        ));
        // Endless continuation bits stop after ten bytes.
        let bytes = [0x80u8; 32];
        assert!(matches!(
            Reader::new(&bytes, "t").varint(),
            Err(CodecError::BadVarint { .. })
        ));
        assert!(matches!(
            Reader::new(&[0x80, 0x80], "t").varint(),
            Err(CodecError::Truncated { column: "t" })
        ));
    }

    #[test]
    fn zigzag_round_trip() {
        for v in [0i64, -1, 1, -2, 2, i64::MIN, i64::MAX] {
            assert_eq!(unzigzag64(zigzag64(v)), v);
        }
        assert_eq!(zigzag64(-1), 1);
        assert_eq!(zigzag64(1), 2);
        for v in [0i32, -1, 1, i32::MIN, i32::MAX, -640, 1920] {
            assert_eq!(unzigzag32(zigzag32(v)), v);
        }
    }
}
