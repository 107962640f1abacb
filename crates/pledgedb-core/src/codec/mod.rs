//! The block codec: a column-by-column encoding of up to a few thousand
//! [`Event`]s, stored as one redb value.
//!
//! Ingest costs one B-tree insert per block, and a scan decodes only the
//! columns a query needs: [`BlockView::parse`] reads the header and the column
//! directory, and each accessor decodes one column.
//!
//! # Block format, version 1
//!
//! Everything is little-endian, whatever the machine. Notation:
//!
//! * `u8`: one byte. `i64le`/`u64le`: eight bytes, least significant first.
//! * `varint`: unsigned LEB128 (7 bits a byte, low groups first, high bit set
//!   on every byte but the last), at most 10 bytes, value below 2^64.
//! * `zz(v)`: zigzag, `(v << 1) ^ (v >> 63)` (64-bit) or `(v << 1) ^ (v >> 31)`
//!   (32-bit), so that 0, -1, 1, -2 … are stored as 0, 1, 2, 3 …
//!
//! ## Header
//!
//! | bytes    | field          | meaning                                               |
//! |----------|----------------|-------------------------------------------------------|
//! | `u8`     | version        | `1` ([`BLOCK_FORMAT_VERSION`]); other values are rejected |
//! | `u8`     | flags          | bit 0: compressed (reserved). Every bit must be 0 in version 1 |
//! | `varint` | `n`            | number of events                                      |
//! | `i64le`  | `min_ts`       | smallest timestamp (ms since the epoch); 0 when `n = 0` |
//! | `i64le`  | `max_ts`       | largest timestamp; 0 when `n = 0`; `min_ts <= max_ts` |
//! | `u8`     | `C`            | number of columns: 23 in version 1                    |
//! | `C × varint` | directory  | byte length of each column body, in column order      |
//! | …        | bodies         | the column bodies, concatenated in column order       |
//!
//! The directory lengths must add up to exactly the bytes that follow it.
//! Column `i` starts at the end of the directory plus the lengths of columns
//! `0..i`. Since every event takes at least one byte of the timestamp column,
//! `n` may not exceed that column's length.
//!
//! ## Columns
//!
//! Every column body is either empty, meaning it holds no values, or starts
//! with `varint count`, its number of values, and is read to its last byte
//! (trailing bytes are an error). A *per-event* column holds exactly `n`
//! values, in event order; a *per-kind* column holds one value for each event
//! of the listed types, in event order; a *per-item* column holds one value
//! for each submitted field or custom property.
//!
//! | # | column        | values                      | shape   |
//! |---|---------------|-----------------------------|---------|
//! | 0 | timestamp     | per event                   | [timestamp](#timestamp-column) |
//! | 1 | identity      | per event: visitor, session | [identity](#identity-column) |
//! | 2 | type          | per event: [`EventType`](crate::event::EventType) code | enum, 1 byte |
//! | 3 | country       | per event: 2 ASCII uppercase letters | enum, 2 bytes |
//! | 4 | device        | per event: [`Device`](crate::event::Device) code  | enum, 1 byte |
//! | 5 | browser       | per event                   | text    |
//! | 6 | path          | per event                   | text    |
//! | 7 | referrer      | per `page_view`             | text    |
//! | 8 | utm           | per `page_view`             | text    |
//! | 9 | click_xy      | per `click`: `zz(x), zz(y)` as varints (32-bit zigzag) | raw |
//! | 10 | click_target | per `click`                 | text    |
//! | 11 | scroll_depth | per `scroll`: depth byte    | enum, 1 byte |
//! | 12 | form         | per `form_view`, `field_focus`, `keystroke`, `field_blur`, `form_submit` | text |
//! | 13 | field        | per `field_focus`, `keystroke`, `field_blur` | text |
//! | 14 | key_kind     | per `keystroke`: [`KeyKind`](crate::event::KeyKind) code | enum, 1 byte |
//! | 15 | submit_count | per `form_submit`: `varint` number of fields | raw |
//! | 16 | submit_name  | per submitted field (all submits, in order) | text, varint ids |
//! | 17 | submit_value | per submitted field         | text, varint ids |
//! | 18 | custom_name  | per `custom`                | text    |
//! | 19 | prop_count   | per `custom`: `varint` number of properties | raw |
//! | 20 | prop_key     | per property (all custom events, in order) | text, varint ids |
//! | 21 | prop_value   | per property: tagged value  | raw     |
//! | 22 | prop_text    | per text-valued property    | text, varint ids |
//!
//! Per-item columns (16, 17, 20, 21, 22) spend at least one byte per value,
//! so a reader bounds their counts by their lengths before allocating.
//!
//! ### Timestamp column
//!
//! `varint count`, then `count` varints `zz(ts[i] - ts[i-1])` with
//! `ts[-1] = min_ts`, subtraction wrapping modulo 2^64. Events keep their
//! ingest order, so deltas may be negative. Every decoded timestamp must lie
//! in `min_ts..=max_ts`.
//!
//! ### Identity column
//!
//! Visitor and session ids are random-looking 64-bit hashes, and a session
//! belongs to one visitor, so the column stores distinct (visitor, session)
//! pairs once and one small code per event:
//!
//! ```text
//! varint count                 number of events (= n)
//! varint V                     distinct visitors
//! V × u64le                    visitor ids, in order of first appearance
//! varint P                     distinct (visitor, session) pairs, V <= P <= count
//! P × (u64le session, varint visitor_code)
//!                              pairs, in order of first appearance
//! count × varint pair_code     one per event
//! ```
//!
//! A *code* refers into a dictionary whose entries are introduced in order:
//! with `k` entries introduced so far, code 0 introduces entry `k` (which must
//! exist), and code `c >= 1` refers to entry `k - c` (so `c <= k`). Recently
//! started sessions, the ones still producing events, get small codes, mostly
//! one byte. `visitor_code`s refer into the visitor list, `pair_code`s into
//! the pair list. Every entry of both lists must be introduced exactly once.
//!
//! ### Dictionary columns: text and enum
//!
//! ```text
//! varint count                 number of values
//! varint d                     dictionary entries, 1 <= d <= count
//! d × entry                    in order of first appearance
//! id sequence                  count ids, each < d
//! ```
//!
//! A text entry is `varint len, len bytes of UTF-8`. An enum entry is 1 or 2
//! raw bytes: the one-byte code, or the two country letters in order.
//!
//! An id sequence is a mode byte and its data, the writer picking the
//! smallest (per-item columns always use mode 2):
//!
//! * `0`, packed: `w = ceil(log2(d))` bits per id (0 bits when `d = 1`),
//!   packed least significant bit first into `ceil(count * w / 8)` bytes; id
//!   `i` occupies bits `i*w .. i*w + w` of the byte string read as one
//!   little-endian number. Padding bits are ignored.
//! * `1`, runs: `varint r` (`r <= count`), then `r × (varint id, varint len - 1)`;
//!   the run lengths add up to `count`.
//! * `2`, varints: `count × varint id`.
//!
//! ### Raw columns
//!
//! `varint count` and the values as given in the table above. A `prop_value`
//! is a tag byte: `0` false, `1` true, `2` integer followed by `varint zz(i)`
//! (64-bit), `3` float followed by the `u64le` of its IEEE 754 bits, `4` text,
//! whose value is the next one of the `prop_text` column.
//!
//! ## Example
//!
//! Two page views of one session, at 1000 ms and then 999 ms, country `DE`,
//! device mobile, browser `FF`, paths `/a` then `/b`, no referrer or utm
//! (visitor `0x0102030405060708`, session `0x1112131415161718`):
//!
//! ```text
//! 01 00 02                      version 1, flags 0, n = 2
//! e7 03 00 00 00 00 00 00       min_ts = 999
//! e8 03 00 00 00 00 00 00       max_ts = 1000
//! 17                            23 columns
//! 03 16 04 05 04 06 0a 04 04    lengths of columns 0-8
//! 00 × 14                       columns 9-22 are empty
//! 02 02 01                      timestamp: 2 values, zz(+1), zz(-1)
//! 02 01 08 07 06 05 04 03 02 01 identity: 2 events, 1 visitor (LE id),
//! 01 18 17 16 15 14 13 12 11 00 1 pair: session (LE id), visitor code 0,
//! 00 01                         pair codes: 0 (new pair), 1 (previous pair)
//! 02 01 00 00                   type: 2 values, 1 entry (page_view), packed, 0 bits
//! 02 01 44 45 00                country: 2 values, 1 entry "DE", packed, 0 bits
//! 02 01 02 00                   device: 2 values, 1 entry (mobile), packed
//! 02 01 02 46 46 00             browser: 2 values, 1 entry "FF", packed
//! 02 02 02 2f 61 02 2f 62 00 02 path: 2 entries "/a" "/b", packed 1 bit: ids 0, 1
//! 02 01 00 00                   referrer: 2 values, 1 entry "", packed
//! 02 01 00 00                   utm: the same
//! ```
//!
//! ## Decoding rules
//!
//! A reader rejects, with a [`CodecError`], an unknown version, any set flag,
//! a column count other than 23, a directory that does not add up, truncated
//! or overlong varints, counts that disagree with `n` or with the event types,
//! counts larger than the input can hold, dictionary indexes or codes out of
//! range, invalid UTF-8, unknown type, device or key codes, unknown property
//! tags, countries that are not two uppercase ASCII letters, timestamps
//! outside `min_ts..=max_ts`, and trailing bytes in a column.

mod column;
mod decode;
mod encode;
pub(crate) use crate::hash;
mod probe;
mod varint;

#[cfg(test)]
mod tests;

pub use decode::{BlockView, Identity};
pub use encode::BlockEncoder;

use crate::event::Event;
use crate::text::Text;

/// The block format version written by [`encode_block`] and read by
/// [`BlockView::parse`].
pub const BLOCK_FORMAT_VERSION: u8 = 1;

/// Header flag bit reserved for a compressed block body. Never set in version 1.
pub const FLAG_COMPRESSED: u8 = 0b0000_0001;

/// What is wrong with a block that failed to decode.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    /// The version byte is not one this build reads.
    #[error(
        "unsupported block format version {0} (this build reads version {BLOCK_FORMAT_VERSION})"
    )]
    UnsupportedVersion(u8),
    /// A header flag is set that this version does not allow (including the
    /// reserved compression bit).
    #[error("unsupported block flags {0:#04x}")]
    UnsupportedFlags(u8),
    /// The header announces a different number of columns than the version has.
    #[error("block has {found} columns, format version 1 has {expected}")]
    ColumnCount {
        /// Columns announced.
        found: usize,
        /// Columns of this version.
        expected: usize,
    },
    /// The column lengths do not add up to the bytes after the directory.
    #[error("column directory does not match the block length")]
    DirectoryMismatch,
    /// The header or a column ends in the middle of a value.
    #[error("truncated {column}")]
    Truncated {
        /// The header or column being read.
        column: &'static str,
    },
    /// A varint is longer than ten bytes or does not fit its target type.
    #[error("bad varint in {column}")]
    BadVarint {
        /// The header or column being read.
        column: &'static str,
    },
    /// A column holds a different number of values than the block needs.
    #[error("{column}: {found} values where {expected} were expected")]
    CountMismatch {
        /// The column.
        column: &'static str,
        /// Values the block needs.
        expected: usize,
        /// Values found.
        found: usize,
    },
    /// A count is larger than the input could possibly hold.
    #[error("{column}: {count} values claimed, more than the block can hold")]
    TooManyValues {
        /// The column (or the header).
        column: &'static str,
        /// The count claimed.
        count: usize,
    },
    /// A dictionary size is impossible (zero for values, more entries than
    /// values, or more than the bytes left).
    #[error("{column}: impossible dictionary of {len} entries")]
    BadDictionary {
        /// The column.
        column: &'static str,
        /// The size claimed.
        len: usize,
    },
    /// An id refers past the end of its dictionary.
    #[error("{column}: dictionary index {index} out of range ({len} entries)")]
    DictIndexOutOfRange {
        /// The column.
        column: &'static str,
        /// The id read.
        index: u64,
        /// The dictionary size.
        len: usize,
    },
    /// An identity code refers before the first or past the last entry, or
    /// leaves entries unused.
    #[error("{column}: bad dictionary reference code {code}")]
    BadReference {
        /// The column.
        column: &'static str,
        /// The code read (0 for unused entries).
        code: u64,
    },
    /// A dictionary string is not UTF-8.
    #[error("{column}: invalid UTF-8")]
    InvalidUtf8 {
        /// The column.
        column: &'static str,
    },
    /// An id sequence has an unknown mode byte.
    #[error("{column}: unknown id layout {mode}")]
    UnknownIdMode {
        /// The column.
        column: &'static str,
        /// The mode byte.
        mode: u8,
    },
    /// An event type code outside [`EventType::ALL`](crate::event::EventType::ALL).
    #[error("unknown event type code {0}")]
    UnknownEventType(u8),
    /// A device code outside [`Device::ALL`](crate::event::Device::ALL).
    #[error("unknown device code {0}")]
    UnknownDevice(u8),
    /// A key kind code that [`KeyKind::from_code`](crate::event::KeyKind::from_code) does not know.
    #[error("unknown key kind code {0}")]
    UnknownKeyKind(u8),
    /// A custom property value with an unknown tag.
    #[error("unknown property value tag {0}")]
    UnknownPropTag(u8),
    /// A country that is not two uppercase ASCII letters.
    #[error("invalid country bytes {0:?}")]
    InvalidCountry([u8; 2]),
    /// The header's minimum timestamp is after its maximum.
    #[error("block min timestamp {min} is after its max {max}")]
    BadTimestampRange {
        /// Header minimum.
        min: i64,
        /// Header maximum.
        max: i64,
    },
    /// A decoded timestamp lies outside the header's range.
    #[error("timestamp {ts} outside the block range {min}..={max}")]
    TimestampOutOfRange {
        /// The decoded timestamp.
        ts: i64,
        /// Header minimum.
        min: i64,
        /// Header maximum.
        max: i64,
    },
    /// A column has bytes left after its last value.
    #[error("{column}: trailing bytes")]
    TrailingBytes {
        /// The column.
        column: &'static str,
    },
}

/// Tags of custom property values in the `prop_value` column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
enum PropTag {
    False = 0,
    True = 1,
    Int = 2,
    Float = 3,
    Text = 4,
}

/// Number of columns in format version 1.
const NUM_COLUMNS: usize = 23;

/// The columns of format version 1, in directory order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
enum Col {
    Ts,
    Ident,
    Type,
    Country,
    Device,
    Browser,
    Path,
    Referrer,
    Utm,
    ClickXy,
    Target,
    Depth,
    Form,
    Field,
    Key,
    SubmitCount,
    SubmitName,
    SubmitValue,
    CustomName,
    PropCount,
    PropKey,
    PropValue,
    PropText,
}

impl Col {
    const ALL: [Col; NUM_COLUMNS] = [
        Col::Ts,
        Col::Ident,
        Col::Type,
        Col::Country,
        Col::Device,
        Col::Browser,
        Col::Path,
        Col::Referrer,
        Col::Utm,
        Col::ClickXy,
        Col::Target,
        Col::Depth,
        Col::Form,
        Col::Field,
        Col::Key,
        Col::SubmitCount,
        Col::SubmitName,
        Col::SubmitValue,
        Col::CustomName,
        Col::PropCount,
        Col::PropKey,
        Col::PropValue,
        Col::PropText,
    ];

    /// The column's name, as used in errors and in the format description.
    fn name(self) -> &'static str {
        match self {
            Col::Ts => "timestamp",
            Col::Ident => "identity",
            Col::Type => "type",
            Col::Country => "country",
            Col::Device => "device",
            Col::Browser => "browser",
            Col::Path => "path",
            Col::Referrer => "referrer",
            Col::Utm => "utm",
            Col::ClickXy => "click_xy",
            Col::Target => "click_target",
            Col::Depth => "scroll_depth",
            Col::Form => "form",
            Col::Field => "field",
            Col::Key => "key_kind",
            Col::SubmitCount => "submit_count",
            Col::SubmitName => "submit_name",
            Col::SubmitValue => "submit_value",
            Col::CustomName => "custom_name",
            Col::PropCount => "prop_count",
            Col::PropKey => "prop_key",
            Col::PropValue => "prop_value",
            Col::PropText => "prop_text",
        }
    }
}

/// Appends the encoding of `events` (kept in their order) to `out`.
///
/// For many blocks, a [`BlockEncoder`] reuses its buffers between calls.
pub fn encode_block(events: &[Event], out: &mut Vec<u8>) {
    BlockEncoder::new().encode(events, out);
}

/// Decodes every event of a block: `BlockView::parse(bytes)?.events()`.
///
/// # Errors
///
/// Any [`CodecError`] that the bytes are not a valid block.
pub fn decode_block(bytes: &[u8]) -> Result<Vec<Event>, CodecError> {
    BlockView::parse(bytes)?.events()
}

/// A dictionary-coded text column: the distinct strings of the column and,
/// per value, its index into them. Every id is below `dict.len()`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TextColumn {
    /// The distinct strings, in order of first appearance.
    pub dict: Vec<Text>,
    /// One index into `dict` per value, in block order.
    pub ids: Vec<u32>,
}

impl TextColumn {
    /// The text of value `i`.
    ///
    /// # Panics
    ///
    /// If `i >= self.len()` (decoded columns never hold an id out of range).
    #[must_use]
    pub fn get(&self, i: usize) -> &Text {
        &self.dict[self.ids[i] as usize]
    }

    /// Number of values.
    #[must_use]
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether the column holds no values.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The values in order.
    pub fn iter(&self) -> impl Iterator<Item = &Text> + '_ {
        self.ids.iter().filter_map(|&id| self.dict.get(id as usize))
    }
}
