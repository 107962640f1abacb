//! The engine's health: what is overdue, set aside or failing, so that no
//! erasure purge is ever late in silence and no damaged file hides.
//!
//! [`Db::health`] reports erasure purges past their deadline, files in the
//! quarantine (with their cause), and the domains whose background jobs
//! (purge, expiry, sealing) are failing, with their last error and when
//! they are tried next. The privacy report and the shell's `.stats` show
//! the same.

use crate::db::Db;
use crate::storage::quarantine::QuarantinedFile;
use crate::time::Timestamp;
use serde::Serialize;

/// An erasure whose purge has not completed by its deadline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OverduePurge {
    /// The domain.
    pub domain: String,
    /// The request's number in the domain's erasure log.
    pub request: u64,
    /// When it was requested.
    pub requested_at: Timestamp,
    /// When its purge should have completed.
    pub deadline: Timestamp,
}

pub use crate::compactor::JobFailure;

/// What needs an operator's attention.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Health {
    /// Erasure purges past their deadline.
    pub overdue_purges: Vec<OverduePurge>,
    /// Files set aside because they could not be read.
    pub quarantined: Vec<QuarantinedFile>,
    /// Domains whose compaction jobs are failing.
    pub failing: Vec<JobFailure>,
    /// Domains of the catalog that could not be opened (their control file
    /// is damaged), with the cause; their files are left as they are.
    pub unavailable: Vec<(String, String)>,
}

impl Health {
    /// Whether nothing needs attention.
    #[must_use]
    pub fn is_healthy(&self) -> bool {
        self.overdue_purges.is_empty()
            && self.quarantined.is_empty()
            && self.failing.is_empty()
            && self.unavailable.is_empty()
    }
}

impl Db {
    /// The engine's health: overdue purges, quarantined files and failing
    /// jobs.
    #[must_use]
    pub fn health(&self) -> Health {
        let now = self.inner.config.clock.now();
        let deadline_ms = self.inner.config.erasure_deadline_ms;
        let mut overdue = Vec::new();
        let mut domains: Vec<_> = self
            .inner
            .domains
            .read()
            .iter()
            .map(|(n, d)| (n.clone(), std::sync::Arc::clone(d)))
            .collect();
        domains.sort_by(|a, b| a.0.cmp(&b.0));
        for (name, d) in domains {
            for (_, t) in d.tombstones() {
                let deadline = t.requested_at.plus_millis(deadline_ms);
                if t.purged_at.is_none() && deadline < now {
                    overdue.push(OverduePurge {
                        domain: name.clone(),
                        request: t.request,
                        requested_at: t.requested_at,
                        deadline,
                    });
                }
            }
        }
        overdue.sort_by(|a, b| (&a.domain, a.request).cmp(&(&b.domain, b.request)));
        Health {
            overdue_purges: overdue,
            quarantined: self.inner.opener.quarantine.files(),
            failing: self
                .inner
                .compactor
                .job_failures
                .lock()
                .values()
                .cloned()
                .collect(),
            unavailable: self
                .inner
                .unavailable
                .iter()
                .map(|(d, c)| (d.clone(), c.clone()))
                .collect(),
        }
    }
}
