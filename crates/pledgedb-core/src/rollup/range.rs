//! Which days and which events a dashboard question covers.

use super::DIRECT;
use super::filter::FilterExpr;
use crate::event::{Country, Device, Event, EventKind};
use crate::time::Day;
use serde::Serialize;

/// An inclusive range of UTC days.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct DayRange {
    /// First day included.
    pub first: Day,
    /// Last day included.
    pub last: Day,
}

impl DayRange {
    /// `first..=last`.
    #[must_use]
    pub fn new(first: Day, last: Day) -> Self {
        DayRange { first, last }
    }

    /// The `n` days ending with `last`.
    #[must_use]
    pub fn last_n(last: Day, n: u32) -> Self {
        let back = i32::try_from(n.max(1) - 1).unwrap_or(i32::MAX);
        DayRange {
            first: last.plus(-back),
            last,
        }
    }

    /// Days in the range.
    pub fn days(&self) -> impl Iterator<Item = Day> + use<> {
        let (a, b) = (self.first.0, self.last.0);
        (a..=b).map(Day)
    }
}

/// Conditions on events. A query with filters is answered from raw events.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Filters {
    /// Only events from this country.
    pub country: Option<Country>,
    /// Only events from this device class.
    pub device: Option<Device>,
    /// Only events from this browser family.
    pub browser: Option<String>,
    /// Only events on this page path.
    pub page: Option<String>,
    /// Only page views with this referrer host (`(direct)` for none).
    pub referrer: Option<String>,
    /// Only events this expression accepts (several values, negation,
    /// substrings, and/or/not: see [`filter`](super::filter)).
    pub expr: Option<FilterExpr>,
}

impl Filters {
    /// Whether no condition is set.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self == &Filters::default()
    }

    /// Whether an event passes.
    #[must_use]
    pub fn accepts(&self, e: &Event) -> bool {
        self.country.is_none_or(|c| c == e.country)
            && self.device.is_none_or(|d| d == e.device)
            && self
                .browser
                .as_deref()
                .is_none_or(|b| b == e.browser.as_str())
            && self.page.as_deref().is_none_or(|p| p == e.path.as_str())
            && self.referrer.as_deref().is_none_or(|r| match &e.kind {
                EventKind::PageView { referrer, .. } => {
                    if referrer.is_empty() {
                        r == DIRECT
                    } else {
                        r == referrer.as_str()
                    }
                }
                _ => false,
            })
            && self.expr.as_ref().is_none_or(|x| x.accepts(e))
    }
}
