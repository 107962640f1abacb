//! What a scan reads ([`Columns`]) and which events it hands on
//! ([`Predicate`]): the block-level test that skips whole blocks, and the
//! per-event test that the old event-by-event path and the expression
//! filters use.

use crate::codec::BlockView;
use crate::event::{Country, Device, EventType, SessionId, VisitorId};
use crate::rollup::Filters;

/// Which columns a scan decodes. Combine with `|`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Columns(u16);

impl Columns {
    /// No column.
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
    /// The timestamp. [`Reader::scan`](super::Reader::scan) always reads
    /// it (an event has a time); a batch scan reads it when asked, or when
    /// a block reaches past the reader's range.
    pub const TIME: Columns = Columns(1 << 8);
    /// The event type. [`Reader::scan`](super::Reader::scan) always reads
    /// it; a batch scan reads it when asked, or when the predicate names
    /// types.
    pub const TYPE: Columns = Columns(1 << 9);
    /// The coordinates and target of clicks (a part of [`Columns::DETAIL`]
    /// that a heatmap reads alone).
    pub const CLICK: Columns = Columns(1 << 10);
    /// The form and field names and key kinds of form events (a part of
    /// [`Columns::DETAIL`]: submitted fields are not in it).
    pub const FORM: Columns = Columns(1 << 11);
    /// What daily roll-ups are computed from.
    pub const ROLLUP: Columns = Columns(0b11_0111_1111);
    /// Every column: whole events.
    pub const ALL: Columns = Columns(0xfff);

    /// The columns of both (`|` in a constant).
    #[must_use]
    pub const fn union(self, other: Columns) -> Columns {
        Columns(self.0 | other.0)
    }

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
    /// Only events of this visitor. Segments whose visitor index does not
    /// name the visitor are not read at all.
    pub visitor: Option<VisitorId>,
    /// Only events of this visit.
    pub session: Option<SessionId>,
    /// Only events that pass these dashboard filters.
    pub filters: Filters,
    /// Only events whose value is one of a set: each entry is one more
    /// condition (SQL's `path IN (...)`).
    pub any_of: Vec<AnyOf>,
}

/// A condition "the event's value is one of these". An empty set matches
/// nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AnyOf {
    /// The page path.
    Path(Vec<String>),
    /// The country.
    Country(Vec<Country>),
    /// The device class.
    Device(Vec<Device>),
    /// The browser family.
    Browser(Vec<String>),
    /// The stored referrer host of a page view (`""`: none); an event that
    /// is not a page view never matches.
    Referrer(Vec<String>),
}

impl AnyOf {
    fn column(&self) -> Columns {
        match self {
            AnyOf::Path(_) => Columns::PATH,
            AnyOf::Country(_) => Columns::COUNTRY,
            AnyOf::Device(_) => Columns::DEVICE,
            AnyOf::Browser(_) => Columns::BROWSER,
            AnyOf::Referrer(_) => Columns::REFERRER,
        }
    }

    fn may_match(&self, view: &BlockView<'_>) -> Result<bool, crate::codec::CodecError> {
        fn any<T>(
            values: &[T],
            mut f: impl FnMut(&T) -> Result<bool, crate::codec::CodecError>,
        ) -> Result<bool, crate::codec::CodecError> {
            for v in values {
                if f(v)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        match self {
            AnyOf::Path(v) => any(v, |p| view.may_have_path(p)),
            AnyOf::Country(v) => any(v, |c| view.may_have_country(*c)),
            AnyOf::Device(v) => any(v, |d| view.may_have_device(*d)),
            AnyOf::Browser(v) => any(v, |b| view.may_have_browser(b)),
            AnyOf::Referrer(v) => any(v, |r| view.may_have_referrer(r)),
        }
    }
}

impl Predicate {
    /// Every event.
    #[must_use]
    pub fn all() -> Predicate {
        Predicate::default()
    }

    /// The columns the predicate needs to decide.
    pub(super) fn columns(&self) -> Columns {
        let f = &self.filters;
        let mut c = Columns::NONE;
        for (set, col) in [
            (self.types.is_some(), Columns::TYPE),
            (self.visitor.is_some(), Columns::VISITOR),
            (self.session.is_some(), Columns::SESSION),
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
        for a in &self.any_of {
            c = c | a.column();
        }
        c
    }

    /// Whether a block may hold a matching event.
    pub(super) fn may_match(&self, view: &BlockView<'_>) -> Result<bool, crate::codec::CodecError> {
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
        // Sessions have no summary of their own: the identity column is
        // decoded (cheap next to a whole block) to rule the block out.
        if let Some(s) = self.session
            && !view.sessions()?.contains(&s.0)
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
            let stored = if r == crate::rollup::DIRECT {
                ""
            } else {
                r.as_str()
            };
            if !view.may_have_referrer(stored)? {
                return Ok(false);
            }
        }
        for a in &self.any_of {
            if !a.may_match(view)? {
                return Ok(false);
            }
        }
        Ok(true)
    }
}
