//! Form analytics and submitted data, from raw events.
//!
//! Keystroke events carry no content, only their kind, so these numbers are
//! computed without knowing anything the visitor typed. The only values
//! ever returned are those of submitted, non-sensitive fields
//! ([`Domain::submissions`]).

use super::DayRange;
use crate::domain::reader::{Columns, Predicate};
use crate::domain::{Domain, TimeRange};
use crate::error::ReadError;
use crate::event::{Event, EventKind, EventType, KeyKind, SessionId, SubmittedField};
use crate::text::Text;
use crate::time::Timestamp;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};

/// Analytics of one field of one form.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FieldReport {
    /// The field's name.
    pub field: String,
    /// Times the field got the focus.
    pub interactions: u64,
    /// Total time between focus and blur, in milliseconds.
    pub time_spent_ms: u64,
    /// Focus-to-first-keystroke time, summed over focuses with a keystroke.
    pub hesitation_ms: u64,
    /// Focuses followed by a keystroke (the divisor of `hesitation_ms`).
    pub hesitations: u64,
    /// Keystrokes.
    pub keystrokes: u64,
    /// Delete keystrokes.
    pub corrections: u64,
    /// Focuses after the first one within a visit.
    pub refocuses: u64,
    /// Visits that started the form, never submitted it, and touched this
    /// field last.
    pub drop_offs: u64,
}

impl FieldReport {
    /// Mean hesitation in milliseconds.
    #[must_use]
    pub fn avg_hesitation_ms(&self) -> u64 {
        self.hesitation_ms
            .checked_div(self.hesitations)
            .unwrap_or(0)
    }
}

/// Analytics of one form.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct FormReport {
    /// The form's name.
    pub form: String,
    /// Times the form was shown.
    pub views: u64,
    /// Visits that interacted with a field.
    pub starters: u64,
    /// Submit events.
    pub submissions: u64,
    /// Visits that started and submitted.
    pub converted: u64,
    /// `converted / starters`.
    pub conversion: f64,
    /// `1 - conversion` (0 without starters).
    pub abandonment: f64,
    /// Per field, by name.
    pub fields: Vec<FieldReport>,
}

/// One submitted form: the only place field values appear.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Submission {
    /// When.
    pub ts: Timestamp,
    /// Which visit.
    pub session: SessionId,
    /// The form.
    pub form: Text,
    /// The submitted, non-sensitive fields.
    pub fields: Vec<SubmittedField>,
}

fn form_of(e: &Event) -> Option<&str> {
    match &e.kind {
        EventKind::FormView { form }
        | EventKind::FieldFocus { form, .. }
        | EventKind::Keystroke { form, .. }
        | EventKind::FieldBlur { form, .. }
        | EventKind::FormSubmit { form, .. } => Some(form.as_str()),
        _ => None,
    }
}

/// What form analytics decode: the visit and the form events' form and
/// field names and key kinds (not the submitted fields).
pub const FORM_COLUMNS: Columns = Columns::SESSION.union(Columns::FORM);

/// What `submissions()` decodes: the visit and the whole form events,
/// submitted fields included.
pub const SUBMISSION_COLUMNS: Columns = Columns::SESSION.union(Columns::DETAIL);

/// The event types form analytics read: blocks without any are skipped.
pub const FORM_TYPES: [EventType; 5] = [
    EventType::FormView,
    EventType::FieldFocus,
    EventType::Keystroke,
    EventType::FieldBlur,
    EventType::FormSubmit,
];

fn range_of(days: DayRange) -> TimeRange {
    TimeRange::new(days.first.start(), days.last.end())
}

impl Domain {
    /// Form analytics for the forms used in a range of days (one form if
    /// `form` is given), sorted by form name.
    pub fn form_analytics(
        &self,
        days: DayRange,
        form: Option<&str>,
    ) -> Result<Vec<FormReport>, ReadError> {
        let mut by_session: HashMap<SessionId, Vec<Event>, crate::hash::FoldState> =
            HashMap::default();
        let mut reports: BTreeMap<String, FormReport> = BTreeMap::new();
        let mut fields = Fields::default();
        let pred = Predicate {
            types: Some(FORM_TYPES.to_vec()),
            ..Predicate::default()
        };
        self.scan_where(range_of(days), FORM_COLUMNS, &pred, |e| {
            let Some(f) = form_of(e) else { return };
            if form.is_some_and(|want| want != f) {
                return;
            }
            if !reports.contains_key(f) {
                reports.insert(
                    f.to_string(),
                    FormReport {
                        form: f.to_string(),
                        ..FormReport::default()
                    },
                );
            }
            let Some(r) = reports.get_mut(f) else { return };
            match &e.kind {
                EventKind::FormView { .. } => r.views += 1,
                EventKind::FormSubmit { .. } => r.submissions += 1,
                EventKind::Keystroke { field, key, .. } => {
                    let fr = fields.entry(f, field.as_str());
                    fr.keystrokes += 1;
                    if *key == KeyKind::Delete {
                        fr.corrections += 1;
                    }
                }
                EventKind::FieldFocus { field, .. } => {
                    fields.entry(f, field.as_str()).interactions += 1;
                }
                _ => {}
            }
            if e.session != SessionId(0) {
                by_session.entry(e.session).or_default().push(e.clone());
            }
        })?;
        for events in by_session.values_mut() {
            events.sort_by_key(|e| e.ts);
            session_form_stats(events, &mut reports, &mut fields);
        }
        for (f, by_name) in fields.0 {
            for (name, mut fr) in by_name {
                fr.field = name;
                if let Some(r) = reports.get_mut(&f) {
                    r.fields.push(fr);
                }
            }
        }
        Ok(reports
            .into_values()
            .map(|mut r| {
                if r.starters > 0 {
                    r.conversion = r.converted as f64 / r.starters as f64;
                    r.abandonment = 1.0 - r.conversion;
                }
                r
            })
            .collect())
    }

    /// Submitted forms in a range of days (one form if `form` is given),
    /// oldest first. Values exist only here, and only for fields that were
    /// not sensitive.
    pub fn submissions(
        &self,
        days: DayRange,
        form: Option<&str>,
    ) -> Result<Vec<Submission>, ReadError> {
        let mut out = Vec::new();
        let pred = Predicate {
            types: Some(vec![EventType::FormSubmit]),
            ..Predicate::default()
        };
        self.scan_where(range_of(days), SUBMISSION_COLUMNS, &pred, |e| {
            if let EventKind::FormSubmit { form: f, fields } = &e.kind
                && form.is_none_or(|want| want == f.as_str())
            {
                out.push(Submission {
                    ts: e.ts,
                    session: e.session,
                    form: f.clone(),
                    fields: fields.clone(),
                });
            }
        })?;
        out.sort_by_key(|s| s.ts);
        Ok(out)
    }
}

/// The field reports being computed, by form then field name (in name
/// order, as the report lists them), found without allocating a key.
#[derive(Default)]
struct Fields(BTreeMap<String, BTreeMap<String, FieldReport>>);

impl Fields {
    fn get_mut(&mut self, form: &str, field: &str) -> Option<&mut FieldReport> {
        self.0.get_mut(form)?.get_mut(field)
    }

    fn entry(&mut self, form: &str, field: &str) -> &mut FieldReport {
        if !self.0.contains_key(form) {
            self.0.insert(form.to_string(), BTreeMap::new());
        }
        let Some(by_name) = self.0.get_mut(form) else {
            unreachable!("inserted above")
        };
        if !by_name.contains_key(field) {
            by_name.insert(field.to_string(), FieldReport::default());
        }
        by_name
            .get_mut(field)
            .unwrap_or_else(|| unreachable!("inserted above"))
    }
}

/// Adds one visit's form events (sorted by time) to the reports.
fn session_form_stats(
    events: &[Event],
    reports: &mut BTreeMap<String, FormReport>,
    fields: &mut Fields,
) {
    let mut started: HashSet<&str> = HashSet::new();
    let mut submitted: HashSet<&str> = HashSet::new();
    let mut last_touched: HashMap<&str, &str> = HashMap::new();
    let mut focus_count: HashMap<(&str, &str), u64> = HashMap::new();
    // Open focus per form: (field, focus time, first keystroke seen).
    let mut open: HashMap<&str, (&str, i64, bool)> = HashMap::new();
    for e in events {
        match &e.kind {
            EventKind::FieldFocus { form, field } => {
                started.insert(form.as_str());
                last_touched.insert(form.as_str(), field.as_str());
                let n = focus_count
                    .entry((form.as_str(), field.as_str()))
                    .or_default();
                *n += 1;
                if *n > 1
                    && let Some(fr) = fields.get_mut(form.as_str(), field.as_str())
                {
                    fr.refocuses += 1;
                }
                open.insert(form.as_str(), (field.as_str(), e.ts.0, false));
            }
            EventKind::Keystroke { form, field, .. } => {
                started.insert(form.as_str());
                last_touched.insert(form.as_str(), field.as_str());
                if let Some((f, t0, seen)) = open.get_mut(form.as_str())
                    && *f == field.as_str()
                    && !*seen
                {
                    *seen = true;
                    if let Some(fr) = fields.get_mut(form.as_str(), field.as_str()) {
                        fr.hesitation_ms += u64::try_from(e.ts.0.saturating_sub(*t0)).unwrap_or(0);
                        fr.hesitations += 1;
                    }
                }
            }
            EventKind::FieldBlur { form, field } => {
                last_touched.insert(form.as_str(), field.as_str());
                if let Some((f, t0, _)) = open.get(form.as_str())
                    && *f == field.as_str()
                {
                    if let Some(fr) = fields.get_mut(form.as_str(), field.as_str()) {
                        fr.time_spent_ms += u64::try_from(e.ts.0.saturating_sub(*t0)).unwrap_or(0);
                    }
                    open.remove(form.as_str());
                }
            }
            EventKind::FormSubmit { form, .. } => {
                submitted.insert(form.as_str());
            }
            _ => {}
        }
    }
    for form in started {
        let Some(r) = reports.get_mut(form) else {
            continue;
        };
        r.starters += 1;
        if submitted.contains(form) {
            r.converted += 1;
        } else if let Some(field) = last_touched.get(form)
            && let Some(fr) = fields.get_mut(form, field)
        {
            fr.drop_offs += 1;
        }
    }
}
