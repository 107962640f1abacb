//! General filter expressions over events: several values, negation,
//! substrings, and boolean combinations. The typed [`Filters`](super::Filters)
//! hold one equality per dimension; a [`FilterExpr`] in
//! [`Filters::expr`](super::Filters::expr) adds what they cannot say. A query
//! with an expression is answered from raw events (roll-ups hold no event
//! that an expression could be asked about), so its answer is the roll-up
//! function over exactly the events the expression accepts.

use super::DIRECT;
use crate::event::{Event, EventKind};
use serde::Serialize;

/// What a filter condition looks at in an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FilterField {
    /// The page path.
    Page,
    /// The referrer host of a page view (`(direct)` when it has none);
    /// events that are not page views have no referrer.
    Referrer,
    /// The two-letter country code (`ZZ` unknown).
    Country,
    /// The device class (`desktop`, `mobile`, `tablet`, `bot`, `unknown`).
    Device,
    /// The browser family.
    Browser,
}

impl FilterField {
    /// The field's value in an event; `None` when the event has none (the
    /// referrer of an event that is not a page view).
    #[must_use]
    pub fn value_of(self, e: &Event) -> Option<&str> {
        match self {
            FilterField::Page => Some(e.path.as_str()),
            FilterField::Country => Some(e.country.as_str()),
            FilterField::Device => Some(e.device.as_str()),
            FilterField::Browser => Some(e.browser.as_str()),
            FilterField::Referrer => match &e.kind {
                EventKind::PageView { referrer, .. } if referrer.is_empty() => Some(DIRECT),
                EventKind::PageView { referrer, .. } => Some(referrer.as_str()),
                _ => None,
            },
        }
    }
}

/// A condition on events.
///
/// `IsNot(f, v)` is exactly `Not(Is(f, v))`: an event without a value for
/// the field (the referrer of a click) is accepted by `IsNot`. `Contains`
/// is a case-sensitive substring test; an empty list of values accepts
/// nothing for `Is` and `Contains`, everything for `IsNot`. `And([])`
/// accepts everything, `Or([])` nothing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FilterExpr {
    /// The field's value is one of these.
    Is(FilterField, Vec<String>),
    /// The field's value is none of these (or the event has no value).
    IsNot(FilterField, Vec<String>),
    /// The field's value contains one of these.
    Contains(FilterField, Vec<String>),
    /// Every condition holds.
    And(Vec<FilterExpr>),
    /// At least one condition holds.
    Or(Vec<FilterExpr>),
    /// The condition does not hold.
    Not(Box<FilterExpr>),
}

impl FilterExpr {
    /// Whether an event passes.
    #[must_use]
    pub fn accepts(&self, e: &Event) -> bool {
        match self {
            FilterExpr::Is(f, values) => {
                f.value_of(e).is_some_and(|v| values.iter().any(|x| x == v))
            }
            FilterExpr::IsNot(f, values) => {
                !f.value_of(e).is_some_and(|v| values.iter().any(|x| x == v))
            }
            FilterExpr::Contains(f, values) => f
                .value_of(e)
                .is_some_and(|v| values.iter().any(|x| v.contains(x.as_str()))),
            FilterExpr::And(all) => all.iter().all(|x| x.accepts(e)),
            FilterExpr::Or(any) => any.iter().any(|x| x.accepts(e)),
            FilterExpr::Not(x) => !x.accepts(e),
        }
    }

    /// How deeply the expression nests (a leaf is 1).
    #[must_use]
    pub fn depth(&self) -> usize {
        match self {
            FilterExpr::Is(..) | FilterExpr::IsNot(..) | FilterExpr::Contains(..) => 1,
            FilterExpr::And(v) | FilterExpr::Or(v) => {
                1 + v.iter().map(FilterExpr::depth).max().unwrap_or(0)
            }
            FilterExpr::Not(x) => 1 + x.depth(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Country, Device, EventKind, SessionId, VisitorId};
    use crate::text::Text;
    use crate::time::Timestamp;
    use proptest::prelude::*;

    fn pv(path: &str, referrer: &str, country: &str, device: Device, browser: &str) -> Event {
        Event {
            ts: Timestamp(0),
            visitor: VisitorId(1),
            session: SessionId(1),
            country: Country::from_code(country),
            device,
            browser: Text::new(browser),
            path: Text::new(path),
            kind: EventKind::PageView {
                referrer: Text::new(referrer),
                utm: Text::new(""),
            },
        }
    }

    fn field() -> impl Strategy<Value = FilterField> {
        prop_oneof![
            Just(FilterField::Page),
            Just(FilterField::Referrer),
            Just(FilterField::Country),
            Just(FilterField::Device),
            Just(FilterField::Browser),
        ]
    }

    fn words() -> impl Strategy<Value = Vec<String>> {
        proptest::collection::vec(
            prop_oneof![
                Just("/".to_string()),
                Just("/a".to_string()),
                Just("a".to_string()),
                Just("DE".to_string()),
                Just("mobile".to_string()),
                Just("(direct)".to_string()),
                Just("Firefox".to_string()),
                Just("x.example".to_string()),
            ],
            0..3,
        )
    }

    fn expr() -> impl Strategy<Value = FilterExpr> {
        let leaf = prop_oneof![
            (field(), words()).prop_map(|(f, w)| FilterExpr::Is(f, w)),
            (field(), words()).prop_map(|(f, w)| FilterExpr::IsNot(f, w)),
            (field(), words()).prop_map(|(f, w)| FilterExpr::Contains(f, w)),
        ];
        leaf.prop_recursive(4, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(FilterExpr::And),
                proptest::collection::vec(inner.clone(), 0..4).prop_map(FilterExpr::Or),
                inner.prop_map(|x| FilterExpr::Not(Box::new(x))),
            ]
        })
    }

    fn event() -> impl Strategy<Value = Event> {
        (
            prop_oneof![Just("/"), Just("/a"), Just("/ab/c")],
            prop_oneof![Just(""), Just("x.example")],
            prop_oneof![Just("DE"), Just("US")],
            prop_oneof![Just(Device::Mobile), Just(Device::Desktop)],
            prop_oneof![Just("Firefox"), Just("Chrome")],
            any::<bool>(),
        )
            .prop_map(|(p, r, c, d, b, is_pv)| {
                let mut e = pv(p, r, c, d, b);
                if !is_pv {
                    e.kind = EventKind::Custom {
                        name: Text::new("signup"),
                        props: Vec::new(),
                    };
                }
                e
            })
    }

    #[test]
    fn each_operator_on_each_field() {
        let e = pv("/pricing", "", "DE", Device::Mobile, "Firefox");
        let s = |v: &[&str]| v.iter().map(|x| (*x).to_string()).collect::<Vec<_>>();
        use FilterField as F;
        let table: &[(FilterExpr, bool)] = &[
            (FilterExpr::Is(F::Page, s(&["/pricing"])), true),
            (FilterExpr::Is(F::Page, s(&["/", "/pricing"])), true),
            (FilterExpr::Is(F::Page, s(&["/Pricing"])), false),
            (FilterExpr::Is(F::Page, s(&[])), false),
            (FilterExpr::IsNot(F::Page, s(&["/pricing"])), false),
            (FilterExpr::IsNot(F::Page, s(&["/"])), true),
            (FilterExpr::IsNot(F::Page, s(&[])), true),
            (FilterExpr::Contains(F::Page, s(&["pric"])), true),
            (FilterExpr::Contains(F::Page, s(&["PRIC"])), false),
            (FilterExpr::Is(F::Referrer, s(&[DIRECT])), true),
            (FilterExpr::Contains(F::Referrer, s(&["direct"])), true),
            (FilterExpr::Is(F::Country, s(&["DE"])), true),
            (FilterExpr::IsNot(F::Country, s(&["DE", "US"])), false),
            (FilterExpr::Is(F::Device, s(&["mobile"])), true),
            (FilterExpr::Is(F::Device, s(&["desktop"])), false),
            (FilterExpr::Is(F::Browser, s(&["Firefox"])), true),
            (FilterExpr::And(vec![]), true),
            (FilterExpr::Or(vec![]), false),
            (
                FilterExpr::Not(Box::new(FilterExpr::Is(F::Browser, s(&["Firefox"])))),
                false,
            ),
            (
                FilterExpr::Or(vec![
                    FilterExpr::Is(F::Country, s(&["US"])),
                    FilterExpr::Is(F::Device, s(&["mobile"])),
                ]),
                true,
            ),
            (
                FilterExpr::And(vec![
                    FilterExpr::Is(F::Country, s(&["US"])),
                    FilterExpr::Is(F::Device, s(&["mobile"])),
                ]),
                false,
            ),
        ];
        for (x, want) in table {
            assert_eq!(x.accepts(&e), *want, "{x:?}");
        }
        // A click has no referrer: `is` refuses it, `is_not` accepts it.
        let mut click = e.clone();
        click.kind = EventKind::Custom {
            name: Text::new("x"),
            props: Vec::new(),
        };
        assert!(!FilterExpr::Is(F::Referrer, s(&[DIRECT])).accepts(&click));
        assert!(FilterExpr::IsNot(F::Referrer, s(&[DIRECT])).accepts(&click));
    }

    proptest! {
        #[test]
        fn is_not_is_the_negation_of_is_and_the_combinators_are_boolean(
            f in field(), w in words(), a in expr(), b in expr(), e in event()
        ) {
            prop_assert_eq!(
                FilterExpr::IsNot(f, w.clone()).accepts(&e),
                !FilterExpr::Is(f, w.clone()).accepts(&e)
            );
            prop_assert_eq!(
                FilterExpr::And(vec![a.clone(), b.clone()]).accepts(&e),
                a.accepts(&e) && b.accepts(&e)
            );
            prop_assert_eq!(
                FilterExpr::Or(vec![a.clone(), b.clone()]).accepts(&e),
                a.accepts(&e) || b.accepts(&e)
            );
            prop_assert_eq!(FilterExpr::Not(Box::new(a.clone())).accepts(&e), !a.accepts(&e));
            // `is` with one value is the typed filter's equality.
            let one = w.first().cloned().unwrap_or_default();
            prop_assert_eq!(
                FilterExpr::Is(f, vec![one.clone()]).accepts(&e),
                f.value_of(&e) == Some(one.as_str())
            );
        }
    }
}
