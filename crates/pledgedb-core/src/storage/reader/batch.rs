//! One block's decoded columns and the rows of it a scan hands on.
//!
//! A [`Batch`] holds the columns a scan asked for, decoded once for the
//! whole block, and a selection: the indices of the rows that lie in the
//! reader's time range, pass the predicate and are not hidden by a
//! tombstone. The predicate is decided on the columns, not on events: a
//! page or a browser is compared once against the block's dictionary and
//! then by id, an erasure is decided once per (visitor, session) pair of
//! the block. Only a visitor that wants whole events gets them built, and
//! only for the selected rows.

use super::columns::{AnyOf, Columns, Predicate};
use crate::codec::{BlockView, CodecError, Identity, TextColumn};
use crate::event::{Country, Device, Event, EventKind, EventType, KeyKind, SessionId, VisitorId};
use crate::text::Text;
use crate::time::Timestamp;

/// The index of a row into a per-kind column it has no value in (the
/// referrer of a click, the coordinates of a page view).
const NO_VALUE: u32 = u32::MAX;

/// The decoded columns of one block and its selected rows.
///
/// Row accessors take a row index from [`rows`](Batch::rows). A column the
/// scan did not ask for reads as its empty value (visitor 0, country `ZZ`,
/// empty text, time 0, type page view): a batch scan asks for
/// [`Columns::TIME`] and [`Columns::TYPE`] when it reads them.
#[derive(Debug, Default)]
pub struct Batch {
    /// Events in the block.
    n: usize,
    /// The columns decoded so far.
    loaded: Columns,
    /// Empty unless [`Columns::TIME`] was loaded.
    ts: Vec<i64>,
    types: Vec<EventType>,
    ident: Identity,
    countries: Vec<Country>,
    devices: Vec<Device>,
    browsers: TextColumn,
    paths: TextColumn,
    /// The referrer dictionary of the block.
    referrers: Vec<Text>,
    /// Per row, the index into `referrers`, or [`NO_VALUE`].
    referrer_ids: Vec<u32>,
    /// The coordinates and targets of the block's clicks, and per row its
    /// index among them ([`NO_VALUE`] for other events).
    click_xy: Vec<(i32, i32)>,
    click_targets: TextColumn,
    click_ids: Vec<u32>,
    /// The form names, field names and key kinds of the block's form
    /// events, and per row its index into each ([`NO_VALUE`]: none).
    forms: TextColumn,
    fields: TextColumn,
    keys: Vec<KeyKind>,
    form_ids: Vec<[u32; 3]>,
    /// Whole events, when the scan asked for [`Columns::DETAIL`].
    events: Vec<Event>,
    rows: Vec<u32>,
}

impl Batch {
    /// A batch of the block `view` with no column decoded yet.
    pub(super) fn new(view: &BlockView<'_>) -> Batch {
        Batch {
            n: view.len(),
            ..Batch::default()
        }
    }

    /// Decodes the columns of `cols` not decoded yet.
    pub(super) fn load(&mut self, view: &BlockView<'_>, cols: Columns) -> Result<(), CodecError> {
        let loaded = self.loaded;
        let want = |c: Columns| cols.contains(c) && !loaded.contains(c);
        let n = self.n;
        let check = |len: usize, column: &'static str| {
            if len == n {
                Ok(())
            } else {
                Err(CodecError::Truncated { column })
            }
        };
        // The referrers are one a page view, the click columns one a click:
        // they need the types.
        if want(Columns::TYPE)
            || ((want(Columns::REFERRER) || want(Columns::CLICK) || want(Columns::FORM))
                && !loaded.contains(Columns::TYPE))
        {
            self.types = view.types()?;
            check(self.types.len(), "type")?;
            self.loaded = self.loaded | Columns::TYPE;
        }
        if want(Columns::TIME) {
            self.ts = view.timestamps()?;
            check(self.ts.len(), "timestamp")?;
        }
        // One column holds both; each reads as asked for only when asked.
        if (want(Columns::VISITOR) || want(Columns::SESSION))
            && !loaded.contains(Columns::VISITOR)
            && !loaded.contains(Columns::SESSION)
        {
            self.ident = view.identity()?;
            check(self.ident.event_pair.len(), "identity")?;
        }
        if want(Columns::COUNTRY) {
            self.countries = view.countries()?;
            check(self.countries.len(), "country")?;
        }
        if want(Columns::DEVICE) {
            self.devices = view.devices()?;
            check(self.devices.len(), "device")?;
        }
        if want(Columns::BROWSER) {
            self.browsers = view.browsers()?;
            check(self.browsers.len(), "browser")?;
        }
        if want(Columns::PATH) {
            self.paths = view.paths()?;
            check(self.paths.len(), "path")?;
        }
        if want(Columns::REFERRER) {
            let r = view.referrers()?;
            let mut ids = r.ids.iter();
            self.referrer_ids = Vec::with_capacity(n);
            for t in &self.types {
                self.referrer_ids.push(if *t == EventType::PageView {
                    *ids.next()
                        .ok_or(CodecError::Truncated { column: "referrer" })?
                } else {
                    NO_VALUE
                });
            }
            self.referrers = r.dict;
        }
        // Whole events (DETAIL) hold the clicks themselves.
        if want(Columns::CLICK) && !cols.contains(Columns::DETAIL) {
            let mut clicks = 0u32;
            self.click_ids = self
                .types
                .iter()
                .map(|t| {
                    if *t == EventType::Click {
                        clicks += 1;
                        clicks - 1
                    } else {
                        NO_VALUE
                    }
                })
                .collect();
            let (xy, targets) = view.click_details(clicks as usize)?;
            self.click_xy = xy;
            self.click_targets = targets;
        }
        if want(Columns::FORM) && !cols.contains(Columns::DETAIL) {
            let mut next = [0u32; 3];
            self.form_ids = self
                .types
                .iter()
                .map(|t| {
                    let (form, field, key) = match t {
                        EventType::FormView | EventType::FormSubmit => (true, false, false),
                        EventType::FieldFocus | EventType::FieldBlur => (true, true, false),
                        EventType::Keystroke => (true, true, true),
                        _ => (false, false, false),
                    };
                    let mut ids = [NO_VALUE; 3];
                    for (k, has) in [form, field, key].into_iter().enumerate() {
                        if has {
                            ids[k] = next[k];
                            next[k] += 1;
                        }
                    }
                    ids
                })
                .collect();
            let (forms, fields, keys) =
                view.form_details(next[0] as usize, next[1] as usize, next[2] as usize)?;
            self.forms = forms;
            self.fields = fields;
            self.keys = keys;
        }
        self.loaded = self.loaded | cols;
        Ok(())
    }

    /// Decodes the whole events of the block, once some row is selected
    /// and the scan wants [`Columns::DETAIL`].
    pub(super) fn decode_detail(&mut self, view: &BlockView<'_>) -> Result<(), CodecError> {
        self.events = view.events()?;
        if self.events.len() != self.n {
            return Err(CodecError::Truncated { column: "type" });
        }
        Ok(())
    }

    /// Selects the rows in `[from, to)` that pass `pred` and that `hidden`
    /// does not hide (asked once per pair of the block).
    pub(super) fn select(
        &mut self,
        view: &BlockView<'_>,
        pred: &Predicate,
        (from, to): (i64, i64),
        hidden: &mut dyn FnMut(VisitorId, SessionId) -> bool,
        hiding: bool,
    ) {
        // A block that reaches past the range has its times loaded.
        let mut rows: Vec<u32> = if Batch::inside(view, (from, to)) {
            (0..self.n as u32).collect()
        } else {
            (0..self.n as u32)
                .filter(|&i| {
                    self.ts
                        .get(i as usize)
                        .is_some_and(|t| (from..to).contains(t))
                })
                .collect()
        };
        if let Some(types) = &pred.types {
            let mut want = [false; 256];
            for t in types {
                want[usize::from(t.code())] = true;
            }
            rows.retain(|&i| want[usize::from(self.event_type(i).code())]);
        }
        // Identity conditions and erasure, decided per pair.
        if pred.visitor.is_some() || pred.session.is_some() || hiding {
            let keep: Vec<bool> = self
                .ident
                .pair_visitor
                .iter()
                .zip(&self.ident.pair_session)
                .map(|(&v, &s)| {
                    let (v, s) = (VisitorId(v), SessionId(s));
                    pred.visitor.is_none_or(|want| want == v)
                        && pred.session.is_none_or(|want| want == s)
                        && !(hiding && hidden(v, s))
                })
                .collect();
            let pairs = &self.ident.event_pair;
            rows.retain(|&i| {
                pairs
                    .get(i as usize)
                    .and_then(|&p| keep.get(p as usize))
                    .copied()
                    .unwrap_or(false)
            });
        }
        let f = &pred.filters;
        if let Some(c) = f.country {
            rows.retain(|&i| self.country(i) == c);
        }
        if let Some(d) = f.device {
            rows.retain(|&i| self.device(i) == d);
        }
        if let Some(b) = &f.browser {
            retain_text(&mut rows, &self.browsers, |t| t == b);
        }
        if let Some(p) = &f.page {
            retain_text(&mut rows, &self.paths, |t| t == p);
        }
        if let Some(r) = &f.referrer {
            let stored = if r == crate::rollup::DIRECT {
                ""
            } else {
                r.as_str()
            };
            let want: Vec<bool> = self
                .referrers
                .iter()
                .map(|t| t.as_str() == stored)
                .collect();
            let ids = &self.referrer_ids;
            rows.retain(|&i| referrer_wanted(&want, ids, i));
        }
        for a in &pred.any_of {
            match a {
                AnyOf::Path(v) => retain_text(&mut rows, &self.paths, |t| v.iter().any(|p| p == t)),
                AnyOf::Browser(v) => {
                    retain_text(&mut rows, &self.browsers, |t| v.iter().any(|b| b == t));
                }
                AnyOf::Country(v) => rows.retain(|&i| v.contains(&self.country(i))),
                AnyOf::Device(v) => rows.retain(|&i| v.contains(&self.device(i))),
                AnyOf::Referrer(v) => {
                    let want: Vec<bool> = self
                        .referrers
                        .iter()
                        .map(|t| v.iter().any(|r| r == t.as_str()))
                        .collect();
                    let ids = &self.referrer_ids;
                    rows.retain(|&i| referrer_wanted(&want, ids, i));
                }
            }
        }
        if let Some(x) = &f.expr {
            rows.retain(|&i| x.accepts(&self.materialize(i as usize)));
        }
        self.rows = rows;
    }

    /// Whether every event of the block lies in `[from, to)`.
    pub(super) fn inside(view: &BlockView<'_>, (from, to): (i64, i64)) -> bool {
        view.min_ts() >= from && view.max_ts() < to
    }

    /// The selected rows, in storage order.
    #[must_use]
    pub fn rows(&self) -> &[u32] {
        &self.rows
    }

    /// The timestamp of row `i` (0 unless the scan asked for
    /// [`Columns::TIME`]).
    #[must_use]
    pub fn ts(&self, i: u32) -> Timestamp {
        Timestamp(self.ts.get(i as usize).copied().unwrap_or(0))
    }

    /// The type of row `i` (a page view unless the scan asked for
    /// [`Columns::TYPE`]).
    #[must_use]
    pub fn event_type(&self, i: u32) -> EventType {
        self.types
            .get(i as usize)
            .copied()
            .unwrap_or(EventType::PageView)
    }

    /// The visitor of row `i`.
    #[must_use]
    pub fn visitor(&self, i: u32) -> VisitorId {
        if !self.loaded.contains(Columns::VISITOR) {
            return VisitorId(0);
        }
        let id = &self.ident;
        VisitorId(
            id.event_pair
                .get(i as usize)
                .and_then(|&p| id.pair_visitor.get(p as usize))
                .copied()
                .unwrap_or(0),
        )
    }

    /// The session of row `i`.
    #[must_use]
    pub fn session(&self, i: u32) -> SessionId {
        if !self.loaded.contains(Columns::SESSION) {
            return SessionId(0);
        }
        let id = &self.ident;
        SessionId(
            id.event_pair
                .get(i as usize)
                .and_then(|&p| id.pair_session.get(p as usize))
                .copied()
                .unwrap_or(0),
        )
    }

    /// The country of row `i`.
    #[must_use]
    pub fn country(&self, i: u32) -> Country {
        self.countries.get(i as usize).copied().unwrap_or_default()
    }

    /// The device class of row `i`.
    #[must_use]
    pub fn device(&self, i: u32) -> Device {
        self.devices.get(i as usize).copied().unwrap_or_default()
    }

    /// The browser family of row `i`.
    #[must_use]
    pub fn browser(&self, i: u32) -> &str {
        text_at(&self.browsers, i)
    }

    /// The page path of row `i`.
    #[must_use]
    pub fn path(&self, i: u32) -> &str {
        text_at(&self.paths, i)
    }

    /// The paths of the block, by id: with [`path_id`](Batch::path_id) a
    /// visitor can group rows by page without comparing strings.
    #[must_use]
    pub fn path_dict(&self) -> &[Text] {
        &self.paths.dict
    }

    /// The id of row `i`'s path in [`path_dict`](Batch::path_dict).
    #[must_use]
    pub fn path_id(&self, i: u32) -> u32 {
        self.paths.ids.get(i as usize).copied().unwrap_or(0)
    }

    /// The browsers of the block, by id (see [`browser_id`](Batch::browser_id)).
    #[must_use]
    pub fn browser_dict(&self) -> &[Text] {
        &self.browsers.dict
    }

    /// The id of row `i`'s browser in [`browser_dict`](Batch::browser_dict).
    #[must_use]
    pub fn browser_id(&self, i: u32) -> u32 {
        self.browsers.ids.get(i as usize).copied().unwrap_or(0)
    }

    /// The referrers of the block, by id (see [`referrer_id`](Batch::referrer_id)).
    #[must_use]
    pub fn referrer_dict(&self) -> &[Text] {
        &self.referrers
    }

    /// The id of row `i`'s referrer in [`referrer_dict`](Batch::referrer_dict)
    /// if it is a page view and the scan asked for [`Columns::REFERRER`].
    #[must_use]
    pub fn referrer_id(&self, i: u32) -> Option<u32> {
        self.referrer_ids
            .get(i as usize)
            .copied()
            .filter(|&id| id != NO_VALUE)
    }

    /// The stored referrer host of row `i` if it is a page view (`""`:
    /// none), `None` for other events.
    #[must_use]
    pub fn referrer(&self, i: u32) -> Option<&str> {
        let id = *self.referrer_ids.get(i as usize)?;
        self.referrers.get(id as usize).map(Text::as_str)
    }

    /// The coordinates and target of row `i` if it is a click and the scan
    /// asked for [`Columns::CLICK`] (or [`Columns::DETAIL`]).
    #[must_use]
    pub fn click(&self, i: u32) -> Option<(i32, i32, &Text)> {
        if let Some(e) = self.events.get(i as usize) {
            return match &e.kind {
                EventKind::Click { x, y, target } => Some((*x, *y, target)),
                _ => None,
            };
        }
        let c = *self.click_ids.get(i as usize)? as usize;
        let &(x, y) = self.click_xy.get(c)?;
        Some((x, y, value_at(&self.click_targets, c as u32)?))
    }

    /// The form, field and key kind of row `i` (each `None` where the event
    /// has none, or the scan did not ask for [`Columns::FORM`]).
    fn form_parts(&self, i: u32) -> (Option<&Text>, Option<&Text>, Option<KeyKind>) {
        let Some(&[form, field, key]) = self.form_ids.get(i as usize) else {
            return (None, None, None);
        };
        (
            value_at(&self.forms, form),
            value_at(&self.fields, field),
            self.keys.get(key as usize).copied(),
        )
    }

    /// Row `i` as an event: whole with [`Columns::DETAIL`], else with only
    /// the asked columns filled in (see the module documentation of the
    /// reader).
    #[must_use]
    pub fn event(&self, i: u32) -> std::borrow::Cow<'_, Event> {
        match self.events.get(i as usize) {
            Some(e) => std::borrow::Cow::Borrowed(e),
            None => std::borrow::Cow::Owned(self.materialize(i as usize)),
        }
    }

    /// Builds the event of row `i` from the decoded columns.
    fn materialize(&self, i: usize) -> Event {
        if let Some(e) = self.events.get(i) {
            return e.clone();
        }
        let row = i as u32;
        let ty = self.event_type(row);
        let kind = match ty {
            EventType::PageView => EventKind::PageView {
                referrer: self
                    .referrer_ids
                    .get(i)
                    .and_then(|&id| self.referrers.get(id as usize))
                    .cloned()
                    .unwrap_or_else(Text::empty),
                utm: Text::empty(),
            },
            EventType::Click => match self.click(row) {
                Some((x, y, target)) => EventKind::Click {
                    x,
                    y,
                    target: target.clone(),
                },
                None => placeholder(EventType::Click),
            },
            EventType::FormView
            | EventType::FieldFocus
            | EventType::Keystroke
            | EventType::FieldBlur
            | EventType::FormSubmit
                if self.loaded.contains(Columns::FORM) =>
            {
                let (form, field, key) = self.form_parts(row);
                let form = form.cloned().unwrap_or_else(Text::empty);
                let field = field.cloned().unwrap_or_else(Text::empty);
                match ty {
                    EventType::FormView => EventKind::FormView { form },
                    EventType::FieldFocus => EventKind::FieldFocus { form, field },
                    EventType::Keystroke => EventKind::Keystroke {
                        form,
                        field,
                        key: key.unwrap_or(KeyKind::Character),
                    },
                    EventType::FieldBlur => EventKind::FieldBlur { form, field },
                    _ => EventKind::FormSubmit {
                        form,
                        fields: Vec::new(),
                    },
                }
            }
            other => placeholder(other),
        };
        let text = |c: &TextColumn| {
            c.ids
                .get(i)
                .and_then(|&id| c.dict.get(id as usize))
                .cloned()
                .unwrap_or_else(Text::empty)
        };
        Event {
            ts: self.ts(row),
            visitor: self.visitor(row),
            session: self.session(row),
            country: self.country(row),
            device: self.device(row),
            browser: text(&self.browsers),
            path: text(&self.paths),
            kind,
        }
    }
}

/// Keeps the rows whose text in `col` passes `want`, asking `want` once per
/// dictionary entry.
fn retain_text(rows: &mut Vec<u32>, col: &TextColumn, want: impl Fn(&str) -> bool) {
    let keep: Vec<bool> = col.dict.iter().map(|t| want(t.as_str())).collect();
    if !keep.iter().any(|k| *k) {
        rows.clear();
        return;
    }
    rows.retain(|&i| col.ids.get(i as usize).is_some_and(|&id| keep[id as usize]));
}

/// Value `k` of a per-kind text column (`None` past its end: [`NO_VALUE`]).
fn value_at(c: &TextColumn, k: u32) -> Option<&Text> {
    c.ids
        .get(k as usize)
        .and_then(|&id| c.dict.get(id as usize))
}

fn referrer_wanted(want: &[bool], ids: &[u32], i: u32) -> bool {
    ids.get(i as usize)
        .and_then(|&id| want.get(id as usize))
        .copied()
        .unwrap_or(false)
}

fn text_at(col: &TextColumn, i: u32) -> &str {
    col.ids
        .get(i as usize)
        .and_then(|&id| col.dict.get(id as usize))
        .map_or("", Text::as_str)
}

/// The kind of an event of type `ty` with none of its detail decoded.
fn placeholder(ty: EventType) -> EventKind {
    let e = Text::empty;
    match ty {
        EventType::PageView => EventKind::PageView {
            referrer: e(),
            utm: e(),
        },
        EventType::Click => EventKind::Click {
            x: 0,
            y: 0,
            target: e(),
        },
        EventType::Scroll => EventKind::Scroll { depth: 0 },
        EventType::FormView => EventKind::FormView { form: e() },
        EventType::FieldFocus => EventKind::FieldFocus {
            form: e(),
            field: e(),
        },
        EventType::Keystroke => EventKind::Keystroke {
            form: e(),
            field: e(),
            key: KeyKind::Character,
        },
        EventType::FieldBlur => EventKind::FieldBlur {
            form: e(),
            field: e(),
        },
        EventType::FormSubmit => EventKind::FormSubmit {
            form: e(),
            fields: Vec::new(),
        },
        EventType::Custom => EventKind::Custom {
            name: e(),
            props: Vec::new(),
        },
    }
}
