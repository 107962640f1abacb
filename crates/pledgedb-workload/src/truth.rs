//! What was generated, counted as it was generated, and what the engine is
//! expected to make of it.

use pledgedb_core::{DropReason, EventType, HitKind, Ingested};

/// Hits counted per kind, indexed like [`EventType::ALL`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KindCounts(pub [u64; 9]);

impl KindCounts {
    /// The count of one kind.
    #[must_use]
    pub fn get(&self, t: EventType) -> u64 {
        self.0.get(usize::from(t.code())).copied().unwrap_or(0)
    }

    /// The sum over all kinds.
    #[must_use]
    pub fn total(&self) -> u64 {
        self.0.iter().sum()
    }

    /// Counts one hit of this kind.
    pub fn add(&mut self, kind: &HitKind) {
        if let Some(c) = self.0.get_mut(usize::from(event_type(kind).code())) {
            *c += 1;
        }
    }

    /// `(kind, count)` for every kind, in code order.
    pub fn iter(&self) -> impl Iterator<Item = (EventType, u64)> + '_ {
        EventType::ALL.iter().copied().zip(self.0.iter().copied())
    }
}

/// The event type a hit of this kind becomes.
#[must_use]
pub fn event_type(kind: &HitKind) -> EventType {
    match kind {
        HitKind::PageView { .. } => EventType::PageView,
        HitKind::Click { .. } => EventType::Click,
        HitKind::Scroll { .. } => EventType::Scroll,
        HitKind::FormView { .. } => EventType::FormView,
        HitKind::FieldFocus { .. } => EventType::FieldFocus,
        HitKind::Keystroke { .. } => EventType::Keystroke,
        HitKind::FieldBlur { .. } => EventType::FieldBlur,
        HitKind::FormSubmit { .. } => EventType::FormSubmit,
        HitKind::Custom { .. } => EventType::Custom,
    }
}

/// What became (or is expected to become) of a set of hits, counted by the
/// engine's verdicts. The generator fills one with its expectations; a
/// caller can fill another with [`Outcomes::record`] from what
/// [`Db::ingest`](pledgedb_core::Db::ingest) returned and compare the two
/// with `==`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Outcomes {
    /// Stored with a visitor id ([`Ingested::Queued`]).
    pub identified: u64,
    /// Stored without a visitor id ([`Ingested::QueuedAnonymous`]).
    pub anonymous: u64,
    /// Dropped: the opt-out token is registered.
    pub opted_out: u64,
    /// Dropped: Do-Not-Track.
    pub do_not_track: u64,
    /// Dropped: Global Privacy Control.
    pub global_privacy_control: u64,
    /// Dropped: no consent, and the policy drops such hits.
    pub no_consent: u64,
    /// Dropped: older than the raw-event retention (never expected by the
    /// generator; only counted by [`Outcomes::record`]).
    pub expired: u64,
    /// Dropped: a keystroke in a sensitive field, whose length it would
    /// reveal.
    pub sensitive_keystroke: u64,
}

impl Outcomes {
    /// Counts one verdict.
    pub fn record(&mut self, verdict: Ingested) {
        match verdict {
            Ingested::Queued => self.identified += 1,
            Ingested::QueuedAnonymous => self.anonymous += 1,
            Ingested::Dropped(r) => match r {
                DropReason::OptedOut => self.opted_out += 1,
                DropReason::DoNotTrack => self.do_not_track += 1,
                DropReason::GlobalPrivacyControl => self.global_privacy_control += 1,
                DropReason::NoConsent => self.no_consent += 1,
                DropReason::SensitiveKeystroke => self.sensitive_keystroke += 1,
                _ => self.expired += 1,
            },
        }
    }

    /// Events stored, with or without a visitor id.
    #[must_use]
    pub fn stored(&self) -> u64 {
        self.identified + self.anonymous
    }

    /// Hits dropped, for any reason.
    #[must_use]
    pub fn dropped(&self) -> u64 {
        self.opted_out
            + self.do_not_track
            + self.global_privacy_control
            + self.no_consent
            + self.expired
            + self.sensitive_keystroke
    }

    /// Hits dropped for one reason.
    #[must_use]
    pub fn dropped_for(&self, reason: DropReason) -> u64 {
        match reason {
            DropReason::OptedOut => self.opted_out,
            DropReason::DoNotTrack => self.do_not_track,
            DropReason::GlobalPrivacyControl => self.global_privacy_control,
            DropReason::NoConsent => self.no_consent,
            DropReason::SensitiveKeystroke => self.sensitive_keystroke,
            _ => self.expired,
        }
    }

    /// Every verdict counted.
    #[must_use]
    pub fn total(&self) -> u64 {
        self.stored() + self.dropped()
    }
}

/// What was generated for one domain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DomainTruth {
    /// The domain.
    pub domain: String,
    /// Hits generated.
    pub hits: u64,
    /// Hits per kind.
    pub by_kind: KindCounts,
    /// What the engine is expected to do with them.
    pub outcomes: Outcomes,
    /// Hits without a client id (cookieless: IP and user agent only).
    pub cookieless_hits: u64,
    /// Hits from crawlers.
    pub bot_hits: u64,
    /// Visits (sessions) started.
    pub sessions: u64,
    /// Visits by a visitor first seen on an earlier day.
    pub returning_sessions: u64,
    /// Distinct visitors created.
    pub new_visitors: u64,
    /// Form submits generated.
    pub form_submits: u64,
    /// Forms shown.
    pub form_views: u64,
    /// Submitted fields the engine must drop (passwords, card numbers,
    /// security codes), summed over all submits.
    pub sensitive_fields_submitted: u64,
    pub(crate) paths: Vec<String>,
    pub(crate) stored_by_page: Vec<u64>,
    pub(crate) stored_by_country: Vec<u64>,
}

impl DomainTruth {
    pub(crate) fn new(domain: String, paths: Vec<String>, countries: usize) -> DomainTruth {
        let pages = paths.len();
        DomainTruth {
            domain,
            hits: 0,
            by_kind: KindCounts::default(),
            outcomes: Outcomes::default(),
            cookieless_hits: 0,
            bot_hits: 0,
            sessions: 0,
            returning_sessions: 0,
            new_visitors: 0,
            form_submits: 0,
            form_views: 0,
            sensitive_fields_submitted: 0,
            paths,
            stored_by_page: vec![0; pages],
            stored_by_country: vec![0; countries],
        }
    }

    /// Forms shown but not submitted.
    #[must_use]
    pub fn forms_abandoned(&self) -> u64 {
        self.form_views.saturating_sub(self.form_submits)
    }

    /// Events expected to be stored, per page path (the URL's path, without
    /// query string), most first, then by path. Paths without stored events
    /// are left out. This is what
    /// [`Domain::count_by_path`](pledgedb_core::Domain::count_by_path) over
    /// all time should return.
    #[must_use]
    pub fn stored_by_path(&self) -> Vec<(&str, u64)> {
        let mut v: Vec<(&str, u64)> = self
            .paths
            .iter()
            .map(String::as_str)
            .zip(self.stored_by_page.iter().copied())
            .filter(|&(_, n)| n > 0)
            .collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        v
    }

    /// Events expected to be stored, per ISO country code, most first, then
    /// by code. Countries without stored events are left out. This is what
    /// [`Domain::count_by_country`](pledgedb_core::Domain::count_by_country)
    /// should return when the engine has a GeoIP database built from
    /// [`COUNTRY_NETWORKS`](crate::COUNTRY_NETWORKS).
    #[must_use]
    pub fn stored_by_country(&self) -> Vec<(&'static str, u64)> {
        let mut v: Vec<(&'static str, u64)> = crate::catalog::COUNTRIES
            .iter()
            .map(|&(c, _)| c)
            .zip(self.stored_by_country.iter().copied())
            .filter(|&(_, n)| n > 0)
            .collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        v
    }
}

/// Everything generated so far by a [`Workload`](crate::Workload): totals,
/// one [`DomainTruth`] per configured domain (in configuration order), and
/// what the engine is expected to do with the hits.
///
/// The expectations assume that the engine runs each domain with the consent
/// policy [`WorkloadConfig::policy_for`](crate::WorkloadConfig::policy_for)
/// names, that every token of
/// [`Workload::opt_out_tokens`](crate::Workload::opt_out_tokens) was passed
/// to [`Db::opt_out`](pledgedb_core::Db::opt_out) before ingest, and that the
/// engine's clock is within the raw-event retention of the generated days.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GeneratedTruth {
    /// Hits generated.
    pub hits: u64,
    /// Hits per kind.
    pub by_kind: KindCounts,
    /// What the engine is expected to do with them.
    pub outcomes: Outcomes,
    /// Per domain, in configuration order.
    pub domains: Vec<DomainTruth>,
}

impl GeneratedTruth {
    /// The truth of one domain.
    #[must_use]
    pub fn domain(&self, name: &str) -> Option<&DomainTruth> {
        self.domains.iter().find(|d| d.domain == name)
    }
}
