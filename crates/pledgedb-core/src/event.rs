//! The stored event: what PledgeDB keeps of a hit.
//!
//! No type in this module can hold an IP address: there is no `IpAddr` field,
//! every string is a scrubbed [`Text`], the country is two letters, and the
//! visitor is a keyed 64-bit hash (promise P1). A keystroke carries no
//! content, only its kind, and field values exist only on a form submit
//! (promise P8).

use crate::text::Text;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A pseudonymous visitor id: a keyed hash, unique per domain (promise P2).
/// `VisitorId(0)` is the anonymous visitor of hits kept without consent.
/// Serialised as 16 hex digits in JSON (`null` for 0), as the integer on
/// disk (`repr.rs`).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct VisitorId(pub u64);

impl VisitorId {
    /// The id of events kept without any visitor identity.
    pub const ANONYMOUS: VisitorId = VisitorId(0);

    /// Parses the 16-hex-digit form printed by `Display`.
    #[must_use]
    pub fn parse_hex(s: &str) -> Option<VisitorId> {
        if s.len() != 16 {
            return None;
        }
        u64::from_str_radix(s, 16).ok().map(VisitorId)
    }
}

impl fmt::Display for VisitorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl fmt::Debug for VisitorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VisitorId({self})")
    }
}

/// A session (visit) id: a keyed hash, unique per domain. `SessionId(0)` for
/// anonymous events.
/// Serialised as 16 hex digits in JSON (`null` for 0), as the integer on
/// disk (`repr.rs`).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SessionId(pub u64);

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionId({self})")
    }
}

impl SessionId {
    /// Parses the 16-hex-digit form printed by `Display`.
    #[must_use]
    pub fn parse_hex(s: &str) -> Option<SessionId> {
        if s.len() != 16 {
            return None;
        }
        u64::from_str_radix(s, 16).ok().map(SessionId)
    }
}

/// An ISO 3166-1 alpha-2 country code, or `ZZ` for unknown.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Country([u8; 2]);

impl Country {
    /// The unknown country (`ZZ`): no IP, no GeoIP database, or no match.
    pub const UNKNOWN: Country = Country(*b"ZZ");

    /// A country from its two-letter code; anything else is unknown.
    #[must_use]
    pub fn from_code(code: &str) -> Country {
        match code.as_bytes() {
            [a, b] if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() => {
                Country([a.to_ascii_uppercase(), b.to_ascii_uppercase()])
            }
            _ => Country::UNKNOWN,
        }
    }

    /// The two raw bytes (for the block codec).
    #[must_use]
    pub fn to_bytes(self) -> [u8; 2] {
        self.0
    }

    /// From two raw bytes; anything that is not two ASCII letters is unknown.
    #[must_use]
    pub fn from_bytes(b: [u8; 2]) -> Country {
        if b[0].is_ascii_uppercase() && b[1].is_ascii_uppercase() {
            Country(b)
        } else {
            Country::UNKNOWN
        }
    }

    /// The code as text, e.g. `"DE"`.
    #[must_use]
    pub fn as_str(&self) -> &str {
        // Both bytes are ASCII uppercase letters by construction.
        std::str::from_utf8(&self.0).unwrap_or("ZZ")
    }
}

impl Default for Country {
    fn default() -> Self {
        Country::UNKNOWN
    }
}

impl fmt::Display for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Country({})", self.as_str())
    }
}

impl Serialize for Country {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Country {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Ok(Country::from_code(&s))
    }
}

/// The class of device a hit came from, derived from the user agent, which is
/// then dropped.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
#[repr(u8)]
pub enum Device {
    /// No user agent, or one that could not be classified.
    #[default]
    Unknown = 0,
    /// Desktop or laptop browser.
    Desktop = 1,
    /// Phone.
    Mobile = 2,
    /// Tablet.
    Tablet = 3,
    /// Crawler or other automated client.
    Bot = 4,
}

impl Device {
    /// All device classes, in code order.
    pub const ALL: [Device; 5] = [
        Device::Unknown,
        Device::Desktop,
        Device::Mobile,
        Device::Tablet,
        Device::Bot,
    ];

    /// The stored one-byte code.
    #[must_use]
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The device for a stored code; unknown codes give `None`.
    #[must_use]
    pub fn from_code(c: u8) -> Option<Device> {
        Device::ALL.get(usize::from(c)).copied()
    }

    /// Lower-case name, as used in SQL and reports.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Device::Unknown => "unknown",
            Device::Desktop => "desktop",
            Device::Mobile => "mobile",
            Device::Tablet => "tablet",
            Device::Bot => "bot",
        }
    }
}

/// What kind of key a keystroke was. There is deliberately no variant that
/// carries the key itself (promise P8).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[repr(u8)]
pub enum KeyKind {
    /// A key that inserts a character.
    #[default]
    Character = 0,
    /// Backspace or delete: a correction.
    Delete = 1,
    /// Navigation, modifiers and everything else.
    Other = 2,
}

impl KeyKind {
    /// The stored one-byte code.
    #[must_use]
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The key kind for a stored code.
    #[must_use]
    pub fn from_code(c: u8) -> Option<KeyKind> {
        match c {
            0 => Some(KeyKind::Character),
            1 => Some(KeyKind::Delete),
            2 => Some(KeyKind::Other),
            _ => None,
        }
    }
}

/// A typed value of a custom event property.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PropValue {
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A floating point number.
    Float(f64),
    /// Scrubbed text.
    Text(Text),
}

/// One submitted, non-sensitive form field.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SubmittedField {
    /// The field's name.
    pub name: Text,
    /// What the visitor submitted.
    pub value: Text,
}

/// What happened, with the data that kind of event may carry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    /// A page was viewed.
    PageView {
        /// Host of the referring page, empty for direct traffic (`null` in
        /// JSON, as `NULL` in SQL).
        #[serde(with = "crate::repr::empty_as_null")]
        referrer: Text,
        /// The `utm_*` parameters of the page URL, as `k=v&k=v`, or empty
        /// (`null` in JSON, as `NULL` in SQL).
        #[serde(with = "crate::repr::empty_as_null")]
        utm: Text,
    },
    /// A click at page coordinates.
    Click {
        /// Horizontal position in CSS pixels.
        x: i32,
        /// Vertical position in CSS pixels.
        y: i32,
        /// A description of the clicked element (e.g. a CSS selector).
        target: Text,
    },
    /// The visitor scrolled to a depth.
    Scroll {
        /// Deepest point reached, in percent of the page (0-100).
        depth: u8,
    },
    /// A form was shown.
    FormView {
        /// The form's name or id.
        form: Text,
    },
    /// A form field got the focus.
    FieldFocus {
        /// The form's name or id.
        form: Text,
        /// The field's name.
        field: Text,
    },
    /// A key was pressed in a form field. Which key is never recorded.
    Keystroke {
        /// The form's name or id.
        form: Text,
        /// The field's name.
        field: Text,
        /// Character, delete or other.
        key: KeyKind,
    },
    /// A form field lost the focus.
    FieldBlur {
        /// The form's name or id.
        form: Text,
        /// The field's name.
        field: Text,
    },
    /// A form was submitted. Only here do field values exist, and only for
    /// fields that are not sensitive.
    FormSubmit {
        /// The form's name or id.
        form: Text,
        /// The submitted, non-sensitive fields.
        fields: Vec<SubmittedField>,
    },
    /// A custom event with typed properties.
    Custom {
        /// The event's name.
        name: Text,
        /// Its properties.
        props: Vec<(Text, PropValue)>,
    },
}

/// The type of an event, without its data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum EventType {
    /// [`EventKind::PageView`]
    PageView = 0,
    /// [`EventKind::Click`]
    Click = 1,
    /// [`EventKind::Scroll`]
    Scroll = 2,
    /// [`EventKind::FormView`]
    FormView = 3,
    /// [`EventKind::FieldFocus`]
    FieldFocus = 4,
    /// [`EventKind::Keystroke`]
    Keystroke = 5,
    /// [`EventKind::FieldBlur`]
    FieldBlur = 6,
    /// [`EventKind::FormSubmit`]
    FormSubmit = 7,
    /// [`EventKind::Custom`]
    Custom = 8,
}

impl EventType {
    /// All event types, in code order.
    pub const ALL: [EventType; 9] = [
        EventType::PageView,
        EventType::Click,
        EventType::Scroll,
        EventType::FormView,
        EventType::FieldFocus,
        EventType::Keystroke,
        EventType::FieldBlur,
        EventType::FormSubmit,
        EventType::Custom,
    ];

    /// The stored one-byte code.
    #[must_use]
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The event type for a stored code.
    #[must_use]
    pub fn from_code(c: u8) -> Option<EventType> {
        EventType::ALL.get(usize::from(c)).copied()
    }

    /// The snake_case name, as in SQL and JSON.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::PageView => "page_view",
            EventType::Click => "click",
            EventType::Scroll => "scroll",
            EventType::FormView => "form_view",
            EventType::FieldFocus => "field_focus",
            EventType::Keystroke => "keystroke",
            EventType::FieldBlur => "field_blur",
            EventType::FormSubmit => "form_submit",
            EventType::Custom => "custom",
        }
    }
}

impl EventKind {
    /// The type of this event.
    #[must_use]
    pub fn event_type(&self) -> EventType {
        match self {
            EventKind::PageView { .. } => EventType::PageView,
            EventKind::Click { .. } => EventType::Click,
            EventKind::Scroll { .. } => EventType::Scroll,
            EventKind::FormView { .. } => EventType::FormView,
            EventKind::FieldFocus { .. } => EventType::FieldFocus,
            EventKind::Keystroke { .. } => EventType::Keystroke,
            EventKind::FieldBlur { .. } => EventType::FieldBlur,
            EventKind::FormSubmit { .. } => EventType::FormSubmit,
            EventKind::Custom { .. } => EventType::Custom,
        }
    }
}

/// One stored event of one domain.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// When it happened.
    pub ts: Timestamp,
    /// Who: a keyed hash, never an IP or a raw client id.
    pub visitor: VisitorId,
    /// Which visit.
    pub session: SessionId,
    /// Country derived from the IP, which was then dropped.
    pub country: Country,
    /// Device class derived from the user agent, which was then dropped.
    pub device: Device,
    /// Browser family derived from the user agent (e.g. `Firefox`).
    pub browser: Text,
    /// Path of the page the event happened on, without query string.
    pub path: Text,
    /// What happened.
    #[serde(flatten)]
    pub kind: EventKind,
}
