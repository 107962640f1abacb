//! Input formats and their detection.

use crate::access_log::{parse_combined, parse_common};
use crate::plausible::looks_like_plausible;
use serde::Serialize;
use std::fmt;
use std::io::Read;
use std::str::FromStr;

/// An input format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// PledgeDB's NDJSON hits (see [`crate::ndjson`]).
    Ndjson,
    /// Plausible Events API payloads, one per line (see [`crate::plausible`]).
    Plausible,
    /// Apache/Nginx Combined Log Format (see [`crate::access_log`]).
    Combined,
    /// Apache/Nginx Common Log Format (see [`crate::access_log`]).
    Common,
}

impl Format {
    /// Every format, in the order detection prefers them within each kind.
    pub const ALL: [Format; 4] = [
        Format::Ndjson,
        Format::Plausible,
        Format::Combined,
        Format::Common,
    ];

    /// The format's name, as accepted by [`Format::from_str`].
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Format::Ndjson => "ndjson",
            Format::Plausible => "plausible",
            Format::Combined => "combined",
            Format::Common => "common",
        }
    }

    /// Whether this is an access-log format.
    #[must_use]
    pub fn is_access_log(self) -> bool {
        matches!(self, Format::Combined | Format::Common)
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A format name that is not one of `ndjson`, `plausible`, `combined`,
/// `common`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown format; expected ndjson, plausible, combined or common")]
pub struct UnknownFormatName;

impl FromStr for Format {
    type Err = UnknownFormatName;

    /// Parses a format name, in any case.
    fn from_str(s: &str) -> Result<Format, UnknownFormatName> {
        Format::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(s.trim()))
            .ok_or(UnknownFormatName)
    }
}

/// The first two bytes of every gzip member.
pub(crate) const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Whether `first` starts like a gzip stream.
#[must_use]
pub fn is_gzip(first: &[u8]) -> bool {
    first.starts_with(&GZIP_MAGIC)
}

/// How one line votes in detection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Vote {
    /// Blank: look at the next line.
    Blank,
    /// Decides the format.
    Decided(Format),
    /// Starts with `{` but is not a JSON object: JSON of some kind, but
    /// which one is for a later line to tell (NDJSON if none does).
    BrokenJson,
    /// Not recognised: look at the next line.
    Unknown,
}

/// Detection by one line: a line starting with `{` is JSON (Plausible if it
/// has a `name` or `n` and no `type`, NDJSON otherwise); any other line is
/// tried as a combined, then as a common access-log line.
pub(crate) fn vote(line: &str) -> Vote {
    let line = line.trim();
    if line.is_empty() {
        Vote::Blank
    } else if line.starts_with('{') {
        if serde_json::from_str::<serde::de::IgnoredAny>(line).is_err() {
            Vote::BrokenJson
        } else if looks_like_plausible(line) {
            Vote::Decided(Format::Plausible)
        } else {
            Vote::Decided(Format::Ndjson)
        }
    } else if parse_combined(line).is_ok() {
        Vote::Decided(Format::Combined)
    } else if parse_common(line).is_ok() {
        Vote::Decided(Format::Common)
    } else {
        Vote::Unknown
    }
}

/// Detects the format of an input from its first bytes (a few whole lines;
/// 64 KiB is plenty). Gzip-compressed input (recognised by its magic bytes)
/// is decompressed as far as `first` goes. Lines are looked at in order,
/// skipping blank ones, up to [`DETECT_LINES`] non-blank lines: the first
/// line starting with `{` makes it JSON (Plausible if that line has a
/// `name` and no `type`, otherwise NDJSON); any other line decides if it
/// parses as a combined log line, else as a common one; a line that is
/// neither is passed over. A last line cut off by the end of `first` is
/// only used when it is the only one.
///
/// Returns `None` when no line decides.
#[must_use]
pub fn detect(first: &[u8]) -> Option<Format> {
    if is_gzip(first) {
        let mut out = Vec::new();
        let mut dec = flate2::read::MultiGzDecoder::new(first).take(1 << 20);
        // A cut-off stream ends in an error after giving what it could.
        let mut buf = [0u8; 8192];
        loop {
            match dec.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(buf.get(..n).unwrap_or_default()),
            }
        }
        return detect_text(&out);
    }
    detect_text(first)
}

/// The most non-blank lines detection looks at.
pub const DETECT_LINES: usize = 16;

fn detect_text(bytes: &[u8]) -> Option<Format> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    if lines.len() > 1 && !bytes.ends_with(b"\n") {
        lines.pop();
    }
    let mut detector = Detector::default();
    for line in lines {
        if let Some(f) = detector.feed(&String::from_utf8_lossy(line)) {
            return Some(f);
        }
        if detector.exhausted() {
            break;
        }
    }
    detector.finish()
}

/// Detection state over successive lines.
#[derive(Debug, Default)]
pub(crate) struct Detector {
    examined: usize,
    saw_json: bool,
}

impl Detector {
    /// Looks at the next line; `Some` once the format is decided.
    pub(crate) fn feed(&mut self, line: &str) -> Option<Format> {
        match vote(line) {
            Vote::Blank => None,
            Vote::Decided(f) => Some(f),
            Vote::BrokenJson => {
                self.examined += 1;
                self.saw_json = true;
                None
            }
            Vote::Unknown => {
                self.examined += 1;
                None
            }
        }
    }

    /// Whether enough lines were examined to give up.
    pub(crate) fn exhausted(&self) -> bool {
        self.examined >= DETECT_LINES
    }

    /// Non-blank lines examined.
    pub(crate) fn examined(&self) -> usize {
        self.examined
    }

    /// The verdict when no line decided: NDJSON if some line looked like
    /// JSON, otherwise none.
    pub(crate) fn finish(&self) -> Option<Format> {
        self.saw_json.then_some(Format::Ndjson)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    const COMBINED: &str = r#"203.0.113.9 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 2326 "-" "Mozilla/5.0""#;
    const COMMON: &str =
        r#"203.0.113.9 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 2326"#;

    #[test]
    fn detects_each_format() {
        assert_eq!(
            detect(b"\n{\"type\":\"page_view\",\"url\":\"/\"}\n"),
            Some(Format::Ndjson)
        );
        assert_eq!(
            detect(b"{\"name\":\"pageview\",\"url\":\"/\"}\n"),
            Some(Format::Plausible)
        );
        assert_eq!(
            detect(b"{\"name\":\"x\",\"type\":\"custom\"}\n"),
            Some(Format::Ndjson)
        );
        assert_eq!(
            detect(format!("{COMBINED}\n").as_bytes()),
            Some(Format::Combined)
        );
        assert_eq!(
            detect(format!("garbage\n\n{COMMON}\n").as_bytes()),
            Some(Format::Common)
        );
        assert_eq!(
            detect(format!("vhost.example:80 {COMBINED}\n").as_bytes()),
            Some(Format::Combined)
        );
        assert_eq!(
            detect(b"{broken\n{\"n\":\"pageview\"}\n"),
            Some(Format::Plausible)
        );
        assert_eq!(detect(b"{broken\n"), Some(Format::Ndjson));
        assert_eq!(detect(b"hello\nworld\n"), None);
        assert_eq!(detect(b""), None);
        // A combined line cut short after the size looks common; it is
        // only used when it is the only line.
        let cut = format!("garbage\n{COMMON}");
        assert_eq!(detect(cut.as_bytes()), None);
        assert_eq!(detect(COMMON.as_bytes()), Some(Format::Common));
        assert_eq!(
            detect(format!("\u{feff}{COMBINED}\n").as_bytes()),
            Some(Format::Combined)
        );
    }

    #[test]
    fn detects_inside_gzip_even_when_cut() {
        let mut text = String::new();
        for _ in 0..2000 {
            text.push_str(COMBINED);
            text.push('\n');
        }
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(text.as_bytes()).unwrap();
        let gz = gz.finish().unwrap();
        assert!(is_gzip(&gz));
        assert_eq!(detect(&gz), Some(Format::Combined));
        assert_eq!(detect(&gz[..gz.len() / 2]), Some(Format::Combined));
    }

    #[test]
    fn names() {
        for f in Format::ALL {
            assert_eq!(f.name().parse::<Format>(), Ok(f));
            assert_eq!(f.to_string(), f.name());
        }
        assert_eq!(" NDJSON ".parse::<Format>(), Ok(Format::Ndjson));
        assert_eq!("csv".parse::<Format>(), Err(UnknownFormatName));
        assert_eq!(
            serde_json::to_string(&Format::Combined).unwrap(),
            "\"combined\""
        );
    }
}
