//! The ingest pipeline: from a raw [`Hit`] to an [`Event`] that cannot hold an
//! IP address. Runs on the caller's thread, so many callers scale across
//! cores; only the finished event travels to the domain's writer.
//!
//! The file reads in the order a hit flows ([`Engine::prepare_with`] drives
//! it): validate once (domain name, sizes, time) -> opt-out / DNT / GPC /
//! consent gate, then the keystroke screen (a dropped hit writes nothing and
//! creates no domain) -> retention cutoff -> the domain, found or created ->
//! derive: country from the IP, visitor id (keyed hash), device and browser
//! from the user agent, every string through the scrubber, the URL reduced
//! to its path, sensitive form fields dropped -> send to the domain's writer
//! ([`Engine::ingest_one`], [`Engine::send_groups`]). The IP and user agent
//! go out of scope with the hit.
//!
//! Sensitive data (promise P8, [`crate::sensitive`]): [`screen`] drops a
//! keystroke in a sensitive field before anything is written; [`transform`]
//! drops sensitive submitted fields and properties and redacts card numbers,
//! IBANs and SSNs from every other stored string. An event kept without a
//! visitor id (promise P4) keeps nothing a person typed: see
//! [`transform`].

use crate::domain::shared::DomainShared;
use crate::engine::Engine;
use crate::error::{HitError, HitField, HitProblem, IngestError, StorageError};
use crate::event::{Country, Event, EventKind, PropValue, SessionId, SubmittedField, VisitorId};
use crate::geo::GeoDb;
use crate::hit::{Consent, Hit, HitKind, HitProp};
use crate::identity::{DomainSecret, opt_out_hash};
use crate::limits::{Limits, validate_domain_name};
use crate::sensitive;
use crate::settings::{DomainSettings, Retention, WithoutConsent};
use crate::text::{Text, reduce_url, referrer_host};
use crate::time::{MS_PER_DAY, Timestamp};
use crate::ua;
use crate::writer::{Msg, Pending};
use serde::Serialize;
use std::sync::Arc;

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

/// The index of a drop reason in the engine's drop counters.
pub(crate) fn drop_index(r: DropReason) -> usize {
    match r {
        DropReason::OptedOut => 0,
        DropReason::DoNotTrack => 1,
        DropReason::GlobalPrivacyControl => 2,
        DropReason::NoConsent => 3,
        DropReason::Expired => 4,
        DropReason::SensitiveKeystroke => 5,
    }
}

impl Pending {
    /// What the caller is told about this event once it is queued.
    pub(crate) fn outcome(&self) -> Ingested {
        if self.event.visitor == VisitorId::ANONYMOUS {
            Ingested::QueuedAnonymous
        } else {
            Ingested::Queued
        }
    }
}

/// What the pipeline made of one hit.
pub(crate) enum Prepared {
    /// Dropped by the privacy gate or past retention: nothing was written,
    /// and no domain was created for it.
    Dropped(DropReason),
    /// The event to store, and the domain it goes to.
    Event(Arc<DomainShared>, Pending),
}

/// The events of one domain in a batch, and the positions of their results.
pub(crate) struct Group {
    pub(crate) shared: Arc<DomainShared>,
    pub(crate) pending: Vec<Pending>,
    pub(crate) results: Vec<usize>,
}

/// The earliest moment an aggregate of `retention` still keeps at `now`
/// (the start of the first day the compactor does not expire).
pub(crate) fn aggregate_cutoff(retention: &Retention, now: Timestamp) -> Timestamp {
    let days = i64::from(retention.aggregate_days);
    Timestamp(now.0.saturating_sub(days.saturating_mul(MS_PER_DAY)))
        .day()
        .start()
}

impl Engine {
    /// Ingests one hit: the whole pipeline, then the send to its writer.
    pub(crate) fn ingest_one(&self, hit: Hit) -> Result<Ingested, IngestError> {
        match self.prepare(hit)? {
            Prepared::Dropped(r) => Ok(Ingested::Dropped(r)),
            Prepared::Event(shared, p) => {
                let outcome = p.outcome();
                self.send(shared.writer, Msg::Event(shared, p))
                    .map_err(|_| IngestError::Closed)?;
                Ok(outcome)
            }
        }
    }

    /// Ingests many hits, sending them to the writers in groups. Returns one
    /// result per hit, in order; see [`Db::ingest_batch`](crate::Db::ingest_batch).
    pub(crate) fn ingest_many(
        &self,
        hits: impl IntoIterator<Item = Hit>,
    ) -> Vec<Result<Ingested, IngestError>> {
        let hits = hits.into_iter();
        let mut results = Vec::with_capacity(hits.size_hint().0);
        // Most batches are for one domain: keep groups in a small list
        // found by pointer, not a map keyed by a cloned name. Each group
        // remembers which results are its own.
        let mut groups: Vec<Group> = Vec::new();
        for hit in hits {
            match self.prepare(hit) {
                Err(e) => results.push(Err(e)),
                Ok(Prepared::Dropped(r)) => results.push(Ok(Ingested::Dropped(r))),
                Ok(Prepared::Event(shared, p)) => {
                    let index = results.len();
                    results.push(Ok(p.outcome()));
                    match groups.iter_mut().find(|g| Arc::ptr_eq(&g.shared, &shared)) {
                        Some(g) => {
                            g.pending.push(p);
                            g.results.push(index);
                        }
                        None => {
                            let mut pending = Vec::with_capacity(results.capacity());
                            pending.push(p);
                            groups.push(Group {
                                shared,
                                pending,
                                results: vec![index],
                            });
                        }
                    }
                }
            }
        }
        self.send_groups(groups, &mut results);
        results
    }

    /// The pipeline of one hit, in data-flow order: validate (once), gate,
    /// and only then find or create the domain and derive the event. A hit
    /// the gate drops writes nothing: no domain, no file, no catalog entry
    /// (promise P3); only the in-memory drop counter moves.
    pub(crate) fn prepare(&self, hit: Hit) -> Result<Prepared, IngestError> {
        self.prepare_with(hit, None)
    }

    /// [`prepare`](Self::prepare), or, with `history = Some(days)`, the same
    /// pipeline for an import of history (`crate::history`): hits up to
    /// `days` in the past are accepted (instead of `Limits::max_past_days`),
    /// and only those older than the aggregate retention are dropped as
    /// expired; the caller routes events past the raw retention to the
    /// aggregate file.
    pub(crate) fn prepare_with(
        &self,
        hit: Hit,
        history: Option<i64>,
    ) -> Result<Prepared, IngestError> {
        if self.is_closed() {
            return Err(IngestError::Closed);
        }
        // 1. Validate, once: the domain name (unless the domain exists), the
        //    sizes, the time window.
        let existing = self.domains.read().get(&hit.domain).cloned();
        if existing.is_none() {
            validate_domain_name(&hit.domain)
                .map_err(|e| HitError::new(HitField::Domain, HitProblem::DomainName(e)))?;
            self.check_available(&hit.domain)?;
            if !self.config.create_domains_on_ingest {
                return Err(HitError::new(HitField::Domain, HitProblem::UnknownDomain).into());
            }
        }
        self.config.limits.check(&hit)?;
        let now = self.config.clock.now();
        let limits = Limits {
            max_past_days: history.unwrap_or(self.config.limits.max_past_days),
            ..self.config.limits
        };
        let ts = resolve_time(&hit, now, &limits)?;
        // 2. Gate. A domain not created yet is judged by the settings it
        //    would get.
        let settings = match &existing {
            Some(shared) => Arc::clone(&*shared.settings.read()),
            None => Arc::new(self.config.domain_defaults.clone()),
        };
        let verdict = gate(&hit, &settings, |t| {
            self.opt_outs
                .read()
                .contains(&opt_out_hash(&self.opt_out_key, t))
        });
        let identified = match verdict {
            Ok(i) => i,
            Err(r) => return Ok(self.dropped(r)),
        };
        if let Err(r) = screen(&hit, &settings) {
            return Ok(self.dropped(r));
        }
        let cutoff = match history {
            None => settings.retention.cutoff(now),
            Some(_) => aggregate_cutoff(&settings.retention, now),
        };
        if ts < cutoff {
            return Ok(self.dropped(DropReason::Expired));
        }
        // 3. Derive: only a hit that passed the gate finds or creates its
        //    domain.
        let shared = match existing {
            Some(s) => s,
            None => self.domain_or_create(&hit.domain)?,
        };
        let salt = if needs_salt(&hit, identified) {
            Some(self.salt(ts.day())?)
        } else {
            None
        };
        let cx = Context {
            secret: &shared.secret,
            settings: &settings,
            geo: self.geo.as_ref(),
            salt,
        };
        let pending = transform(hit, ts, identified, &cx);
        Ok(Prepared::Event(shared, pending))
    }

    /// Counts a dropped hit.
    fn dropped(&self, r: DropReason) -> Prepared {
        self.counters.dropped[drop_index(r)].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Prepared::Dropped(r)
    }

    /// Step 4, send: each group of a batch to its writer; the hits of a
    /// group that could not be sent, and only those, become `Closed`.
    pub(crate) fn send_groups(
        &self,
        groups: Vec<Group>,
        results: &mut [Result<Ingested, IngestError>],
    ) {
        for g in groups {
            let sent: Result<(), StorageError> = self.send(
                g.shared.writer,
                Msg::Events(Arc::clone(&g.shared), g.pending),
            );
            if sent.is_err() {
                for i in g.results {
                    if let Some(r) = results.get_mut(i) {
                        *r = Err(IngestError::Closed);
                    }
                }
            }
        }
    }
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
/// [`Text::new`] scrubs IPs. The value scan runs only when the text is not
/// in the per-thread cache of text that passed it unchanged
/// ([`Text::screened`]).
fn text_of(s: &str) -> Text {
    Text::screened(s, sensitive::redact_sensitive_values)
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

#[cfg(test)]
mod screened_text_tests {
    use super::*;
    use proptest::prelude::*;

    fn slow(s: &str) -> Text {
        Text::new(&sensitive::redact_sensitive_values(s))
    }

    /// Card numbers, IBANs and SSNs are redacted on every call, however the
    /// per-thread cache was filled before (by `Text::new` of the same raw
    /// text, of its redacted form, or by an earlier `text_of`).
    #[test]
    fn text_of_redacts_sensitive_values_whatever_the_cache_holds() {
        let cases = [
            "4111 1111 1111 1111",
            "card 4111111111111111 here",
            "DE89 3704 0044 0532 0130 00",
            "ssn 078-05-1120",
            "order 4111111111111111 from 203.0.113.9",
            "/checkout/4111-1111-1111-1111",
        ];
        for raw in cases {
            let want = slow(raw);
            assert_ne!(want.as_str(), raw, "{raw} is sensitive");
            // raw text interned by the plain constructor first
            let _ = Text::new(raw);
            assert_eq!(text_of(raw), want, "{raw}");
            assert_eq!(text_of(raw), want, "{raw}, again");
            // the redacted form interned too
            let _ = Text::new(want.as_str());
            assert_eq!(text_of(raw), want, "{raw}, third time");
        }
        // clean text passes unchanged and stays cached
        for clean in ["/pricing", "signup-form", "email", "Firefox"] {
            let _ = Text::new(clean);
            assert_eq!(text_of(clean).as_str(), clean);
            assert_eq!(text_of(clean).as_str(), clean);
        }
    }

    thread_local! {
        static SCANS: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
    }

    fn counting(s: &str) -> std::borrow::Cow<'_, str> {
        SCANS.with(|c| c.set(c.get() + 1));
        sensitive::redact_sensitive_values(s)
    }

    fn scans_for(s: &str, times: u32) -> (u32, Text) {
        let before = SCANS.with(std::cell::Cell::get);
        let mut last = Text::empty();
        for _ in 0..times {
            last = Text::screened(s, counting);
        }
        (SCANS.with(std::cell::Cell::get) - before, last)
    }

    /// The value scan runs once for text that passed it unchanged, even if
    /// the plain constructor interned it first, and on every call for text
    /// it changed (which never becomes a cache key) or that is too long to
    /// be interned.
    #[test]
    fn the_value_scan_runs_only_on_a_cache_miss() {
        let _ = Text::new("/screened-once");
        assert_eq!(scans_for("/screened-once", 5).0, 1);
        assert_eq!(scans_for("/screened-once", 5).0, 0);
        let (n, t) = scans_for("pay 4111111111111111", 4);
        assert_eq!(n, 4);
        assert_eq!(t, slow("pay 4111111111111111"));
        let long = "a".repeat(300);
        assert_eq!(scans_for(&long, 3).0, 3);
        // an IP-shaped text is not cached either, and comes out scrubbed
        let (n, t) = scans_for("from 203.0.113.9", 2);
        assert_eq!(n, 2);
        assert!(!t.as_str().contains("203.0.113.9"));
    }

    proptest! {
        /// `text_of` equals the uncached pipeline on any sequence of texts,
        /// sensitive or not, repeated in any order.
        #[test]
        fn text_of_equals_the_uncached_screen(
            picks in proptest::collection::vec((0usize..8, any::<bool>()), 1..40)
        ) {
            let pool = [
                "/a", "4111111111111111", "x 5500 0000 0000 0004 y",
                "GB82WEST12345698765432", "10.0.0.1", "name", "078-05-1120", "",
            ];
            for (i, plain_first) in picks {
                let s = pool[i];
                if plain_first {
                    let _ = Text::new(s);
                }
                prop_assert_eq!(text_of(s), slow(s));
            }
        }
    }
}

#[cfg(test)]
mod send_tests {
    use super::*;
    use crate::hit::Consent;
    use crate::{Config, Db};
    use std::sync::atomic::Ordering;

    /// A batch whose events could not reach the writers keeps the results
    /// of its dropped and refused hits; only the unsent events are `Closed`.
    #[test]
    fn a_failed_send_changes_only_the_results_of_the_unsent_hits() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            background_compaction: false,
            ..Config::default()
        };
        let db = Db::open(dir.path(), config).unwrap();
        db.opt_out("tok").unwrap();
        let hits = vec![
            Hit::page_view("a.example", "/").client_id("c"),
            Hit::page_view("a.example", "/").opt_out_token("tok"),
            Hit::page_view("Not A Domain", "/"),
            Hit::page_view("b.example", "/").consent(Consent::Denied),
        ];
        let mut results = Vec::new();
        let mut groups: Vec<Group> = Vec::new();
        for hit in hits {
            match db.inner.prepare(hit) {
                Err(e) => results.push(Err(e)),
                Ok(Prepared::Dropped(r)) => results.push(Ok(Ingested::Dropped(r))),
                Ok(Prepared::Event(shared, p)) => {
                    results.push(Ok(p.outcome()));
                    groups.push(Group {
                        shared,
                        pending: vec![p],
                        results: vec![results.len() - 1],
                    });
                }
            }
        }
        db.inner.writers.closed.store(true, Ordering::Release);
        db.inner.send_groups(groups, &mut results);
        assert!(matches!(results[0], Err(IngestError::Closed)));
        assert!(matches!(
            results[1],
            Ok(Ingested::Dropped(DropReason::OptedOut))
        ));
        assert!(matches!(results[2], Err(IngestError::Hit(_))));
        assert!(matches!(results[3], Err(IngestError::Closed)));
        db.inner.writers.closed.store(false, Ordering::Release);
    }
}
