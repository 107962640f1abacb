//! The server's one logging place. Every line the server writes goes
//! through [`line`] (or the [`log!`](crate::log!) macro), which runs the
//! engine's IP scrubber over it before it is written: a message that
//! carries an address by mistake still logs `[ip]`. Callers never pass a
//! client address, a raw client id, an opt-out token, a key or a typed
//! value; they log what happened (route, status, counts).
//!
//! Lines go to standard error by default. A test installs a [`Capture`]
//! to read everything the server logged.

use std::fmt;
use std::io::Write;
use std::sync::Arc;
use std::sync::OnceLock;

use parking_lot::Mutex;

/// A buffer that receives every log line (tests).
#[derive(Clone, Default)]
pub struct Capture(Arc<Mutex<Vec<u8>>>);

impl Capture {
    /// Everything logged so far.
    #[must_use]
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock()).into_owned()
    }
}

fn sinks() -> &'static Mutex<Vec<Capture>> {
    static SINKS: OnceLock<Mutex<Vec<Capture>>> = OnceLock::new();
    SINKS.get_or_init(|| Mutex::new(Vec::new()))
}

/// Starts copying every log line into a new capture buffer (the lines
/// still go to standard error).
#[must_use]
pub fn capture() -> Capture {
    let c = Capture::default();
    sinks().lock().push(c.clone());
    c
}

/// Writes one log line: `pledgedb-serve: <message>`, with IP-shaped text
/// redacted.
pub fn line(args: fmt::Arguments<'_>) {
    let msg = args.to_string();
    let msg = pledgedb_core::text::redact_ips(&msg);
    let text = format!("pledgedb-serve: {msg}\n");
    for c in sinks().lock().iter() {
        c.0.lock().extend_from_slice(text.as_bytes());
    }
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

/// Logs a line through [`line`]: `log!("flushed {n} hits")`.
#[macro_export]
macro_rules! log {
    ($($arg:tt)*) => {
        $crate::log::line(format_args!($($arg)*))
    };
}
