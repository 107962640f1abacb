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
    SENSITIVE_TOKENS, SENSITIVE_WORDS_OTHER_SCRIPTS, fold, is_sensitive_autocomplete,
    is_sensitive_input_type, is_sensitive_name, name_tokens,
};
pub use values::{
    REDACTED_VALUE, contains_sensitive_value, is_card_number, redact_sensitive_values,
};
