//! Block summaries read straight from the columns: whether a block can hold
//! an event with a given value, without decoding its ids.
//!
//! A dictionary column starts with its distinct values, so "does `/pricing`
//! occur in this block" is answered by reading the dictionary of the path
//! column and stopping there; "does this visitor occur" by the visitor list
//! at the start of the identity column. A probe answers `false` only when
//! no event of the block can have the value; the scan that uses it to skip
//! blocks never skips a block that matches.

use super::column::{Count, read_count};
use super::varint::Reader;
use super::{BlockView, CodecError, Col};
use crate::event::{Country, Device, EventType};

impl BlockView<'_> {
    /// Whether the text column `c` holds `value` in its dictionary.
    fn text_dict_has(&self, c: Col, value: &str) -> Result<bool, CodecError> {
        let bytes = self.col(c);
        let column = c.name();
        let mut r = Reader::new(bytes, column);
        let count = read_count(&mut r, column, Count::AtMost(bytes.len().max(self.len)))?;
        if count == 0 {
            return Ok(false);
        }
        let d = r.varint_usize()?;
        if d > count || d > r.remaining() || d == 0 {
            return Err(CodecError::BadDictionary { column, len: d });
        }
        let want = value.as_bytes();
        for _ in 0..d {
            let len = r.varint_usize()?;
            if r.bytes(len)? == want {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Whether the enum column `c` (entries of `width` bytes) holds `entry`.
    fn enum_dict_has(&self, c: Col, width: usize, entry: &[u8]) -> Result<bool, CodecError> {
        let bytes = self.col(c);
        let column = c.name();
        let mut r = Reader::new(bytes, column);
        let count = read_count(&mut r, column, Count::Exactly(self.len))?;
        if count == 0 {
            return Ok(false);
        }
        let d = r.varint_usize()?;
        let dict_bytes = d
            .checked_mul(width)
            .filter(|&b| d != 0 && d <= count && b <= r.remaining())
            .ok_or(CodecError::BadDictionary { column, len: d })?;
        Ok(r.bytes(dict_bytes)?.chunks_exact(width).any(|e| e == entry))
    }

    /// Whether an event of the block may be on page `path`.
    ///
    /// # Errors
    ///
    /// A [`CodecError`] if the column is malformed.
    pub fn may_have_path(&self, path: &str) -> Result<bool, CodecError> {
        self.text_dict_has(Col::Path, path)
    }

    /// Whether an event of the block may have browser family `browser`.
    ///
    /// # Errors
    ///
    /// A [`CodecError`] if the column is malformed.
    pub fn may_have_browser(&self, browser: &str) -> Result<bool, CodecError> {
        self.text_dict_has(Col::Browser, browser)
    }

    /// Whether a page view of the block may have referrer host `referrer`
    /// (empty for none).
    ///
    /// # Errors
    ///
    /// A [`CodecError`] if the column is malformed.
    pub fn may_have_referrer(&self, referrer: &str) -> Result<bool, CodecError> {
        self.text_dict_has(Col::Referrer, referrer)
    }

    /// Whether an event of the block may be from `country`.
    ///
    /// # Errors
    ///
    /// A [`CodecError`] if the column is malformed.
    pub fn may_have_country(&self, country: Country) -> Result<bool, CodecError> {
        self.enum_dict_has(Col::Country, 2, &country.to_bytes())
    }

    /// Whether an event of the block may be from `device`.
    ///
    /// # Errors
    ///
    /// A [`CodecError`] if the column is malformed.
    pub fn may_have_device(&self, device: Device) -> Result<bool, CodecError> {
        self.enum_dict_has(Col::Device, 1, &[device.code()])
    }

    /// Whether an event of the block may be of type `ty`.
    ///
    /// # Errors
    ///
    /// A [`CodecError`] if the column is malformed.
    pub fn may_have_type(&self, ty: EventType) -> Result<bool, CodecError> {
        self.enum_dict_has(Col::Type, 1, &[ty.code()])
    }

    /// Whether an event of the block may be of `visitor` (read from the
    /// visitor list at the start of the identity column).
    ///
    /// # Errors
    ///
    /// A [`CodecError`] if the column is malformed.
    pub fn may_have_visitor(&self, visitor: u64) -> Result<bool, CodecError> {
        let column = Col::Ident.name();
        let mut r = Reader::new(self.col(Col::Ident), column);
        let count = read_count(&mut r, column, Count::Exactly(self.len))?;
        if count == 0 {
            return Ok(false);
        }
        let visitors = r.varint_usize()?;
        if visitors.checked_mul(8).is_none_or(|b| b > r.remaining()) {
            return Err(CodecError::BadDictionary {
                column,
                len: visitors,
            });
        }
        for _ in 0..visitors {
            if r.u64_le()? == visitor {
                return Ok(true);
            }
        }
        Ok(false)
    }
}
