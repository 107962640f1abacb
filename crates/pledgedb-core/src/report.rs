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

/// One site's row of the public report: its settings and how many erasures
/// it has been asked for, nothing of its files or purges.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PublicSitePrivacy {
    /// The site.
    pub name: String,
    /// Its retention.
    pub retention: Retention,
    /// Its consent policy (consent required, what happens without it,
    /// Do-Not-Track and Global Privacy Control honoured).
    pub consent: ConsentPolicy,
    /// Erasure requests served (completed or pending).
    pub erasure_requests: u64,
}

/// The transparency report as anyone may read it (the public `/privacy`
/// page of `pledgedb serve`): what is recorded, the server-wide counters,
/// and at most the one site the reader named. It has no field for overdue
/// purges or quarantined files, and no list of sites.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PublicPrivacyReport {
    /// The engine's version.
    pub engine_version: &'static str,
    /// What each event records.
    pub recorded: Vec<RecordedField>,
    /// What is never recorded.
    pub never_recorded: Vec<&'static str>,
    /// The site the reader named, if it is one of the domains.
    pub site: Option<PublicSitePrivacy>,
    /// Opt-out tokens registered over the life of the data directory.
    pub opt_outs_registered: u64,
    /// Erasure requests completed over the life of the data directory.
    pub erasures_completed: u64,
    /// Hits dropped before anything was written, by reason, over the life of
    /// the data directory.
    pub hits_dropped: Vec<(DropReason, u64)>,
}

impl PrivacyReport {
    /// The part of the report a caller may see: the domains `may_see`
    /// admits, with their overdue purges and quarantined files; files
    /// outside every domain (the global file) only when
    /// `files_outside_domains`. The server-wide counters stay. Every view of
    /// the report narrower than the whole goes through this one cut, so a
    /// domain a caller may not see is named nowhere in what it gets.
    #[must_use]
    pub fn visible_to(
        mut self,
        may_see: impl Fn(&str) -> bool,
        files_outside_domains: bool,
    ) -> PrivacyReport {
        self.domains.retain(|d| may_see(&d.name));
        self.overdue_purges.retain(|o| may_see(&o.domain));
        self.quarantined_files
            .retain(|q| q.domain().map_or(files_outside_domains, &may_see));
        self
    }

    /// The report as anyone may read it: [`PrivacyReport::visible_to`] the
    /// one domain `site` names (none when `site` is `None` or names no
    /// domain), without overdue purges, quarantined files or pending purges.
    #[must_use]
    pub fn public(self, site: Option<&str>) -> PublicPrivacyReport {
        let r = self.visible_to(|d| site == Some(d), false);
        PublicPrivacyReport {
            engine_version: r.engine_version,
            recorded: r.recorded,
            never_recorded: r.never_recorded,
            site: r.domains.into_iter().next().map(|d| PublicSitePrivacy {
                name: d.name,
                retention: d.retention,
                consent: d.consent,
                erasure_requests: d.erasure_requests,
            }),
            opt_outs_registered: r.opt_outs_registered,
            erasures_completed: r.erasures_completed,
            hits_dropped: r.hits_dropped,
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::OverduePurge;
    use crate::storage::quarantine::QuarantinedFile;
    use crate::time::Timestamp;
    use std::path::PathBuf;

    fn row(name: &str, erasures: u64) -> DomainPrivacy {
        DomainPrivacy {
            name: name.into(),
            retention: Retention::default(),
            consent: ConsentPolicy::default(),
            sensitive_fields: vec![format!("secret-{name}")],
            erasure_requests: erasures,
            pending_purges: 1,
        }
    }

    fn file(original: &str) -> QuarantinedFile {
        QuarantinedFile {
            original: PathBuf::from(original),
            path: PathBuf::from(format!("quarantine/{original}.0")),
            cause: format!("cause of {original}"),
            at: None,
        }
    }

    fn report() -> PrivacyReport {
        let overdue = |d: &str| OverduePurge {
            domain: d.into(),
            request: 1,
            requested_at: Timestamp(0),
            deadline: Timestamp(1),
        };
        PrivacyReport {
            engine_version: "test",
            recorded: RECORDED.to_vec(),
            never_recorded: NEVER_RECORDED.to_vec(),
            domains: vec![row("a.example", 2), row("b.example", 3)],
            opt_outs_registered: 5,
            erasures_completed: 4,
            hits_dropped: vec![(DropReason::OptedOut, 7)],
            overdue_purges: vec![overdue("a.example"), overdue("b.example")],
            quarantined_files: vec![
                file("domains/a.example/segments/2026-03-02.redb"),
                file("domains/b.example/segments/2026-03-02.redb"),
                file("pledgedb.redb"),
            ],
        }
    }

    fn names(r: &PrivacyReport) -> (Vec<&str>, Vec<&str>, Vec<String>) {
        (
            r.domains.iter().map(|d| d.name.as_str()).collect(),
            r.overdue_purges.iter().map(|o| o.domain.as_str()).collect(),
            r.quarantined_files
                .iter()
                .map(|q| q.original.display().to_string())
                .collect(),
        )
    }

    #[test]
    fn the_cut_keeps_only_the_domains_a_caller_may_see() {
        let all = report().visible_to(|_| true, true);
        assert_eq!(all, report());
        let a = report().visible_to(|d| d == "a.example", false);
        assert_eq!(
            names(&a),
            (
                vec!["a.example"],
                vec!["a.example"],
                vec!["domains/a.example/segments/2026-03-02.redb".to_string()]
            )
        );
        assert_eq!(
            (a.opt_outs_registered, a.erasures_completed),
            (5, 4),
            "server-wide counters stay"
        );
        assert_eq!(a.hits_dropped, vec![(DropReason::OptedOut, 7)]);
        let text = format!("{a:?}");
        assert!(!text.contains("b.example"), "{text}");
        // every domain, but not the files outside them
        let sites = report().visible_to(|_| true, false);
        assert_eq!(names(&sites).2.len(), 2);
        assert!(names(&sites).2.iter().all(|f| f.starts_with("domains/")));
        // nothing at all
        let none = report().visible_to(|_| false, false);
        assert_eq!(names(&none), (vec![], vec![], vec![]));
    }

    #[test]
    fn the_public_report_names_at_most_the_site_asked_for() {
        let bare = report().public(None);
        assert_eq!(bare.site, None);
        assert_eq!(bare.opt_outs_registered, 5);
        assert_eq!(bare.erasures_completed, 4);
        assert_eq!(bare.recorded, RECORDED.to_vec());
        let json = serde_json::to_string(&bare).unwrap();
        for leak in [
            "a.example",
            "b.example",
            "overdue",
            "quarantine",
            "pledgedb.redb",
            "pending",
            "secret-",
        ] {
            assert!(!json.contains(leak), "{leak} in {json}");
        }
        let a = report().public(Some("a.example"));
        let site = a.site.as_ref().unwrap();
        assert_eq!(site.name, "a.example");
        assert_eq!(site.erasure_requests, 2);
        assert_eq!(site.retention, Retention::default());
        let json = serde_json::to_string(&a).unwrap();
        assert!(json.contains("a.example"));
        for leak in ["b.example", "overdue", "quarantine", "cause of", "secret-"] {
            assert!(!json.contains(leak), "{leak} in {json}");
        }
        for unknown in ["c.example", "", "A.EXAMPLE", "a.example ", "<b>"] {
            assert_eq!(report().public(Some(unknown)).site, None, "{unknown:?}");
        }
    }
}
