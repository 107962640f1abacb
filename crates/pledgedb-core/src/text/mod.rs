//! Stored text. Every string the engine stores is a [`Text`], and the only
//! public way to make one is [`Text::new`], which redacts anything shaped like
//! an IPv4 or IPv6 address (promise P1).

mod scrub;
mod url;

use std::fmt;
use std::sync::Arc;

pub use scrub::{REDACTED_IP, contains_ip, redact_ips};
pub use url::{ReducedUrl, reduce_url, referrer_host};

/// A string that has passed the IP scrubber. Cheap to clone.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Text(Arc<str>);

impl Text {
    /// Builds stored text from untrusted input: every IPv4 or IPv6 literal in
    /// it (also percent-encoded, inside URLs and query strings) is replaced by
    /// [`REDACTED_IP`].
    #[must_use]
    pub fn new(input: &str) -> Text {
        match redact_ips(input) {
            std::borrow::Cow::Borrowed(s) => Text(Arc::from(s)),
            std::borrow::Cow::Owned(s) => Text(Arc::from(s)),
        }
    }

    /// The empty text.
    #[must_use]
    pub fn empty() -> Text {
        Text(Arc::from(""))
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
