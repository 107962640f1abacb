//! What a raw-event table's scan asks the Reader for: the columns the
//! statement references, and the conditions of its `WHERE` clause that the
//! Reader can decide (and use to skip blocks).
//!
//! Only a condition the rows must meet is pushed down: an `AND` chain at the
//! top of `WHERE` whose term is `col = 'text'`, `'text' = col` or
//! `col IN ('text', ...)` on `type`, `path`, `country`, `device`, `browser`
//! or `referrer`. The filter is still evaluated on every row handed on, so
//! a pushed-down condition only saves work and never changes an answer.

use crate::expr::{CmpOp, Expr};
use crate::tables::{Field, TableDef};
use crate::value::Value;
use pledgedb_core::domain::reader::{AnyOf, Columns, Predicate};
use pledgedb_core::{Country, Device, EventType};

/// The columns of the Reader a table column is read from.
fn columns_of(f: Field) -> Columns {
    match f {
        Field::Ts | Field::Day | Field::Type | Field::Derived => Columns::NONE,
        Field::Visitor => Columns::VISITOR,
        Field::Session => Columns::SESSION,
        Field::Path => Columns::PATH,
        Field::Country => Columns::COUNTRY,
        Field::Device => Columns::DEVICE,
        Field::Browser => Columns::BROWSER,
        Field::Referrer => Columns::REFERRER,
        Field::Utm
        | Field::X
        | Field::Y
        | Field::Target
        | Field::Depth
        | Field::Name
        | Field::Props
        | Field::Form
        | Field::SubmittedName
        | Field::SubmittedValue => Columns::DETAIL,
    }
}

/// The columns a scan of `t` decodes for a statement that reads the
/// columns marked in `needed`. `form_submissions` has one row per
/// submitted field, so its row count needs the detail even when no column
/// is read (`COUNT(*)`).
pub(crate) fn columns(t: &TableDef, needed: &[bool]) -> Columns {
    let base = if t.cols.iter().any(|c| c.field == Field::SubmittedName) {
        Columns::DETAIL
    } else {
        Columns::NONE
    };
    t.cols
        .iter()
        .zip(needed)
        .filter(|(_, want)| **want)
        .fold(base, |acc, (c, _)| acc | columns_of(c.field))
}

/// The event types a raw-event table holds (`None`: all).
fn table_types(t: &TableDef) -> Option<Vec<EventType>> {
    let ty = match t.name {
        "pageviews" => EventType::PageView,
        "clicks" => EventType::Click,
        "scrolls" => EventType::Scroll,
        "custom_events" => EventType::Custom,
        "form_submissions" => EventType::FormSubmit,
        _ => return None,
    };
    Some(vec![ty])
}

/// The Reader's predicate for a scan of `t` filtered by `filter`.
pub(crate) fn predicate(t: &TableDef, filter: Option<&Expr>) -> Predicate {
    let mut p = Predicate {
        types: table_types(t),
        ..Predicate::default()
    };
    if let Some(f) = filter {
        let mut terms = Vec::new();
        conjuncts(f, &mut terms);
        for term in terms {
            if let Some((field, values)) = equality(t, term) {
                add(&mut p, field, &values);
            }
        }
    }
    p
}

/// The terms of an `AND` chain.
fn conjuncts<'a>(e: &'a Expr, out: &mut Vec<&'a Expr>) {
    if let Expr::And(a, b) = e {
        conjuncts(a, out);
        conjuncts(b, out);
    } else {
        out.push(e);
    }
}

/// `col = 'a'` or `col IN ('a', 'b')` on a column the Reader can decide:
/// the column and the text values. `NULL` in the list is dropped (it is
/// never equal); any other literal that is not text ends the pushdown of
/// that term.
fn equality<'a>(t: &TableDef, e: &'a Expr) -> Option<(Field, Vec<&'a str>)> {
    let (col, list): (usize, Vec<&Expr>) = match e {
        Expr::Cmp(CmpOp::Eq, a, b) => match (&**a, &**b) {
            (Expr::Col(i), lit @ Expr::Lit(_)) | (lit @ Expr::Lit(_), Expr::Col(i)) => {
                (*i, vec![lit])
            }
            _ => return None,
        },
        Expr::In(a, list, false) => match &**a {
            Expr::Col(i) => (*i, list.iter().collect()),
            _ => return None,
        },
        _ => return None,
    };
    let field = t.cols.get(col)?.field;
    if !matches!(
        field,
        Field::Type
            | Field::Path
            | Field::Country
            | Field::Device
            | Field::Browser
            | Field::Referrer
    ) {
        return None;
    }
    let mut values = Vec::new();
    for x in list {
        match x {
            Expr::Lit(Value::Text(s)) => values.push(s.as_str()),
            Expr::Lit(Value::Null) => {}
            _ => return None,
        }
    }
    Some((field, values))
}

/// Adds "the field is one of `values`" (as SQL shows the field) to `p`.
fn add(p: &mut Predicate, field: Field, values: &[&str]) {
    let set = match field {
        Field::Type => {
            let want: Vec<EventType> = EventType::ALL
                .into_iter()
                .filter(|ty| values.contains(&ty.as_str()))
                .collect();
            p.types = Some(match p.types.take() {
                Some(have) => have.into_iter().filter(|t| want.contains(t)).collect(),
                None => want,
            });
            return;
        }
        Field::Path => AnyOf::Path(values.iter().map(|s| (*s).to_string()).collect()),
        Field::Browser => AnyOf::Browser(values.iter().map(|s| (*s).to_string()).collect()),
        // SQL shows a missing referrer as NULL: '' names none.
        Field::Referrer => AnyOf::Referrer(
            values
                .iter()
                .filter(|s| !s.is_empty())
                .map(|s| (*s).to_string())
                .collect(),
        ),
        // A country shows as its upper-case code: 'de' names none.
        Field::Country => AnyOf::Country(
            values
                .iter()
                .map(|s| Country::from_code(s))
                .zip(values)
                .filter(|(c, s)| c.as_str() == **s)
                .map(|(c, _)| c)
                .collect(),
        ),
        Field::Device => AnyOf::Device(
            Device::ALL
                .into_iter()
                .filter(|d| values.contains(&d.as_str()))
                .collect(),
        ),
        _ => return,
    };
    p.any_of.push(set);
}

#[cfg(test)]
mod tests {
    use super::*;
    use pledgedb_core::{Event, EventKind, SessionId, Text, Timestamp, VisitorId};

    fn event(kind: EventKind, path: &str, country: &str, device: Device) -> Event {
        Event {
            ts: Timestamp(0),
            visitor: VisitorId(1),
            session: SessionId(1),
            country: Country::from_code(country),
            device,
            browser: Text::new("Firefox"),
            path: Text::new(path),
            kind,
        }
    }

    fn pv(referrer: &str) -> EventKind {
        EventKind::PageView {
            referrer: Text::new(referrer),
            utm: Text::empty(),
        }
    }

    /// How SQL shows a field of an event (`None`: NULL).
    fn shown(e: &Event, f: Field) -> Option<String> {
        match f {
            Field::Type => Some(e.kind.event_type().as_str().to_string()),
            Field::Path => Some(e.path.to_string()),
            Field::Country => Some(e.country.as_str().to_string()),
            Field::Device => Some(e.device.as_str().to_string()),
            Field::Browser => Some(e.browser.to_string()),
            Field::Referrer => match &e.kind {
                EventKind::PageView { referrer, .. } if !referrer.is_empty() => {
                    Some(referrer.to_string())
                }
                _ => None,
            },
            _ => None,
        }
    }

    #[test]
    fn a_pushed_down_set_keeps_exactly_the_rows_sql_equality_keeps() {
        let events = [
            event(pv(""), "/", "DE", Device::Desktop),
            event(pv("news.example"), "/a", "US", Device::Mobile),
            event(EventKind::Scroll { depth: 3 }, "/a", "ZZ", Device::Unknown),
            event(
                EventKind::Click {
                    x: 1,
                    y: 2,
                    target: Text::empty(),
                },
                "/b",
                "DE",
                Device::Tablet,
            ),
        ];
        let literals: [&[&str]; 8] = [
            &["/"],
            &["/a", "/b"],
            &["DE"],
            &["de", "ZZ"],
            &["news.example", ""],
            &[""],
            &["mobile", "desktop", "nope"],
            &["pageview", "scroll", "Click"],
        ];
        let fields = [
            Field::Type,
            Field::Path,
            Field::Country,
            Field::Device,
            Field::Browser,
            Field::Referrer,
        ];
        for f in fields {
            for values in literals {
                let mut p = Predicate::default();
                add(&mut p, f, values);
                for e in &events {
                    let sql = shown(e, f).is_some_and(|v| values.contains(&v.as_str()));
                    let types_ok = p
                        .types
                        .as_ref()
                        .is_none_or(|t| t.contains(&e.kind.event_type()));
                    let sets_ok = p.any_of.iter().all(|a| match a {
                        AnyOf::Path(v) => v.iter().any(|x| x == e.path.as_str()),
                        AnyOf::Country(v) => v.contains(&e.country),
                        AnyOf::Device(v) => v.contains(&e.device),
                        AnyOf::Browser(v) => v.iter().any(|x| x == e.browser.as_str()),
                        AnyOf::Referrer(v) => match &e.kind {
                            EventKind::PageView { referrer, .. } => {
                                v.iter().any(|x| x == referrer.as_str())
                            }
                            _ => false,
                        },
                    });
                    assert_eq!(types_ok && sets_ok, sql, "{f:?} {values:?} {e:?}");
                }
            }
        }
    }
}
