//! The transparency report (promise P9): what PledgeDB records, what it never
//! records, under which retention and consent settings, and how many
//! erasures and opt-outs it has served.

use crate::db::Db;
use crate::error::StorageError;
use crate::ingest::{DropReason, drop_index};
use crate::settings::{ConsentPolicy, Retention};
use serde::Serialize;
use std::sync::atomic::Ordering;

/// One stored field and where it comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RecordedField {
    /// The field.
    pub field: &'static str,
    /// What it holds and how it was derived.
    pub description: &'static str,
}

/// What every event stores.
pub const RECORDED: &[RecordedField] = &[
    RecordedField {
        field: "ts",
        description: "time of the event (UTC, milliseconds)",
    },
    RecordedField {
        field: "visitor",
        description: "keyed hash of the first-party client id, or of a daily salt + IP + user agent (cookieless); unique per domain; 0 on events kept without consent, which keep nothing a person typed",
    },
    RecordedField {
        field: "session",
        description: "keyed hash identifying one visit",
    },
    RecordedField {
        field: "country",
        description: "two-letter country derived from the IP address, which is then dropped",
    },
    RecordedField {
        field: "device",
        description: "desktop, mobile, tablet, bot or unknown, derived from the user agent, which is then dropped",
    },
    RecordedField {
        field: "browser",
        description: "browser family derived from the user agent",
    },
    RecordedField {
        field: "path",
        description: "page path; query string and fragment dropped except utm_* parameters (only utm_source, utm_medium and utm_campaign on events without a visitor id); IP-shaped text, card numbers, IBANs and SSNs redacted",
    },
    RecordedField {
        field: "referrer",
        description: "host of the referring page",
    },
    RecordedField {
        field: "click",
        description: "page coordinates and a description of the clicked element, with card numbers, IBANs and SSNs in it redacted",
    },
    RecordedField {
        field: "scroll",
        description: "deepest scroll depth in percent",
    },
    RecordedField {
        field: "form interactions",
        description: "form and field names; focus, blur and keystroke events with the key's kind only (character, delete, other); no keystroke events in sensitive fields",
    },
    RecordedField {
        field: "form submit",
        description: "submitted values of non-sensitive fields only, and none on events without a visitor id",
    },
    RecordedField {
        field: "custom events",
        description: "event name and typed properties, except properties with a sensitive name, a card number (as text or integer), or an IBAN or SSN as text; only number and boolean properties on events without a visitor id; IP-shaped text redacted",
    },
];

/// What is never stored.
pub const NEVER_RECORDED: &[&str] = &[
    "IP addresses (used once for the country and the cookieless hash, then dropped)",
    "user agent strings",
    "raw client ids, session ids and opt-out tokens (only keyed hashes)",
    "which key was pressed",
    "anything typed into a form that was not submitted",
    "password, card, CVV, IBAN and other sensitive fields, even when submitted (judged by the field's name, input type and autocomplete hint)",
    "card numbers (Luhn), IBANs (mod 97) and US social security numbers, whatever the field or property is called",
    "keystroke events in sensitive fields (their count would reveal a secret's length)",
    "on events kept without a visitor id (no consent): submitted fields, text properties, utm_term, utm_content and other utm_* parameters but source, medium and campaign",
    "query strings other than utm_* parameters, and URL fragments",
];

/// Settings and erasure counts of one domain.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DomainPrivacy {
    /// The domain.
    pub name: String,
    /// Its retention.
    pub retention: Retention,
    /// Its consent policy.
    pub consent: ConsentPolicy,
    /// Field-name patterns it treats as sensitive on top of the defaults.
    pub sensitive_fields: Vec<String>,
    /// Erasure requests served (completed or pending).
    pub erasure_requests: u64,
    /// Erasure requests whose purge has not completed yet.
    pub pending_purges: u64,
}

/// The transparency report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PrivacyReport {
    /// The engine's version.
    pub engine_version: &'static str,
    /// What each event records.
    pub recorded: Vec<RecordedField>,
    /// What is never recorded.
    pub never_recorded: Vec<&'static str>,
    /// Per-domain settings and counts.
    pub domains: Vec<DomainPrivacy>,
    /// Opt-out tokens registered over the life of the data directory.
    pub opt_outs_registered: u64,
    /// Erasure requests completed over the life of the data directory.
    pub erasures_completed: u64,
    /// Hits dropped before anything was written, by reason, over the life of
    /// the data directory.
    pub hits_dropped: Vec<(DropReason, u64)>,
    /// Erasure purges past their deadline (see [`Db::health`]).
    pub overdue_purges: Vec<crate::health::OverduePurge>,
    /// Files set aside because they could not be read, with their cause.
    pub quarantined_files: Vec<crate::storage::quarantine::QuarantinedFile>,
}

const REASONS: [DropReason; 6] = [
    DropReason::OptedOut,
    DropReason::DoNotTrack,
    DropReason::GlobalPrivacyControl,
    DropReason::NoConsent,
    DropReason::Expired,
    DropReason::SensitiveKeystroke,
];

impl Db {
    /// The transparency report (promise P9).
    pub fn privacy_report(&self) -> Result<PrivacyReport, StorageError> {
        self.persist_counters()?;
        let counters = self.inner.global.lock().counters()?;
        let health = self.health();
        let get = |name: &str| {
            counters
                .iter()
                .find(|(k, _)| k == name)
                .map_or(0, |(_, v)| *v)
        };
        let mut domains = Vec::new();
        for name in self.domains() {
            let Ok(d) = self.domain(&name) else { continue };
            let s = d.settings();
            domains.push(DomainPrivacy {
                erasure_requests: d.erasure_log()?.len() as u64,
                pending_purges: d.pending_purges() as u64,
                name,
                retention: s.retention,
                consent: s.consent,
                sensitive_fields: s.sensitive_fields,
            });
        }
        Ok(PrivacyReport {
            engine_version: env!("CARGO_PKG_VERSION"),
            recorded: RECORDED.to_vec(),
            never_recorded: NEVER_RECORDED.to_vec(),
            domains,
            opt_outs_registered: get("opt_outs"),
            erasures_completed: get("erasures"),
            hits_dropped: REASONS
                .iter()
                .map(|r| (*r, get(&format!("dropped.{}", r.as_str()))))
                .collect(),
            overdue_purges: health.overdue_purges,
            quarantined_files: health.quarantined,
        })
    }

    /// Adds the in-memory drop counters to the durable ones.
    pub(crate) fn persist_counters(&self) -> Result<(), StorageError> {
        self.inner.persist_counters()
    }
}

impl crate::engine::Engine {
    /// Adds the in-memory drop counters to the durable ones: at every
    /// flush, at close and when the last handle is dropped, so the report's
    /// "hits dropped" counts every hit the gate dropped.
    pub(crate) fn persist_counters(&self) -> Result<(), StorageError> {
        let names: Vec<String> = REASONS
            .iter()
            .map(|r| format!("dropped.{}", r.as_str()))
            .collect();
        let taken: Vec<u64> = REASONS
            .iter()
            .map(|r| self.counters.dropped[drop_index(*r)].swap(0, Ordering::Relaxed))
            .collect();
        if taken.iter().all(|n| *n == 0) {
            return Ok(());
        }
        let deltas: Vec<(&str, u64)> = names
            .iter()
            .map(String::as_str)
            .zip(taken.iter().copied())
            .collect();
        let result = self.global.lock().add_counters(&deltas);
        if result.is_err() {
            // Not lost: added again at the next flush.
            for (r, n) in REASONS.iter().zip(taken) {
                self.counters.dropped[drop_index(*r)].fetch_add(n, Ordering::Relaxed);
            }
        }
        result
    }
}
