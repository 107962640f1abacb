//! Plausible's Events API payloads, one JSON object per line, as a
//! collector in front of `POST /api/event` would log them: the body
//! Plausible's tracker sends, plus what the collector learnt from the
//! request (the client's address and user agent, optionally its headers,
//! and the time).
//!
//! | field | also accepted as | type | meaning |
//! |---|---|---|---|
//! | `name` | `n` | string; required | `pageview` gives a page view; any other name a custom event |
//! | `url` | `u` | string; required | the page's URL |
//! | `domain` | `d` | string; required unless a default domain is set | the site; a comma-separated list (Plausible's roll-up) gives one hit per site, at most 16 |
//! | `referrer` | `r` | string; optional | the referring URL (page views only) |
//! | `props` | `p`, `m`, `meta` | object, or a string holding one as JSON; optional | custom properties of string, number or boolean values (custom events only; `null` values are left out) |
//! | `timestamp` | `ts` | RFC 3339 string or epoch milliseconds; optional | when it happened; absent means "now" by the engine's clock, which is wrong for old data |
//! | `ip` | | string; optional | the client's IPv4 or IPv6 address |
//! | `x_forwarded_for` | | string; optional | used when there is no `ip`: its first (left-most) address; one that does not parse gives no IP |
//! | `remote_ip` | | string; optional | used when there is neither: the peer's address (a proxy's, behind one) |
//! | `user_agent` | | string; optional | the client's user agent |
//! | `headers` | | object of strings; optional | request headers, names in any case: `User-Agent` (used when there is no `user_agent`), `X-Forwarded-For` (after `x_forwarded_for`, before `remote_ip`), `DNT` and `Sec-GPC` (`1` sets the flag) |
//! | `dnt`, `gpc` | | bool (or 0/1); optional | Do-Not-Track and Global Privacy Control, on top of the headers |
//!
//! Other fields (`revenue`, `interactive`, `h`, ...) are ignored. The hits
//! carry no client id: like Plausible, the engine identifies visitors from
//! the IP and user agent with a daily salt. Domain names are lower-cased.
//!
//! ```text
//! {"name":"pageview","url":"https://x.example/p?utm_source=a","domain":"x.example","referrer":"https://www.google.com/","ip":"203.0.113.9","user_agent":"Mozilla/5.0 ...","timestamp":"2026-03-02T10:00:00Z"}
//! {"n":"Signup","u":"https://x.example/join","d":"x.example","p":{"plan":"pro"},"headers":{"User-Agent":"Mozilla/5.0 ...","X-Forwarded-For":"203.0.113.9, 10.0.0.1","DNT":"1"}}
//! ```

use crate::error::LineError;
use crate::json::{
    FLAG_EXPECTED, Flag, Key, LineVisitor, PROPS_EXPECTED, Props, TS_EXPECTED, Ts, read_object,
    skip, take,
};
use pledgedb_core::{Consent, Hit, HitKind};
use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};
use std::fmt;
use std::net::IpAddr;

/// The most sites one payload may name.
pub const MAX_DOMAINS: usize = 16;

#[derive(Default)]
struct Raw {
    name: Option<String>,
    url: Option<String>,
    domain: Option<String>,
    referrer: Option<String>,
    props: Option<Props>,
    ts: Option<Ts>,
    ip: Option<String>,
    x_forwarded_for: Option<String>,
    remote_ip: Option<String>,
    user_agent: Option<String>,
    headers: Option<Headers>,
    dnt: Option<Flag>,
    gpc: Option<Flag>,
}

const STRING: &str = "a string";
const IP_EXPECTED: &str = "an IPv4 or IPv6 address";
const HEADERS_EXPECTED: &str = "an object of header names to strings";

impl LineVisitor for Raw {
    fn field<'de, A: MapAccess<'de>>(
        &mut self,
        key: &str,
        map: &mut A,
        p: &mut Option<LineError>,
    ) -> Result<(), A::Error> {
        match key {
            "name" | "n" => take(map, &mut self.name, "name", STRING, p),
            "url" | "u" => take(map, &mut self.url, "url", STRING, p),
            "domain" | "d" => take(map, &mut self.domain, "domain", STRING, p),
            "referrer" | "r" => take(map, &mut self.referrer, "referrer", STRING, p),
            "props" | "p" | "m" | "meta" => take(map, &mut self.props, "props", PROPS_EXPECTED, p),
            "timestamp" | "ts" => take(map, &mut self.ts, "timestamp", TS_EXPECTED, p),
            "ip" => take(map, &mut self.ip, "ip", IP_EXPECTED, p),
            "x_forwarded_for" => take(map, &mut self.x_forwarded_for, "x_forwarded_for", STRING, p),
            "remote_ip" => take(map, &mut self.remote_ip, "remote_ip", IP_EXPECTED, p),
            "user_agent" => take(map, &mut self.user_agent, "user_agent", STRING, p),
            "headers" => take(map, &mut self.headers, "headers", HEADERS_EXPECTED, p),
            "dnt" => take(map, &mut self.dnt, "dnt", FLAG_EXPECTED, p),
            "gpc" => take(map, &mut self.gpc, "gpc", FLAG_EXPECTED, p),
            _ => skip(map),
        }
    }
}

/// The request headers a collector logged; only these four are read.
#[derive(Default)]
struct Headers {
    user_agent: Option<String>,
    forwarded_for: Option<String>,
    dnt: bool,
    gpc: bool,
}

impl<'de> Deserialize<'de> for Headers {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct HeadersVisitor;
        impl<'de> Visitor<'de> for HeadersVisitor {
            type Value = Headers;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(HEADERS_EXPECTED)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Headers, A::Error> {
                let mut h = Headers::default();
                while let Some(k) = map.next_key::<Key<'de>>()? {
                    let k = k.as_str();
                    if k.eq_ignore_ascii_case("user-agent") {
                        h.user_agent = Some(map.next_value()?);
                    } else if k.eq_ignore_ascii_case("x-forwarded-for") {
                        h.forwarded_for = Some(map.next_value()?);
                    } else if k.eq_ignore_ascii_case("dnt") {
                        h.dnt = map.next_value::<HeaderFlag>()?.0;
                    } else if k.eq_ignore_ascii_case("sec-gpc") {
                        h.gpc = map.next_value::<HeaderFlag>()?.0;
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(h)
            }
        }
        d.deserialize_map(HeadersVisitor)
    }
}

/// A `DNT` or `Sec-GPC` header value: set when it is `1`.
struct HeaderFlag(bool);

impl<'de> Deserialize<'de> for HeaderFlag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = HeaderFlag;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a header value")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<HeaderFlag, E> {
                Ok(HeaderFlag(v.trim() == "1"))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<HeaderFlag, E> {
                Ok(HeaderFlag(v == 1))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<HeaderFlag, E> {
                Ok(HeaderFlag(v == 1))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<HeaderFlag, E> {
                Ok(HeaderFlag(v))
            }
            fn visit_unit<E: de::Error>(self) -> Result<HeaderFlag, E> {
                Ok(HeaderFlag(false))
            }
        }
        d.deserialize_any(V)
    }
}

/// Whether a JSON line looks like a Plausible payload rather than an NDJSON
/// hit: it has a `name` (or `n`) and no `type`. Lines that are not JSON
/// objects give `false`.
#[must_use]
pub fn looks_like_plausible(line: &str) -> bool {
    #[derive(Default)]
    struct Keys {
        name: bool,
        kind: bool,
    }
    impl LineVisitor for Keys {
        fn field<'de, A: MapAccess<'de>>(
            &mut self,
            key: &str,
            map: &mut A,
            _: &mut Option<LineError>,
        ) -> Result<(), A::Error> {
            match key {
                "name" | "n" => self.name = true,
                "type" => self.kind = true,
                _ => {}
            }
            skip(map)
        }
    }
    read_object::<Keys>(line).is_ok_and(|k| k.name && !k.kind)
}

/// Parses one Plausible payload, appending one hit per named site to `out`.
/// Returns how many were appended. `default_domain` is used when the line
/// has no `domain`.
pub fn parse_line(
    line: &str,
    default_domain: Option<&str>,
    out: &mut Vec<Hit>,
) -> Result<usize, LineError> {
    let raw: Raw = read_object(line)?;
    let name = raw.name.ok_or(LineError::Missing("name"))?;
    let url = raw.url.ok_or(LineError::Missing("url"))?;
    let domains = match raw.domain.as_deref() {
        Some(d) => d,
        None => default_domain.ok_or(LineError::Missing("domain"))?,
    };
    let headers = raw.headers.unwrap_or_default();
    let ip = match (&raw.ip, &raw.x_forwarded_for, &headers.forwarded_for) {
        (Some(ip), _, _) => Some(parse_ip(ip).ok_or(LineError::Invalid {
            field: "ip",
            expected: IP_EXPECTED,
        })?),
        (None, Some(xff), _) | (None, None, Some(xff)) => first_forwarded(xff),
        (None, None, None) => match &raw.remote_ip {
            Some(ip) => Some(parse_ip(ip).ok_or(LineError::Invalid {
                field: "remote_ip",
                expected: IP_EXPECTED,
            })?),
            None => None,
        },
    };
    let kind = if name == "pageview" {
        HitKind::PageView {
            referrer: raw.referrer,
        }
    } else {
        HitKind::Custom {
            name,
            props: raw.props.unwrap_or_default().0,
        }
    };
    let template = Hit {
        domain: String::new(),
        timestamp: raw.ts.map(|t| t.0),
        url,
        ip,
        user_agent: raw.user_agent.or(headers.user_agent),
        client_id: None,
        session_id: None,
        opt_out_token: None,
        dnt: headers.dnt || raw.dnt.is_some_and(|f| f.0),
        gpc: headers.gpc || raw.gpc.is_some_and(|f| f.0),
        consent: Consent::Unknown,
        kind,
    };
    let start = out.len();
    for d in domains.split(',').map(str::trim).filter(|d| !d.is_empty()) {
        if out.len() - start == MAX_DOMAINS {
            out.truncate(start);
            return Err(LineError::Invalid {
                field: "domain",
                expected: "at most 16 comma-separated domain names",
            });
        }
        let mut hit = template.clone();
        hit.domain = d.to_ascii_lowercase();
        out.push(hit);
    }
    if out.len() == start {
        return Err(LineError::Missing("domain"));
    }
    Ok(out.len() - start)
}

fn parse_ip(s: &str) -> Option<IpAddr> {
    s.trim().parse().ok()
}

/// The first address of an `X-Forwarded-For` list, with any port or
/// brackets removed.
fn first_forwarded(list: &str) -> Option<IpAddr> {
    let first = list.split(',').next()?.trim();
    if let Ok(ip) = first.parse() {
        return Some(ip);
    }
    if let Some(rest) = first.strip_prefix('[') {
        return rest.split_once(']')?.0.parse().ok();
    }
    let (host, port) = first.split_once(':')?;
    if port.bytes().all(|b| b.is_ascii_digit()) {
        host.parse().ok()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pledgedb_core::{HitProp, Timestamp};

    fn one(line: &str) -> Hit {
        let mut out = Vec::new();
        match parse_line(line, None, &mut out) {
            Ok(1) => out.remove(0),
            other => panic!("{line}: {other:?}"),
        }
    }

    #[test]
    fn pageview_and_custom() {
        let h = one(
            r#"{"name":"pageview","url":"https://x.example/p?utm_source=a","domain":"X.example","referrer":"https://r.example/","props":{"a":1},"ip":"203.0.113.9","user_agent":"UA","timestamp":"2026-03-02T10:00:00Z","revenue":{"currency":"EUR","amount":3}}"#,
        );
        assert_eq!(h.domain, "x.example");
        assert_eq!(h.url, "https://x.example/p?utm_source=a");
        assert_eq!(h.ip, Some("203.0.113.9".parse().unwrap()));
        assert_eq!(h.user_agent.as_deref(), Some("UA"));
        assert_eq!(
            h.timestamp,
            Some(Timestamp::from_ymd_hms(2026, 3, 2, 10, 0, 0))
        );
        assert_eq!(
            h.kind,
            HitKind::PageView {
                referrer: Some("https://r.example/".into())
            }
        );
        assert!(h.client_id.is_none() && !h.dnt && !h.gpc);

        let h = one(
            r#"{"n":"Signup","u":"/join","d":"x.example","m":"{\"plan\":\"pro\",\"n\":2}","headers":{"user-agent":"HUA","X-Forwarded-For":"198.51.100.4:5000, 10.0.0.1","DNT":"1","Sec-GPC":1,"Cookie":"secret"},"remote_ip":"10.0.0.1","ts":1772445600000}"#,
        );
        assert_eq!(
            h.kind,
            HitKind::Custom {
                name: "Signup".into(),
                props: vec![
                    ("plan".into(), HitProp::Text("pro".into())),
                    ("n".into(), HitProp::Int(2))
                ]
            }
        );
        assert_eq!(h.ip, Some("198.51.100.4".parse().unwrap()));
        assert_eq!(h.user_agent.as_deref(), Some("HUA"));
        assert!(h.dnt && h.gpc);
        assert_eq!(h.timestamp, Some(Timestamp(1_772_445_600_000)));
    }

    #[test]
    fn ip_precedence() {
        let ip = |extra: &str| {
            one(&format!(
                r#"{{"name":"pageview","url":"/","domain":"x.example"{extra}}}"#
            ))
            .ip
            .map(|i| i.to_string())
        };
        assert_eq!(ip(""), None);
        assert_eq!(
            ip(r#","remote_ip":"192.0.2.1""#).as_deref(),
            Some("192.0.2.1")
        );
        assert_eq!(
            ip(r#","remote_ip":"192.0.2.1","headers":{"x-forwarded-for":"[2001:db8::5]:443"}"#)
                .as_deref(),
            Some("2001:db8::5")
        );
        assert_eq!(
            ip(r#","remote_ip":"192.0.2.1","x_forwarded_for":"unknown, 192.0.2.9""#),
            None
        );
        assert_eq!(
            ip(r#","ip":"192.0.2.7","x_forwarded_for":"192.0.2.8""#).as_deref(),
            Some("192.0.2.7")
        );
    }

    #[test]
    fn several_domains_and_errors() {
        let mut out = Vec::new();
        let n = parse_line(
            r#"{"name":"pageview","url":"/","domain":"a.example, b.example,"}"#,
            None,
            &mut out,
        )
        .unwrap();
        assert_eq!(n, 2);
        assert_eq!(out[1].domain, "b.example");
        let many = (0..17)
            .map(|i| format!("s{i}.example"))
            .collect::<Vec<_>>()
            .join(",");
        let mut out = Vec::new();
        let e = parse_line(
            &format!(r#"{{"name":"pageview","url":"/","domain":"{many}"}}"#),
            None,
            &mut out,
        )
        .unwrap_err();
        assert!(e.to_string().starts_with("invalid `domain`"));
        assert!(out.is_empty());
        for (line, want) in [
            (
                r#"{"url":"/","domain":"x.example"}"#,
                "missing field `name`",
            ),
            (
                r#"{"name":"pageview","domain":"x.example"}"#,
                "missing field `url`",
            ),
            (r#"{"name":"pageview","url":"/"}"#, "missing field `domain`"),
            (
                r#"{"name":"pageview","url":"/","domain":" , "}"#,
                "missing field `domain`",
            ),
        ] {
            assert_eq!(
                parse_line(line, None, &mut Vec::new())
                    .unwrap_err()
                    .to_string(),
                want
            );
        }
        let e = parse_line(
            r#"{"name":"pageview","url":"/","domain":"x.example","ip":"203.0.113.x"}"#,
            None,
            &mut Vec::new(),
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("invalid `ip`") && !e.contains("203"), "{e}");
        let e = parse_line(
            r#"{"name":"e","url":"/","domain":"x.example","p":"{not json 203.0.113.9"}"#,
            None,
            &mut Vec::new(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("invalid `props`") && !e.contains("203"),
            "{e}"
        );
    }

    #[test]
    fn detection_helper() {
        assert!(looks_like_plausible(r#"{"name":"pageview","url":"/"}"#));
        assert!(looks_like_plausible(r#"{"n":"pageview","u":"/"}"#));
        assert!(!looks_like_plausible(r#"{"name":"x","type":"custom"}"#));
        assert!(!looks_like_plausible(r#"{"type":"page_view"}"#));
        assert!(!looks_like_plausible("not json"));
    }
}
