//! What counts as sensitive (promise P8): field names, input types,
//! autocomplete hints, and values that are payment cards, IBANs or US social
//! security numbers whatever they are called.
//!
//! - [`is_sensitive_name`] splits a name into tokens (brackets, `_`, `-`,
//!   `.`, spaces, camelCase and letter/digit boundaries; case and
//!   diacritics folded) and matches them against [`SENSITIVE_TOKENS`],
//!   [`SENSITIVE_PHRASES`], and, in the name with its separators removed,
//!   against the long unambiguous words of [`SENSITIVE_SUBSTRINGS`].
//! - [`is_sensitive_input_type`] and [`is_sensitive_autocomplete`] read the
//!   HTML hints.
//! - [`contains_sensitive_value`] and [`redact_sensitive_values`] find card
//!   numbers (Luhn), IBANs (mod 97) and SSNs in any text.
//!
//! The engine applies them in `ingest::transform`; `DomainSettings` adds the
//! domain's configured patterns.

mod names;
mod values;

pub use names::{
    SENSITIVE_PHRASES, SENSITIVE_PREFIXES, SENSITIVE_SUBSTRINGS, SENSITIVE_SUFFIXES,
    SENSITIVE_TOKENS, SENSITIVE_WORDS_OTHER_SCRIPTS, decode, fold, is_invisible,
    is_sensitive_autocomplete, is_sensitive_input_type, is_sensitive_name, name_tokens,
};
pub use values::{
    REDACTED_VALUE, contains_sensitive_value, is_card_number, is_card_number_float,
    redact_sensitive_values,
};

/// The `utm_*` parameters an event without a visitor id keeps (promise P4):
/// source, medium and campaign, which the site's own links set.
/// `utm_term` (search keywords), `utm_content` and any other parameter may
/// hold what a person typed.
pub const ANONYMOUS_UTM: &[&str] = &["utm_source", "utm_medium", "utm_campaign"];

/// The `k=v&k=v` utm string of an event without a visitor id: only the
/// parameters of [`ANONYMOUS_UTM`] (names in any case), in their order.
#[must_use]
pub fn anonymous_utm(utm: &str) -> String {
    let mut out = String::new();
    for param in utm.split('&') {
        let name = param.split_once('=').map_or(param, |(n, _)| n);
        if ANONYMOUS_UTM.iter().any(|k| k.eq_ignore_ascii_case(name)) {
            if !out.is_empty() {
                out.push('&');
            }
            out.push_str(param);
        }
    }
    out
}
