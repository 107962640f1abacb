//! The block encoder: one pass over the events fills every column builder,
//! then the header, the column directory and the column bodies are written.

use super::column::{EnumBuilder, TextBuilder};
use super::hash::FoldState;
use super::varint::{put_varint, zigzag32, zigzag64};
use super::{BLOCK_FORMAT_VERSION, Col, NUM_COLUMNS, PropTag};
use crate::event::{Event, EventKind, PropValue};
use std::collections::HashMap;
use std::collections::hash_map::Entry;

/// A column of raw items with a value count in front.
#[derive(Debug, Default)]
struct RawBuilder {
    count: usize,
    data: Vec<u8>,
}

impl RawBuilder {
    fn finish(&mut self, out: &mut Vec<u8>) {
        if self.count > 0 {
            put_varint(out, self.count as u64);
            out.extend_from_slice(&self.data);
        }
        self.count = 0;
        self.data.clear();
    }
}

/// The identity column: visitor dictionary, (visitor, session) pair
/// dictionary, and one back-reference code per event.
#[derive(Debug, Default)]
struct IdentBuilder {
    visitors: HashMap<u64, u32, FoldState>,
    visitor_bytes: Vec<u8>,
    pairs: HashMap<(u64, u64), u32, FoldState>,
    pair_bytes: Vec<u8>,
    codes: Vec<u8>,
    count: usize,
}

impl IdentBuilder {
    fn push(&mut self, visitor: u64, session: u64) {
        self.count += 1;
        let next = self.pairs.len() as u32;
        let code = match self.pairs.entry((visitor, session)) {
            Entry::Occupied(e) => u64::from(next - *e.get()),
            Entry::Vacant(e) => {
                e.insert(next);
                self.pair_bytes.extend_from_slice(&session.to_le_bytes());
                let vnext = self.visitors.len() as u32;
                let vcode = match self.visitors.entry(visitor) {
                    Entry::Occupied(e) => u64::from(vnext - *e.get()),
                    Entry::Vacant(e) => {
                        e.insert(vnext);
                        self.visitor_bytes.extend_from_slice(&visitor.to_le_bytes());
                        0
                    }
                };
                put_varint(&mut self.pair_bytes, vcode);
                0
            }
        };
        put_varint(&mut self.codes, code);
    }

    fn finish(&mut self, out: &mut Vec<u8>) {
        if self.count > 0 {
            put_varint(out, self.count as u64);
            put_varint(out, self.visitors.len() as u64);
            out.extend_from_slice(&self.visitor_bytes);
            put_varint(out, self.pairs.len() as u64);
            out.extend_from_slice(&self.pair_bytes);
            out.extend_from_slice(&self.codes);
        }
        self.visitors.clear();
        self.visitor_bytes.clear();
        self.pairs.clear();
        self.pair_bytes.clear();
        self.codes.clear();
        self.count = 0;
    }
}

/// A reusable block encoder. Encoding many blocks through one `BlockEncoder`
/// reuses its dictionaries and buffers; [`encode_block`](super::encode_block)
/// is the one-shot form.
#[derive(Debug)]
pub struct BlockEncoder {
    body: Vec<u8>,
    lens: [usize; NUM_COLUMNS],
    ts: RawBuilder,
    ident: IdentBuilder,
    types: EnumBuilder,
    countries: EnumBuilder,
    devices: EnumBuilder,
    browser: TextBuilder,
    path: TextBuilder,
    referrer: TextBuilder,
    utm: TextBuilder,
    click_xy: RawBuilder,
    target: TextBuilder,
    depth: EnumBuilder,
    form: TextBuilder,
    field: TextBuilder,
    key: EnumBuilder,
    submit_count: RawBuilder,
    submit_name: TextBuilder,
    submit_value: TextBuilder,
    custom_name: TextBuilder,
    prop_count: RawBuilder,
    prop_key: TextBuilder,
    prop_value: RawBuilder,
    prop_text: TextBuilder,
}

impl Default for BlockEncoder {
    fn default() -> Self {
        BlockEncoder::new()
    }
}

impl BlockEncoder {
    /// A fresh encoder with empty buffers.
    #[must_use]
    pub fn new() -> Self {
        BlockEncoder {
            body: Vec::new(),
            lens: [0; NUM_COLUMNS],
            ts: RawBuilder::default(),
            ident: IdentBuilder::default(),
            types: EnumBuilder::new(1),
            countries: EnumBuilder::new(2),
            devices: EnumBuilder::new(1),
            browser: TextBuilder::default(),
            path: TextBuilder::default(),
            referrer: TextBuilder::default(),
            utm: TextBuilder::default(),
            click_xy: RawBuilder::default(),
            target: TextBuilder::default(),
            depth: EnumBuilder::new(1),
            form: TextBuilder::default(),
            field: TextBuilder::default(),
            key: EnumBuilder::new(1),
            submit_count: RawBuilder::default(),
            submit_name: TextBuilder::default(),
            submit_value: TextBuilder::default(),
            custom_name: TextBuilder::default(),
            prop_count: RawBuilder::default(),
            prop_key: TextBuilder::default(),
            prop_value: RawBuilder::default(),
            prop_text: TextBuilder::default(),
        }
    }

    /// Appends the encoding of `events`, in their order, to `out`.
    pub fn encode(&mut self, events: &[Event], out: &mut Vec<u8>) {
        let (min, max) = events
            .iter()
            .map(|e| e.ts.0)
            .fold(None, |acc: Option<(i64, i64)>, t| match acc {
                None => Some((t, t)),
                Some((lo, hi)) => Some((lo.min(t), hi.max(t))),
            })
            .unwrap_or((0, 0));

        let mut prev = min;
        for e in events {
            self.ts.count += 1;
            put_varint(&mut self.ts.data, zigzag64(e.ts.0.wrapping_sub(prev)));
            prev = e.ts.0;
            self.ident.push(e.visitor.0, e.session.0);
            self.types.push(u16::from(e.kind.event_type().code()));
            self.countries
                .push(u16::from_le_bytes(e.country.to_bytes()));
            self.devices.push(u16::from(e.device.code()));
            self.browser.push(&e.browser);
            self.path.push(&e.path);
            self.push_kind(&e.kind);
        }

        self.finish_columns();
        out.reserve(self.body.len() + 24 + 3 * NUM_COLUMNS);
        out.push(BLOCK_FORMAT_VERSION);
        out.push(0); // flags: nothing set in version 1
        put_varint(out, events.len() as u64);
        out.extend_from_slice(&min.to_le_bytes());
        out.extend_from_slice(&max.to_le_bytes());
        out.push(NUM_COLUMNS as u8);
        for &len in &self.lens {
            put_varint(out, len as u64);
        }
        out.extend_from_slice(&self.body);
        self.body.clear();
    }

    fn push_kind(&mut self, kind: &EventKind) {
        match kind {
            EventKind::PageView { referrer, utm } => {
                self.referrer.push(referrer);
                self.utm.push(utm);
            }
            EventKind::Click { x, y, target } => {
                self.click_xy.count += 1;
                put_varint(&mut self.click_xy.data, u64::from(zigzag32(*x)));
                put_varint(&mut self.click_xy.data, u64::from(zigzag32(*y)));
                self.target.push(target);
            }
            EventKind::Scroll { depth } => self.depth.push(u16::from(*depth)),
            EventKind::FormView { form } => self.form.push(form),
            EventKind::FieldFocus { form, field } | EventKind::FieldBlur { form, field } => {
                self.form.push(form);
                self.field.push(field);
            }
            EventKind::Keystroke { form, field, key } => {
                self.form.push(form);
                self.field.push(field);
                self.key.push(u16::from(key.code()));
            }
            EventKind::FormSubmit { form, fields } => {
                self.form.push(form);
                self.submit_count.count += 1;
                put_varint(&mut self.submit_count.data, fields.len() as u64);
                for f in fields {
                    self.submit_name.push(&f.name);
                    self.submit_value.push(&f.value);
                }
            }
            EventKind::Custom { name, props } => {
                self.custom_name.push(name);
                self.prop_count.count += 1;
                put_varint(&mut self.prop_count.data, props.len() as u64);
                for (key, value) in props {
                    self.prop_key.push(key);
                    self.prop_value.count += 1;
                    let data = &mut self.prop_value.data;
                    match value {
                        PropValue::Bool(false) => data.push(PropTag::False as u8),
                        PropValue::Bool(true) => data.push(PropTag::True as u8),
                        PropValue::Int(i) => {
                            data.push(PropTag::Int as u8);
                            put_varint(data, zigzag64(*i));
                        }
                        PropValue::Float(f) => {
                            data.push(PropTag::Float as u8);
                            data.extend_from_slice(&f.to_bits().to_le_bytes());
                        }
                        PropValue::Text(t) => {
                            data.push(PropTag::Text as u8);
                            self.prop_text.push(t);
                        }
                    }
                }
            }
        }
    }

    /// Writes every column body into `self.body`, recording its length.
    fn finish_columns(&mut self) {
        for col in Col::ALL {
            let start = self.body.len();
            let out = &mut self.body;
            match col {
                Col::Ts => self.ts.finish(out),
                Col::Ident => self.ident.finish(out),
                Col::Type => self.types.finish(out),
                Col::Country => self.countries.finish(out),
                Col::Device => self.devices.finish(out),
                Col::Browser => self.browser.finish(out, false),
                Col::Path => self.path.finish(out, false),
                Col::Referrer => self.referrer.finish(out, false),
                Col::Utm => self.utm.finish(out, false),
                Col::ClickXy => self.click_xy.finish(out),
                Col::Target => self.target.finish(out, false),
                Col::Depth => self.depth.finish(out),
                Col::Form => self.form.finish(out, false),
                Col::Field => self.field.finish(out, false),
                Col::Key => self.key.finish(out),
                Col::SubmitCount => self.submit_count.finish(out),
                // Per-item columns take at least one byte per value so that a
                // reader can bound their counts by their length.
                Col::SubmitName => self.submit_name.finish(out, true),
                Col::SubmitValue => self.submit_value.finish(out, true),
                Col::CustomName => self.custom_name.finish(out, false),
                Col::PropCount => self.prop_count.finish(out),
                Col::PropKey => self.prop_key.finish(out, true),
                Col::PropValue => self.prop_value.finish(out),
                Col::PropText => self.prop_text.finish(out, true),
            }
            self.lens[col as usize] = self.body.len() - start;
        }
    }
}
