//! Apache and Nginx access logs: the Common Log Format and the Combined Log
//! Format, each optionally with a virtual-host field first.
//!
//! ```text
//! common:   %h %l %u %t "%r" %>s %b
//! combined: %h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-agent}i"
//! with a virtual host first: %v:%p %h ... (Apache's vhost_combined) or %v %h ...
//! ```
//!
//! A line is parsed in one pass over its bytes, without regular
//! expressions and without allocating: [`LogLine`] borrows from the line.
//! Quoted fields may contain `\"` (Apache's escape); escapes are left as
//! they are. A combined line may carry more fields after the user agent
//! (Nginx configurations often append some); they are ignored. A common
//! line must end after the size field.
//!
//! Each request that passes the filters becomes a page view: the domain from
//! the virtual-host field (port and trailing dot removed, lower-cased) or
//! the configured default domain, the URL from the request line's target,
//! the referrer and user agent, the time with its zone offset, and the IP
//! from `%h` when it is an IPv4 or IPv6 address (a host name gives no IP).
//! There is no client id: the engine identifies visitors cookielessly.

use crate::error::LineError;
use crate::time::parse_clf;
use pledgedb_core::Timestamp;
use std::net::IpAddr;

/// One parsed access-log line, borrowing from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogLine<'a> {
    /// The virtual-host field without its port, as written (not yet
    /// lower-cased); `None` when the line has none or it is `-`.
    pub vhost: Option<&'a str>,
    /// The `%h` field: the client's address or host name.
    pub client: &'a str,
    /// The request time, in UTC.
    pub time: Timestamp,
    /// The request method (`GET`), or the whole request field when it has
    /// no space (`-`, garbage).
    pub method: &'a str,
    /// The request target (`/path?query`); empty when the request field has
    /// none.
    pub target: &'a str,
    /// The final status code.
    pub status: u16,
    /// The referrer, `None` for `-` or an empty field (combined only).
    pub referrer: Option<&'a str>,
    /// The user agent, `None` for `-` or an empty field (combined only).
    pub user_agent: Option<&'a str>,
}

impl LogLine<'_> {
    /// The client IP, if `%h` holds one (bare or in brackets). Host names
    /// and IPv6 addresses with a zone give `None`.
    #[must_use]
    pub fn ip(&self) -> Option<IpAddr> {
        let c = self.client;
        let c = c
            .strip_prefix('[')
            .and_then(|c| c.strip_suffix(']'))
            .unwrap_or(c);
        c.parse().ok()
    }

    /// The path part of the target: without query string and fragment.
    #[must_use]
    pub fn path(&self) -> &str {
        let end = self.target.find(['?', '#']).unwrap_or(self.target.len());
        self.target.get(..end).unwrap_or("")
    }

    /// The extension of the path's last segment (after its last dot), if
    /// any.
    #[must_use]
    pub fn extension(&self) -> Option<&str> {
        let path = self.path();
        let last = path.rsplit('/').next().unwrap_or(path);
        let dot = last.rfind('.')?;
        last.get(dot + 1..).filter(|e| !e.is_empty())
    }
}

/// Parses a Combined Log Format line (with or without a virtual-host field
/// first).
pub fn parse_combined(line: &str) -> Result<LogLine<'_>, LineError> {
    parse(line, true)
}

/// Parses a Common Log Format line (with or without a virtual-host field
/// first).
pub fn parse_common(line: &str) -> Result<LogLine<'_>, LineError> {
    parse(line, false)
}

fn parse(line: &str, combined: bool) -> Result<LogLine<'_>, LineError> {
    let format = if combined { "combined" } else { "common" };
    let err = |problem| LineError::AccessLog { format, problem };
    let mut c = Cursor {
        s: line.trim_end(),
        pos: 0,
    };
    let t1 = c.word().ok_or(err("missing client field"))?;
    c.space().ok_or(err("missing identity field"))?;
    let t2 = c.word().ok_or(err("missing identity field"))?;
    c.space().ok_or(err("missing user field"))?;
    let t3 = c.word().ok_or(err("missing user field"))?;
    c.space().ok_or(err("missing timestamp"))?;
    let (vhost, client) = if c.peek() == Some(b'[') {
        (None, t1)
    } else {
        let _user = c.word().ok_or(err("missing timestamp"))?;
        c.space().ok_or(err("missing timestamp"))?;
        if c.peek() != Some(b'[') {
            return Err(err("expected `[` before the timestamp"));
        }
        (vhost_name(t1), t2)
    };
    let _ = t3;
    let time = c.bracketed().ok_or(err("unterminated timestamp"))?;
    let time = parse_clf(time).ok_or(err("invalid timestamp"))?;
    c.space().ok_or(err("missing request line"))?;
    let request = c
        .quoted()
        .ok_or(err("missing or unterminated request line"))?;
    c.space().ok_or(err("missing status"))?;
    let status = c.word().ok_or(err("missing status"))?;
    let status = parse_status(status).ok_or(err("invalid status"))?;
    c.space().ok_or(err("missing size field"))?;
    let size = c.word().ok_or(err("missing size field"))?;
    if size != "-" && !size.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err("invalid size field"));
    }
    let (referrer, user_agent) = if combined {
        c.space().ok_or(err("missing referrer"))?;
        let r = c.quoted().ok_or(err("missing or unterminated referrer"))?;
        c.space().ok_or(err("missing user agent"))?;
        let ua = c
            .quoted()
            .ok_or(err("missing or unterminated user agent"))?;
        if !c.at_end() && c.peek() != Some(b' ') {
            return Err(err("unexpected text after the user agent"));
        }
        (dash_none(r), dash_none(ua))
    } else {
        if !c.at_end() {
            return Err(err("unexpected text after the size field"));
        }
        (None, None)
    };
    let (method, target) = split_request(request);
    Ok(LogLine {
        vhost,
        client,
        time,
        method,
        target,
        status,
        referrer,
        user_agent,
    })
}

/// `GET /path HTTP/1.1` into method and target. A target with spaces in it
/// (which a server only logs for a broken request) runs up to the protocol.
fn split_request(r: &str) -> (&str, &str) {
    let Some((method, rest)) = r.split_once(' ') else {
        return (r, "");
    };
    let rest = rest.trim_start_matches(' ');
    let target = match rest.rsplit_once(' ') {
        Some((t, proto)) if proto.starts_with("HTTP/") => t.trim_end_matches(' '),
        None if rest.starts_with("HTTP/") => "",
        _ => rest,
    };
    (method, target)
}

/// The virtual host of a `vhost`, `vhost:port` or `[v6]:port` field.
fn vhost_name(field: &str) -> Option<&str> {
    let host = if let Some(rest) = field.strip_prefix('[') {
        rest.split_once(']').map_or(rest, |(h, _)| h)
    } else {
        match field.rsplit_once(':') {
            Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
            _ => field,
        }
    };
    let host = host.strip_suffix('.').unwrap_or(host);
    (!host.is_empty() && host != "-").then_some(host)
}

fn parse_status(s: &str) -> Option<u16> {
    let b = s.as_bytes();
    if b.len() != 3 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    s.parse().ok().filter(|s| (100..=999).contains(s))
}

fn dash_none(s: &str) -> Option<&str> {
    (!s.is_empty() && s != "-").then_some(s)
}

/// A position in a line.
struct Cursor<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.pos).copied()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.s.len()
    }

    /// One or more spaces (or tabs).
    fn space(&mut self) -> Option<()> {
        let start = self.pos;
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
        (self.pos > start).then_some(())
    }

    /// A non-empty run of bytes up to the next space or tab.
    fn word(&mut self) -> Option<&'a str> {
        let rest = self.s.get(self.pos..)?;
        let len = rest.find([' ', '\t']).unwrap_or(rest.len());
        if len == 0 {
            return None;
        }
        self.pos += len;
        rest.get(..len)
    }

    /// `[...]`, returning what is inside.
    fn bracketed(&mut self) -> Option<&'a str> {
        let rest = self.s.get(self.pos..)?.strip_prefix('[')?;
        let end = rest.find(']')?;
        self.pos += end + 2;
        rest.get(..end)
    }

    /// `"..."` with `\` escaping the next byte, returning what is inside
    /// (escapes left as they are).
    fn quoted(&mut self) -> Option<&'a str> {
        let rest = self.s.get(self.pos..)?.strip_prefix('"')?;
        let b = rest.as_bytes();
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'\\' => i += 2,
                b'"' => {
                    self.pos += i + 2;
                    return rest.get(..i);
                }
                _ => i += 1,
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMBINED: &str = r#"203.0.113.9 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif?x=1 HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)""#;

    #[test]
    fn combined_line() {
        let l = parse_combined(COMBINED).unwrap();
        assert_eq!(l.vhost, None);
        assert_eq!(l.client, "203.0.113.9");
        assert_eq!(l.ip(), Some("203.0.113.9".parse().unwrap()));
        assert_eq!(l.time, Timestamp::from_ymd_hms(2000, 10, 10, 20, 55, 36));
        assert_eq!(l.method, "GET");
        assert_eq!(l.target, "/apache_pb.gif?x=1");
        assert_eq!(l.path(), "/apache_pb.gif");
        assert_eq!(l.extension(), Some("gif"));
        assert_eq!(l.status, 200);
        assert_eq!(l.referrer, Some("http://www.example.com/start.html"));
        assert_eq!(l.user_agent, Some("Mozilla/4.08 [en] (Win98; I ;Nav)"));
        // Not common: it has more after the size.
        assert!(parse_common(COMBINED).is_err());
    }

    #[test]
    fn common_line_and_vhosts() {
        let l = parse_common(
            r#"2001:db8::7 - - [10/Oct/2000:13:55:36 +0000] "POST /form HTTP/1.1" 302 -"#,
        )
        .unwrap();
        assert_eq!(l.ip(), Some("2001:db8::7".parse().unwrap()));
        assert_eq!((l.method, l.target, l.status), ("POST", "/form", 302));
        assert_eq!((l.referrer, l.user_agent), (None, None));
        assert!(
            parse_combined(
                r#"2001:db8::7 - - [10/Oct/2000:13:55:36 +0000] "POST /form HTTP/1.1" 302 -"#
            )
            .is_err()
        );

        let v = format!("Shop.Example.:443 {COMBINED}");
        let l = parse_combined(&v).unwrap();
        assert_eq!(l.vhost, Some("Shop.Example"));
        assert_eq!(l.client, "203.0.113.9");
        let v = format!("shop.example {COMBINED} \"extra\" 0.003");
        assert_eq!(parse_combined(&v).unwrap().vhost, Some("shop.example"));
        let v = format!("- {COMBINED}");
        assert_eq!(parse_combined(&v).unwrap().vhost, None);
        assert_eq!(vhost_name("[2001:db8::1]:80"), Some("2001:db8::1"));
    }

    #[test]
    fn odd_but_valid_fields() {
        let l = parse_combined(
            r#"crawler.example.net - - [10/Oct/2000:13:55:36 +0000] "-" 400 0 "-" "-""#,
        )
        .unwrap();
        assert_eq!(l.ip(), None);
        assert_eq!((l.method, l.target), ("-", ""));
        assert_eq!((l.referrer, l.user_agent), (None, None));
        let l = parse_combined(
            r#"[2001:db8::1] - - [10/Oct/2000:13:55:36 +0000] "GET /a b HTTP/1.1" 200 5 "-" "UA \"quoted\" x""#,
        )
        .unwrap();
        assert_eq!(l.ip(), Some("2001:db8::1".parse().unwrap()));
        assert_eq!(l.target, "/a b");
        assert_eq!(l.user_agent, Some(r#"UA \"quoted\" x"#));
        assert_eq!(split_request("GET"), ("GET", ""));
        assert_eq!(split_request("GET /x"), ("GET", "/x"));
        assert_eq!(split_request("GET HTTP/1.1"), ("GET", ""));
    }

    #[test]
    fn errors_name_the_problem_not_the_content() {
        for (line, want) in [
            ("", "missing client field"),
            ("203.0.113.9 - -", "missing timestamp"),
            (
                r#"203.0.113.9 - - [10/Oct/2000:13:55:36 -0700 "GET / HTTP/1.0" 200 1"#,
                "unterminated timestamp",
            ),
            (
                r#"203.0.113.9 - - [10/Oct/2000:13:55:36] "GET / HTTP/1.0" 200 1 "-" "-""#,
                "invalid timestamp",
            ),
            (
                r#"203.0.113.9 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0 200 1"#,
                "missing or unterminated request line",
            ),
            (
                r#"203.0.113.9 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" OK 1 "-" "-""#,
                "invalid status",
            ),
            (
                r#"203.0.113.9 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 1k "-" "-""#,
                "invalid size field",
            ),
            (
                r#"203.0.113.9 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 1 "-""#,
                "missing user agent",
            ),
            (
                r#"a b c d e [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 1 "-" "-""#,
                "expected `[` before the timestamp",
            ),
        ] {
            let e = parse_combined(line).unwrap_err();
            assert_eq!(
                e,
                LineError::AccessLog {
                    format: "combined",
                    problem: want
                },
                "{line}"
            );
            assert!(!e.to_string().contains("203.0.113.9"));
        }
    }
}
