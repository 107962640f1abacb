//! The incoming hit: what a tracker sends, before the engine has made it safe
//! to store. A hit may carry an IP address; the [`Event`](crate::Event) made
//! from it cannot.

use crate::event::KeyKind;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::IpAddr;

/// The visitor's consent state as the tracker reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Consent {
    /// The tracker did not say.
    #[default]
    Unknown,
    /// The visitor agreed to analytics.
    Granted,
    /// The visitor refused.
    Denied,
}

/// One field of a submitted form, as the tracker saw it.
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FormField {
    /// The field's name (or id).
    pub name: String,
    /// What was submitted.
    pub value: String,
    /// The HTML input type (`password`, `email`, ...), if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_type: Option<String>,
    /// The HTML `autocomplete` token (`cc-number`, ...), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autocomplete: Option<String>,
    /// Set by the tracker for fields it knows to be sensitive.
    #[serde(default)]
    pub sensitive: bool,
}

impl FormField {
    /// A field with a name and a value and nothing else known about it.
    #[must_use]
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        FormField {
            name: name.into(),
            value: value.into(),
            ..FormField::default()
        }
    }

    /// The same field with an HTML input type.
    #[must_use]
    pub fn input_type(mut self, t: impl Into<String>) -> Self {
        self.input_type = Some(t.into());
        self
    }
}

impl fmt::Debug for FormField {
    /// Values are not printed: a debug log must not become a copy of what a
    /// visitor typed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FormField")
            .field("name", &self.name)
            .field("value", &format_args!("<{} bytes>", self.value.len()))
            .field("input_type", &self.input_type)
            .field("autocomplete", &self.autocomplete)
            .field("sensitive", &self.sensitive)
            .finish()
    }
}

/// A custom property value as sent by a tracker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum HitProp {
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A floating point number.
    Float(f64),
    /// Text (scrubbed before it is stored).
    Text(String),
}

/// What the hit reports.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum HitKind {
    /// A page view, with the referring URL if any.
    PageView {
        /// The referring URL.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        referrer: Option<String>,
    },
    /// A click at page coordinates.
    Click {
        /// Horizontal position.
        x: i32,
        /// Vertical position.
        y: i32,
        /// What was clicked (e.g. a CSS selector).
        #[serde(default)]
        target: String,
    },
    /// A scroll depth in percent.
    Scroll {
        /// 0-100.
        depth: u8,
    },
    /// A form was shown.
    FormView {
        /// Form name or id.
        form: String,
    },
    /// A field got the focus.
    FieldFocus {
        /// Form name or id.
        form: String,
        /// Field name.
        field: String,
    },
    /// A key was pressed in a field: only its kind, never its content.
    Keystroke {
        /// Form name or id.
        form: String,
        /// Field name.
        field: String,
        /// Character, delete or other.
        #[serde(default)]
        key: KeyKind,
    },
    /// A field lost the focus.
    FieldBlur {
        /// Form name or id.
        form: String,
        /// Field name.
        field: String,
    },
    /// A form was submitted.
    FormSubmit {
        /// Form name or id.
        form: String,
        /// The submitted fields.
        #[serde(default)]
        fields: Vec<FormField>,
    },
    /// A custom event.
    Custom {
        /// Event name.
        name: String,
        /// Typed properties.
        #[serde(default)]
        props: Vec<(String, HitProp)>,
    },
}

/// A raw hit from a tracker. It may carry an IP address and a user agent;
/// both are used during ingest and then dropped. Its `Debug` output never
/// shows the IP.
#[derive(Clone, PartialEq)]
pub struct Hit {
    /// The site the hit belongs to, e.g. `shop.example`.
    pub domain: String,
    /// When it happened; `None` means "now" by the engine's clock.
    pub timestamp: Option<Timestamp>,
    /// The full URL of the page.
    pub url: String,
    /// The client's IP address: used for the country (and, cookieless, the
    /// daily visitor hash), then dropped.
    pub ip: Option<IpAddr>,
    /// The client's user agent: used for the device class, browser family and
    /// cookieless hash, then dropped.
    pub user_agent: Option<String>,
    /// A first-party cookie value identifying the browser on this site.
    pub client_id: Option<String>,
    /// A tracker-side session id, if the tracker keeps one.
    pub session_id: Option<String>,
    /// The visitor's opt-out token, if the tracker sends one.
    pub opt_out_token: Option<String>,
    /// The Do-Not-Track header was set.
    pub dnt: bool,
    /// The Global Privacy Control signal was set.
    pub gpc: bool,
    /// The consent state.
    pub consent: Consent,
    /// What happened.
    pub kind: HitKind,
}

impl Hit {
    /// A hit of any kind for `domain` at `url`, with nothing else set.
    #[must_use]
    pub fn new(domain: impl Into<String>, url: impl Into<String>, kind: HitKind) -> Hit {
        Hit {
            domain: domain.into(),
            timestamp: None,
            url: url.into(),
            ip: None,
            user_agent: None,
            client_id: None,
            session_id: None,
            opt_out_token: None,
            dnt: false,
            gpc: false,
            consent: Consent::Unknown,
            kind,
        }
    }

    /// A page view without referrer.
    #[must_use]
    pub fn page_view(domain: impl Into<String>, url: impl Into<String>) -> Hit {
        Hit::new(domain, url, HitKind::PageView { referrer: None })
    }

    /// Sets the timestamp.
    #[must_use]
    pub fn at(mut self, ts: Timestamp) -> Hit {
        self.timestamp = Some(ts);
        self
    }

    /// Sets the client IP.
    #[must_use]
    pub fn ip(mut self, ip: IpAddr) -> Hit {
        self.ip = Some(ip);
        self
    }

    /// Sets the user agent.
    #[must_use]
    pub fn user_agent(mut self, ua: impl Into<String>) -> Hit {
        self.user_agent = Some(ua.into());
        self
    }

    /// Sets the first-party client id.
    #[must_use]
    pub fn client_id(mut self, id: impl Into<String>) -> Hit {
        self.client_id = Some(id.into());
        self
    }

    /// Sets a tracker-side session id.
    #[must_use]
    pub fn session_id(mut self, id: impl Into<String>) -> Hit {
        self.session_id = Some(id.into());
        self
    }

    /// Sets the opt-out token.
    #[must_use]
    pub fn opt_out_token(mut self, token: impl Into<String>) -> Hit {
        self.opt_out_token = Some(token.into());
        self
    }

    /// Sets the consent state.
    #[must_use]
    pub fn consent(mut self, c: Consent) -> Hit {
        self.consent = c;
        self
    }

    /// Sets the Do-Not-Track flag.
    #[must_use]
    pub fn dnt(mut self, on: bool) -> Hit {
        self.dnt = on;
        self
    }

    /// Sets the Global Privacy Control flag.
    #[must_use]
    pub fn gpc(mut self, on: bool) -> Hit {
        self.gpc = on;
        self
    }
}

impl fmt::Debug for Hit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hit")
            .field("domain", &self.domain)
            .field("timestamp", &self.timestamp)
            .field("url", &format_args!("<{} bytes>", self.url.len()))
            .field("ip", &self.ip.map(|_| "<redacted>"))
            .field("user_agent", &self.user_agent.as_ref().map(|_| "<present>"))
            .field("client_id", &self.client_id.as_ref().map(|_| "<present>"))
            .field("session_id", &self.session_id.as_ref().map(|_| "<present>"))
            .field(
                "opt_out_token",
                &self.opt_out_token.as_ref().map(|_| "<present>"),
            )
            .field("dnt", &self.dnt)
            .field("gpc", &self.gpc)
            .field("consent", &self.consent)
            .field("kind", &self.kind.type_name())
            .finish()
    }
}

impl HitKind {
    /// The snake_case name of the kind.
    #[must_use]
    pub fn type_name(&self) -> &'static str {
        match self {
            HitKind::PageView { .. } => "page_view",
            HitKind::Click { .. } => "click",
            HitKind::Scroll { .. } => "scroll",
            HitKind::FormView { .. } => "form_view",
            HitKind::FieldFocus { .. } => "field_focus",
            HitKind::Keystroke { .. } => "keystroke",
            HitKind::FieldBlur { .. } => "field_blur",
            HitKind::FormSubmit { .. } => "form_submit",
            HitKind::Custom { .. } => "custom",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_prints_the_ip_or_values() {
        let hit = Hit::new(
            "a.example",
            "https://a.example/x?ip=203.0.113.9",
            HitKind::FormSubmit {
                form: "f".into(),
                fields: vec![FormField::new("email", "secret-value")],
            },
        )
        .ip("203.0.113.9".parse().unwrap_or(IpAddr::from([0, 0, 0, 0])))
        .user_agent("UA 198.51.100.7");
        let s = format!("{hit:?}");
        assert!(!s.contains("203.0.113.9"), "{s}");
        assert!(!s.contains("198.51.100.7"), "{s}");
        assert!(!s.contains("secret-value"), "{s}");
        let f = format!("{:?}", FormField::new("email", "secret-value"));
        assert!(!f.contains("secret-value"));
    }
}
