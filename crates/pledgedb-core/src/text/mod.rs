//! Stored text. Every string the engine stores is a [`Text`], and the only
//! public way to make one is [`Text::new`], which redacts anything shaped like
//! an IPv4 or IPv6 address (promise P1).

#[cfg(test)]
mod ip_forms_tests;
mod ipmatch;
mod normalize;
mod scrub;
mod url;

use std::fmt;
use std::sync::Arc;

pub(crate) use scrub::each_span;
pub use scrub::{REDACTED_IP, contains_ip, ip_spans, redact_ips, redact_then_cut};
pub use url::{ReducedUrl, reduce_url, referrer_host};

/// Strings up to this length are interned per thread by [`Text::new`].
const INTERN_MAX_LEN: usize = 256;
/// Interned strings per thread before the cache starts over.
const INTERN_MAX_ENTRIES: usize = 16_384;

thread_local! {
    /// Recently made texts, by their (IP-free) content: ingest sees the same
    /// paths, referrers, browsers and field names again and again, and this
    /// turns a scrub and an allocation into one hash lookup. The flag says
    /// whether the content also passed the caller's screen of
    /// [`Text::screened`] unchanged.
    static INTERNED: std::cell::RefCell<
        std::collections::HashMap<Box<str>, (Text, bool), crate::hash::FoldState>,
    > = std::cell::RefCell::new(std::collections::HashMap::with_hasher(
        crate::hash::FoldState::new(),
    ));
}

/// A string that has passed the IP scrubber. Cheap to clone.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Text(Arc<str>);

impl Text {
    /// Builds stored text from untrusted input: every IPv4 or IPv6 literal in
    /// it (also percent-encoded, inside URLs and query strings) is replaced by
    /// [`REDACTED_IP`].
    #[must_use]
    pub fn new(input: &str) -> Text {
        if input.is_empty() {
            return Text::empty();
        }
        if input.len() > INTERN_MAX_LEN {
            return Text::scrubbed(input);
        }
        INTERNED.with(|cache| {
            let mut cache = cache.borrow_mut();
            if let Some((t, _)) = cache.get(input) {
                return t.clone();
            }
            Text::scrub_and_intern(&mut cache, input, false)
        })
    }

    /// [`Text::new`] of `screen(input)`, where `screen` redacts what else
    /// must not be stored (card numbers, IBANs, SSNs: `ingest::text_of`).
    /// The cache remembers one screen: the engine passes only that one,
    /// a pure function of the text.
    /// The screen runs only on a cache miss: a hit is content that passed
    /// both the screen and the IP scrubber unchanged before. Content that
    /// either changed is never a cache key, so the cache holds no
    /// unredacted input.
    pub(crate) fn screened(input: &str, screen: fn(&str) -> std::borrow::Cow<'_, str>) -> Text {
        if input.is_empty() || input.len() > INTERN_MAX_LEN {
            return Text::new(&screen(input));
        }
        INTERNED.with(|cache| {
            let mut cache = cache.borrow_mut();
            if let Some((t, true)) = cache.get(input) {
                return t.clone();
            }
            match screen(input) {
                std::borrow::Cow::Borrowed(s) => Text::scrub_and_intern(&mut cache, s, true),
                std::borrow::Cow::Owned(s) => {
                    if let Some((t, _)) = cache.get(s.as_str()) {
                        return t.clone();
                    }
                    Text::scrub_and_intern(&mut cache, &s, false)
                }
            }
        })
    }

    /// Scrubs `input` and keeps it in the cache if the scrub left it as it
    /// was; `screened` marks that it also passed the caller's screen.
    fn scrub_and_intern(
        cache: &mut std::collections::HashMap<Box<str>, (Text, bool), crate::hash::FoldState>,
        input: &str,
        screened: bool,
    ) -> Text {
        match redact_ips(input) {
            std::borrow::Cow::Borrowed(s) => {
                let t = Text(Arc::from(s));
                if cache.len() >= INTERN_MAX_ENTRIES {
                    cache.clear();
                }
                cache.insert(s.into(), (t.clone(), screened));
                t
            }
            // Text that held an IP is never kept in the cache: the
            // cache key would be the unredacted input.
            std::borrow::Cow::Owned(s) => Text(Arc::from(s)),
        }
    }

    /// Builds stored text for a value that is rarely repeated (a submitted
    /// field value, a text property): scrubbed like [`Text::new`], but not
    /// interned, so unique values do not churn the per-thread cache.
    #[must_use]
    pub fn value(input: &str) -> Text {
        if input.is_empty() {
            Text::empty()
        } else {
            Text::scrubbed(input)
        }
    }

    /// Builds stored text that must fit in `max` bytes: scrubbed first, then
    /// cut at a char boundary ([`redact_then_cut`]), never the other way
    /// round, so a cut can never leave half an address behind.
    #[must_use]
    pub fn truncated(input: &str, max: usize) -> Text {
        Text(Arc::from(redact_then_cut(input, max)))
    }

    fn scrubbed(input: &str) -> Text {
        match redact_ips(input) {
            std::borrow::Cow::Borrowed(s) => Text(Arc::from(s)),
            std::borrow::Cow::Owned(s) => Text(Arc::from(s)),
        }
    }

    /// The empty text.
    #[must_use]
    pub fn empty() -> Text {
        thread_local! {
            static EMPTY: Text = Text(Arc::from(""));
        }
        EMPTY.with(Text::clone)
    }

    /// Text read back from the engine's own files, which only ever held
    /// scrubbed text.
    pub(crate) fn from_stored(s: &str) -> Text {
        Text(Arc::from(s))
    }

    /// The text as a string slice.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the text is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Default for Text {
    fn default() -> Self {
        Text::empty()
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl serde::Serialize for Text {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Text {
    /// Deserialized text goes through the scrubber like any other input.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Ok(Text::new(&s))
    }
}
