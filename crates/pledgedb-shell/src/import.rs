//! `.import` and `pledgedb DIR import FILE...`: a progress bar on standard
//! error (lines and bytes; hidden when it is not a terminal) and a closing
//! summary of what was stored, skipped, dropped, rejected and malformed.

use crate::output::thousands;
use crate::shell::{ShellError, fail};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use pledgedb_core::Db;
use pledgedb_import::{Format, ImportError, ImportOptions, ImportSummary, Issues, import_file};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// The flags `.import` and `pledgedb DIR import` share beyond `--format`
/// and `--domain`.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct ImportFlags {
    /// Accept hits up to N days old in this run (default 3650; at most
    /// 36500). Days past the domain's raw retention go to its anonymous
    /// aggregates.
    #[arg(long, value_name = "N")]
    pub max_past_days: Option<i64>,
    /// Accept hits from this day on in this run (like --max-past-days).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub since: Option<String>,
    /// Import a file even if it was imported before (its hits count
    /// twice), and do not skip what an interrupted run imported.
    #[arg(long)]
    pub again: bool,
    /// Import requests of feed readers and podcast apps (stored as bots).
    #[arg(long)]
    pub keep_feed_readers: bool,
    /// Import requests of HTTP libraries and tools such as curl (stored as
    /// bots).
    #[arg(long)]
    pub keep_http_libraries: bool,
}

/// Import options from the command's flags.
pub fn options(
    format: Option<&str>,
    domain: Option<&str>,
    flags: &ImportFlags,
) -> Result<ImportOptions, ShellError> {
    let mut opts = ImportOptions {
        max_past_days: flags.max_past_days,
        since: match &flags.since {
            None => None,
            Some(s) => Some(
                pledgedb_core::Day::parse(s)
                    .ok_or_else(|| fail("--since: expected a date as YYYY-MM-DD"))?,
            ),
        },
        again: flags.again,
        keep_feed_readers: flags.keep_feed_readers,
        keep_http_libraries: flags.keep_http_libraries,
        ..ImportOptions::default()
    };
    if let Some(f) = format {
        let f: Format = f.parse().map_err(|e| fail(format!("--format: {e}")))?;
        opts = opts.with_format(f);
    }
    if let Some(d) = domain {
        opts = opts.with_default_domain(d);
    }
    opts.validate()
        .map_err(|e| fail(format!("cannot import: {e}")))?;
    Ok(opts)
}

fn progress_bar(path: &Path) -> ProgressBar {
    let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let target = if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(Some(len), target);
    let style = ProgressStyle::with_template(
        "{spinner} {prefix} [{bar:30}] {binary_bytes}/{binary_total_bytes} {msg} ({elapsed})",
    )
    .map(|s| s.progress_chars("=> "))
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar.set_prefix(
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// Imports one file into `db`, printing the summary to `out`. A file that
/// stopped part-way prints what was done before the error is returned; a
/// file that had lines but stored nothing (all too old, expired, a refused
/// repeat, filtered, malformed) is an error that says why and what to do.
pub fn import_one(
    db: &Db,
    path: &Path,
    opts: &ImportOptions,
    out: &mut dyn Write,
) -> Result<ImportSummary, ShellError> {
    let bar = progress_bar(path);
    let result = import_file(db, path, opts, |p| {
        bar.set_position(p.bytes);
        bar.set_message(format!("{} lines", thousands(p.lines)));
    });
    bar.finish_and_clear();
    match result {
        Ok(s) => {
            write_summary(out, path, &s)?;
            match s.nothing_stored() {
                Some(why) => Err(fail(format!("{}: {why}", path.display()))),
                None => Ok(s),
            }
        }
        Err(e) => {
            if let Some(s) = e.summary() {
                write_summary(out, path, s)?;
            }
            Err(import_error(path, &e))
        }
    }
}

fn import_error(path: &Path, e: &ImportError) -> ShellError {
    match e {
        ImportError::Open { source, .. } => {
            fail(format!("cannot open {}: {source}", path.display()))
        }
        other => fail(format!("import of {} stopped: {other}", path.display())),
    }
}

fn issues(out: &mut dyn Write, what: &str, i: &Issues) -> std::io::Result<()> {
    for issue in &i.first {
        writeln!(out, "    line {}: {}", issue.line, issue.reason)?;
    }
    let shown = i.first.len() as u64;
    if i.total > shown {
        writeln!(
            out,
            "    ... and {} more {what} lines",
            thousands(i.total - shown)
        )?;
    }
    Ok(())
}

/// The closing summary of one import.
pub fn write_summary(out: &mut dyn Write, path: &Path, s: &ImportSummary) -> std::io::Result<()> {
    let format = s.format.map_or("unknown format", Format::name);
    let gz = if s.gzip { ", gzip" } else { "" };
    writeln!(
        out,
        "Imported {} ({format}{gz}): {} lines, {} bytes",
        path.display(),
        thousands(s.lines),
        thousands(s.bytes)
    )?;
    let rows = [
        (
            "ingested",
            s.ingested + s.ingested_anonymous,
            format!(
                "{} with a visitor id, {} anonymous (no consent)",
                thousands(s.ingested),
                thousands(s.ingested_anonymous)
            ),
        ),
        (
            "history",
            s.aggregated + s.aggregated_anonymous,
            "past the raw retention: counted in the anonymous aggregates".to_string(),
        ),
        (
            "filtered",
            s.filtered(),
            format!(
                "static assets {}, status {}, method {}, bots {}, feed readers {}, HTTP libraries {}",
                thousands(s.filtered_assets),
                thousands(s.filtered_status),
                thousands(s.filtered_method),
                thousands(s.filtered_bots),
                thousands(s.filtered_feed_readers),
                thousands(s.filtered_http_libraries)
            ),
        ),
        (
            "dropped",
            s.dropped(),
            format!(
                "opt-out {}, do-not-track {}, GPC {}, no consent {}, expired {}, \
                 sensitive keystrokes {}",
                thousands(s.dropped_opt_out),
                thousands(s.dropped_dnt),
                thousands(s.dropped_gpc),
                thousands(s.dropped_no_consent),
                thousands(s.dropped_expired),
                thousands(s.dropped_sensitive_keystroke + s.dropped_other)
            ),
        ),
        (
            "rejected",
            s.rejected.total,
            "invalid hits, nothing written".to_string(),
        ),
        (
            "malformed",
            s.malformed.total,
            "lines that could not be read".to_string(),
        ),
        ("blank", s.blank, String::new()),
        (
            "skipped",
            s.already_imported,
            "imported by an earlier run".to_string(),
        ),
    ];
    let w = rows.iter().map(|r| thousands(r.1).len()).max().unwrap_or(1);
    for (label, n, note) in &rows {
        if *n == 0 && matches!(*label, "history" | "skipped") {
            continue;
        }
        let line = format!("  {label:<9}  {:>w$}  {note}", thousands(*n));
        writeln!(out, "{}", line.trim_end())?;
        match *label {
            "rejected" => issues(out, "rejected", &s.rejected)?,
            "malformed" => issues(out, "malformed", &s.malformed)?,
            _ => {}
        }
    }
    writeln!(out, "  {}", s.repeat_text())?;
    if !s.flushed {
        writeln!(out, "  NOT flushed: the stored hits may not be durable")?;
    }
    Ok(())
}

/// Whether nothing could be read from a file: no line, or every non-blank
/// line malformed.
pub fn nothing_read(s: &ImportSummary) -> bool {
    s.lines == s.blank + s.malformed.total
}

/// `pledgedb DIR import FILE...`: imports each file, prints each summary,
/// and fails (exit 1) when a file could not be read at all or stored
/// nothing.
pub fn cron(
    dir: &Path,
    geoip: Option<&Path>,
    files: &[PathBuf],
    format: Option<&str>,
    domain: Option<&str>,
    flags: &ImportFlags,
) -> ExitCode {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let opts = match options(format, domain, flags) {
        Ok(o) => o,
        Err(e) => {
            crate::shell::report(&e);
            return ExitCode::from(2);
        }
    };
    let shell = match crate::shell::Shell::open(dir, geoip) {
        Ok(s) => s,
        Err(e) => {
            crate::shell::report(&e);
            return ExitCode::FAILURE;
        }
    };
    let mut failed = false;
    for (i, f) in files.iter().enumerate() {
        if i > 0 {
            let _ = writeln!(out);
        }
        let db = match shell.db() {
            Ok(db) => db,
            Err(e) => {
                crate::shell::report(&e);
                return ExitCode::FAILURE;
            }
        };
        match import_one(db, f, &opts, &mut out) {
            Ok(s) if nothing_read(&s) => {
                failed = true;
                let _ = out.flush();
                crate::shell::report(&fail(format!(
                    "nothing could be read from {}: {} lines, {} malformed",
                    f.display(),
                    s.lines,
                    s.malformed.total
                )));
            }
            Ok(_) => {}
            Err(e) => {
                failed = true;
                let _ = out.flush();
                crate::shell::report(&e);
            }
        }
    }
    let _ = out.flush();
    if let Err(e) = shell.close() {
        crate::shell::report(&e);
        failed = true;
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
