//! The import loop: lines in, batches of hits to the engine, a summary out;
//! and the check against the domain's records of earlier imports.

use crate::Format;
use crate::detect::Detector;
use crate::error::{ImportError, LineError};
use crate::fingerprint::{Fingerprint, HEAD_LINES};
use crate::input::{ReadLine, Source, read_line};
use crate::options::ImportOptions;
use crate::parser::{Filter, LineOutcome, LineParser};
use crate::summary::{ImportSummary, Progress, Repeat};
use pledgedb_core::{
    Db, Domain, DropReason, History, HistoryIngested, Hit, HitField, HitProblem, ImportRecord,
    IngestError, Ingested,
};
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

/// The progress callback is called at least this often, in lines.
pub const PROGRESS_EVERY_LINES: u64 = 4096;

/// Read buffer of [`import_file`].
const FILE_BUFFER: usize = 256 * 1024;

/// Imports every line of `reader` into `db`.
///
/// The input may be gzip-compressed (recognised by its magic bytes; several
/// members one after the other, as `cat a.gz b.gz` makes, are read in
/// turn). Its format is [`ImportOptions::format`], or detected from its
/// first lines as [`detect`](crate::detect) does. Lines are read one at a
/// time with at most [`ImportOptions::max_line_bytes`] held, so memory does
/// not grow with the input. Hits go to the engine
/// [`ImportOptions::batch_size`] at a time through [`Db::history`]: hits
/// inside the domain's raw retention become raw events exactly as with
/// [`Db::ingest_batch`], older ones (up to [`ImportOptions::max_past_days`]
/// or [`ImportOptions::since`]) are counted in the day roll-ups of the
/// domain's aggregate file. [`Db::flush`] is called at the end: when this
/// returns `Ok`, everything counted as stored is durable
/// ([`ImportSummary::flushed`]).
///
/// Repeats: the input's content fingerprint ([`crate::fingerprint`]) is
/// checked against the import records of its domain (the default domain,
/// or the domain of the first hit among the first
/// [`HEAD_LINES`] lines). An input imported before in full is
/// refused ([`Repeat::Refused`], nothing stored); one whose earlier import
/// stopped part-way is resumed after the lines already imported
/// ([`Repeat::Resumed`]); [`ImportOptions::again`] imports it all again.
/// After a run that stored something (or resumed), the record is updated.
///
/// A malformed line is skipped and counted; a hit the engine refuses is
/// counted as rejected; neither stops the import. `progress` is called every
/// [`PROGRESS_EVERY_LINES`] lines and once at the end.
///
/// # Errors
///
/// [`ImportError::Options`] before anything is read; otherwise an error that
/// carries the summary of what was done before it: a read or decompression
/// error ([`ImportError::Io`]), an undetectable format, an access-log line
/// without a domain, an engine failure, or an input that starts like a
/// recorded one and then differs from it ([`ImportError::Diverged`], nothing
/// stored; [`import_file`] then starts again as a new input). Before
/// returning such an error the importer hands the hits already parsed to
/// the engine and flushes.
pub fn import<R: BufRead>(
    db: &Db,
    reader: R,
    opts: &ImportOptions,
    mut progress: impl FnMut(Progress),
) -> Result<ImportSummary, ImportError> {
    opts.validate()?;
    run(db, reader, opts, &mut progress, false)
}

/// Opens `path` and [`import`]s it. If the file starts like a recorded
/// import but differs from it later ([`ImportError::Diverged`], nothing was
/// stored), it is read again from the start as a new input.
///
/// # Errors
///
/// [`ImportError::Open`] if the file cannot be opened, otherwise as
/// [`import`].
pub fn import_file(
    db: &Db,
    path: impl AsRef<Path>,
    opts: &ImportOptions,
    mut progress: impl FnMut(Progress),
) -> Result<ImportSummary, ImportError> {
    opts.validate()?;
    let path = path.as_ref();
    let open = || {
        File::open(path)
            .map(|f| BufReader::with_capacity(FILE_BUFFER, f))
            .map_err(|source| ImportError::Open {
                path: path.to_path_buf(),
                source,
            })
    };
    match run(db, open()?, opts, &mut progress, false) {
        Err(ImportError::Diverged { .. }) => run(db, open()?, opts, &mut progress, true),
        other => other,
    }
}

fn run<R: BufRead>(
    db: &Db,
    reader: R,
    opts: &ImportOptions,
    progress: &mut dyn FnMut(Progress),
    force_new: bool,
) -> Result<ImportSummary, ImportError> {
    let window = opts.window_days(db.clock().now().day())?;
    let mut run = Run {
        db,
        opts,
        s: ImportSummary::default(),
        parser: opts.format.map(|f| LineParser::new(f, opts)),
        detector: Detector::default(),
        pending: Vec::new(),
        hits: Vec::with_capacity(opts.batch_size.min(1 << 16)),
        hit_lines: Vec::with_capacity(opts.batch_size.min(1 << 16)),
        history: db.history(window),
        fp: Fingerprint::default(),
        held: Vec::new(),
        decided: false,
        force_new,
        target: None,
        matched: None,
        skip_until: None,
        first_domain: None,
    };
    run.s.format = opts.format;
    run.s.window_days = window;
    run.run(reader, progress)
}

struct Run<'a> {
    db: &'a Db,
    opts: &'a ImportOptions,
    s: ImportSummary,
    parser: Option<LineParser>,
    detector: Detector,
    /// Lines read while the format was still undecided.
    pending: Vec<(u64, String)>,
    /// Hits not yet handed to the engine, and the line of each.
    hits: Vec<Hit>,
    hit_lines: Vec<u64>,
    history: History<'a>,
    fp: Fingerprint,
    /// The first lines (`None`: too long), held until the records are
    /// checked.
    held: Vec<(u64, Option<Vec<u8>>)>,
    decided: bool,
    /// Ignore the records (a second pass after [`ImportError::Diverged`]).
    force_new: bool,
    /// The domain whose records were checked.
    target: Option<Domain>,
    /// The record this input matched, with its number.
    matched: Option<(u64, ImportRecord)>,
    /// While lines up to this one are skipped as imported before.
    skip_until: Option<u64>,
    /// The domain of the first hit parsed.
    first_domain: Option<String>,
}

/// Whether an engine error says the hit is older than the past window.
fn too_old(e: &pledgedb_core::HitError) -> bool {
    e.field == HitField::Timestamp && e.problem == HitProblem::OutOfRange("too far in the past")
}

impl Run<'_> {
    fn run<R: BufRead>(
        mut self,
        reader: R,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<ImportSummary, ImportError> {
        let mut src = match Source::open(reader) {
            Ok(s) => s,
            Err(e) => return Err(self.abort_io(1, e)),
        };
        self.s.gzip = src.is_gzip();
        let mut buf = Vec::new();
        loop {
            let read = read_line(&mut src, &mut buf, self.opts.max_line_bytes);
            self.s.bytes = src.input_bytes();
            let no = self.s.lines + 1;
            match read {
                Err(e) => return Err(self.abort_io(no, e)),
                Ok(ReadLine::Eof) => break,
                Ok(ReadLine::TooLong) => {
                    self.s.lines = no;
                    self.fp.line(None);
                    self.next(no, None)?;
                }
                Ok(ReadLine::Line) => {
                    self.s.lines = no;
                    self.fp.line(Some(&buf));
                    self.next(no, Some(&buf))?;
                }
            }
            if self.s.lines.is_multiple_of(PROGRESS_EVERY_LINES) {
                progress(self.progress());
            }
        }
        if !self.decided {
            self.decide()?;
        }
        if let Some(until) = self.skip_until {
            // The input ends inside (or exactly at the end of) what was
            // imported before: nothing of it is new.
            let lines = if until > self.s.lines {
                self.s.lines
            } else {
                until
            };
            self.s.repeat = Repeat::Refused { lines };
            self.skip_until = None;
        } else if let Repeat::Resumed { lines } = self.s.repeat
            && lines == self.s.lines
        {
            self.s.repeat = Repeat::Refused { lines };
        }
        if self.parser.is_none() && !self.pending.is_empty() {
            match self.detector.finish() {
                Some(f) => self.start(f)?,
                None => return Err(self.unknown_format()),
            }
        }
        self.send()?;
        progress(self.progress());
        if let Err(source) = self.history.finish() {
            return Err(ImportError::Flush {
                source,
                summary: Box::new(self.s),
            });
        }
        match self.db.flush() {
            Ok(()) => {
                self.s.flushed = true;
                self.record(true)?;
                Ok(self.s)
            }
            Err(source) => Err(ImportError::Flush {
                source,
                summary: Box::new(self.s),
            }),
        }
    }

    fn progress(&self) -> Progress {
        Progress {
            lines: self.s.lines,
            bytes: self.s.bytes,
        }
    }

    /// One line read (`None`: too long to hold).
    fn next(&mut self, no: u64, line: Option<&[u8]>) -> Result<(), ImportError> {
        if !self.decided {
            self.held.push((no, line.map(<[u8]>::to_vec)));
            if self.held.len() >= HEAD_LINES {
                self.decide()?;
            }
            return Ok(());
        }
        self.after_decision(no, line)
    }

    fn after_decision(&mut self, no: u64, line: Option<&[u8]>) -> Result<(), ImportError> {
        match self.skip_until {
            Some(until) if no < until => {
                self.s.already_imported += 1;
                Ok(())
            }
            Some(_) => self.end_of_skip(no, line),
            None => self.process(no, line),
        }
    }

    /// Line `no` is the last one an earlier run consumed: check that every
    /// line up to here is what it consumed.
    fn end_of_skip(&mut self, no: u64, line: Option<&[u8]>) -> Result<(), ImportError> {
        self.skip_until = None;
        let (Some(domain), Some((_, rec))) = (&self.target, &self.matched) else {
            return self.process(no, line);
        };
        let key = |n: u64| self.prefix(n).map(|d| domain.import_fingerprint(&d));
        if key(no) == Some(rec.whole) {
            self.s.already_imported += 1;
            self.s.repeat = Repeat::Resumed { lines: no };
            Ok(())
        } else if key(no - 1) == Some(rec.before_last) {
            // The earlier run's last line was cut short: read it again.
            self.s.repeat = Repeat::Resumed { lines: no - 1 };
            self.process(no, line)
        } else {
            Err(self.diverged(no))
        }
    }

    /// The digest of the first `n` lines, if it is still known.
    fn prefix(&self, n: u64) -> Option<[u8; 32]> {
        if n == self.fp.lines() {
            Some(self.fp.digest())
        } else if n + 1 == self.fp.lines() {
            Some(self.fp.digest_before_last())
        } else if n == 0 {
            Some(Fingerprint::default().digest())
        } else {
            self.fp.head(n)
        }
    }

    /// Checks the held first lines against the domain's records, then
    /// handles them.
    fn decide(&mut self) -> Result<(), ImportError> {
        self.decided = true;
        let held = std::mem::take(&mut self.held);
        if !self.force_new
            && let Some(name) = self.record_domain(&held)
            && let Ok(domain) = self.db.domain(&name)
        {
            let records = match domain.import_records() {
                Ok(r) => r,
                Err(source) => {
                    return Err(ImportError::Records {
                        source,
                        summary: Box::new(std::mem::take(&mut self.s)),
                    });
                }
            };
            let key = |n: u64| self.prefix(n).map(|d| domain.import_fingerprint(&d));
            // A record shorter than the head may end in a line that was cut
            // short: then all its lines but the last must match.
            let matched = records
                .into_iter()
                .filter(|(_, r)| {
                    key(r.head_lines) == Some(r.head)
                        || (r.head_lines == r.lines
                            && r.lines > 1
                            && key(r.lines - 1) == Some(r.before_last))
                })
                .max_by_key(|(_, r)| r.lines);
            if let Some((_, rec)) = &matched {
                if self.opts.again {
                    self.s.repeat = Repeat::Again;
                } else {
                    self.skip_until = Some(rec.lines);
                }
            }
            self.matched = matched;
            self.target = Some(domain);
        }
        for (no, line) in held {
            self.after_decision(no, line.as_deref())?;
        }
        Ok(())
    }

    /// The domain whose records apply: the default domain, or that of the
    /// first hit among the held lines.
    fn record_domain(&self, held: &[(u64, Option<Vec<u8>>)]) -> Option<String> {
        if let Some(d) = &self.opts.default_domain {
            return Some(d.clone());
        }
        let texts: Vec<String> = held
            .iter()
            .filter_map(|(_, l)| l.as_deref())
            .map(|b| {
                String::from_utf8_lossy(b.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(b)).into_owned()
            })
            .collect();
        let format = self.opts.format.or_else(|| {
            let mut d = Detector::default();
            texts
                .iter()
                .filter(|t| !t.trim().is_empty())
                .find_map(|t| d.feed(t))
                .or_else(|| d.finish())
        })?;
        let mut parser = LineParser::new(format, self.opts);
        let mut out = Vec::new();
        texts.iter().find_map(|t| {
            out.clear();
            match parser.parse_line(t, &mut out) {
                Ok(LineOutcome::Hits(_)) => out.first().map(|h| h.domain.clone()),
                _ => None,
            }
        })
    }

    /// Updates (or adds) the record of this input after a run that got
    /// somewhere: it stored hits, or consumed lines past an earlier record.
    fn record(&mut self, complete: bool) -> Result<(), ImportError> {
        let lines = self.fp.lines();
        if lines == 0 || matches!(self.s.repeat, Repeat::Refused { .. }) {
            return Ok(());
        }
        let progressed = match &self.matched {
            Some((_, r)) => lines > r.lines || self.opts.again,
            None => self.s.stored() > 0,
        };
        if !progressed {
            return Ok(());
        }
        let domain = match self.target.take() {
            Some(d) => d,
            None => {
                let name = self
                    .opts
                    .default_domain
                    .clone()
                    .or_else(|| self.first_domain.clone());
                match name.and_then(|n| self.db.domain(&n).ok()) {
                    Some(d) => d,
                    None => return Ok(()),
                }
            }
        };
        let head_lines = self.fp.head_lines();
        let Some(head) = self.fp.head(head_lines) else {
            return Ok(());
        };
        let (id, runs) = match &self.matched {
            Some((id, r)) if !self.force_new => (Some(*id), r.runs.saturating_add(1)),
            _ => (None, 1),
        };
        let rec = ImportRecord {
            head_lines,
            head: domain.import_fingerprint(&head),
            lines,
            whole: domain.import_fingerprint(&self.fp.digest()),
            before_last: domain.import_fingerprint(&self.fp.digest_before_last()),
            complete,
            imported_at: self.db.clock().now(),
            runs,
        };
        if let Err(source) = domain.put_import_record(id, &rec) {
            return Err(ImportError::Records {
                source,
                summary: Box::new(std::mem::take(&mut self.s)),
            });
        }
        Ok(())
    }

    /// A line to import.
    fn process(&mut self, no: u64, line: Option<&[u8]>) -> Result<(), ImportError> {
        let Some(bytes) = line else {
            let e = LineError::TooLong {
                max: self.opts.max_line_bytes,
            };
            self.s.malformed.record(no, e, self.opts.max_reported);
            return Ok(());
        };
        let bytes = if no == 1 {
            bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
        } else {
            bytes
        };
        let text = String::from_utf8_lossy(bytes);
        self.line(no, &text)
    }

    /// One line of text.
    fn line(&mut self, no: u64, text: &str) -> Result<(), ImportError> {
        if self.parser.is_some() {
            return self.parse(no, text);
        }
        if text.trim().is_empty() {
            self.s.blank += 1;
            return Ok(());
        }
        self.pending.push((no, text.to_owned()));
        if let Some(f) = self.detector.feed(text) {
            self.start(f)
        } else if self.detector.exhausted() {
            Err(self.unknown_format())
        } else {
            Ok(())
        }
    }

    /// Starts parsing as `format`, with the lines read so far.
    fn start(&mut self, format: Format) -> Result<(), ImportError> {
        self.parser = Some(LineParser::new(format, self.opts));
        self.s.format = Some(format);
        for (no, text) in std::mem::take(&mut self.pending) {
            self.parse(no, &text)?;
        }
        Ok(())
    }

    fn parse(&mut self, no: u64, text: &str) -> Result<(), ImportError> {
        let Some(parser) = self.parser.as_mut() else {
            return Ok(());
        };
        let before = self.hits.len();
        match parser.parse_line(text, &mut self.hits) {
            Ok(LineOutcome::Blank) => self.s.blank += 1,
            Ok(LineOutcome::Hits(n)) => {
                if self.first_domain.is_none() {
                    self.first_domain = self.hits.get(before).map(|h| h.domain.clone());
                }
                self.s.hit_lines += 1;
                self.s.hits += n as u64;
                self.hit_lines.extend(std::iter::repeat_n(no, n));
                if self.hits.len() >= self.opts.batch_size {
                    self.send()?;
                }
            }
            Ok(LineOutcome::Filtered(f)) => match f {
                Filter::Asset => self.s.filtered_assets += 1,
                Filter::Status => self.s.filtered_status += 1,
                Filter::Method => self.s.filtered_method += 1,
                Filter::Bot => self.s.filtered_bots += 1,
                Filter::FeedReader => self.s.filtered_feed_readers += 1,
                Filter::HttpLibrary => self.s.filtered_http_libraries += 1,
            },
            Err(LineError::NoDomain) => {
                return Err(self.abort(|summary| ImportError::DomainRequired { line: no, summary }));
            }
            Err(e) => self.s.malformed.record(no, e, self.opts.max_reported),
        }
        Ok(())
    }

    /// Hands the parsed hits to the engine and counts the outcomes.
    fn send(&mut self) -> Result<(), ImportError> {
        if self.hits.is_empty() {
            return Ok(());
        }
        let results = self.history.ingest_batch(self.hits.drain(..));
        let mut fatal = None;
        let s = &mut self.s;
        for (r, line) in results.into_iter().zip(self.hit_lines.drain(..)) {
            match r {
                Ok(HistoryIngested::Raw(Ingested::Queued)) => s.ingested += 1,
                Ok(HistoryIngested::Raw(Ingested::QueuedAnonymous)) => s.ingested_anonymous += 1,
                Ok(HistoryIngested::Aggregated { anonymous: false }) => s.aggregated += 1,
                Ok(HistoryIngested::Aggregated { anonymous: true }) => {
                    s.aggregated_anonymous += 1;
                }
                Ok(HistoryIngested::Raw(Ingested::Dropped(reason))) => match reason {
                    DropReason::OptedOut => s.dropped_opt_out += 1,
                    DropReason::DoNotTrack => s.dropped_dnt += 1,
                    DropReason::GlobalPrivacyControl => s.dropped_gpc += 1,
                    DropReason::NoConsent => s.dropped_no_consent += 1,
                    DropReason::Expired => s.dropped_expired += 1,
                    DropReason::SensitiveKeystroke => s.dropped_sensitive_keystroke += 1,
                    _ => s.dropped_other += 1,
                },
                Err(IngestError::Hit(e)) => {
                    if too_old(&e) {
                        s.rejected_too_old += 1;
                    }
                    s.rejected.record(line, e, self.opts.max_reported);
                }
                Err(e) => {
                    if fatal.is_none() {
                        fatal = Some((line, e));
                    }
                }
            }
        }
        match fatal {
            None => Ok(()),
            Some((line, source)) => {
                self.s.flushed = self.history.finish().is_ok() && self.db.flush().is_ok();
                Err(ImportError::Ingest {
                    line,
                    source,
                    summary: Box::new(std::mem::take(&mut self.s)),
                })
            }
        }
    }

    /// Hands over what was parsed, flushes, and makes the error.
    fn abort(&mut self, make: impl FnOnce(Box<ImportSummary>) -> ImportError) -> ImportError {
        if let Err(e) = self.send() {
            return e;
        }
        self.s.flushed = self.history.finish().is_ok() && self.db.flush().is_ok();
        make(Box::new(std::mem::take(&mut self.s)))
    }

    fn abort_io(&mut self, line: u64, source: std::io::Error) -> ImportError {
        // The lines read so far were consumed: record them, so that the
        // rest can be imported later without duplicates.
        if !self.decided
            && let Err(e) = self.decide()
        {
            return e;
        }
        self.skip_until = None;
        if let Err(e) = self.send() {
            return e;
        }
        let finished = self.history.finish().is_ok() && self.db.flush().is_ok();
        self.s.flushed = finished;
        if finished && let Err(e) = self.record(false) {
            return e;
        }
        ImportError::Io {
            line,
            source,
            summary: Box::new(std::mem::take(&mut self.s)),
        }
    }

    fn diverged(&mut self, line: u64) -> ImportError {
        self.abort(|summary| ImportError::Diverged { line, summary })
    }

    fn unknown_format(&mut self) -> ImportError {
        let lines = self.detector.examined() as u64;
        self.abort(|summary| ImportError::UnknownFormat { lines, summary })
    }
}
