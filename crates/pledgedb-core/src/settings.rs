//! Per-domain settings: retention, consent policy and sensitive-field rules.
//! They are stored in the domain's control file and read and changed through
//! the [`Domain`](crate::Domain) handle.

use crate::sensitive;
use serde::{Deserialize, Serialize};

/// How long each kind of data is kept (promise P7).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retention {
    /// Days raw events are kept. A day segment whose last moment is older
    /// than this is deleted whole. Default: 90 days, the window most
    /// analytics dashboards look at, and short enough that raw data is not
    /// kept "just in case".
    pub raw_event_days: u32,
    /// Days anonymous daily aggregates are kept. Default: 730 (two years of
    /// year-over-year comparisons).
    pub aggregate_days: u32,
    /// Hours a tombstone outlives the purge it caused, so that events of an
    /// erased visitor still in flight are dropped. Default: 24.
    pub tombstone_hours: u32,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            raw_event_days: 90,
            aggregate_days: 730,
            tombstone_hours: 24,
        }
    }
}

impl Retention {
    /// The first moment whose raw events are still within the raw-event TTL
    /// at `now`: anything earlier is expired.
    #[must_use]
    pub fn cutoff(&self, now: crate::time::Timestamp) -> crate::time::Timestamp {
        let days = i64::from(self.raw_event_days);
        crate::time::Timestamp(now.0.saturating_sub(days * crate::time::MS_PER_DAY))
    }

    /// Checks the settings: raw retention of 1 to 36,500 days, aggregates at
    /// least as long as raw events.
    pub fn validate(&self) -> Result<(), String> {
        if !(1..=36_500).contains(&self.raw_event_days) {
            return Err(format!(
                "raw_event_days must be between 1 and 36500, not {}",
                self.raw_event_days
            ));
        }
        if self.aggregate_days < self.raw_event_days || self.aggregate_days > 36_500 {
            return Err(format!(
                "aggregate_days must be between raw_event_days ({}) and 36500, not {}",
                self.raw_event_days, self.aggregate_days
            ));
        }
        if self.tombstone_hours > 24 * 366 {
            return Err(format!(
                "tombstone_hours must be at most 8784, not {}",
                self.tombstone_hours
            ));
        }
        Ok(())
    }
}

/// What happens to a hit without consent (promise P4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WithoutConsent {
    /// The hit is dropped before anything is written.
    Drop,
    /// The hit is kept as an anonymous event: no visitor id, no session id,
    /// counted in page views but never linked to anyone.
    #[default]
    Anonymous,
}

/// A domain's consent policy (promises P3, P4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentPolicy {
    /// Hits must carry `Consent::Granted` to be tracked with a visitor id.
    /// Hits with `Consent::Denied` are never tracked with an id, whatever
    /// this says.
    pub require_consent: bool,
    /// What happens to hits without consent.
    pub without_consent: WithoutConsent,
    /// Drop hits whose Do-Not-Track flag is set.
    pub honour_dnt: bool,
    /// Drop hits whose Global Privacy Control flag is set.
    pub honour_gpc: bool,
}

impl Default for ConsentPolicy {
    fn default() -> Self {
        ConsentPolicy {
            require_consent: false,
            without_consent: WithoutConsent::Anonymous,
            honour_dnt: true,
            honour_gpc: true,
        }
    }
}

/// The whole tokens that make a field name sensitive by default: the
/// token list of [`crate::sensitive`], which also matches phrases
/// ([`crate::sensitive::SENSITIVE_PHRASES`]) and long words anywhere in a
/// name ([`crate::sensitive::SENSITIVE_SUBSTRINGS`]).
pub const DEFAULT_SENSITIVE_NAMES: &[&str] = sensitive::SENSITIVE_TOKENS;

/// Default of [`DomainSettings::min_aggregate_visitors`].
pub const DEFAULT_MIN_AGGREGATE_VISITORS: u32 = 5;

/// Largest accepted [`DomainSettings::min_aggregate_visitors`].
pub const MAX_MIN_AGGREGATE_VISITORS: u32 = 1000;

fn default_min_aggregate_visitors() -> u32 {
    DEFAULT_MIN_AGGREGATE_VISITORS
}

/// Everything configurable about one domain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainSettings {
    /// Retention of raw events, aggregates and tombstones.
    pub retention: Retention,
    /// The consent policy.
    pub consent: ConsentPolicy,
    /// Extra case-insensitive substrings of field names whose values are
    /// never stored, on top of the default rules of [`crate::sensitive`]
    /// (patterns of up to three letters or digits match the start of a word
    /// of the name).
    pub sensitive_fields: Vec<String>,
    /// The `k` of the long-lived aggregates (promises P6, P7): when a day's
    /// roll-up moves to the aggregate file, every breakdown row (a page,
    /// entry page, referrer, country, device or browser) seen by fewer than
    /// this many distinct visitors is folded into one
    /// [`OTHER`](crate::query::rollup::OTHER) row of its dimension
    /// (`query::rollup::fold_rare`), so no kept row points at one person.
    /// Totals are not changed. 1 keeps every row. Default 5; 1 to 1,000.
    /// Absent from control files written before it existed: they load with
    /// the default.
    #[serde(default = "default_min_aggregate_visitors")]
    pub min_aggregate_visitors: u32,
}

impl Default for DomainSettings {
    fn default() -> Self {
        DomainSettings {
            retention: Retention::default(),
            consent: ConsentPolicy::default(),
            sensitive_fields: Vec::new(),
            min_aggregate_visitors: DEFAULT_MIN_AGGREGATE_VISITORS,
        }
    }
}

impl DomainSettings {
    /// Checks every setting.
    pub fn validate(&self) -> Result<(), String> {
        self.retention.validate()?;
        if self.sensitive_fields.len() > 256 {
            return Err("at most 256 sensitive field patterns".into());
        }
        if self
            .sensitive_fields
            .iter()
            .any(|p| p.is_empty() || p.len() > 64)
        {
            return Err("sensitive field patterns must be 1 to 64 bytes".into());
        }
        if !(1..=MAX_MIN_AGGREGATE_VISITORS).contains(&self.min_aggregate_visitors) {
            return Err(format!(
                "min_aggregate_visitors must be between 1 and {MAX_MIN_AGGREGATE_VISITORS}, not {}",
                self.min_aggregate_visitors
            ));
        }
        Ok(())
    }

    /// Whether a submitted field must be dropped (promise P8): the tracker
    /// flagged it; its input type is `password`, `hidden` or `file`; its
    /// autocomplete hint is sensitive (`cc-*`, `new-password`,
    /// `current-password`, `one-time-code`, ...); its name is sensitive
    /// ([`DomainSettings::is_sensitive_name`]); or its value is, or contains,
    /// a card number, an IBAN or an SSN
    /// ([`crate::sensitive::contains_sensitive_value`]).
    #[must_use]
    pub fn is_sensitive(&self, field: &crate::hit::FormField) -> bool {
        field.sensitive
            || field
                .input_type
                .as_deref()
                .is_some_and(sensitive::is_sensitive_input_type)
            || field
                .autocomplete
                .as_deref()
                .is_some_and(sensitive::is_sensitive_autocomplete)
            || self.is_sensitive_name(&field.name)
            || sensitive::contains_sensitive_value(&field.value)
    }

    /// Whether a field, form or property name is sensitive: by the default
    /// token rules ([`crate::sensitive::is_sensitive_name`]) or by one of the
    /// domain's configured patterns, matched case-insensitively in the name
    /// as written and in the name with its diacritics folded.
    #[must_use]
    pub fn is_sensitive_name(&self, name: &str) -> bool {
        if sensitive::is_sensitive_name(name) {
            return true;
        }
        if self.sensitive_fields.is_empty() {
            return false;
        }
        let folded = sensitive::fold(name);
        self.sensitive_fields
            .iter()
            .any(|p| name_matches(name, p) || name_matches(&folded, p))
    }
}

fn starts_with_ci(s: &str, prefix: &str) -> bool {
    s.len() >= prefix.len() && s.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

/// Case-insensitive (ASCII) substring test, without allocating.
fn contains_ci(hay: &str, needle: &str) -> bool {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    n.is_empty() || h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n))
}

/// Patterns of up to three letters or digits (`pin`, `ssn`, `tax`) match the
/// start of a word of the name, so `card_pin` matches `pin` but `shipping`
/// does not; longer patterns match anywhere in the name.
fn name_matches(name: &str, pattern: &str) -> bool {
    if pattern.len() <= 3 && pattern.bytes().all(|b| b.is_ascii_alphanumeric()) {
        name.split(|c: char| !c.is_ascii_alphanumeric())
            .any(|word| starts_with_ci(word, pattern))
    } else {
        contains_ci(name, pattern)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hit::FormField;

    #[test]
    fn sensitive_fields_are_recognised() {
        let s = DomainSettings {
            sensitive_fields: vec!["mothers_maiden".into()],
            ..DomainSettings::default()
        };
        for f in [
            FormField::new("password", "x"),
            FormField::new("user_pass", "x"),
            FormField::new("CardNumber", "x"),
            FormField::new("cvv2", "x"),
            FormField::new("iban", "x"),
            FormField::new("SSN", "x"),
            FormField::new("card_pin", "x"),
            FormField::new("tax_id", "x"),
            FormField::new("q", "x").input_type("password"),
            FormField::new("mothers_maiden_name", "x"),
            FormField {
                autocomplete: Some("billing cc-number".into()),
                ..FormField::new("n", "x")
            },
            FormField {
                sensitive: true,
                ..FormField::new("anything", "x")
            },
        ] {
            assert!(s.is_sensitive(&f), "{:?} should be sensitive", f.name);
        }
        for f in [
            FormField::new("email", "x"),
            FormField::new("name", "x"),
            FormField::new("comment", "x").input_type("text"),
            FormField::new("shipping_address", "x"),
            FormField::new("syntax", "x"),
        ] {
            assert!(!s.is_sensitive(&f), "{:?} should not be sensitive", f.name);
        }
    }

    #[test]
    fn listed_real_names_and_sensitive_values_are_dropped_from_a_submit() {
        let s = DomainSettings {
            sensitive_fields: vec!["geheim".into(), "pet".into()],
            ..DomainSettings::default()
        };
        // Text inputs without an autocomplete hint: only the name tells.
        for name in [
            "payment[cc_number]",
            "payment[cc_cid]",
            "payment[cc_exp_month]",
            "cc_number",
            "ccv",
            "securityCode",
            "confirmPwd",
            "pw",
            "kennwort",
            "userSSN",
            "userPin",
            "Geheimnis",
            "pet_name",
            "Gehéim",
        ] {
            let f = FormField::new(name, "x").input_type("text");
            assert!(s.is_sensitive(&f), "{name} should be sensitive");
            assert!(s.is_sensitive_name(name), "{name} should be sensitive");
        }
        // Any name, a sensitive value.
        for value in [
            "4111 1111 1111 1111",
            "my card is 5555-5555-5555-4444",
            "DE89 3704 0044 0532 0130 00",
            "078-05-1120",
        ] {
            assert!(s.is_sensitive(&FormField::new("comment", value)), "{value}");
        }
        for f in [
            FormField::new("shipping", "x"),
            FormField::new("company", "x"),
            FormField::new("spinner", "x"),
            FormField::new("experience", "x"),
            FormField::new("capital", "x"),
            FormField::new("order", "4111111111111112"),
            FormField {
                autocomplete: Some("shipping street-address".into()),
                ..FormField::new("street", "x")
            },
        ] {
            assert!(!s.is_sensitive(&f), "{:?} should not be sensitive", f.name);
        }
    }

    #[test]
    fn retention_is_validated() {
        assert!(Retention::default().validate().is_ok());
        let bad = Retention {
            raw_event_days: 0,
            ..Retention::default()
        };
        assert!(bad.validate().is_err());
        let bad = Retention {
            raw_event_days: 100,
            aggregate_days: 50,
            tombstone_hours: 1,
        };
        assert!(bad.validate().is_err());
    }
}
