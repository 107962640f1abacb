//! PledgeDB's own NDJSON hit format: one JSON object per line, close to
//! what a tracker sends.
//!
//! | field | type | for | meaning |
//! |---|---|---|---|
//! | `domain` | string | all; required unless a default domain is set | the site, e.g. `shop.example` (a valid lower-case domain name) |
//! | `type` | string | all; required | `page_view`, `click`, `scroll`, `form_view`, `field_focus`, `keystroke`, `field_blur`, `form_submit` or `custom` |
//! | `url` | string | all; required | the page's full URL (or path); reduced to its path and `utm_*` parameters on ingest |
//! | `ts` | string or integer | all; optional | RFC 3339 (`2026-03-02T10:00:00.250+01:00`) or milliseconds since the epoch; absent means "now" by the engine's clock |
//! | `ip` | string | all; optional | the client's IPv4 or IPv6 address (used for the country and cookieless visitor hash, then dropped) |
//! | `user_agent` | string | all; optional | the client's user agent (used for device and browser, then dropped) |
//! | `client_id` | string | all; optional | a first-party cookie value |
//! | `session_id` | string | all; optional | a tracker-side session id |
//! | `opt_out_token` | string | all; optional | the visitor's opt-out token |
//! | `dnt` | bool (or 0/1) | all; optional, default false | Do-Not-Track was set |
//! | `gpc` | bool (or 0/1) | all; optional, default false | Global Privacy Control was set |
//! | `consent` | string | all; optional, default `unknown` | `granted`, `denied` or `unknown` |
//! | `referrer` | string | `page_view`; optional | the referring URL |
//! | `x`, `y` | integer | `click`; required | page coordinates |
//! | `target` | string | `click`; optional | what was clicked, e.g. a CSS selector |
//! | `depth` | integer 0-100 | `scroll`; required | scroll depth in percent |
//! | `form` | string | `form_view`, `field_focus`, `keystroke`, `field_blur`, `form_submit`; required | form name or id |
//! | `field` | string | `field_focus`, `keystroke`, `field_blur`; required | field name |
//! | `key` | string | `keystroke`; optional, default `character` | `character`, `delete` or `other` — the kind of key only: any other value, in particular the key itself, makes the line malformed and it is never stored |
//! | `fields` | array | `form_submit`; optional | objects `{name, value, input_type?, autocomplete?, sensitive?}`; sensitive fields are dropped by the engine |
//! | `name` | string | `custom`; required | event name |
//! | `props` | object | `custom`; optional | property name to string, number or boolean (`null` values are left out) |
//!
//! Unknown fields are ignored; fields that do not belong to the line's
//! `type` are ignored; `null` counts as absent. Errors name the line's
//! problem and field (`missing field `url``, `invalid `ts`: expected ...`),
//! never its content.
//!
//! ```text
//! {"domain":"shop.example","type":"page_view","url":"https://shop.example/p","ts":"2026-03-02T10:00:00Z","ip":"203.0.113.9","user_agent":"Mozilla/5.0 ...","referrer":"https://www.google.com/"}
//! {"domain":"shop.example","type":"keystroke","url":"/signup","form":"signup","field":"email","key":"delete","client_id":"c1"}
//! ```

use crate::error::LineError;
use crate::json::{
    FLAG_EXPECTED, Flag, LineVisitor, PROPS_EXPECTED, Props, TS_EXPECTED, Ts, read_object, skip,
    take,
};
use pledgedb_core::{Consent, FormField, Hit, HitKind, KeyKind};
use serde::de::MapAccess;
use std::net::IpAddr;

/// The line as read, before checks.
#[derive(Default)]
struct Raw {
    domain: Option<String>,
    kind: Option<String>,
    url: Option<String>,
    referrer: Option<String>,
    ts: Option<Ts>,
    ip: Option<String>,
    user_agent: Option<String>,
    client_id: Option<String>,
    session_id: Option<String>,
    opt_out_token: Option<String>,
    dnt: Option<Flag>,
    gpc: Option<Flag>,
    consent: Option<String>,
    x: Option<i32>,
    y: Option<i32>,
    target: Option<String>,
    depth: Option<u8>,
    form: Option<String>,
    field: Option<String>,
    key: Option<String>,
    fields: Option<Vec<FormField>>,
    name: Option<String>,
    props: Option<Props>,
}

const STRING: &str = "a string";
const INT: &str = "an integer";

impl LineVisitor for Raw {
    fn field<'de, A: MapAccess<'de>>(
        &mut self,
        key: &str,
        map: &mut A,
        p: &mut Option<LineError>,
    ) -> Result<(), A::Error> {
        match key {
            "domain" => take(map, &mut self.domain, "domain", STRING, p),
            "type" => take(map, &mut self.kind, "type", STRING, p),
            "url" => take(map, &mut self.url, "url", STRING, p),
            "referrer" => take(map, &mut self.referrer, "referrer", STRING, p),
            "ts" => take(map, &mut self.ts, "ts", TS_EXPECTED, p),
            "ip" => take(map, &mut self.ip, "ip", IP_EXPECTED, p),
            "user_agent" => take(map, &mut self.user_agent, "user_agent", STRING, p),
            "client_id" => take(map, &mut self.client_id, "client_id", STRING, p),
            "session_id" => take(map, &mut self.session_id, "session_id", STRING, p),
            "opt_out_token" => take(map, &mut self.opt_out_token, "opt_out_token", STRING, p),
            "dnt" => take(map, &mut self.dnt, "dnt", FLAG_EXPECTED, p),
            "gpc" => take(map, &mut self.gpc, "gpc", FLAG_EXPECTED, p),
            "consent" => take(map, &mut self.consent, "consent", CONSENT_EXPECTED, p),
            "x" => take(map, &mut self.x, "x", INT, p),
            "y" => take(map, &mut self.y, "y", INT, p),
            "target" => take(map, &mut self.target, "target", STRING, p),
            "depth" => take(map, &mut self.depth, "depth", DEPTH_EXPECTED, p),
            "form" => take(map, &mut self.form, "form", STRING, p),
            "field" => take(map, &mut self.field, "field", STRING, p),
            "key" => take(map, &mut self.key, "key", KEY_EXPECTED, p),
            "fields" => take(map, &mut self.fields, "fields", FIELDS_EXPECTED, p),
            "name" => take(map, &mut self.name, "name", STRING, p),
            "props" => take(map, &mut self.props, "props", PROPS_EXPECTED, p),
            _ => skip(map),
        }
    }
}

const CONSENT_EXPECTED: &str = "granted, denied or unknown";
const DEPTH_EXPECTED: &str = "an integer percentage from 0 to 100";
const KEY_EXPECTED: &str = "character, delete or other (the kind of key, never the key itself)";
const FIELDS_EXPECTED: &str = "an array of {name, value, input_type, autocomplete, sensitive}";
const IP_EXPECTED: &str = "an IPv4 or IPv6 address";

/// Parses one NDJSON line into a hit. `default_domain` is used when the
/// line has no `domain`.
pub fn parse_line(line: &str, default_domain: Option<&str>) -> Result<Hit, LineError> {
    let raw: Raw = read_object(line)?;
    build(raw, default_domain)
}

fn need<T>(v: Option<T>, field: &'static str) -> Result<T, LineError> {
    v.ok_or(LineError::Missing(field))
}

fn build(raw: Raw, default_domain: Option<&str>) -> Result<Hit, LineError> {
    let kind_name = need(raw.kind, "type")?;
    let url = need(raw.url, "url")?;
    let domain = match raw.domain {
        Some(d) => d,
        None => need(default_domain, "domain")?.to_owned(),
    };
    let kind = match kind_name.as_str() {
        "page_view" => HitKind::PageView {
            referrer: raw.referrer,
        },
        "click" => HitKind::Click {
            x: need(raw.x, "x")?,
            y: need(raw.y, "y")?,
            target: raw.target.unwrap_or_default(),
        },
        "scroll" => HitKind::Scroll {
            depth: need(raw.depth, "depth")?,
        },
        "form_view" => HitKind::FormView {
            form: need(raw.form, "form")?,
        },
        "field_focus" => HitKind::FieldFocus {
            form: need(raw.form, "form")?,
            field: need(raw.field, "field")?,
        },
        "keystroke" => HitKind::Keystroke {
            form: need(raw.form, "form")?,
            field: need(raw.field, "field")?,
            key: match raw.key.as_deref() {
                None => KeyKind::Character,
                Some(k) => key_kind(k)?,
            },
        },
        "field_blur" => HitKind::FieldBlur {
            form: need(raw.form, "form")?,
            field: need(raw.field, "field")?,
        },
        "form_submit" => HitKind::FormSubmit {
            form: need(raw.form, "form")?,
            fields: raw.fields.unwrap_or_default(),
        },
        "custom" => HitKind::Custom {
            name: need(raw.name, "name")?,
            props: raw.props.unwrap_or_default().0,
        },
        _ => return Err(LineError::UnknownType),
    };
    let ip = match raw.ip {
        None => None,
        Some(s) => Some(s.trim().parse::<IpAddr>().map_err(|_| LineError::Invalid {
            field: "ip",
            expected: IP_EXPECTED,
        })?),
    };
    let consent = match raw.consent.as_deref() {
        None => Consent::Unknown,
        Some(c) => consent(c)?,
    };
    Ok(Hit {
        domain,
        timestamp: raw.ts.map(|t| t.0),
        url,
        ip,
        user_agent: raw.user_agent,
        client_id: raw.client_id,
        session_id: raw.session_id,
        opt_out_token: raw.opt_out_token,
        dnt: raw.dnt.is_some_and(|f| f.0),
        gpc: raw.gpc.is_some_and(|f| f.0),
        consent,
        kind,
    })
}

/// The kind of a key. Anything but the three names is refused, so a
/// tracker that sends the key itself loses the line rather than having it
/// stored.
fn key_kind(k: &str) -> Result<KeyKind, LineError> {
    if k.eq_ignore_ascii_case("character") {
        Ok(KeyKind::Character)
    } else if k.eq_ignore_ascii_case("delete") {
        Ok(KeyKind::Delete)
    } else if k.eq_ignore_ascii_case("other") {
        Ok(KeyKind::Other)
    } else {
        Err(LineError::Invalid {
            field: "key",
            expected: KEY_EXPECTED,
        })
    }
}

fn consent(c: &str) -> Result<Consent, LineError> {
    if c.eq_ignore_ascii_case("granted") {
        Ok(Consent::Granted)
    } else if c.eq_ignore_ascii_case("denied") {
        Ok(Consent::Denied)
    } else if c.eq_ignore_ascii_case("unknown") {
        Ok(Consent::Unknown)
    } else {
        Err(LineError::Invalid {
            field: "consent",
            expected: CONSENT_EXPECTED,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pledgedb_core::{HitProp, Timestamp};

    fn ok(line: &str) -> Hit {
        match parse_line(line, None) {
            Ok(h) => h,
            Err(e) => panic!("{line}: {e}"),
        }
    }

    fn err(line: &str) -> String {
        let e = parse_line(line, None).unwrap_err().to_string();
        assert!(!e.contains("203.0.113"), "{e}");
        assert!(!e.contains("secret"), "{e}");
        e
    }

    #[test]
    fn every_kind() {
        let base = r#""domain":"a.example","url":"https://a.example/p","#;
        let h = ok(&format!(
            r#"{{{base}"type":"page_view","referrer":"https://r.example/","ts":"2026-03-02T10:00:00Z","ip":"203.0.113.9","user_agent":"UA","client_id":"c","session_id":"s","opt_out_token":"t","dnt":true,"gpc":1,"consent":"granted","extra":{{"x":[1,2]}}}}"#
        ));
        assert_eq!(h.domain, "a.example");
        assert_eq!(
            h.timestamp,
            Some(Timestamp::from_ymd_hms(2026, 3, 2, 10, 0, 0))
        );
        assert_eq!(h.ip, Some("203.0.113.9".parse().unwrap()));
        assert_eq!(
            (h.user_agent.as_deref(), h.client_id.as_deref()),
            (Some("UA"), Some("c"))
        );
        assert_eq!(
            (h.session_id.as_deref(), h.opt_out_token.as_deref()),
            (Some("s"), Some("t"))
        );
        assert!(h.dnt && h.gpc);
        assert_eq!(h.consent, Consent::Granted);
        assert_eq!(
            h.kind,
            HitKind::PageView {
                referrer: Some("https://r.example/".into())
            }
        );
        let k = |rest: &str| ok(&format!("{{{base}{rest}}}")).kind;
        assert_eq!(
            k(r#""type":"click","x":3,"y":-4,"target":"a.b","ts":1700000000000"#),
            HitKind::Click {
                x: 3,
                y: -4,
                target: "a.b".into()
            }
        );
        assert_eq!(
            k(r#""type":"scroll","depth":75"#),
            HitKind::Scroll { depth: 75 }
        );
        assert_eq!(
            k(r#""type":"form_view","form":"f""#),
            HitKind::FormView { form: "f".into() }
        );
        assert_eq!(
            k(r#""type":"field_focus","form":"f","field":"e""#),
            HitKind::FieldFocus {
                form: "f".into(),
                field: "e".into()
            }
        );
        assert_eq!(
            k(r#""type":"keystroke","form":"f","field":"e","key":"delete""#),
            HitKind::Keystroke {
                form: "f".into(),
                field: "e".into(),
                key: KeyKind::Delete
            }
        );
        assert_eq!(
            k(r#""type":"keystroke","form":"f","field":"e""#),
            HitKind::Keystroke {
                form: "f".into(),
                field: "e".into(),
                key: KeyKind::Character
            }
        );
        assert_eq!(
            k(r#""type":"field_blur","form":"f","field":"e""#),
            HitKind::FieldBlur {
                form: "f".into(),
                field: "e".into()
            }
        );
        assert_eq!(
            k(
                r#""type":"form_submit","form":"f","fields":[{"name":"email","value":"v","input_type":"email","other":1},{"name":"pw","value":"x","sensitive":true}]"#
            ),
            HitKind::FormSubmit {
                form: "f".into(),
                fields: vec![
                    FormField::new("email", "v").input_type("email"),
                    FormField {
                        sensitive: true,
                        ..FormField::new("pw", "x")
                    }
                ]
            }
        );
        assert_eq!(
            k(
                r#""type":"custom","name":"signup","props":{"plan":"pro","seats":3,"ratio":0.5,"trial":false,"gone":null}"#
            ),
            HitKind::Custom {
                name: "signup".into(),
                props: vec![
                    ("plan".into(), HitProp::Text("pro".into())),
                    ("seats".into(), HitProp::Int(3)),
                    ("ratio".into(), HitProp::Float(0.5)),
                    ("trial".into(), HitProp::Bool(false)),
                ]
            }
        );
    }

    #[test]
    fn errors_name_fields_not_values() {
        let base = r#""domain":"a.example","url":"/p","#;
        let e = |rest: &str| err(&format!("{{{base}{rest}}}"));
        assert_eq!(
            err(r#"{"domain":"a.example","type":"page_view"}"#),
            "missing field `url`"
        );
        assert_eq!(
            err(r#"{"url":"/","type":"page_view"}"#),
            "missing field `domain`"
        );
        assert_eq!(
            err(r#"{"domain":"a.example","url":"/"}"#),
            "missing field `type`"
        );
        assert!(e(r#""type":"page_view","ts":"203.0.113.9""#).starts_with("invalid `ts`"));
        assert!(e(r#""type":"page_view","ts":true"#).starts_with("invalid `ts`"));
        assert!(e(r#""type":"page_view","ip":"203.0.113.999""#).starts_with("invalid `ip`"));
        assert!(e(r#""type":"page_view","ip":203"#).starts_with("invalid `ip`"));
        assert!(e(r#""type":"click","x":"203.0.113.9","y":1"#).starts_with("invalid `x`"));
        assert_eq!(e(r#""type":"click","x":1"#), "missing field `y`");
        assert!(e(r#""type":"scroll","depth":300"#).starts_with("invalid `depth`"));
        assert!(e(r#""type":"page_view","consent":"maybe""#).starts_with("invalid `consent`"));
        assert!(e(r#""type":"page_view","dnt":"secret""#).starts_with("invalid `dnt`"));
        assert!(
            e(r#""type":"custom","name":"n","props":{"k":[1]}"#).starts_with("invalid `props`")
        );
        assert!(
            e(r#""type":"form_submit","form":"f","fields":[{"value":"secret"}]"#)
                .starts_with("invalid `fields`")
        );
        assert_eq!(
            e(r#""type":"unheard_of""#),
            LineError::UnknownType.to_string()
        );
        assert_eq!(
            e(r#""type":"page_view","url":"/again""#),
            "duplicate field `url`"
        );
        for key in ["a", "A", "secret", "1", " "] {
            let msg = e(&format!(
                r#""type":"keystroke","form":"f","field":"e","key":"{key}""#
            ));
            assert!(msg.starts_with("invalid `key`"), "{msg}");
        }
        assert!(
            e(r#""type":"keystroke","form":"f","field":"e","key":5"#).starts_with("invalid `key`")
        );
        assert_eq!(err(r#"["203.0.113.9"]"#), "not a JSON object");
        assert_eq!(err(r#""203.0.113.9""#), "not a JSON object");
        assert!(err(r#"{"domain": 203.0.113.9}"#).starts_with("invalid `domain`"));
        assert_eq!(
            err(r#"{"domain" "203.0.113.9"}"#),
            "not valid JSON (column 11)"
        );
        assert_eq!(err(r#"{"domain":"203.0.113.9""#), "incomplete JSON object");
        assert!(err(r#"{"type":"page_view"} {"x":1}"#).starts_with("not valid JSON"));
    }

    #[test]
    fn default_domain_fills_in() {
        let h = parse_line(r#"{"type":"page_view","url":"/"}"#, Some("d.example")).unwrap();
        assert_eq!(h.domain, "d.example");
    }
}
