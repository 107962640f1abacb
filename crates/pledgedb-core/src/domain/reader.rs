//! The Reader: one snapshot of a domain's raw events over a time range, and
//! the projected scan every raw read goes through.
//!
//! A [`Reader`] fixes, when it is made, the segments of the range's days,
//! the retention cutoff and the erasure filter. [`Reader::scan`] decodes
//! only the columns asked for (plus those its predicate and the erasure
//! filter need), skips whole blocks that cannot match (their time range is
//! in the block header; a dictionary column starts with its distinct
//! values, so "does `/pricing` occur in this block" is answered without
//! decoding any id: see `codec/probe.rs`), and stops as soon as the visitor
//! returns [`ControlFlow::Break`] (a `LIMIT`).
//!
//! Columns that were not asked for hold empty values in the events handed
//! to the visitor: the type is always right, but a click asked for without
//! [`Columns::DETAIL`] has coordinates 0 and no target.

use super::Domain;
use super::shared::DomainShared;
use crate::codec::BlockView;
use crate::error::{ReadError, StorageError};
use crate::event::{Event, EventKind, EventType, KeyKind, SessionId, VisitorId};
use crate::query::Filters;
use crate::storage::segment::Segment;
use crate::text::Text;
use crate::time::Timestamp;
use serde::Serialize;
use std::ops::ControlFlow;
use std::sync::Arc;

/// Which columns a scan decodes. Combine with `|`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Columns(u16);

impl Columns {
    /// Nothing but the timestamp and the type, which every scan reads.
    pub const NONE: Columns = Columns(0);
    /// The visitor id.
    pub const VISITOR: Columns = Columns(1);
    /// The session id.
    pub const SESSION: Columns = Columns(1 << 1);
    /// The country.
    pub const COUNTRY: Columns = Columns(1 << 2);
    /// The device class.
    pub const DEVICE: Columns = Columns(1 << 3);
    /// The browser family.
    pub const BROWSER: Columns = Columns(1 << 4);
    /// The page path.
    pub const PATH: Columns = Columns(1 << 5);
    /// The referrer host of page views.
    pub const REFERRER: Columns = Columns(1 << 6);
    /// Everything else: utm, click coordinates and targets, scroll depths,
    /// form and field names, key kinds, submitted fields, custom events.
    pub const DETAIL: Columns = Columns(1 << 7);
    /// What daily roll-ups are computed from.
    pub const ROLLUP: Columns = Columns(0b111_1111);
    /// Every column: whole events.
    pub const ALL: Columns = Columns(0xff);

    /// Whether every column of `other` is in `self`.
    #[must_use]
    pub fn contains(self, other: Columns) -> bool {
        self.0 & other.0 == other.0
    }
}

impl std::ops::BitOr for Columns {
    type Output = Columns;
    fn bitor(self, o: Columns) -> Columns {
        Columns(self.0 | o.0)
    }
}

/// Which events a scan hands on. Its conditions also choose the blocks it
/// reads: a block whose summaries rule out every condition is skipped.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Predicate {
    /// Only events of one of these types (`None`: every type).
    pub types: Option<Vec<EventType>>,
    /// Only events of this visitor.
    pub visitor: Option<VisitorId>,
    /// Only events that pass these dashboard filters.
    pub filters: Filters,
}

impl Predicate {
    /// Every event.
    #[must_use]
    pub fn all() -> Predicate {
        Predicate::default()
    }

    /// The columns the predicate needs to decide.
    fn columns(&self) -> Columns {
        let f = &self.filters;
        let mut c = Columns::NONE;
        for (set, col) in [
            (self.visitor.is_some(), Columns::VISITOR),
            (f.country.is_some(), Columns::COUNTRY),
            (f.device.is_some(), Columns::DEVICE),
            (f.browser.is_some(), Columns::BROWSER),
            (f.page.is_some(), Columns::PATH),
            (f.referrer.is_some(), Columns::REFERRER),
            (f.expr.is_some(), Columns::ROLLUP),
        ] {
            if set {
                c = c | col;
            }
        }
        c
    }

    /// Whether a block may hold a matching event.
    fn may_match(&self, view: &BlockView<'_>) -> Result<bool, crate::codec::CodecError> {
        let f = &self.filters;
        if let Some(types) = &self.types {
            let mut any = false;
            for t in types {
                any |= view.may_have_type(*t)?;
            }
            if !any {
                return Ok(false);
            }
        }
        if let Some(v) = self.visitor
            && !view.may_have_visitor(v.0)?
        {
            return Ok(false);
        }
        if let Some(c) = f.country
            && !view.may_have_country(c)?
        {
            return Ok(false);
        }
        if let Some(d) = f.device
            && !view.may_have_device(d)?
        {
            return Ok(false);
        }
        if let Some(b) = &f.browser
            && !view.may_have_browser(b)?
        {
            return Ok(false);
        }
        if let Some(p) = &f.page
            && !view.may_have_path(p)?
        {
            return Ok(false);
        }
        if let Some(r) = &f.referrer {
            let stored = if r == crate::query::DIRECT {
                ""
            } else {
                r.as_str()
            };
            if !view.may_have_referrer(stored)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Whether an event passes.
    fn accepts(&self, e: &Event) -> bool {
        self.types
            .as_ref()
            .is_none_or(|t| t.contains(&e.kind.event_type()))
            && self.visitor.is_none_or(|v| v == e.visitor)
            && self.filters.accepts(e)
    }
}

/// What a scan read and skipped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ScanStats {
    /// Segments (days) in the reader's range.
    pub segments: u64,
    /// Blocks decoded.
    pub blocks_read: u64,
    /// Blocks skipped by their time range or summaries.
    pub blocks_skipped: u64,
    /// Events handed to the visitor.
    pub events: u64,
}

/// A snapshot of one domain's raw events over a time range.
pub struct Reader {
    shared: Arc<DomainShared>,
    segments: Vec<Arc<Segment>>,
    from: Timestamp,
    to: Timestamp,
}

impl std::fmt::Debug for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader")
            .field("segments", &self.segments.len())
            .field("from", &self.from)
            .field("to", &self.to)
            .finish()
    }
}

impl Domain {
    /// A reader of the visible raw events in `range`: inside the raw-event
    /// retention, not covered by a tombstone, flushed.
    pub fn reader(&self, range: super::TimeRange) -> Result<Reader, ReadError> {
        self.check_live()?;
        let now = self.clock().now();
        let from = range.from.max(self.shared.retention_cutoff(now));
        Ok(Reader {
            shared: Arc::clone(&self.shared),
            segments: self.shared.segments_in(from, range.to)?,
            from,
            to: range.to,
        })
    }
}

impl Reader {
    /// Days (segments) in the range.
    #[must_use]
    pub fn segments(&self) -> usize {
        self.segments.len()
    }

    /// Hands every visible event that passes `pred` to `visit`, segment by
    /// segment in day order and in storage order within a day, decoding
    /// only `columns` (and what `pred` needs). Stops when `visit` breaks.
    pub fn scan(
        &self,
        columns: Columns,
        pred: &Predicate,
        mut visit: impl FnMut(&Event) -> ControlFlow<()>,
    ) -> Result<ScanStats, ReadError> {
        let mut filter = self.shared.erased_filter();
        let mut need = columns | pred.columns();
        if self.shared.has_tombstones() {
            need = need | Columns::VISITOR | Columns::SESSION;
        }
        let mut stats = ScanStats {
            segments: self.segments.len() as u64,
            ..ScanStats::default()
        };
        let (from, to) = (self.from.0, self.to.0);
        for seg in &self.segments {
            let path = seg.path.clone();
            let codec = |e| StorageError::Codec {
                path: path.clone(),
                source: e,
            };
            let mut stop = false;
            seg.for_each_block(|_, bytes| {
                if stop {
                    return Ok(());
                }
                let view = BlockView::parse(bytes).map_err(codec)?;
                if view.is_empty()
                    || view.max_ts() < from
                    || view.min_ts() >= to
                    || !pred.may_match(&view).map_err(codec)?
                {
                    stats.blocks_skipped += 1;
                    return Ok(());
                }
                stats.blocks_read += 1;
                for e in decode(&view, need).map_err(codec)? {
                    if e.ts.0 < from || e.ts.0 >= to || !pred.accepts(&e) || filter.erased(&e) {
                        continue;
                    }
                    stats.events += 1;
                    if visit(&e).is_break() {
                        stop = true;
                        break;
                    }
                }
                Ok(())
            })?;
            if stop {
                break;
            }
        }
        Ok(stats)
    }
}

/// The events of a block with only the `need`ed columns decoded.
fn decode(view: &BlockView<'_>, need: Columns) -> Result<Vec<Event>, crate::codec::CodecError> {
    if need.contains(Columns::DETAIL) {
        return view.events();
    }
    let ts = view.timestamps()?;
    let types = view.types()?;
    let n = ts.len();
    let visitors = if need.contains(Columns::VISITOR) {
        view.visitors()?
    } else {
        vec![0; n]
    };
    let sessions = if need.contains(Columns::SESSION) {
        view.sessions()?
    } else {
        vec![0; n]
    };
    let countries = if need.contains(Columns::COUNTRY) {
        view.countries()?
    } else {
        Vec::new()
    };
    let devices = if need.contains(Columns::DEVICE) {
        view.devices()?
    } else {
        Vec::new()
    };
    let browsers = if need.contains(Columns::BROWSER) {
        Some(view.browsers()?)
    } else {
        None
    };
    let paths = if need.contains(Columns::PATH) {
        Some(view.paths()?)
    } else {
        None
    };
    let referrers = if need.contains(Columns::REFERRER) {
        Some(view.referrers()?)
    } else {
        None
    };
    let short = |column| crate::codec::CodecError::Truncated { column };
    let mut pv = 0usize;
    let mut out = Vec::with_capacity(n);
    for (i, &t) in ts.iter().enumerate() {
        let ty = *types.get(i).ok_or_else(|| short("type"))?;
        let kind = match ty {
            EventType::PageView => {
                let referrer = match &referrers {
                    Some(r) => r
                        .ids
                        .get(pv)
                        .and_then(|&id| r.dict.get(id as usize))
                        .cloned()
                        .ok_or_else(|| short("referrer"))?,
                    None => Text::empty(),
                };
                pv += 1;
                EventKind::PageView {
                    referrer,
                    utm: Text::empty(),
                }
            }
            other => placeholder(other),
        };
        let text_at = |col: &Option<crate::codec::TextColumn>, name| match col {
            Some(c) => c
                .ids
                .get(i)
                .and_then(|&id| c.dict.get(id as usize))
                .cloned()
                .ok_or_else(|| short(name)),
            None => Ok(Text::empty()),
        };
        out.push(Event {
            ts: Timestamp(t),
            visitor: VisitorId(visitors.get(i).copied().unwrap_or(0)),
            session: SessionId(sessions.get(i).copied().unwrap_or(0)),
            country: countries.get(i).copied().unwrap_or_default(),
            device: devices.get(i).copied().unwrap_or_default(),
            browser: text_at(&browsers, "browser")?,
            path: text_at(&paths, "path")?,
            kind,
        });
    }
    Ok(out)
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
