//! The ingest pipeline: from a raw [`Hit`] to an [`Event`] that cannot hold an
//! IP address. Runs on the caller's thread, so many callers scale across
//! cores; only the finished event travels to the domain's writer.
//!
//! Order: validate sizes and time -> opt-out / DNT / GPC / consent gate (a
//! dropped hit writes nothing) -> country from the IP -> visitor id (keyed
//! hash) -> device and browser from the user agent -> every string through
//! the scrubber, the URL reduced to its path -> sensitive form fields dropped.
//! The IP and user agent go out of scope with the hit.
//!
//! Sensitive data (promise P8, [`crate::sensitive`]): [`screen`] drops a
//! keystroke in a sensitive field before anything is written; [`transform`]
//! drops sensitive submitted fields and properties and redacts card numbers,
//! IBANs and SSNs from every other stored string. An event kept without a
//! visitor id (promise P4) keeps nothing a person typed: see
//! [`transform`].

use crate::error::{HitError, HitField, HitProblem};
use crate::event::{Country, Event, EventKind, PropValue, SessionId, SubmittedField, VisitorId};
use crate::geo::GeoDb;
use crate::hit::{Consent, Hit, HitKind, HitProp};
use crate::identity::DomainSecret;
use crate::limits::Limits;
use crate::sensitive;
use crate::settings::{DomainSettings, WithoutConsent};
use crate::text::{Text, reduce_url, referrer_host};
use crate::time::{MS_PER_DAY, Timestamp};
use crate::ua;
use crate::writer::Pending;
use serde::Serialize;

/// Why a valid hit was not stored. Dropped hits leave no trace but a counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DropReason {
    /// The visitor's opt-out token is in the registry.
    OptedOut,
    /// Do-Not-Track was set and the domain honours it.
    DoNotTrack,
    /// Global Privacy Control was set and the domain honours it.
    GlobalPrivacyControl,
    /// No consent, and the domain's policy drops such hits.
    NoConsent,
    /// The timestamp is older than the domain's raw-event retention: the
    /// event would be expired the moment it was written.
    Expired,
    /// A keystroke in a sensitive field (or form): its keystrokes would
    /// reveal the secret's length and typing rhythm (promise P8). Focus and
    /// blur of the field are kept.
    SensitiveKeystroke,
}

impl DropReason {
    /// Stable snake_case name, as used in counters and reports.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::OptedOut => "opted_out",
            DropReason::DoNotTrack => "do_not_track",
            DropReason::GlobalPrivacyControl => "global_privacy_control",
            DropReason::NoConsent => "no_consent",
            DropReason::Expired => "expired",
            DropReason::SensitiveKeystroke => "sensitive_keystroke",
        }
    }
}

/// What became of an accepted hit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use]
pub enum Ingested {
    /// Queued for its domain's writer; durable after the next
    /// [`Db::flush`](crate::Db::flush).
    Queued,
    /// Kept as an anonymous event (no consent): no visitor or session id.
    QueuedAnonymous,
    /// Dropped before anything was written.
    Dropped(DropReason),
}

/// Checks the timestamp window.
pub(crate) fn resolve_time(
    hit: &Hit,
    now: Timestamp,
    limits: &Limits,
) -> Result<Timestamp, HitError> {
    let ts = hit.timestamp.unwrap_or(now);
    if ts.0
        < now
            .0
            .saturating_sub(limits.max_past_days.saturating_mul(MS_PER_DAY))
    {
        return Err(HitError::new(
            HitField::Timestamp,
            HitProblem::OutOfRange("too far in the past"),
        ));
    }
    if ts.0
        > now
            .0
            .saturating_add(limits.max_future_hours.saturating_mul(3_600_000))
    {
        return Err(HitError::new(
            HitField::Timestamp,
            HitProblem::OutOfRange("in the future"),
        ));
    }
    Ok(ts)
}

/// The gate: whether the hit may be stored, and with an identity or not.
pub(crate) fn gate(
    hit: &Hit,
    settings: &DomainSettings,
    opted_out: impl FnOnce(&str) -> bool,
) -> Result<bool, DropReason> {
    if let Some(t) = &hit.opt_out_token
        && opted_out(t)
    {
        return Err(DropReason::OptedOut);
    }
    let policy = &settings.consent;
    if hit.dnt && policy.honour_dnt {
        return Err(DropReason::DoNotTrack);
    }
    if hit.gpc && policy.honour_gpc {
        return Err(DropReason::GlobalPrivacyControl);
    }
    let consented = match hit.consent {
        Consent::Granted => true,
        Consent::Denied => false,
        Consent::Unknown => !policy.require_consent,
    };
    if consented {
        return Ok(true);
    }
    match policy.without_consent {
        WithoutConsent::Drop => Err(DropReason::NoConsent),
        WithoutConsent::Anonymous => Ok(false),
    }
}

/// Everything the transform needs from the engine.
pub(crate) struct Context<'a> {
    pub(crate) secret: &'a DomainSecret,
    pub(crate) settings: &'a DomainSettings,
    pub(crate) geo: Option<&'a GeoDb>,
    /// The cookieless salt for the hit's day, if the hit needs one.
    pub(crate) salt: Option<[u8; 16]>,
}

/// Whether the hit will need a cookieless salt.
pub(crate) fn needs_salt(hit: &Hit, identified: bool) -> bool {
    identified && client_id_of(hit).is_none() && hit.ip.is_some()
}

/// The hit's client id, if it has one that names a browser: an empty or
/// all-blank (or invisible) cookie value is shared by every browser that sends it, so an
/// id derived from it would pool strangers into one exportable, erasable
/// "visitor" (promises P4-P6). Such a hit counts as one without a client
/// id.
fn client_id_of(hit: &Hit) -> Option<&str> {
    hit.client_id.as_deref().filter(|c| {
        !c.chars()
            .all(|ch| ch.is_whitespace() || sensitive::is_invisible(ch))
    })
}

/// Stored text for a name, path or description: card numbers, IBANs and
/// SSNs in it are replaced by [`crate::sensitive::REDACTED_VALUE`], then
/// [`Text::new`] scrubs IPs.
fn text_of(s: &str) -> Text {
    Text::new(&sensitive::redact_sensitive_values(s))
}

/// The second gate, on content (promise P8): a keystroke in a field whose
/// name, or whose form's name, is sensitive is dropped before anything is
/// written, so the length and rhythm of a secret are never stored. A
/// keystroke hit carries no input type, so the names decide; focus and blur
/// of the same field are kept.
pub(crate) fn screen(hit: &Hit, settings: &DomainSettings) -> Result<(), DropReason> {
    match &hit.kind {
        HitKind::Keystroke { form, field, .. }
            if settings.is_sensitive_name(field) || settings.is_sensitive_name(form) =>
        {
            Err(DropReason::SensitiveKeystroke)
        }
        _ => Ok(()),
    }
}

/// A custom property as stored, or `None` when it must not be: its name is
/// sensitive, its text is or holds a card number, IBAN or SSN, its integer
/// or float is a card number, or it is text on an event without a visitor
/// id.
fn prop_of(
    k: &str,
    v: HitProp,
    anonymous: bool,
    settings: &DomainSettings,
) -> Option<(Text, PropValue)> {
    if settings.is_sensitive_name(k) {
        return None;
    }
    let v = match v {
        HitProp::Bool(b) => PropValue::Bool(b),
        HitProp::Int(i) if sensitive::is_card_number(i) => return None,
        HitProp::Int(i) => PropValue::Int(i),
        HitProp::Float(f) if sensitive::is_card_number_float(f) => return None,
        HitProp::Float(f) => PropValue::Float(f),
        HitProp::Text(_) if anonymous => return None,
        HitProp::Text(t) if sensitive::contains_sensitive_value(&t) => return None,
        HitProp::Text(t) => PropValue::Text(Text::value(&t)),
    };
    Some((text_of(k), v))
}

/// The `utm_*` parameters without those whose name is sensitive
/// (`utm_password`, `utm_cc_number`, a configured pattern): a parameter
/// name is a field name like any other.
fn utm_without_sensitive_names(utm: &str, settings: &DomainSettings) -> String {
    utm.split('&')
        .filter(|p| {
            let name = p.split_once('=').map_or(*p, |(n, _)| n);
            !p.is_empty() && !settings.is_sensitive_name(name)
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// Turns a validated, admitted hit into the event to store. The hit is
/// consumed: its IP and user agent end here.
///
/// Every event: sensitive submitted fields are dropped
/// ([`DomainSettings::is_sensitive`]), and so are properties with a
/// sensitive name or a sensitive text value; card numbers, IBANs and SSNs
/// are redacted from every other string (path, utm, referrer, click target,
/// form, field, event and property names).
///
/// An event that ends up without a visitor id (no consent, or nothing to
/// derive an id from) can never be exported or erased, so it keeps nothing
/// a person typed, whatever its kind: a form submit keeps no field at all,
/// a custom event keeps only its boolean and number properties, a page view
/// keeps only `utm_source`, `utm_medium` and `utm_campaign`. Its time,
/// country, device, browser, path, referrer host, click position and
/// target, scroll depth, form and field names and key kinds stay.
pub(crate) fn transform(hit: Hit, ts: Timestamp, identified: bool, cx: &Context<'_>) -> Pending {
    let country = match (hit.ip, cx.geo) {
        (Some(ip), Some(geo)) => geo.country(ip),
        _ => Country::UNKNOWN,
    };
    let ua_str = hit.user_agent.as_deref().unwrap_or("");
    let info = ua::classify(ua_str);
    let visitor = if !identified {
        VisitorId::ANONYMOUS
    } else if let Some(c) = client_id_of(&hit) {
        cx.secret.visitor_from_client(c)
    } else if let (Some(ip), Some(salt)) = (hit.ip, cx.salt.as_ref()) {
        cx.secret.visitor_cookieless(salt, ip, ua_str)
    } else {
        VisitorId::ANONYMOUS
    };
    let anonymous = visitor == VisitorId::ANONYMOUS;
    let session = match (&hit.session_id, visitor) {
        (_, VisitorId::ANONYMOUS) => Some(SessionId(0)),
        (Some(s), v) => Some(cx.secret.session_from_client(v, s)),
        (None, _) => None,
    };
    let url = reduce_url(&hit.url);
    let kind = match hit.kind {
        HitKind::PageView { referrer } => EventKind::PageView {
            referrer: referrer
                .as_deref()
                .map_or_else(Text::empty, |r| text_of(&referrer_host(r))),
            utm: {
                let utm = utm_without_sensitive_names(&url.utm, cx.settings);
                if anonymous {
                    text_of(&sensitive::anonymous_utm(&utm))
                } else {
                    text_of(&utm)
                }
            },
        },
        HitKind::Click { x, y, target } => EventKind::Click {
            x,
            y,
            target: text_of(&target),
        },
        HitKind::Scroll { depth } => EventKind::Scroll { depth },
        HitKind::FormView { form } => EventKind::FormView {
            form: text_of(&form),
        },
        HitKind::FieldFocus { form, field } => EventKind::FieldFocus {
            form: text_of(&form),
            field: text_of(&field),
        },
        HitKind::Keystroke { form, field, key } => EventKind::Keystroke {
            form: text_of(&form),
            field: text_of(&field),
            key,
        },
        HitKind::FieldBlur { form, field } => EventKind::FieldBlur {
            form: text_of(&form),
            field: text_of(&field),
        },
        HitKind::FormSubmit { form, fields } => EventKind::FormSubmit {
            // A sensitive form (`credit-card`, `payment[card]`) keeps no
            // field, as [`screen`] keeps none of its keystrokes: its `code`
            // or `number` field is the card's.
            fields: if anonymous || cx.settings.is_sensitive_name(&form) {
                Vec::new()
            } else {
                fields
                    .iter()
                    .filter(|f| !cx.settings.is_sensitive(f))
                    .map(|f| SubmittedField {
                        name: text_of(&f.name),
                        value: Text::value(&f.value),
                    })
                    .collect()
            },
            form: text_of(&form),
        },
        HitKind::Custom { name, props } => EventKind::Custom {
            name: text_of(&name),
            props: props
                .into_iter()
                .filter_map(|(k, v)| prop_of(&k, v, anonymous, cx.settings))
                .collect(),
        },
    };
    Pending {
        event: Event {
            ts,
            visitor,
            session: session.unwrap_or(SessionId(0)),
            country,
            device: info.device,
            browser: Text::new(info.browser),
            path: text_of(url.path),
            kind,
        },
        session,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hit::FormField;
    use proptest::prelude::*;

    fn cx(settings: &DomainSettings) -> (DomainSecret, DomainSettings) {
        (DomainSecret::from_bytes([7; 32]), settings.clone())
    }

    /// A hit of kind `k` (0..9) with `t[i]` in each of its free-text places.
    fn hit_of(k: usize, t: &[String]) -> Hit {
        let s = |i: usize| t.get(i).cloned().unwrap_or_default();
        let kind = match k % 9 {
            0 => HitKind::PageView {
                referrer: Some(format!("https://{}.example/{}", s(0), s(1))),
            },
            1 => HitKind::Click {
                x: 1,
                y: 2,
                target: s(0),
            },
            2 => HitKind::Scroll { depth: 50 },
            3 => HitKind::FormView { form: s(0) },
            4 => HitKind::FieldFocus {
                form: s(0),
                field: s(1),
            },
            5 => HitKind::Keystroke {
                form: s(0),
                field: s(1),
                key: crate::event::KeyKind::Delete,
            },
            6 => HitKind::FieldBlur {
                form: s(0),
                field: s(1),
            },
            7 => HitKind::FormSubmit {
                form: s(0),
                fields: vec![FormField::new(s(1), s(2)), FormField::new("email", s(3))],
            },
            _ => HitKind::Custom {
                name: s(0),
                props: vec![
                    (s(1), HitProp::Text(s(2))),
                    ("n".into(), HitProp::Int(3)),
                    ("b".into(), HitProp::Bool(true)),
                    (s(3), HitProp::Text(s(4))),
                ],
            },
        };
        let url = format!(
            "https://a.example/{}?utm_source={}&utm_term={}&utm_content={}&utm_campaign={}",
            s(5),
            s(4),
            s(3),
            s(2),
            s(1)
        );
        Hit::new("a.example", url, kind).client_id("c")
    }

    /// Every stored string of an event, and whether it holds a text prop or
    /// a submitted field.
    fn stored_texts(e: &Event) -> (Vec<String>, bool) {
        let mut v = vec![e.path.to_string(), e.browser.to_string()];
        let mut typed = false;
        match &e.kind {
            EventKind::PageView { referrer, utm } => {
                v.push(referrer.to_string());
                v.push(utm.to_string());
            }
            EventKind::Click { target, .. } => v.push(target.to_string()),
            EventKind::Scroll { .. } => {}
            EventKind::FormView { form } => v.push(form.to_string()),
            EventKind::FieldFocus { form, field }
            | EventKind::Keystroke { form, field, .. }
            | EventKind::FieldBlur { form, field } => {
                v.push(form.to_string());
                v.push(field.to_string());
            }
            EventKind::FormSubmit { form, fields } => {
                v.push(form.to_string());
                typed |= !fields.is_empty();
                for f in fields {
                    v.push(f.name.to_string());
                    v.push(f.value.to_string());
                }
            }
            EventKind::Custom { name, props } => {
                v.push(name.to_string());
                for (k, p) in props {
                    v.push(k.to_string());
                    if let PropValue::Text(t) = p {
                        typed = true;
                        v.push(t.to_string());
                    }
                }
            }
        }
        (v, typed)
    }

    fn run(hit: Hit, identified: bool, settings: &DomainSettings) -> Event {
        let (secret, settings) = cx(settings);
        let cx = Context {
            secret: &secret,
            settings: &settings,
            geo: None,
            salt: None,
        };
        transform(hit, Timestamp(0), identified, &cx).event
    }

    #[test]
    fn sensitive_keystrokes_are_screened_by_field_or_form_name() {
        let s = DomainSettings {
            sensitive_fields: vec!["geheim".into()],
            ..DomainSettings::default()
        };
        let key = |form: &str, field: &str| {
            Hit::new(
                "a.example",
                "/",
                HitKind::Keystroke {
                    form: form.into(),
                    field: field.into(),
                    key: crate::event::KeyKind::Character,
                },
            )
        };
        for (form, field) in [
            ("login", "password"),
            ("checkout", "payment[cc_number]"),
            ("checkout", "securityCode"),
            ("login", "confirmPwd"),
            ("x", "userPin"),
            ("x", "Geheimfrage"),
            ("credit_card", "number"),
            ("x", "kennwort"),
        ] {
            assert_eq!(
                screen(&key(form, field), &s),
                Err(DropReason::SensitiveKeystroke),
                "{form}/{field}"
            );
        }
        for (form, field) in [
            ("login", "email"),
            ("checkout", "shipping"),
            ("x", "company"),
        ] {
            assert_eq!(screen(&key(form, field), &s), Ok(()), "{form}/{field}");
        }
        // Focus and blur of a sensitive field pass.
        let focus = Hit::new(
            "a.example",
            "/",
            HitKind::FieldFocus {
                form: "login".into(),
                field: "password".into(),
            },
        );
        assert_eq!(screen(&focus, &s), Ok(()));
    }

    #[test]
    fn a_blank_client_id_gives_no_visitor_id_and_keeps_nothing_typed() {
        for blank in ["", " ", "\t\n", "\u{200b}", "\u{a0}\u{feff}", "\u{3000}"] {
            let mut hit = hit_of(7, &["f".into(), "note".into(), "typed".into()]);
            hit.client_id = Some(blank.into());
            assert!(!needs_salt(&hit, true), "{blank:?}");
            let e = run(hit.clone(), true, &DomainSettings::default());
            assert_eq!(e.visitor, VisitorId::ANONYMOUS, "{blank:?}");
            assert!(!stored_texts(&e).1, "{blank:?}");
            hit.ip = Some(std::net::IpAddr::from([203, 0, 113, 9]));
            assert!(needs_salt(&hit, true), "{blank:?}: cookieless instead");
        }
        let mut hit = hit_of(7, &[]);
        hit.client_id = Some(" c ".into());
        assert_ne!(
            run(hit, true, &DomainSettings::default()).visitor,
            VisitorId::ANONYMOUS
        );
    }

    #[test]
    fn a_sensitive_form_keeps_no_submitted_field() {
        for form in [
            "credit-card",
            "payment[card]",
            "cvvForm",
            "p&#97;ssword-reset",
            "geheim",
        ] {
            let s = DomainSettings {
                sensitive_fields: vec!["geheim".into()],
                ..DomainSettings::default()
            };
            let hit = Hit::new(
                "a.example",
                "/",
                HitKind::FormSubmit {
                    form: form.into(),
                    fields: vec![FormField::new("code", "123"), FormField::new("name", "x")],
                },
            )
            .client_id("c");
            let e = run(hit, true, &s);
            let EventKind::FormSubmit { fields, form: f } = &e.kind else {
                panic!("not a submit");
            };
            assert!(fields.is_empty(), "{form}");
            assert!(!f.as_str().is_empty(), "{form}: the form name stays");
        }
        let hit = Hit::new(
            "a.example",
            "/",
            HitKind::FormSubmit {
                form: "contact".into(),
                fields: vec![FormField::new("code", "123")],
            },
        )
        .client_id("c");
        let e = run(hit, true, &DomainSettings::default());
        assert!(matches!(&e.kind, EventKind::FormSubmit { fields, .. } if fields.len() == 1));
    }

    #[test]
    fn utm_parameters_with_sensitive_names_are_dropped() {
        let s = DomainSettings {
            sensitive_fields: vec!["geheim".into()],
            ..DomainSettings::default()
        };
        assert_eq!(
            utm_without_sensitive_names(
                "utm_source=a&utm_password=b&utm_cc_number=c&UTM_PWD=d&utm_medium=e\
                 &utm_geheimnis=f&utm_%70assword=g&utm_term=h",
                &s
            ),
            "utm_source=a&utm_medium=e&utm_term=h"
        );
        assert_eq!(utm_without_sensitive_names("", &s), "");
        assert_eq!(utm_without_sensitive_names("utm_ssn", &s), "");
    }

    #[test]
    fn anonymous_utm_keeps_source_medium_and_campaign_only() {
        use crate::sensitive::anonymous_utm;
        assert_eq!(
            anonymous_utm(
                "utm_source=a&utm_term=b&UTM_Medium=c&utm_content=d&utm_campaign=e&utm_id=f"
            ),
            "utm_source=a&UTM_Medium=c&utm_campaign=e"
        );
        assert_eq!(anonymous_utm(""), "");
        assert_eq!(anonymous_utm("utm_term=x"), "");
    }

    proptest! {
        #[test]
        fn an_event_without_a_visitor_id_keeps_nothing_typed_whatever_its_kind(
            k in 0usize..9,
            // Letters that spell no sensitive token, so that the same hit
            // with an id keeps all its typed data.
            t in prop::collection::vec("[d-h]{1,12}", 6),
            no_id in any::<bool>(),
        ) {
            let mut hit = hit_of(k, &t);
            if no_id {
                // Identified by consent, but nothing to derive an id from.
                hit.client_id = None;
            }
            let e = run(hit, no_id, &DomainSettings::default());
            prop_assert_eq!(e.visitor, VisitorId::ANONYMOUS);
            prop_assert_eq!(e.session, SessionId(0));
            let (_, typed) = stored_texts(&e);
            prop_assert!(!typed, "a text prop or a submitted field survived");
            if let EventKind::PageView { utm, .. } = &e.kind {
                for p in utm.as_str().split('&').filter(|p| !p.is_empty()) {
                    let name = p.split_once('=').map_or(p, |(n, _)| n);
                    prop_assert!(sensitive::ANONYMOUS_UTM.contains(&name), "{}", p);
                }
            }
            // The same hit with an id keeps its typed data.
            let e = run(hit_of(k, &t), true, &DomainSettings::default());
            prop_assert_ne!(e.visitor, VisitorId::ANONYMOUS);
            let (_, typed_with_id) = stored_texts(&e);
            prop_assert_eq!(typed_with_id, k == 7 || k == 8);
        }

        #[test]
        fn no_stored_string_holds_a_card_number_iban_or_ssn(
            k in 0usize..9,
            t in prop::collection::vec("[a-z]{0,6}", 6),
            at in 0usize..6,
            secret in prop::sample::select(vec![
                "4111111111111111",
                "4111 1111 1111 1111",
                "5555-5555-5555-4444",
                "DE89370400440532013000",
                "NL91ABNA0417164300",
                "078-05-1120",
            ]),
        ) {
            let mut t = t;
            t[at] = format!("{}{secret}{}", t[at], t[(at + 1) % 6]);
            let e = run(hit_of(k, &t), true, &DomainSettings::default());
            let (texts, _) = stored_texts(&e);
            for s in &texts {
                prop_assert!(
                    !crate::sensitive::contains_sensitive_value(s),
                    "{} kept in {:?}", secret, s
                );
            }
        }
    }
}
