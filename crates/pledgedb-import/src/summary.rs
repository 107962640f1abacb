//! What an import did: counters, the first problem lines, and progress.

use crate::Format;
use serde::Serialize;
use std::fmt;

/// How far an import has got, passed to the progress callback.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Progress {
    /// Lines read so far (blank and malformed ones included).
    pub lines: u64,
    /// Bytes read so far from the input as given: for a gzip file these are
    /// compressed bytes, so they can be compared with the file's size.
    pub bytes: u64,
}

/// One problem line: its 1-based number and why it was not ingested. The
/// reason names the problem (and the field), never the line's content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LineIssue {
    /// The 1-based line number.
    pub line: u64,
    /// Why.
    pub reason: String,
}

/// A count of problem lines, with the first few of them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Issues {
    /// How many there were.
    pub total: u64,
    /// The first ones, in line order (at most
    /// [`ImportOptions::max_reported`](crate::ImportOptions::max_reported)).
    pub first: Vec<LineIssue>,
}

impl Issues {
    pub(crate) fn record(&mut self, line: u64, reason: impl fmt::Display, keep: usize) {
        self.total += 1;
        if self.first.len() < keep {
            self.first.push(LineIssue {
                line,
                reason: reason.to_string(),
            });
        }
    }

    /// The line numbers of the kept issues.
    #[must_use]
    pub fn lines(&self) -> Vec<u64> {
        self.first.iter().map(|i| i.line).collect()
    }
}

/// What the import records of the domain made of this input (see
/// [`fingerprint`](crate::fingerprint)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Repeat {
    /// Not imported before (or no record could be kept: no line named a
    /// domain).
    #[default]
    New,
    /// An earlier run stopped part-way: its first `lines` lines were skipped
    /// and the rest imported.
    Resumed {
        /// Lines the earlier runs had imported.
        lines: u64,
    },
    /// Imported before, in full: refused, nothing was stored. Import it
    /// again with [`ImportOptions::again`](crate::ImportOptions::again).
    Refused {
        /// Lines the earlier import consumed.
        lines: u64,
    },
    /// Imported before, and imported again because of
    /// [`ImportOptions::again`](crate::ImportOptions::again).
    Again,
}

/// What an import did.
///
/// Every line read is counted once, in exactly one of: [`blank`](Self::blank),
/// [`malformed`](Self::malformed), one of the `filtered_*` counters, or as a
/// line that produced hits ([`hit_lines`](Self::hit_lines)), or as
/// [`already_imported`](Self::already_imported). Every hit handed to the
/// engine is counted once, in exactly one of [`ingested`](Self::ingested),
/// [`ingested_anonymous`](Self::ingested_anonymous),
/// [`aggregated`](Self::aggregated), [`aggregated_anonymous`](Self::aggregated_anonymous),
/// a `dropped_*` counter, or [`rejected`](Self::rejected).
///
/// A repeat of an input recorded in its domain is refused
/// ([`Repeat::Refused`]), and an interrupted one resumes
/// ([`Repeat::Resumed`]): see [`repeat`](Self::repeat).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ImportSummary {
    /// The format the lines were read as (`None` if no line was read).
    pub format: Option<Format>,
    /// Whether the input was gzip-compressed.
    pub gzip: bool,
    /// Lines read.
    pub lines: u64,
    /// Bytes read from the input as given (compressed bytes for gzip).
    pub bytes: u64,
    /// Lines that were empty or only whitespace.
    pub blank: u64,
    /// Lines that produced at least one hit.
    pub hit_lines: u64,
    /// Hits handed to the engine (more than `hit_lines` when a Plausible
    /// payload names several domains).
    pub hits: u64,
    /// Hits stored with a visitor identity.
    pub ingested: u64,
    /// Hits stored as anonymous events (no consent).
    pub ingested_anonymous: u64,
    /// Hits older than the domain's raw-event retention, counted (with a
    /// visitor id) in the day roll-ups of its aggregate file.
    pub aggregated: u64,
    /// Hits older than the raw-event retention, without a visitor id,
    /// counted in the aggregate file.
    pub aggregated_anonymous: u64,
    /// Lines skipped because an earlier run imported them (a resume or a
    /// refused repeat).
    pub already_imported: u64,
    /// What the import records made of this input.
    pub repeat: Repeat,
    /// The past window of this run in days (`None`: the engine's default
    /// of 3,650).
    pub window_days: Option<i64>,
    /// Access-log lines skipped as requests for static assets.
    pub filtered_assets: u64,
    /// Access-log lines skipped for their status code.
    pub filtered_status: u64,
    /// Access-log lines skipped for their HTTP method.
    pub filtered_method: u64,
    /// Lines skipped because the user agent is a crawler.
    pub filtered_bots: u64,
    /// Lines skipped because the user agent is a feed reader or podcast app.
    pub filtered_feed_readers: u64,
    /// Lines skipped because the user agent is an HTTP library or tool.
    pub filtered_http_libraries: u64,
    /// Hits the engine dropped: the visitor's opt-out token is registered.
    pub dropped_opt_out: u64,
    /// Hits the engine dropped for Do-Not-Track.
    pub dropped_dnt: u64,
    /// Hits the engine dropped for Global Privacy Control.
    pub dropped_gpc: u64,
    /// Hits the engine dropped for lack of consent.
    pub dropped_no_consent: u64,
    /// Hits the engine dropped as older than the domain's retention.
    pub dropped_expired: u64,
    /// Keystrokes in sensitive fields, dropped before anything was written
    /// (their count would reveal a secret's length).
    pub dropped_sensitive_keystroke: u64,
    /// Hits the engine dropped for a reason this version does not know.
    pub dropped_other: u64,
    /// Hits the engine refused as invalid (`IngestError::Hit`); the reason
    /// is the engine's message, which names the field, never its value.
    pub rejected: Issues,
    /// Of the rejected hits, those older than the accepted past window.
    pub rejected_too_old: u64,
    /// Lines that could not be parsed.
    pub malformed: Issues,
    /// Whether [`Db::flush`](pledgedb_core::Db::flush) succeeded at the end,
    /// making every ingested hit durable.
    pub flushed: bool,
}

impl ImportSummary {
    /// Hits the engine stored: as raw events (with or without identity) or
    /// in the aggregate file.
    #[must_use]
    pub fn stored(&self) -> u64 {
        self.ingested + self.ingested_anonymous + self.aggregated + self.aggregated_anonymous
    }

    /// Why a run that read lines stored nothing, and how to proceed; `None`
    /// if it stored something or there was nothing to store. The text holds
    /// counts and option names only.
    #[must_use]
    pub fn nothing_stored(&self) -> Option<String> {
        if self.stored() > 0 || self.lines == self.blank {
            return None;
        }
        let mut why = Vec::new();
        if let Repeat::Refused { lines } = self.repeat {
            why.push(format!(
                "this input was imported before ({lines} lines); importing it again would count its hits twice: pass --again to do it anyway"
            ));
        }
        if self.rejected_too_old > 0 {
            let window = self.window_days.unwrap_or(3650);
            why.push(format!(
                "{} hits are older than the accepted window of {window} days: widen it with --max-past-days N or --since YYYY-MM-DD (old days go to the anonymous aggregates)",
                self.rejected_too_old
            ));
        }
        if self.dropped_expired > 0 {
            why.push(format!(
                "{} hits are older than the domain's aggregate retention: raise the aggregate retention (`.retention aggregates=DAYS`, `Retention::aggregate_days`) to keep them",
                self.dropped_expired
            ));
        }
        let privacy =
            self.dropped_opt_out + self.dropped_dnt + self.dropped_gpc + self.dropped_no_consent;
        if privacy > 0 {
            why.push(format!(
                "{privacy} hits were dropped by the privacy gate (opt-out, do-not-track, GPC, consent), as the domain's policy says"
            ));
        }
        if self.filtered() > 0 {
            why.push(format!(
                "{} lines were filtered (bots {}, feed readers {}, HTTP libraries {}, assets, status, method): --keep-feed-readers and --keep-http-libraries keep those clients",
                self.filtered(),
                self.filtered_bots,
                self.filtered_feed_readers,
                self.filtered_http_libraries
            ));
        }
        let other_rejected = self.rejected.total - self.rejected_too_old;
        if other_rejected > 0 {
            why.push(format!("{other_rejected} hits were invalid"));
        }
        if self.malformed.total > 0 {
            why.push(format!(
                "{} lines could not be read (check --format)",
                self.malformed.total
            ));
        }
        if why.is_empty() {
            why.push("no line held a hit".into());
        }
        Some(format!("nothing was stored: {}", why.join("; ")))
    }

    /// Hits the engine dropped before writing them.
    #[must_use]
    pub fn dropped(&self) -> u64 {
        self.dropped_opt_out
            + self.dropped_dnt
            + self.dropped_gpc
            + self.dropped_no_consent
            + self.dropped_expired
            + self.dropped_sensitive_keystroke
            + self.dropped_other
    }

    /// Lines skipped by a filter.
    #[must_use]
    pub fn filtered(&self) -> u64 {
        self.filtered_assets
            + self.filtered_status
            + self.filtered_method
            + self.filtered_bots
            + self.filtered_feed_readers
            + self.filtered_http_libraries
    }

    /// A one-line account (lines read, hits stored), as used in error
    /// messages.
    #[must_use]
    pub fn brief(&self) -> Brief<'_> {
        Brief(self)
    }
}

/// The one-line form of an [`ImportSummary`]; see [`ImportSummary::brief`].
#[derive(Clone, Copy, Debug)]
pub struct Brief<'a>(&'a ImportSummary);

impl fmt::Display for Brief<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0;
        write!(
            f,
            "{} lines read, {} hits stored{}",
            s.lines,
            s.stored(),
            if s.flushed {
                " and flushed"
            } else {
                ", not flushed"
            }
        )
    }
}

impl fmt::Display for ImportSummary {
    /// A few lines for a person: what was read, what was stored, what was
    /// skipped and why, the first problem lines, and a reminder that
    /// importing again would count again.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let format = self.format.map_or("unknown format", Format::name);
        let gz = if self.gzip { ", gzip" } else { "" };
        writeln!(
            f,
            "read {} lines ({} bytes, {format}{gz}); {} hits from {} lines",
            self.lines, self.bytes, self.hits, self.hit_lines
        )?;
        writeln!(
            f,
            "stored {} ({} with a visitor id, {} anonymous, {} into aggregates of days past the raw retention); dropped {} (opt-out {}, do-not-track {}, GPC {}, no consent {}, expired {}, sensitive keystrokes {}); rejected {}",
            self.stored(),
            self.ingested,
            self.ingested_anonymous,
            self.aggregated + self.aggregated_anonymous,
            self.dropped(),
            self.dropped_opt_out,
            self.dropped_dnt,
            self.dropped_gpc,
            self.dropped_no_consent,
            self.dropped_expired,
            self.dropped_sensitive_keystroke + self.dropped_other,
            self.rejected.total
        )?;
        writeln!(
            f,
            "skipped {} lines (static assets {}, status {}, method {}, bots {}, feed readers {}, HTTP libraries {}); malformed {}; blank {}",
            self.filtered() + self.malformed.total + self.blank,
            self.filtered_assets,
            self.filtered_status,
            self.filtered_method,
            self.filtered_bots,
            self.filtered_feed_readers,
            self.filtered_http_libraries,
            self.malformed.total,
            self.blank
        )?;
        for (what, issues) in [("malformed", &self.malformed), ("rejected", &self.rejected)] {
            if let Some(first) = issues.first.first() {
                writeln!(
                    f,
                    "first {what} line: {} ({}){}",
                    first.line,
                    first.reason,
                    if issues.total > 1 {
                        format!(" and {} more", issues.total - 1)
                    } else {
                        String::new()
                    }
                )?;
            }
        }
        writeln!(f, "{}", self.repeat_text())?;
        if let Some(why) = self.nothing_stored() {
            writeln!(f, "{why}")?;
        }
        if self.flushed {
            write!(f, "flushed to disk")
        } else {
            write!(f, "NOT flushed: the stored hits may not be durable")
        }
    }
}

impl ImportSummary {
    /// One sentence on what the import records made of this input.
    #[must_use]
    pub fn repeat_text(&self) -> String {
        match self.repeat {
            Repeat::New if self.stored() > 0 => {
                "new input: recorded, so importing it again is refused".to_string()
            }
            Repeat::New => {
                "new input: not recorded, since nothing was stored; it can be imported again"
                    .to_string()
            }
            Repeat::Resumed { lines } => format!(
                "resumed: the first {lines} lines were imported by an earlier run and skipped"
            ),
            Repeat::Refused { lines } => format!(
                "refused as a repeat: these {lines} lines were imported before (--again imports them again)"
            ),
            Repeat::Again => "imported again (--again): its hits are now counted twice".to_string(),
        }
    }
}
