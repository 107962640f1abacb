//! The import loop: lines in, batches of hits to the engine, a summary out.

use crate::Format;
use crate::detect::Detector;
use crate::error::{ImportError, LineError};
use crate::input::{ReadLine, Source, read_line};
use crate::options::ImportOptions;
use crate::parser::{Filter, LineOutcome, LineParser};
use crate::summary::{ImportSummary, Progress};
use pledgedb_core::{Db, DropReason, Hit, IngestError, Ingested};
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
/// not grow with the input. Hits go to [`Db::ingest_batch`]
/// [`ImportOptions::batch_size`] at a time, and [`Db::flush`] is called at
/// the end: when this returns `Ok`, everything counted as ingested is
/// durable ([`ImportSummary::flushed`]).
///
/// A malformed line is skipped and counted; a hit the engine refuses is
/// counted as rejected; neither stops the import. `progress` is called every
/// [`PROGRESS_EVERY_LINES`] lines and once at the end.
///
/// Importing the same input twice stores its hits twice: see the crate
/// documentation.
///
/// # Errors
///
/// [`ImportError::Options`] before anything is read; otherwise an error that
/// carries the summary of what was done before it: a read or decompression
/// error ([`ImportError::Io`]), an undetectable format, an access-log line
/// without a domain, or an engine failure. Before returning such an error
/// the importer hands the hits already parsed to the engine and flushes.
pub fn import<R: BufRead>(
    db: &Db,
    reader: R,
    opts: &ImportOptions,
    progress: impl FnMut(Progress),
) -> Result<ImportSummary, ImportError> {
    opts.validate()?;
    let mut run = Run {
        db,
        opts,
        s: ImportSummary::default(),
        parser: opts.format.map(|f| LineParser::new(f, opts)),
        detector: Detector::default(),
        pending: Vec::new(),
        hits: Vec::with_capacity(opts.batch_size.min(1 << 16)),
        hit_lines: Vec::with_capacity(opts.batch_size.min(1 << 16)),
    };
    run.s.format = opts.format;
    run.run(reader, progress)
}

/// Opens `path` and [`import`]s it.
///
/// # Errors
///
/// [`ImportError::Open`] if the file cannot be opened, otherwise as
/// [`import`].
pub fn import_file(
    db: &Db,
    path: impl AsRef<Path>,
    opts: &ImportOptions,
    progress: impl FnMut(Progress),
) -> Result<ImportSummary, ImportError> {
    opts.validate()?;
    let path = path.as_ref();
    let file = File::open(path).map_err(|source| ImportError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    import(
        db,
        BufReader::with_capacity(FILE_BUFFER, file),
        opts,
        progress,
    )
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
}

impl Run<'_> {
    fn run<R: BufRead>(
        mut self,
        reader: R,
        mut progress: impl FnMut(Progress),
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
                    let e = LineError::TooLong {
                        max: self.opts.max_line_bytes,
                    };
                    self.s.malformed.record(no, e, self.opts.max_reported);
                }
                Ok(ReadLine::Line) => {
                    self.s.lines = no;
                    let bytes = if no == 1 {
                        buf.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&buf)
                    } else {
                        &buf
                    };
                    let text = String::from_utf8_lossy(bytes);
                    self.line(no, &text)?;
                }
            }
            if self.s.lines.is_multiple_of(PROGRESS_EVERY_LINES) {
                progress(self.progress());
            }
        }
        if self.parser.is_none() && !self.pending.is_empty() {
            match self.detector.finish() {
                Some(f) => self.start(f)?,
                None => return Err(self.unknown_format()),
            }
        }
        self.send()?;
        progress(self.progress());
        match self.db.flush() {
            Ok(()) => {
                self.s.flushed = true;
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
        match parser.parse_line(text, &mut self.hits) {
            Ok(LineOutcome::Blank) => self.s.blank += 1,
            Ok(LineOutcome::Hits(n)) => {
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
        let results = self.db.ingest_batch(self.hits.drain(..));
        let mut fatal = None;
        let s = &mut self.s;
        for (r, line) in results.into_iter().zip(self.hit_lines.drain(..)) {
            match r {
                Ok(Ingested::Queued) => s.ingested += 1,
                Ok(Ingested::QueuedAnonymous) => s.ingested_anonymous += 1,
                Ok(Ingested::Dropped(reason)) => match reason {
                    DropReason::OptedOut => s.dropped_opt_out += 1,
                    DropReason::DoNotTrack => s.dropped_dnt += 1,
                    DropReason::GlobalPrivacyControl => s.dropped_gpc += 1,
                    DropReason::NoConsent => s.dropped_no_consent += 1,
                    DropReason::Expired => s.dropped_expired += 1,
                    _ => s.dropped_other += 1,
                },
                Err(IngestError::Hit(e)) => s.rejected.record(line, e, self.opts.max_reported),
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
                self.s.flushed = self.db.flush().is_ok();
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
        self.s.flushed = self.db.flush().is_ok();
        make(Box::new(std::mem::take(&mut self.s)))
    }

    fn abort_io(&mut self, line: u64, source: std::io::Error) -> ImportError {
        self.abort(|summary| ImportError::Io {
            line,
            source,
            summary,
        })
    }

    fn unknown_format(&mut self) -> ImportError {
        let lines = self.detector.examined() as u64;
        self.abort(|summary| ImportError::UnknownFormat { lines, summary })
    }
}
