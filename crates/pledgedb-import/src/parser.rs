//! One line in, hits (or a reason to skip it) out: the format parsers plus
//! the filters.

use crate::access_log::{LogLine, parse_combined, parse_common};
use crate::error::LineError;
use crate::options::ImportOptions;
use crate::{Format, ndjson, plausible};
use pledgedb_core::ua::{BotClass, bot_class};
use pledgedb_core::{Hit, HitKind};
use serde::Serialize;
use std::collections::HashMap;
use std::ops::RangeInclusive;

/// Why a line was skipped on purpose.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Filter {
    /// A request for a static asset (by extension).
    Asset,
    /// A status code that is not a page view.
    Status,
    /// An HTTP method that is not a page view.
    Method,
    /// A crawler's user agent.
    Bot,
    /// A feed reader's or podcast app's user agent
    /// ([`BotClass::FeedReader`]).
    FeedReader,
    /// An HTTP library's or command-line tool's user agent
    /// ([`BotClass::HttpLibrary`]).
    HttpLibrary,
}

/// What became of one line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineOutcome {
    /// Empty or only whitespace.
    Blank,
    /// This many hits were appended to the output.
    Hits(usize),
    /// Skipped by a filter.
    Filtered(Filter),
}

/// Distinct user agents remembered by the bot filter before it forgets
/// them all and starts again.
const BOT_CACHE_ENTRIES: usize = 8192;

/// Turns lines of one format into hits, applying the filters of
/// [`ImportOptions`]. Keeps a cache of user-agent verdicts, so the crawler
/// check costs one hash lookup for a user agent seen before.
///
/// Access-log lines are checked in this order, and a skipped line is
/// counted under the first filter that matches: status, method, static
/// asset, bot.
#[derive(Debug)]
pub struct LineParser {
    format: Format,
    default_domain: Option<String>,
    keep_status: Vec<RangeInclusive<u16>>,
    keep_methods: Vec<String>,
    assets: Vec<String>,
    filter_bots: bool,
    keep_feed_readers: bool,
    keep_http_libraries: bool,
    bots: HashMap<String, Option<BotClass>>,
}

impl LineParser {
    /// A parser of `format` lines with the filters and default domain of
    /// `opts`.
    #[must_use]
    pub fn new(format: Format, opts: &ImportOptions) -> LineParser {
        LineParser {
            format,
            default_domain: opts.default_domain.clone(),
            keep_status: opts.keep_status.clone(),
            keep_methods: opts.keep_methods.clone(),
            assets: opts
                .asset_extensions
                .iter()
                .map(|e| e.trim().trim_start_matches('.').to_ascii_lowercase())
                .filter(|e| !e.is_empty())
                .collect(),
            filter_bots: opts.filter_bots,
            keep_feed_readers: opts.keep_feed_readers,
            keep_http_libraries: opts.keep_http_libraries,
            bots: HashMap::new(),
        }
    }

    /// The format this parser reads.
    #[must_use]
    pub fn format(&self) -> Format {
        self.format
    }

    /// Parses one line (without its line break), appending its hits to
    /// `out`. On error nothing is appended.
    pub fn parse_line(&mut self, line: &str, out: &mut Vec<Hit>) -> Result<LineOutcome, LineError> {
        if line.trim().is_empty() {
            return Ok(LineOutcome::Blank);
        }
        match self.format {
            Format::Ndjson => {
                out.push(ndjson::parse_line(line, self.default_domain.as_deref())?);
                Ok(LineOutcome::Hits(1))
            }
            Format::Plausible => {
                let start = out.len();
                let n = plausible::parse_line(line, self.default_domain.as_deref(), out)?;
                let ua = out
                    .get(start)
                    .and_then(|h| h.user_agent.clone())
                    .unwrap_or_default();
                if let Some(f) = self.bot_filter(&ua) {
                    out.truncate(start);
                    return Ok(LineOutcome::Filtered(f));
                }
                Ok(LineOutcome::Hits(n))
            }
            Format::Combined => {
                let l = parse_combined(line)?;
                self.access_hit(&l, out)
            }
            Format::Common => {
                let l = parse_common(line)?;
                self.access_hit(&l, out)
            }
        }
    }

    fn access_hit(
        &mut self,
        l: &LogLine<'_>,
        out: &mut Vec<Hit>,
    ) -> Result<LineOutcome, LineError> {
        if !self.keep_status.iter().any(|r| r.contains(&l.status)) {
            return Ok(LineOutcome::Filtered(Filter::Status));
        }
        if !self
            .keep_methods
            .iter()
            .any(|m| m.eq_ignore_ascii_case(l.method))
        {
            return Ok(LineOutcome::Filtered(Filter::Method));
        }
        if l.target.is_empty() {
            return Err(LineError::AccessLog {
                format: self.format.name(),
                problem: "request line has no path",
            });
        }
        if let Some(ext) = l.extension()
            && self.assets.iter().any(|a| a.eq_ignore_ascii_case(ext))
        {
            return Ok(LineOutcome::Filtered(Filter::Asset));
        }
        if let Some(ua) = l.user_agent
            && let Some(f) = self.bot_filter(ua)
        {
            return Ok(LineOutcome::Filtered(f));
        }
        let domain = match (l.vhost, &self.default_domain) {
            (Some(v), _) => v.to_ascii_lowercase(),
            (None, Some(d)) => d.clone(),
            (None, None) => return Err(LineError::NoDomain),
        };
        out.push(Hit {
            domain,
            timestamp: Some(l.time),
            url: l.target.to_owned(),
            ip: l.ip(),
            user_agent: l.user_agent.map(str::to_owned),
            client_id: None,
            session_id: None,
            opt_out_token: None,
            dnt: false,
            gpc: false,
            consent: pledgedb_core::Consent::Unknown,
            kind: HitKind::PageView {
                referrer: l.referrer.map(str::to_owned),
            },
        });
        Ok(LineOutcome::Hits(1))
    }

    /// The filter that skips a request with user agent `ua`, if any: a
    /// crawler, feed reader or HTTP library (as the engine classifies it,
    /// cached), unless the options keep that class.
    fn bot_filter(&mut self, ua: &str) -> Option<Filter> {
        if !self.filter_bots || ua.is_empty() {
            return None;
        }
        let class = match self.bots.get(ua) {
            Some(&c) => c,
            None => {
                let c = bot_class(ua);
                if self.bots.len() >= BOT_CACHE_ENTRIES {
                    self.bots.clear();
                }
                self.bots.insert(ua.to_owned(), c);
                c
            }
        };
        match class? {
            BotClass::Crawler => Some(Filter::Bot),
            BotClass::FeedReader => (!self.keep_feed_readers).then_some(Filter::FeedReader),
            BotClass::HttpLibrary => (!self.keep_http_libraries).then_some(Filter::HttpLibrary),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(vhost: &str, req: &str, status: u16, ua: &str) -> String {
        format!(
            r#"{vhost}203.0.113.9 - - [02/Mar/2026:10:00:00 +0000] "{req}" {status} 10 "https://www.google.com/" "{ua}""#
        )
    }

    const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0";
    const GOOGLEBOT: &str =
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";

    #[test]
    fn filters_in_order() {
        let opts = ImportOptions::default().with_default_domain("d.example");
        let mut p = LineParser::new(Format::Combined, &opts);
        let mut out = Vec::new();
        let mut run = |l: String| p.parse_line(&l, &mut out);
        use LineOutcome::{Filtered, Hits};
        assert_eq!(run(line("", "GET /a HTTP/1.1", 200, FIREFOX)), Ok(Hits(1)));
        assert_eq!(run(line("", "HEAD /a HTTP/1.1", 204, FIREFOX)), Ok(Hits(1)));
        assert_eq!(
            run(line("", "POST /a.css HTTP/1.1", 404, GOOGLEBOT)),
            Ok(Filtered(Filter::Status))
        );
        assert_eq!(
            run(line("", "POST /a.css HTTP/1.1", 200, GOOGLEBOT)),
            Ok(Filtered(Filter::Method))
        );
        assert_eq!(
            run(line("", "GET /a.CSS?v=1 HTTP/1.1", 200, GOOGLEBOT)),
            Ok(Filtered(Filter::Asset))
        );
        assert_eq!(
            run(line("", "GET /a.pdf HTTP/1.1", 200, GOOGLEBOT)),
            Ok(Filtered(Filter::Bot))
        );
        assert_eq!(
            run(line("", "GET /dir.v2/ HTTP/1.1", 200, FIREFOX)),
            Ok(Hits(1))
        );
        assert_eq!(
            run(line("", "GET HTTP/1.1", 200, FIREFOX)).map_err(|e| e.to_string()),
            Err("not a combined log line: request line has no path".to_string())
        );
        assert_eq!(
            run(line(
                "WWW.Site.Example:443 ",
                "GET /x?utm_source=n HTTP/1.1",
                200,
                FIREFOX
            )),
            Ok(Hits(1))
        );
        assert_eq!(out.len(), 4);
        let last = out.last().unwrap();
        assert_eq!(last.domain, "www.site.example");
        assert_eq!(last.url, "/x?utm_source=n");
        assert_eq!(last.ip, Some("203.0.113.9".parse().unwrap()));
        assert_eq!(last.user_agent.as_deref(), Some(FIREFOX));
        assert_eq!(
            last.kind,
            HitKind::PageView {
                referrer: Some("https://www.google.com/".into())
            }
        );
        assert_eq!(out[0].domain, "d.example");
    }

    #[test]
    fn options_change_the_filters() {
        let opts = ImportOptions {
            keep_status: vec![200..=299, 304..=304],
            keep_methods: vec!["get".into(), "post".into()],
            asset_extensions: vec![".PDF".into()],
            filter_bots: false,
            ..ImportOptions::default().with_default_domain("d.example")
        };
        let mut p = LineParser::new(Format::Combined, &opts);
        let mut out = Vec::new();
        for (l, want) in [
            (
                line("", "GET /a HTTP/1.1", 304, FIREFOX),
                LineOutcome::Hits(1),
            ),
            (
                line("", "POST /a HTTP/1.1", 200, FIREFOX),
                LineOutcome::Hits(1),
            ),
            (
                line("", "GET /a.css HTTP/1.1", 200, GOOGLEBOT),
                LineOutcome::Hits(1),
            ),
            (
                line("", "GET /a.pdf HTTP/1.1", 200, FIREFOX),
                LineOutcome::Filtered(Filter::Asset),
            ),
        ] {
            assert_eq!(p.parse_line(&l, &mut out), Ok(want), "{l}");
        }
    }

    #[test]
    fn no_domain_is_an_error_and_bots_are_cached() {
        let mut p = LineParser::new(Format::Combined, &ImportOptions::default());
        let mut out = Vec::new();
        assert_eq!(
            p.parse_line(&line("", "GET / HTTP/1.1", 200, FIREFOX), &mut out),
            Err(LineError::NoDomain)
        );
        for _ in 0..3 {
            assert_eq!(
                p.parse_line(&line("", "GET / HTTP/1.1", 200, GOOGLEBOT), &mut out),
                Ok(LineOutcome::Filtered(Filter::Bot))
            );
        }
        assert_eq!(p.bots.len(), 2);
        assert!(out.is_empty());
    }

    #[test]
    fn plausible_bots_are_filtered() {
        let mut p = LineParser::new(Format::Plausible, &ImportOptions::default());
        let mut out = Vec::new();
        let l = format!(
            r#"{{"name":"pageview","url":"/","domain":"a.example,b.example","user_agent":"{GOOGLEBOT}"}}"#
        );
        assert_eq!(
            p.parse_line(&l, &mut out),
            Ok(LineOutcome::Filtered(Filter::Bot))
        );
        assert!(out.is_empty());
        let l = l.replace(GOOGLEBOT, FIREFOX);
        assert_eq!(p.parse_line(&l, &mut out), Ok(LineOutcome::Hits(2)));
        assert_eq!(p.parse_line("  ", &mut out), Ok(LineOutcome::Blank));
    }
}
