//! The row every engine but PledgeDB stores, and the one function that
//! derives it from a [`Hit`].
//!
//! SQLite and redb get exactly what PledgeDB keeps of a hit: the same privacy
//! gate (opt-out, Do-Not-Track, GPC, consent), the country from the same
//! GeoIP database, device and browser from the same user-agent classifier,
//! the URL reduced to its path and `utm_*` parameters, every string through
//! the same IP scrubber ([`Text::new`]), sensitive form fields and
//! properties dropped, card numbers, IBANs and SSNs redacted, keystrokes in
//! sensitive fields dropped, nothing typed kept on events without an id, a
//! keyed SipHash visitor id (client id, or a daily salt with IP and user
//! agent) and the same sessions (the tracker's session id, else a 30-minute
//! gap). The derivation runs inside each engine's `ingest` and is part of
//! its timed ingest cost, as it is for PledgeDB.
//!
//! The bench uses its own fixed keys, so the ids differ from PledgeDB's
//! (whose keys are random per domain) but partition the events into the
//! same visitors and sessions: distinct counts agree exactly.

use pledgedb::geo::GeoDb;
use pledgedb::text::{reduce_url, referrer_host};
use pledgedb::{
    Consent, Country, DomainSettings, Hit, HitKind, HitProp, Limits, MS_PER_DAY, Text, sensitive,
    ua,
};
use serde::{Deserialize, Serialize};
use siphasher::sip::SipHasher24;
use std::collections::{HashMap, HashSet};
use std::hash::Hasher;
use std::net::IpAddr;
use std::sync::Arc;

/// A stored event, generic over its string type: [`Text`] when written,
/// `&str` when read back (postcard reads it without copying).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Ev<S> {
    pub visitor: u64,
    pub session: u64,
    pub country: [u8; 2],
    pub device: u8,
    pub browser: S,
    pub path: S,
    pub kind: Kind<S>,
}

/// What happened, as in `pledgedb::EventKind`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Kind<S> {
    PageView { referrer: S, utm: S },
    Click { x: i32, y: i32, target: S },
    Scroll { depth: u8 },
    FormView { form: S },
    FieldFocus { form: S, field: S },
    Keystroke { form: S, field: S, key: u8 },
    FieldBlur { form: S, field: S },
    FormSubmit { form: S, fields: Vec<(S, S)> },
    Custom { name: S, props: Vec<(S, Prop<S>)> },
}

/// A custom property value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Prop<S> {
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(S),
}

impl<S> Kind<S> {
    /// The `pledgedb::EventType` code.
    pub fn code(&self) -> u8 {
        match self {
            Kind::PageView { .. } => 0,
            Kind::Click { .. } => 1,
            Kind::Scroll { .. } => 2,
            Kind::FormView { .. } => 3,
            Kind::FieldFocus { .. } => 4,
            Kind::Keystroke { .. } => 5,
            Kind::FieldBlur { .. } => 6,
            Kind::FormSubmit { .. } => 7,
            Kind::Custom { .. } => 8,
        }
    }
}

/// A derived row: its domain, timestamp and event.
pub struct Row {
    pub domain: Arc<str>,
    pub ts: i64,
    pub ev: Ev<Text>,
}

const VISITOR_KEY: [u8; 16] = *b"bench-visitorkey";
const AUX_KEY: [u8; 16] = *b"bench-aux-key-16";
const SESSION_GAP_MS: i64 = 30 * 60 * 1000;

/// The per-caller state of the derivation: the GeoIP database, the opt-out
/// registry and the open sessions.
pub struct Deriver {
    geo: GeoDb,
    opt_outs: Arc<HashSet<String>>,
    settings: DomainSettings,
    limits: Limits,
    /// (domain, visitor) -> (last event, session).
    sessions: HashMap<(Arc<str>, u64), (i64, u64)>,
    domains: HashMap<String, Arc<str>>,
}

fn nonzero(h: u64) -> u64 {
    if h == 0 { 1 } else { h }
}

impl Deriver {
    pub fn new(geo_bytes: &[u8], opt_outs: Arc<HashSet<String>>) -> Result<Deriver, String> {
        let geo = GeoDb::from_bytes(geo_bytes.to_vec()).map_err(|e| e.to_string())?;
        Ok(Deriver {
            geo,
            opt_outs,
            settings: DomainSettings::default(),
            limits: Limits::default(),
            sessions: HashMap::new(),
            domains: HashMap::new(),
        })
    }

    /// The visitor id of a first-party client id.
    pub fn visitor_of_client(client_id: &str) -> u64 {
        let mut h = SipHasher24::new_with_key(&VISITOR_KEY);
        h.write_u8(b'c');
        h.write(client_id.as_bytes());
        nonzero(h.finish())
    }

    fn visitor_cookieless(day: i64, ip: IpAddr, ua: &str) -> u64 {
        // The daily salt: a keyed hash of the day stands in for PledgeDB's
        // random per-day salt (same partition of visitors).
        let mut s = SipHasher24::new_with_key(&AUX_KEY);
        s.write_u8(b'd');
        s.write_i64(day);
        let salt = s.finish();
        let mut h = SipHasher24::new_with_key(&VISITOR_KEY);
        h.write_u8(b's');
        h.write_u64(salt);
        match ip {
            IpAddr::V4(v4) => h.write(&v4.octets()),
            IpAddr::V6(v6) => h.write(&v6.octets()),
        }
        h.write(ua.as_bytes());
        nonzero(h.finish())
    }

    fn session_hash(tag: u8, visitor: u64, x: &[u8]) -> u64 {
        let mut h = SipHasher24::new_with_key(&AUX_KEY);
        h.write_u8(tag);
        h.write_u64(visitor);
        h.write(x);
        nonzero(h.finish())
    }

    /// What PledgeDB's ingest would store of `hit`, or `None` if its
    /// privacy gate drops it (default consent policy).
    pub fn derive(&mut self, hit: Hit) -> Option<Row> {
        if self.limits.check(&hit).is_err() {
            return None;
        }
        if hit
            .opt_out_token
            .as_ref()
            .is_some_and(|t| self.opt_outs.contains(t))
        {
            return None;
        }
        let policy = &self.settings.consent;
        if (hit.dnt && policy.honour_dnt) || (hit.gpc && policy.honour_gpc) {
            return None;
        }
        let identified = match hit.consent {
            Consent::Granted => true,
            Consent::Denied => false,
            Consent::Unknown => !policy.require_consent,
        };
        if let HitKind::Keystroke { form, field, .. } = &hit.kind
            && (self.settings.is_sensitive_name(form) || self.settings.is_sensitive_name(field))
        {
            return None;
        }
        let ts = hit.timestamp.map_or(0, |t| t.0);
        let country = hit
            .ip
            .map_or(Country::UNKNOWN, |ip| self.geo.country(ip))
            .to_bytes();
        let ua_str = hit.user_agent.as_deref().unwrap_or("");
        let info = ua::classify(ua_str);
        let visitor = if !identified {
            0
        } else if let Some(c) = &hit.client_id {
            Self::visitor_of_client(c)
        } else if let Some(ip) = hit.ip {
            Self::visitor_cookieless(ts.div_euclid(MS_PER_DAY), ip, ua_str)
        } else {
            0
        };
        let domain = match self.domains.get(&hit.domain) {
            Some(d) => Arc::clone(d),
            None => {
                let d: Arc<str> = Arc::from(hit.domain.as_str());
                self.domains.insert(hit.domain.clone(), Arc::clone(&d));
                d
            }
        };
        let session = if visitor == 0 {
            0
        } else if let Some(s) = &hit.session_id {
            Self::session_hash(b'k', visitor, s.as_bytes())
        } else {
            match self.sessions.get_mut(&(Arc::clone(&domain), visitor)) {
                Some((last, sid)) if (ts - *last).abs() <= SESSION_GAP_MS => {
                    *last = (*last).max(ts);
                    *sid
                }
                _ => {
                    let sid = Self::session_hash(b't', visitor, &ts.to_le_bytes());
                    self.sessions
                        .insert((Arc::clone(&domain), visitor), (ts, sid));
                    sid
                }
            }
        };
        let url = reduce_url(&hit.url);
        let anonymous = visitor == 0;
        let text = |s: &str| Text::new(&sensitive::redact_sensitive_values(s));
        let settings = &self.settings;
        let kind = match hit.kind {
            HitKind::PageView { referrer } => Kind::PageView {
                referrer: referrer
                    .as_deref()
                    .map_or_else(Text::empty, |r| text(&referrer_host(r))),
                utm: if anonymous {
                    text(&sensitive::anonymous_utm(&url.utm))
                } else {
                    text(&url.utm)
                },
            },
            HitKind::Click { x, y, target } => Kind::Click {
                x,
                y,
                target: text(&target),
            },
            HitKind::Scroll { depth } => Kind::Scroll { depth },
            HitKind::FormView { form } => Kind::FormView { form: text(&form) },
            HitKind::FieldFocus { form, field } => Kind::FieldFocus {
                form: text(&form),
                field: text(&field),
            },
            HitKind::Keystroke { form, field, key } => Kind::Keystroke {
                form: text(&form),
                field: text(&field),
                key: key.code(),
            },
            HitKind::FieldBlur { form, field } => Kind::FieldBlur {
                form: text(&form),
                field: text(&field),
            },
            HitKind::FormSubmit { form, fields } => Kind::FormSubmit {
                form: text(&form),
                fields: fields
                    .iter()
                    .filter(|f| !anonymous && !settings.is_sensitive(f))
                    .map(|f| (text(&f.name), Text::new(&f.value)))
                    .collect(),
            },
            HitKind::Custom { name, props } => Kind::Custom {
                name: text(&name),
                props: props
                    .into_iter()
                    .filter(|(k, _)| !settings.is_sensitive_name(k))
                    .filter_map(|(k, v)| {
                        let v = match v {
                            HitProp::Bool(b) => Prop::Bool(b),
                            HitProp::Int(i) if sensitive::is_card_number(i) => return None,
                            HitProp::Int(i) => Prop::Int(i),
                            HitProp::Float(f) => Prop::Float(f),
                            HitProp::Text(_) if anonymous => return None,
                            HitProp::Text(t) if sensitive::contains_sensitive_value(&t) => {
                                return None;
                            }
                            HitProp::Text(t) => Prop::Text(Text::new(&t)),
                        };
                        Some((text(&k), v))
                    })
                    .collect(),
            },
        };
        Some(Row {
            domain,
            ts,
            ev: Ev {
                visitor,
                session,
                country,
                device: info.device.code(),
                browser: Text::new(info.browser),
                path: text(url.path),
                kind,
            },
        })
    }

    /// Derives a batch.
    pub fn derive_all(&mut self, hits: Vec<Hit>) -> Vec<Row> {
        let mut rows = Vec::with_capacity(hits.len());
        for h in hits {
            if let Some(r) = self.derive(h) {
                rows.push(r);
            }
        }
        rows
    }
}
