//! A domain's settings: retention and consent (persisted in its control
//! file).

use super::Domain;
use crate::error::DomainError;
use crate::settings::{ConsentPolicy, DomainSettings, Retention};
use std::sync::Arc;

impl Domain {
    /// The domain's settings.
    #[must_use]
    pub fn settings(&self) -> DomainSettings {
        (**self.shared.settings.read()).clone()
    }

    /// Replaces the domain's settings (persisted in its control file).
    pub fn set_settings(&self, s: DomainSettings) -> Result<(), DomainError> {
        s.validate().map_err(DomainError::InvalidSetting)?;
        self.check_live()?;
        let mut cur = self.shared.settings.write();
        self.shared.control.set_settings(&s)?;
        *cur = Arc::new(s);
        Ok(())
    }

    /// Sets the retention.
    pub fn set_retention(&self, r: Retention) -> Result<(), DomainError> {
        let mut s = self.settings();
        s.retention = r;
        self.set_settings(s)
    }

    /// Sets the consent policy.
    pub fn set_consent_policy(&self, p: ConsentPolicy) -> Result<(), DomainError> {
        let mut s = self.settings();
        s.consent = p;
        self.set_settings(s)
    }
}
