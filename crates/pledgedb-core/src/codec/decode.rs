//! The block decoder: [`BlockView`] parses the header and the directory, and
//! its accessors decode one column each.

use super::column::{Count, read_count, read_enum, read_text};
use super::varint::{Reader, unzigzag32, unzigzag64};
use super::{BLOCK_FORMAT_VERSION, CodecError, Col, NUM_COLUMNS, PropTag, TextColumn};
use crate::event::{
    Country, Device, Event, EventKind, EventType, KeyKind, PropValue, SessionId, SubmittedField,
    VisitorId,
};
use crate::text::Text;
use crate::time::Timestamp;

/// The decoded identity column: the distinct (visitor, session) pairs of a
/// block and the pair of each event.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Identity {
    /// Visitor of each (visitor, session) pair.
    pub pair_visitor: Vec<u64>,
    /// Session of each pair.
    pub pair_session: Vec<u64>,
    /// Pair index of each event (each below the number of pairs).
    pub event_pair: Vec<u32>,
}

/// A parsed block: the header and the column directory, with each column
/// decoded on demand by its accessor.
#[derive(Clone, Copy)]
pub struct BlockView<'a> {
    pub(super) len: usize,
    min_ts: i64,
    max_ts: i64,
    pub(super) cols: [&'a [u8]; NUM_COLUMNS],
}

impl std::fmt::Debug for BlockView<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("BlockView");
        d.field("len", &self.len)
            .field("min_ts", &self.min_ts)
            .field("max_ts", &self.max_ts);
        for c in Col::ALL {
            d.field(c.name(), &self.col(c).len());
        }
        d.finish()
    }
}

impl<'a> BlockView<'a> {
    /// Reads the header and the column directory, without decoding columns.
    ///
    /// # Errors
    ///
    /// [`CodecError::UnsupportedVersion`], [`CodecError::UnsupportedFlags`],
    /// [`CodecError::ColumnCount`], [`CodecError::DirectoryMismatch`],
    /// [`CodecError::BadTimestampRange`], a truncated header or bad varint, or
    /// an event count larger than the timestamp column can hold.
    pub fn parse(bytes: &'a [u8]) -> Result<BlockView<'a>, CodecError> {
        let mut r = Reader::new(bytes, "header");
        let version = r.u8()?;
        if version != BLOCK_FORMAT_VERSION {
            return Err(CodecError::UnsupportedVersion(version));
        }
        let flags = r.u8()?;
        if flags != 0 {
            return Err(CodecError::UnsupportedFlags(flags));
        }
        let len = r.varint_usize()?;
        let min_ts = r.i64_le()?;
        let max_ts = r.i64_le()?;
        if min_ts > max_ts {
            return Err(CodecError::BadTimestampRange {
                min: min_ts,
                max: max_ts,
            });
        }
        let columns = usize::from(r.u8()?);
        if columns != NUM_COLUMNS {
            return Err(CodecError::ColumnCount {
                found: columns,
                expected: NUM_COLUMNS,
            });
        }
        let mut lens = [0usize; NUM_COLUMNS];
        for l in &mut lens {
            *l = r.varint_usize()?;
        }
        let total = lens
            .iter()
            .try_fold(0usize, |acc, &l| acc.checked_add(l))
            .ok_or(CodecError::DirectoryMismatch)?;
        if total != r.remaining() {
            return Err(CodecError::DirectoryMismatch);
        }
        let mut cols: [&'a [u8]; NUM_COLUMNS] = [&[]; NUM_COLUMNS];
        for (c, &l) in cols.iter_mut().zip(&lens) {
            *c = r.bytes(l)?;
        }
        if len > cols[Col::Ts as usize].len() {
            return Err(CodecError::TooManyValues {
                column: "header",
                count: len,
            });
        }
        Ok(BlockView {
            len,
            min_ts,
            max_ts,
            cols,
        })
    }

    /// Number of events in the block.
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the block holds no events.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The smallest timestamp in the block, in ms since the epoch (0 for an
    /// empty block). Read from the header: no column is decoded.
    #[must_use]
    pub fn min_ts(&self) -> i64 {
        self.min_ts
    }

    /// The largest timestamp in the block, in ms since the epoch (0 for an
    /// empty block). Read from the header: no column is decoded.
    #[must_use]
    pub fn max_ts(&self) -> i64 {
        self.max_ts
    }

    pub(super) fn col(&self, c: Col) -> &'a [u8] {
        self.cols[c as usize]
    }

    /// The timestamps (ms since the epoch), in event order.
    ///
    /// # Errors
    ///
    /// A [`CodecError`] if the timestamp column is malformed.
    pub fn timestamps(&self) -> Result<Vec<i64>, CodecError> {
        let column = Col::Ts.name();
        let mut r = Reader::new(self.col(Col::Ts), column);
        let count = read_count(&mut r, column, Count::Exactly(self.len))?;
        let mut out = Vec::with_capacity(count);
        let mut prev = self.min_ts;
        for _ in 0..count {
            let ts = prev.wrapping_add(unzigzag64(r.varint()?));
            if ts < self.min_ts || ts > self.max_ts {
                return Err(CodecError::TimestampOutOfRange {
                    ts,
                    min: self.min_ts,
                    max: self.max_ts,
                });
            }
            out.push(ts);
            prev = ts;
        }
        r.finish()?;
        Ok(out)
    }

    /// The identity column: distinct (visitor, session) pairs and one pair
    /// index per event. Cheaper than [`visitors`](Self::visitors) and
    /// [`sessions`](Self::sessions) together, and lets a reader decide once
    /// per pair what it would decide per event.
    ///
    /// # Errors
    ///
    /// A [`CodecError`] if the identity column is malformed.
    pub fn identity(&self) -> Result<Identity, CodecError> {
        let column = Col::Ident.name();
        let mut r = Reader::new(self.col(Col::Ident), column);
        let count = read_count(&mut r, column, Count::Exactly(self.len))?;
        let mut ident = Identity {
            pair_visitor: Vec::new(),
            pair_session: Vec::new(),
            event_pair: Vec::with_capacity(count),
        };
        if count == 0 {
            r.finish()?;
            return Ok(ident);
        }
        let visitors = r.varint_usize()?;
        if visitors.checked_mul(8).is_none_or(|b| b > r.remaining()) {
            return Err(CodecError::BadDictionary {
                column,
                len: visitors,
            });
        }
        let mut visitor_ids = Vec::with_capacity(visitors);
        for _ in 0..visitors {
            visitor_ids.push(r.u64_le()?);
        }
        let pairs = r.varint_usize()?;
        if pairs > count
            || pairs < visitors
            || pairs.checked_mul(9).is_none_or(|b| b > r.remaining())
        {
            return Err(CodecError::BadDictionary { column, len: pairs });
        }
        ident.pair_visitor.reserve_exact(pairs);
        ident.pair_session.reserve_exact(pairs);
        let mut next_visitor = 0usize;
        for _ in 0..pairs {
            let session = r.u64_le()?;
            let v = resolve(r.varint()?, &mut next_visitor, visitors, column)?;
            let visitor = *visitor_ids
                .get(v)
                .ok_or(CodecError::BadReference { column, code: 0 })?;
            ident.pair_visitor.push(visitor);
            ident.pair_session.push(session);
        }
        let mut next_pair = 0usize;
        for _ in 0..count {
            let p = resolve(r.varint()?, &mut next_pair, pairs, column)?;
            ident.event_pair.push(p as u32);
        }
        if next_visitor != visitors || next_pair != pairs {
            return Err(CodecError::BadReference { column, code: 0 });
        }
        r.finish()?;
        Ok(ident)
    }

    /// The visitor ids, in event order.
    ///
    /// # Errors
    ///
    /// A [`CodecError`] if the identity column is malformed.
    pub fn visitors(&self) -> Result<Vec<u64>, CodecError> {
        let ident = self.identity()?;
        Ok(ident
            .event_pair
            .iter()
            .map(|&p| ident.pair_visitor.get(p as usize).copied().unwrap_or(0))
            .collect())
    }

    /// The session ids, in event order.
    ///
    /// # Errors
    ///
    /// A [`CodecError`] if the identity column is malformed.
    pub fn sessions(&self) -> Result<Vec<u64>, CodecError> {
        let ident = self.identity()?;
        Ok(ident
            .event_pair
            .iter()
            .map(|&p| ident.pair_session.get(p as usize).copied().unwrap_or(0))
            .collect())
    }

    /// The countries, in event order.
    ///
    /// # Errors
    ///
    /// A [`CodecError`] if the country column is malformed.
    pub fn countries(&self) -> Result<Vec<Country>, CodecError> {
        read_enum(
            self.col(Col::Country),
            Col::Country.name(),
            2,
            Count::Exactly(self.len),
            |b| match *b {
                [x, y] if x.is_ascii_uppercase() && y.is_ascii_uppercase() => {
                    Ok(Country::from_bytes([x, y]))
                }
                [x, y] => Err(CodecError::InvalidCountry([x, y])),
                _ => Err(CodecError::Truncated {
                    column: Col::Country.name(),
                }),
            },
        )
    }

    /// The device classes, in event order.
    ///
    /// # Errors
    ///
    /// A [`CodecError`] if the device column is malformed.
    pub fn devices(&self) -> Result<Vec<Device>, CodecError> {
        read_enum(
            self.col(Col::Device),
            Col::Device.name(),
            1,
            Count::Exactly(self.len),
            |b| {
                let c = first(b);
                Device::from_code(c).ok_or(CodecError::UnknownDevice(c))
            },
        )
    }

    /// The event types, in event order.
    ///
    /// # Errors
    ///
    /// A [`CodecError`] if the type column is malformed.
    pub fn types(&self) -> Result<Vec<EventType>, CodecError> {
        read_enum(
            self.col(Col::Type),
            Col::Type.name(),
            1,
            Count::Exactly(self.len),
            |b| {
                let c = first(b);
                EventType::from_code(c).ok_or(CodecError::UnknownEventType(c))
            },
        )
    }

    /// The browser families, in event order.
    ///
    /// # Errors
    ///
    /// A [`CodecError`] if the browser column is malformed.
    pub fn browsers(&self) -> Result<TextColumn, CodecError> {
        read_text(
            self.col(Col::Browser),
            Col::Browser.name(),
            Count::Exactly(self.len),
        )
    }

    /// The paths, in event order.
    ///
    /// # Errors
    ///
    /// A [`CodecError`] if the path column is malformed.
    pub fn paths(&self) -> Result<TextColumn, CodecError> {
        read_text(
            self.col(Col::Path),
            Col::Path.name(),
            Count::Exactly(self.len),
        )
    }

    /// The referrers of the page views: one value per
    /// [`EventType::PageView`] event, in event order (not one per event).
    ///
    /// # Errors
    ///
    /// A [`CodecError`] if the referrer column is malformed.
    pub fn referrers(&self) -> Result<TextColumn, CodecError> {
        read_text(
            self.col(Col::Referrer),
            Col::Referrer.name(),
            Count::AtMost(self.len),
        )
    }

    /// The `utm` texts of the page views: one value per
    /// [`EventType::PageView`] event, in event order (not one per event).
    ///
    /// # Errors
    ///
    /// A [`CodecError`] if the utm column is malformed.
    pub fn utms(&self) -> Result<TextColumn, CodecError> {
        read_text(self.col(Col::Utm), Col::Utm.name(), Count::AtMost(self.len))
    }

    /// A per-kind text column that must hold exactly `count` values.
    fn kind_text(&self, c: Col, count: usize) -> Result<TextColumn, CodecError> {
        read_text(self.col(c), c.name(), Count::Exactly(count))
    }

    /// A per-item text column, bounded by its own length.
    fn item_text(&self, c: Col) -> Result<TextColumn, CodecError> {
        let bytes = self.col(c);
        read_text(bytes, c.name(), Count::AtMost(bytes.len()))
    }

    /// A raw column of `count` varints.
    fn varints(&self, c: Col, count: usize) -> Result<Vec<u64>, CodecError> {
        let mut r = Reader::new(self.col(c), c.name());
        let count = read_count(&mut r, c.name(), Count::Exactly(count))?;
        let mut out = Vec::with_capacity(count);
        for _ in 0..count {
            out.push(r.varint()?);
        }
        r.finish()?;
        Ok(out)
    }

    /// The coordinates and targets of the block's `clicks` click events, in
    /// event order (one value per click, not one per event).
    ///
    /// # Errors
    ///
    /// A [`CodecError`] if either click column is malformed or does not
    /// hold `clicks` values.
    pub fn click_details(
        &self,
        clicks: usize,
    ) -> Result<(Vec<(i32, i32)>, TextColumn), CodecError> {
        Ok((self.clicks(clicks)?, self.kind_text(Col::Target, clicks)?))
    }

    /// The form names of the block's `forms` form events (form views, field
    /// focuses, keystrokes, field blurs and submits), the field names of
    /// its `fields` field events (focuses, keystrokes, blurs) and the key
    /// kinds of its `keystrokes`, each in event order.
    ///
    /// # Errors
    ///
    /// A [`CodecError`] if a column is malformed or does not hold its count.
    pub fn form_details(
        &self,
        forms: usize,
        fields: usize,
        keystrokes: usize,
    ) -> Result<(TextColumn, TextColumn, Vec<KeyKind>), CodecError> {
        let form = self.kind_text(Col::Form, forms)?;
        let field = self.kind_text(Col::Field, fields)?;
        let key = read_enum(
            self.col(Col::Key),
            Col::Key.name(),
            1,
            Count::Exactly(keystrokes),
            |b| {
                let c = first(b);
                KeyKind::from_code(c).ok_or(CodecError::UnknownKeyKind(c))
            },
        )?;
        Ok((form, field, key))
    }

    fn clicks(&self, count: usize) -> Result<Vec<(i32, i32)>, CodecError> {
        let column = Col::ClickXy.name();
        let mut r = Reader::new(self.col(Col::ClickXy), column);
        let count = read_count(&mut r, column, Count::Exactly(count))?;
        let mut out = Vec::with_capacity(count);
        for _ in 0..count {
            let x = unzigzag32(r.varint_u32()?);
            let y = unzigzag32(r.varint_u32()?);
            out.push((x, y));
        }
        r.finish()?;
        Ok(out)
    }

    /// The tagged property values; text values stay `None` until paired with
    /// the `prop_text` column.
    fn prop_values(&self) -> Result<Vec<Option<PropValue>>, CodecError> {
        let column = Col::PropValue.name();
        let bytes = self.col(Col::PropValue);
        let mut r = Reader::new(bytes, column);
        let count = read_count(&mut r, column, Count::AtMost(bytes.len()))?;
        let mut out = Vec::with_capacity(count);
        for _ in 0..count {
            let tag = r.u8()?;
            out.push(match tag {
                t if t == PropTag::False as u8 => Some(PropValue::Bool(false)),
                t if t == PropTag::True as u8 => Some(PropValue::Bool(true)),
                t if t == PropTag::Int as u8 => Some(PropValue::Int(unzigzag64(r.varint()?))),
                t if t == PropTag::Float as u8 => {
                    Some(PropValue::Float(f64::from_bits(r.u64_le()?)))
                }
                t if t == PropTag::Text as u8 => None,
                t => return Err(CodecError::UnknownPropTag(t)),
            });
        }
        r.finish()?;
        Ok(out)
    }

    /// Decodes every column back into the events, in block order.
    ///
    /// # Errors
    ///
    /// A [`CodecError`] if any column is malformed or the columns disagree.
    pub fn events(&self) -> Result<Vec<Event>, CodecError> {
        let n = self.len;
        let ts = self.timestamps()?;
        let ident = self.identity()?;
        let types = self.types()?;
        let countries = self.countries()?;
        let devices = self.devices()?;
        let browsers = self.browsers()?;
        let paths = self.paths()?;

        let mut per_type = [0usize; EventType::ALL.len()];
        for t in &types {
            if let Some(c) = per_type.get_mut(usize::from(t.code())) {
                *c += 1;
            }
        }
        let of = |t: EventType| per_type.get(usize::from(t.code())).copied().unwrap_or(0);
        let page_views = of(EventType::PageView);
        let clicks = of(EventType::Click);
        let fields =
            of(EventType::FieldFocus) + of(EventType::Keystroke) + of(EventType::FieldBlur);
        let forms = fields + of(EventType::FormView) + of(EventType::FormSubmit);

        let referrer = self.kind_text(Col::Referrer, page_views)?;
        let utm = self.kind_text(Col::Utm, page_views)?;
        let xy = self.clicks(clicks)?;
        let target = self.kind_text(Col::Target, clicks)?;
        let depth = read_enum(
            self.col(Col::Depth),
            Col::Depth.name(),
            1,
            Count::Exactly(of(EventType::Scroll)),
            |b| Ok(first(b)),
        )?;
        let (form, field, key) = self.form_details(forms, fields, of(EventType::Keystroke))?;
        let submit_count = self.varints(Col::SubmitCount, of(EventType::FormSubmit))?;
        let submit_name = self.item_text(Col::SubmitName)?;
        let submit_value = self.item_text(Col::SubmitValue)?;
        let custom_name = self.kind_text(Col::CustomName, of(EventType::Custom))?;
        let prop_count = self.varints(Col::PropCount, of(EventType::Custom))?;
        let prop_key = self.item_text(Col::PropKey)?;
        let prop_value = self.prop_values()?;
        let prop_text = self.item_text(Col::PropText)?;

        // Cross-column counts, checked before anything is sized by them.
        check_sum(&submit_count, submit_name.len(), Col::SubmitName)?;
        check_sum(&submit_count, submit_value.len(), Col::SubmitValue)?;
        check_sum(&prop_count, prop_key.len(), Col::PropKey)?;
        check_sum(&prop_count, prop_value.len(), Col::PropValue)?;
        let text_props = prop_value.iter().filter(|v| v.is_none()).count();
        if text_props != prop_text.len() {
            return Err(CodecError::CountMismatch {
                column: Col::PropText.name(),
                expected: text_props,
                found: prop_text.len(),
            });
        }

        let mut referrer = Cursor::new(&referrer, Col::Referrer);
        let mut utm = Cursor::new(&utm, Col::Utm);
        let mut xy = xy.iter();
        let mut target = Cursor::new(&target, Col::Target);
        let mut depth = depth.iter();
        let mut form = Cursor::new(&form, Col::Form);
        let mut field = Cursor::new(&field, Col::Field);
        let mut key = key.iter();
        let mut submit_count = submit_count.iter();
        let mut submit_name = Cursor::new(&submit_name, Col::SubmitName);
        let mut submit_value = Cursor::new(&submit_value, Col::SubmitValue);
        let mut custom_name = Cursor::new(&custom_name, Col::CustomName);
        let mut prop_count = prop_count.iter();
        let mut prop_key = Cursor::new(&prop_key, Col::PropKey);
        let mut prop_value = prop_value.into_iter();
        let mut prop_text = Cursor::new(&prop_text, Col::PropText);

        let mut out = Vec::with_capacity(n);
        let rows = ts
            .iter()
            .zip(&ident.event_pair)
            .zip(&types)
            .zip(&countries)
            .zip(&devices)
            .zip(browsers.ids.iter().zip(&paths.ids));
        for (((((&ts, &pair), &ty), &country), &device), (&browser, &path)) in rows {
            let kind = match ty {
                EventType::PageView => EventKind::PageView {
                    referrer: referrer.next()?,
                    utm: utm.next()?,
                },
                EventType::Click => {
                    let &(x, y) = xy.next().ok_or_else(|| short(Col::ClickXy))?;
                    EventKind::Click {
                        x,
                        y,
                        target: target.next()?,
                    }
                }
                EventType::Scroll => EventKind::Scroll {
                    depth: *depth.next().ok_or_else(|| short(Col::Depth))?,
                },
                EventType::FormView => EventKind::FormView { form: form.next()? },
                EventType::FieldFocus => EventKind::FieldFocus {
                    form: form.next()?,
                    field: field.next()?,
                },
                EventType::Keystroke => EventKind::Keystroke {
                    form: form.next()?,
                    field: field.next()?,
                    key: *key.next().ok_or_else(|| short(Col::Key))?,
                },
                EventType::FieldBlur => EventKind::FieldBlur {
                    form: form.next()?,
                    field: field.next()?,
                },
                EventType::FormSubmit => {
                    let form = form.next()?;
                    let count = *submit_count.next().ok_or_else(|| short(Col::SubmitCount))?;
                    // Bounded by the checked sum above.
                    let mut fields = Vec::with_capacity(submit_name.left().min(count as usize));
                    for _ in 0..count {
                        fields.push(SubmittedField {
                            name: submit_name.next()?,
                            value: submit_value.next()?,
                        });
                    }
                    EventKind::FormSubmit { form, fields }
                }
                EventType::Custom => {
                    let name = custom_name.next()?;
                    let count = *prop_count.next().ok_or_else(|| short(Col::PropCount))?;
                    let mut props = Vec::with_capacity(prop_key.left().min(count as usize));
                    for _ in 0..count {
                        let k = prop_key.next()?;
                        let v = match prop_value.next().ok_or_else(|| short(Col::PropValue))? {
                            Some(v) => v,
                            None => PropValue::Text(prop_text.next()?),
                        };
                        props.push((k, v));
                    }
                    EventKind::Custom { name, props }
                }
            };
            let (visitor, session) = match (
                ident.pair_visitor.get(pair as usize),
                ident.pair_session.get(pair as usize),
            ) {
                (Some(&v), Some(&s)) => (v, s),
                _ => return Err(short(Col::Ident)),
            };
            out.push(Event {
                ts: Timestamp(ts),
                visitor: VisitorId(visitor),
                session: SessionId(session),
                country,
                device,
                browser: browsers
                    .dict
                    .get(browser as usize)
                    .cloned()
                    .ok_or_else(|| short(Col::Browser))?,
                path: paths
                    .dict
                    .get(path as usize)
                    .cloned()
                    .ok_or_else(|| short(Col::Path))?,
                kind,
            });
        }
        if out.len() != n {
            return Err(CodecError::CountMismatch {
                column: "header",
                expected: n,
                found: out.len(),
            });
        }
        Ok(out)
    }
}

/// Resolves an identity code against a dictionary of `len` entries of which
/// `*next` were introduced so far.
fn resolve(
    code: u64,
    next: &mut usize,
    len: usize,
    column: &'static str,
) -> Result<usize, CodecError> {
    if code == 0 {
        if *next >= len {
            return Err(CodecError::BadReference { column, code });
        }
        *next += 1;
        Ok(*next - 1)
    } else {
        usize::try_from(code)
            .ok()
            .and_then(|c| next.checked_sub(c))
            .ok_or(CodecError::BadReference { column, code })
    }
}

/// The first byte of a one-byte enum entry.
fn first(b: &[u8]) -> u8 {
    b.first().copied().unwrap_or(u8::MAX)
}

/// The error for a column that ran out of values before the events did.
fn short(c: Col) -> CodecError {
    CodecError::Truncated { column: c.name() }
}

/// Checks that per-event counts add up to the length of a per-item column.
fn check_sum(counts: &[u64], found: usize, c: Col) -> Result<(), CodecError> {
    let sum = counts.iter().try_fold(0u64, |acc, &x| acc.checked_add(x));
    match sum.and_then(|s| usize::try_from(s).ok()) {
        Some(expected) if expected == found => Ok(()),
        Some(expected) => Err(CodecError::CountMismatch {
            column: c.name(),
            expected,
            found,
        }),
        None => Err(CodecError::TooManyValues {
            column: c.name(),
            count: usize::MAX,
        }),
    }
}

/// Hands out the values of a text column in order.
struct Cursor<'c> {
    col: &'c TextColumn,
    pos: usize,
    which: Col,
}

impl<'c> Cursor<'c> {
    fn new(col: &'c TextColumn, which: Col) -> Self {
        Cursor { col, pos: 0, which }
    }

    fn next(&mut self) -> Result<Text, CodecError> {
        let t = self
            .col
            .ids
            .get(self.pos)
            .and_then(|&id| self.col.dict.get(id as usize))
            .ok_or_else(|| short(self.which))?;
        self.pos += 1;
        Ok(t.clone())
    }

    fn left(&self) -> usize {
        self.col.ids.len().saturating_sub(self.pos)
    }
}
