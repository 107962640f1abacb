//! The virtual tables: their columns, and the rows the raw-event tables
//! make of one stored event.
//!
//! No table has a column that could hold an IP address or a value the
//! visitor did not submit: rows are built from the stored
//! [`Event`](pledgedb_core::Event), which has neither.

use crate::error::Result;
use crate::value::{ColumnType, Value};
use pledgedb_core::{Event, EventKind, PropValue, SessionId, VisitorId};

/// How a text column is compared with text literals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sem {
    /// Plain text (or not text).
    Plain,
    /// A UTC day `YYYY-MM-DD`: literals are checked and normalised.
    Day,
    /// A timestamp `YYYY-MM-DDTHH:MM:SS.mmmZ`: literals are normalised.
    Ts,
}

/// Where a column's value comes from, for the raw-event tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Field {
    Ts,
    Day,
    Type,
    Visitor,
    Session,
    Path,
    Country,
    Device,
    Browser,
    Referrer,
    Utm,
    X,
    Y,
    Target,
    Depth,
    Name,
    Props,
    Form,
    SubmittedName,
    SubmittedValue,
    /// Computed by the table's own producer (sessions, forms, daily).
    Derived,
}

/// One column of a virtual table.
#[derive(Debug)]
pub(crate) struct ColDef {
    pub name: &'static str,
    pub ty: ColumnType,
    pub sem: Sem,
    /// Predicates on it choose the days read (scan pruning).
    pub range: bool,
    /// Only usable in `WHERE`, to choose the days analysed; not a column of
    /// the rows (`forms`, `form_fields`).
    pub pseudo: bool,
    pub field: Field,
    pub doc: &'static str,
}

/// How a table's rows are made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Zero or more rows per stored event, from a scan.
    Scan,
    /// One row per visit, grouped from a scan.
    Sessions,
    /// One row per form, from `Domain::form_analytics`.
    Forms,
    /// One row per form field, from `Domain::form_analytics`.
    FormFields,
    /// One row per day, from the roll-ups.
    Daily,
}

/// A virtual table.
#[derive(Debug)]
pub(crate) struct TableDef {
    pub name: &'static str,
    pub doc: &'static str,
    pub kind: Kind,
    pub cols: &'static [ColDef],
}

impl TableDef {
    /// The index of a column (case-insensitive).
    pub(crate) fn find(&self, name: &str) -> Option<usize> {
        self.cols
            .iter()
            .position(|c| c.name.eq_ignore_ascii_case(name))
    }

    /// The column names for error messages (pseudo columns included).
    pub(crate) fn column_list(&self) -> String {
        let names: Vec<&str> = self.cols.iter().map(|c| c.name).collect();
        names.join(", ")
    }

    /// Whether an event gives rows in this table.
    fn accepts(&self, e: &Event) -> bool {
        match self.name {
            "pageviews" => matches!(e.kind, EventKind::PageView { .. }),
            "clicks" => matches!(e.kind, EventKind::Click { .. }),
            "scrolls" => matches!(e.kind, EventKind::Scroll { .. }),
            "custom_events" => matches!(e.kind, EventKind::Custom { .. }),
            "form_submissions" => matches!(e.kind, EventKind::FormSubmit { .. }),
            _ => true,
        }
    }
}

const fn col(name: &'static str, ty: ColumnType, field: Field, doc: &'static str) -> ColDef {
    let (sem, range) = match field {
        Field::Ts => (Sem::Ts, true),
        Field::Day => (Sem::Day, true),
        _ => (Sem::Plain, false),
    };
    ColDef {
        name,
        ty,
        sem,
        range,
        pseudo: false,
        field,
        doc,
    }
}

const fn derived(name: &'static str, ty: ColumnType, doc: &'static str) -> ColDef {
    col(name, ty, Field::Derived, doc)
}

const fn pseudo_day(doc: &'static str) -> ColDef {
    ColDef {
        name: "day",
        ty: ColumnType::Text,
        sem: Sem::Day,
        range: true,
        pseudo: true,
        field: Field::Day,
        doc,
    }
}

use ColumnType::{Bool, Float, Int, Text};

const TS: ColDef = col(
    "ts",
    Text,
    Field::Ts,
    "when, RFC 3339 UTC with milliseconds (2026-03-02T13:05:09.000Z)",
);
const DAY: ColDef = col("day", Text, Field::Day, "UTC day of ts (YYYY-MM-DD)");
const VISITOR: ColDef = col(
    "visitor",
    Text,
    Field::Visitor,
    "pseudonymous visitor id (16 hex digits, keyed hash); NULL when kept without identity",
);
const SESSION: ColDef = col(
    "session",
    Text,
    Field::Session,
    "visit id (16 hex digits); NULL when kept without identity",
);
const PATH: ColDef = col("path", Text, Field::Path, "page path, without query string");
const COUNTRY: ColDef = col(
    "country",
    Text,
    Field::Country,
    "ISO 3166-1 alpha-2 code from the IP, which was then dropped; ZZ if unknown",
);
const DEVICE: ColDef = col(
    "device",
    Text,
    Field::Device,
    "desktop, mobile, tablet, bot or unknown",
);
const BROWSER: ColDef = col("browser", Text, Field::Browser, "browser family");

/// Every table, in the order `.tables` lists them.
pub(crate) static TABLES: &[TableDef] = &[
    TableDef {
        name: "events",
        doc: "every stored event, one row each",
        kind: Kind::Scan,
        cols: &[
            TS,
            DAY,
            col(
                "type",
                Text,
                Field::Type,
                "page_view, click, scroll, form_view, field_focus, keystroke, field_blur, form_submit or custom",
            ),
            VISITOR,
            SESSION,
            PATH,
            COUNTRY,
            DEVICE,
            BROWSER,
        ],
    },
    TableDef {
        name: "pageviews",
        doc: "page views, one row each",
        kind: Kind::Scan,
        cols: &[
            TS,
            DAY,
            VISITOR,
            SESSION,
            PATH,
            col(
                "referrer",
                Text,
                Field::Referrer,
                "referring host; NULL for direct traffic",
            ),
            col(
                "utm",
                Text,
                Field::Utm,
                "utm_* parameters as k=v&k=v; NULL if none",
            ),
            COUNTRY,
            DEVICE,
            BROWSER,
        ],
    },
    TableDef {
        name: "clicks",
        doc: "clicks, one row each",
        kind: Kind::Scan,
        cols: &[
            TS,
            DAY,
            VISITOR,
            SESSION,
            PATH,
            col("x", Int, Field::X, "horizontal position, CSS pixels"),
            col("y", Int, Field::Y, "vertical position, CSS pixels"),
            col(
                "target",
                Text,
                Field::Target,
                "the clicked element (e.g. a CSS selector)",
            ),
            COUNTRY,
            DEVICE,
            BROWSER,
        ],
    },
    TableDef {
        name: "scrolls",
        doc: "scroll-depth events, one row each",
        kind: Kind::Scan,
        cols: &[
            TS,
            DAY,
            VISITOR,
            SESSION,
            PATH,
            col(
                "depth",
                Int,
                Field::Depth,
                "deepest point reached, percent (0-100)",
            ),
            COUNTRY,
            DEVICE,
            BROWSER,
        ],
    },
    TableDef {
        name: "custom_events",
        doc: "custom events, one row each",
        kind: Kind::Scan,
        cols: &[
            TS,
            DAY,
            VISITOR,
            SESSION,
            PATH,
            col("name", Text, Field::Name, "the event's name"),
            col(
                "props",
                Text,
                Field::Props,
                "its properties as a JSON object",
            ),
            COUNTRY,
            DEVICE,
            BROWSER,
        ],
    },
    TableDef {
        name: "sessions",
        doc: "visits, one row each, grouped from the events of the days read \
              (plus one day either side, so visits crossing midnight are whole); \
              events kept without identity belong to no visit",
        kind: Kind::Sessions,
        cols: &[
            derived("session", Text, "visit id (16 hex digits)"),
            derived("visitor", Text, "pseudonymous visitor id (16 hex digits)"),
            col(
                "day",
                Text,
                Field::Day,
                "UTC day the visit started (YYYY-MM-DD)",
            ),
            col(
                "start_ts",
                Text,
                Field::Ts,
                "first event, RFC 3339 UTC with milliseconds",
            ),
            derived("end_ts", Text, "last event, RFC 3339 UTC with milliseconds"),
            derived("duration_ms", Int, "end_ts minus start_ts, milliseconds"),
            derived("pageviews", Int, "page views"),
            derived("events", Int, "all events"),
            derived(
                "entry_page",
                Text,
                "path of the first page view (of the first event if none)",
            ),
            derived("exit_page", Text, "path of the last event"),
            derived(
                "referrer",
                Text,
                "referring host of the first page view; NULL if direct or none",
            ),
            derived(
                "country",
                Text,
                "country of the first page view (of the first event if none)",
            ),
            derived(
                "device",
                Text,
                "device class of the first page view (of the first event if none)",
            ),
            derived(
                "browser",
                Text,
                "browser family of the first page view (of the first event if none)",
            ),
            derived("bounced", Bool, "exactly one page view"),
        ],
    },
    TableDef {
        name: "forms",
        doc: "form analytics per form over the days chosen by WHERE day ... \
              (aggregated: one row per form)",
        kind: Kind::Forms,
        cols: &[
            derived("form", Text, "the form's name or id"),
            derived("views", Int, "times the form was shown"),
            derived("starters", Int, "visits that interacted with a field"),
            derived("submissions", Int, "submit events"),
            derived("converted", Int, "visits that started and submitted"),
            derived(
                "conversion",
                Float,
                "converted / starters (0 without starters)",
            ),
            derived("abandonment", Float, "1 - conversion (0 without starters)"),
            pseudo_day("WHERE only: day = / BETWEEN / <, <=, >, >= choose the days analysed"),
        ],
    },
    TableDef {
        name: "form_fields",
        doc: "form analytics per form field over the days chosen by WHERE day ... \
              (aggregated: one row per form and field); no keystroke content exists",
        kind: Kind::FormFields,
        cols: &[
            derived("form", Text, "the form's name or id"),
            derived("field", Text, "the field's name"),
            derived("interactions", Int, "times the field got the focus"),
            derived(
                "time_spent_ms",
                Int,
                "total focus-to-blur time, milliseconds",
            ),
            derived(
                "avg_hesitation_ms",
                Int,
                "mean focus-to-first-keystroke time, milliseconds",
            ),
            derived("keystrokes", Int, "keystrokes (their kind only)"),
            derived("corrections", Int, "delete keystrokes"),
            derived("refocuses", Int, "focuses after the first within a visit"),
            derived(
                "drop_offs",
                Int,
                "visits that started the form, never submitted it, and touched this field last",
            ),
            pseudo_day("WHERE only: day = / BETWEEN / <, <=, >, >= choose the days analysed"),
        ],
    },
    TableDef {
        name: "form_submissions",
        doc: "submitted form fields, one row per non-sensitive field of each submit \
              (the only table with values; sensitive fields were never stored)",
        kind: Kind::Scan,
        cols: &[
            TS,
            DAY,
            SESSION,
            col("form", Text, Field::Form, "the form's name or id"),
            col("field", Text, Field::SubmittedName, "the field's name"),
            col("value", Text, Field::SubmittedValue, "what was submitted"),
        ],
    },
    TableDef {
        name: "daily",
        doc: "dashboard metrics per day, answered from the daily roll-ups \
              (every day of the range, zero for days without data)",
        kind: Kind::Daily,
        cols: &[
            col("day", Text, Field::Day, "UTC day (YYYY-MM-DD)"),
            derived(
                "visitors",
                Int,
                "estimated distinct visitors (HyperLogLog, about 1.6 % error)",
            ),
            derived("pageviews", Int, "page views"),
            derived("visits", Int, "visits with at least one page view"),
            derived("bounces", Int, "visits with exactly one page view"),
            derived("bounce_rate", Float, "bounces / visits (0 without visits)"),
            derived("duration_ms", Int, "total visit duration, milliseconds"),
            derived("avg_visit_ms", Int, "mean visit duration, milliseconds"),
            derived("events", Int, "all events"),
            derived(
                "source",
                Text,
                "rollup, raw or aggregate: what answered the day; NULL without data",
            ),
        ],
    },
];

/// Column names that could only hold an IP address.
pub(crate) const IP_COLUMNS: &[&str] = &["ip", "ip_address", "remote_addr", "client_ip"];

/// Whether a column name asks for an IP address.
pub(crate) fn is_ip_name(name: &str) -> bool {
    IP_COLUMNS.iter().any(|n| n.eq_ignore_ascii_case(name))
}

/// The table of a name (case-insensitive).
pub(crate) fn find_table(name: &str) -> Option<&'static TableDef> {
    TABLES.iter().find(|t| t.name.eq_ignore_ascii_case(name))
}

/// The table names for error messages.
pub(crate) fn table_list() -> String {
    let names: Vec<&str> = TABLES.iter().map(|t| t.name).collect();
    names.join(", ")
}

fn hex_visitor(v: VisitorId) -> Value {
    if v == VisitorId::ANONYMOUS {
        Value::Null
    } else {
        Value::Text(v.to_string())
    }
}

fn hex_session(s: SessionId) -> Value {
    if s == SessionId(0) {
        Value::Null
    } else {
        Value::Text(s.to_string())
    }
}

pub(crate) fn visitor_value(v: VisitorId) -> Value {
    hex_visitor(v)
}

pub(crate) fn session_value(s: SessionId) -> Value {
    hex_session(s)
}

/// Non-empty text, or `NULL`.
pub(crate) fn text_or_null(s: &str) -> Value {
    if s.is_empty() {
        Value::Null
    } else {
        Value::Text(s.to_string())
    }
}

fn props_json(props: &[(pledgedb_core::Text, PropValue)]) -> String {
    let mut map = serde_json::Map::new();
    for (k, v) in props {
        let v = serde_json::to_value(v).unwrap_or(serde_json::Value::Null);
        map.insert(k.to_string(), v);
    }
    serde_json::to_string(&map).unwrap_or_else(|_| "{}".to_string())
}

/// The value of an event column (`SubmittedName`/`SubmittedValue` are set by the
/// caller, per submitted field).
fn event_value(e: &Event, field: Field) -> Value {
    match (field, &e.kind) {
        (Field::Ts, _) => Value::Text(e.ts.to_string()),
        (Field::Day, _) => Value::Text(e.ts.day().to_string()),
        (Field::Type, k) => Value::Text(k.event_type().as_str().to_string()),
        (Field::Visitor, _) => hex_visitor(e.visitor),
        (Field::Session, _) => hex_session(e.session),
        (Field::Path, _) => Value::Text(e.path.to_string()),
        (Field::Country, _) => Value::Text(e.country.as_str().to_string()),
        (Field::Device, _) => Value::Text(e.device.as_str().to_string()),
        (Field::Browser, _) => Value::Text(e.browser.to_string()),
        (Field::Referrer, EventKind::PageView { referrer, .. }) => text_or_null(referrer.as_str()),
        (Field::Utm, EventKind::PageView { utm, .. }) => text_or_null(utm.as_str()),
        (Field::X, EventKind::Click { x, .. }) => Value::Int(i64::from(*x)),
        (Field::Y, EventKind::Click { y, .. }) => Value::Int(i64::from(*y)),
        (Field::Target, EventKind::Click { target, .. }) => Value::Text(target.to_string()),
        (Field::Depth, EventKind::Scroll { depth }) => Value::Int(i64::from(*depth)),
        (Field::Name, EventKind::Custom { name, .. }) => Value::Text(name.to_string()),
        (Field::Props, EventKind::Custom { props, .. }) => Value::Text(props_json(props)),
        (Field::Form, EventKind::FormSubmit { form, .. }) => Value::Text(form.to_string()),
        _ => Value::Null,
    }
}

/// Emits the rows one event gives in a raw-event table. `needed` says which
/// columns the query reads; the others stay `NULL`. `row` is a reused
/// buffer.
pub(crate) fn event_rows(
    t: &TableDef,
    e: &Event,
    needed: &[bool],
    row: &mut Vec<Value>,
    emit: &mut dyn FnMut(&[Value]) -> Result<()>,
) -> Result<()> {
    if !t.accepts(e) {
        return Ok(());
    }
    row.clear();
    for (c, want) in t.cols.iter().zip(needed) {
        row.push(if *want {
            event_value(e, c.field)
        } else {
            Value::Null
        });
    }
    if let EventKind::FormSubmit { fields, .. } = &e.kind
        && t.name == "form_submissions"
    {
        let name_at = t.cols.iter().position(|c| c.field == Field::SubmittedName);
        let value_at = t.cols.iter().position(|c| c.field == Field::SubmittedValue);
        for f in fields {
            for (at, v) in [(name_at, &f.name), (value_at, &f.value)] {
                if let Some(i) = at
                    && needed.get(i).copied().unwrap_or(false)
                    && let Some(slot) = row.get_mut(i)
                {
                    *slot = Value::Text(v.to_string());
                }
            }
            emit(row)?;
        }
        return Ok(());
    }
    emit(row)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_table_has_an_ip_column_and_names_are_unique() {
        for t in TABLES {
            let mut seen = std::collections::HashSet::new();
            for c in t.cols {
                assert!(!is_ip_name(c.name), "{}.{}", t.name, c.name);
                assert!(seen.insert(c.name), "{}.{} twice", t.name, c.name);
            }
        }
    }

    #[test]
    fn only_form_submissions_has_values() {
        for t in TABLES {
            let has_value = t.cols.iter().any(|c| c.field == Field::SubmittedValue);
            assert_eq!(has_value, t.name == "form_submissions", "{}", t.name);
        }
    }
}
