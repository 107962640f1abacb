//! Session replay and click heatmaps, from raw events.
//!
//! A replay shows each keystroke as one mask character and no content;
//! field values appear only at the submit event, and only for fields that
//! were not sensitive.

use super::DayRange;
use super::visit::{Visit, Visits};
use crate::domain::reader::{AnyOf, Columns, Predicate};
use crate::domain::{Domain, TimeRange};
use crate::error::ReadError;
use crate::event::{Country, Device, EventKind, EventType, PropValue, SessionId, VisitorId};
use crate::text::Text;
use crate::time::Timestamp;
use serde::Serialize;
use std::collections::BTreeMap;

/// The character that stands for every keystroke in a replay.
pub const KEY_MASK: char = '•';

/// One step of a replay.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReplayStep {
    /// When.
    pub ts: Timestamp,
    /// Milliseconds since the first step.
    pub offset_ms: i64,
    /// What kind of event.
    pub kind: EventType,
    /// The page.
    pub path: Text,
    /// A human-readable description; a keystroke is [`KEY_MASK`].
    pub detail: String,
    /// The event itself, for a player (in JSON `{"type": "click", "x": ..}`):
    /// a keystroke carries only its [`KeyKind`](crate::KeyKind), a submit
    /// only its stored (non-sensitive) fields.
    pub action: EventKind,
}

/// One visit, summarised.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SessionSummary {
    /// The session id.
    pub session: SessionId,
    /// The visitor.
    pub visitor: VisitorId,
    /// First event.
    pub start: Timestamp,
    /// Last event.
    pub end: Timestamp,
    /// Page views.
    pub pageviews: u64,
    /// All events.
    pub events: u64,
    /// `end - start`, in milliseconds.
    pub duration_ms: u64,
    /// Exactly one page view.
    pub bounced: bool,
    /// Page of the first page view (of the first event if none).
    pub entry_page: Text,
    /// Page of the last event.
    pub exit_page: Text,
    /// Country of the first page view (of the first event if none).
    pub country: Country,
    /// Device of the first page view (of the first event if none).
    pub device: Device,
}

impl SessionSummary {
    /// The summary of one visit (query/visit.rs defines it).
    #[must_use]
    pub fn of(v: &Visit) -> SessionSummary {
        let l = v.landing();
        SessionSummary {
            session: v.session,
            visitor: v.visitor,
            start: v.start,
            end: v.end,
            pageviews: v.pageviews,
            events: v.events,
            duration_ms: v.duration_ms(),
            bounced: v.bounced(),
            entry_page: l.path.clone(),
            exit_page: v.exit_page.clone(),
            country: l.country,
            device: l.device,
        }
    }
}

/// What `sessions()` decodes: what a visit is made of, no detail.
pub const SESSION_COLUMNS: Columns = Columns::ROLLUP;

/// What `replay()` decodes: every column (a step describes its detail).
pub const REPLAY_COLUMNS: Columns = Columns::ALL;

/// What `heatmap()` decodes: the page and the clicks' coordinates and
/// targets (not the rest of the detail).
pub const HEATMAP_COLUMNS: Columns = Columns::PATH.union(Columns::CLICK);

/// Clicks in one cell of a heatmap. Edges are 64-bit: the cell of a click
/// at `i32::MIN` may start below it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct HeatCell {
    /// Left edge of the cell, in pixels.
    pub x: i64,
    /// Top edge of the cell, in pixels.
    pub y: i64,
    /// Clicks inside.
    pub clicks: u64,
}

fn describe(kind: &EventKind) -> String {
    match kind {
        EventKind::PageView { referrer, utm } => {
            let mut s = String::new();
            if !referrer.is_empty() {
                s.push_str("from ");
                s.push_str(referrer.as_str());
            }
            if !utm.is_empty() {
                if !s.is_empty() {
                    s.push(' ');
                }
                s.push_str(utm.as_str());
            }
            s
        }
        EventKind::Click { x, y, target } => format!("({x}, {y}) {target}"),
        EventKind::Scroll { depth } => format!("{depth}%"),
        EventKind::FormView { form } => form.to_string(),
        EventKind::FieldFocus { form, field } | EventKind::FieldBlur { form, field } => {
            format!("{form}.{field}")
        }
        EventKind::Keystroke { form, field, .. } => format!("{form}.{field} {KEY_MASK}"),
        EventKind::FormSubmit { form, fields } => {
            let values: Vec<String> = fields
                .iter()
                .map(|f| format!("{}={}", f.name, f.value))
                .collect();
            format!("{form}: {}", values.join(", "))
        }
        EventKind::Custom { name, props } => {
            let values: Vec<String> = props
                .iter()
                .map(|(k, v)| match v {
                    PropValue::Bool(b) => format!("{k}={b}"),
                    PropValue::Int(i) => format!("{k}={i}"),
                    PropValue::Float(f) => format!("{k}={f}"),
                    PropValue::Text(t) => format!("{k}={t}"),
                })
                .collect();
            format!("{name} {}", values.join(", "))
                .trim_end()
                .to_string()
        }
    }
}

impl Domain {
    /// The ordered events of one visit, as replay steps. Empty if the
    /// session is unknown, erased or expired.
    pub fn replay(&self, session: SessionId) -> Result<Vec<ReplayStep>, ReadError> {
        if session == SessionId(0) {
            return Err(ReadError::Invalid(
                "the anonymous session id 0 names no visit".into(),
            ));
        }
        let mut events = Vec::new();
        let pred = Predicate {
            session: Some(session),
            ..Predicate::default()
        };
        self.scan_where(TimeRange::all(), REPLAY_COLUMNS, &pred, |e| {
            events.push(e.clone());
        })?;
        events.sort_by_key(|e| e.ts);
        let t0 = events.first().map_or(0, |e| e.ts.0);
        Ok(events
            .into_iter()
            .map(|e| ReplayStep {
                ts: e.ts,
                offset_ms: e.ts.0.saturating_sub(t0),
                kind: e.kind.event_type(),
                detail: describe(&e.kind),
                path: e.path,
                action: e.kind,
            })
            .collect())
    }

    /// The visits of a range of days, most recent first, at most `limit`.
    pub fn sessions(&self, days: DayRange, limit: usize) -> Result<Vec<SessionSummary>, ReadError> {
        let mut visits = Visits::new();
        self.scan_where(
            TimeRange::new(days.first.start(), days.last.end()),
            SESSION_COLUMNS,
            &Predicate::all(),
            |e| {
                visits.add(e);
            },
        )?;
        let mut v: Vec<SessionSummary> = visits
            .into_visits()
            .map(|v| SessionSummary::of(&v))
            .collect();
        v.sort_by(|a, b| b.start.cmp(&a.start).then(a.session.cmp(&b.session)));
        v.truncate(limit);
        Ok(v)
    }

    /// Clicks on one page per cell of `cell_px` by `cell_px` pixels, most
    /// clicked first.
    pub fn heatmap(
        &self,
        days: DayRange,
        page: &str,
        cell_px: u32,
    ) -> Result<Vec<HeatCell>, ReadError> {
        if cell_px == 0 || cell_px > 10_000 {
            return Err(ReadError::Invalid(
                "cell size must be 1 to 10000 pixels".into(),
            ));
        }
        // Coordinates come from trackers: any i32. In 64 bits the cell edge
        // of every one of them is exact.
        let cell = i64::from(cell_px);
        let edge = |v: i32| i64::from(v).div_euclid(cell) * cell;
        let mut cells: BTreeMap<(i64, i64), u64> = BTreeMap::new();
        self.clicks_on(days, page, |x, y, _| {
            *cells.entry((edge(x), edge(y))).or_default() += 1;
        })?;
        let mut v: Vec<HeatCell> = cells
            .into_iter()
            .map(|((x, y), clicks)| HeatCell { x, y, clicks })
            .collect();
        v.sort_by(|a, b| b.clicks.cmp(&a.clicks).then((a.y, a.x).cmp(&(b.y, b.x))));
        Ok(v)
    }

    /// The most clicked targets (element descriptions) on one page, most
    /// clicked first, at most `limit`: the list beside a heatmap. Reads what
    /// the heatmap reads.
    pub fn click_targets(
        &self,
        days: DayRange,
        page: &str,
        limit: usize,
    ) -> Result<Vec<(Text, u64)>, ReadError> {
        let mut counts: BTreeMap<Text, u64> = BTreeMap::new();
        self.clicks_on(days, page, |_, _, target| {
            *counts.entry(target.clone()).or_default() += 1;
        })?;
        let mut v: Vec<(Text, u64)> = counts.into_iter().collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        v.truncate(limit);
        Ok(v)
    }

    /// Calls `f` with the coordinates and target of every click on `page`
    /// in `days`: what the heatmap and its list of targets read. Blocks
    /// without a click or without the page are skipped.
    fn clicks_on(
        &self,
        days: DayRange,
        page: &str,
        mut f: impl FnMut(i32, i32, &Text),
    ) -> Result<(), ReadError> {
        let pred = Predicate {
            types: Some(vec![EventType::Click]),
            any_of: vec![AnyOf::Path(vec![page.to_string()])],
            ..Predicate::default()
        };
        self.reader(TimeRange::new(days.first.start(), days.last.end()))?
            .scan_batches(HEATMAP_COLUMNS, &pred, |b| {
                for &r in b.rows() {
                    if let Some((x, y, target)) = b.click(r) {
                        f(x, y, target);
                    }
                }
                std::ops::ControlFlow::Continue(())
            })?;
        Ok(())
    }
}
