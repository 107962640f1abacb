//! Operator commands: export and erasure, settings, compaction, statistics,
//! the transparency report and the audit.

use crate::outfile;
use crate::output::{self, Fmt, Grid, Mode, Section, Style, col, cols, int, text};
use crate::shell::{Shell, ShellError, fail, shown_path};
use pledgedb_core::{
    AuditReport, CompactionReport, ConsentPolicy, Db, Erasure, JobFailure, OverduePurge,
    PrivacyReport, QuarantinedFile, Retention, SessionId, TimeRange, VisitorRef, WithoutConsent,
    audit_dir,
};
use std::io::Write;
use std::path::Path;

pub fn export_visitor(
    shell: &Shell,
    id: &str,
    file: Option<&Path>,
    out: &mut dyn Write,
) -> Result<(), ShellError> {
    if let Some(path) = file {
        // Refused before anything is read: a copy inside the data directory
        // would outlive the visitor's erasure.
        outfile::check_outside(shell.dir(), path)?;
    }
    let domain = shell.domain()?;
    let export = domain
        .export_visitor(&VisitorRef::parse(id))
        .map_err(|e| fail(format!("cannot export the visitor: {e}")))?;
    let json = serde_json::to_string_pretty(&export)
        .map_err(|e| fail(format!("cannot encode the export: {e}")))?;
    match file {
        None => writeln!(out, "{json}")?,
        Some(path) => {
            outfile::write_outside(shell.dir(), path, format!("{json}\n").as_bytes())?;
            writeln!(
                out,
                "wrote {} events of visitor {} of {} to {}",
                export.events.len(),
                export.visitor,
                export.domain,
                shown_path(path)
            )?;
        }
    }
    Ok(())
}

fn describe_erasure(
    what: &str,
    domain: &str,
    e: Erasure,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    match e {
        Erasure::Pending(r) => writeln!(
            out,
            "erasure request #{} recorded in {domain}: the {what}'s events in {} segment(s) are \
             hidden from every read from now on and physically purged by {} (run .compact to purge now)",
            r.request, r.segments, r.purge_deadline
        ),
        Erasure::NotFound => writeln!(
            out,
            "nothing is stored about that {what} in {domain}; nothing was erased"
        ),
    }
}

pub fn erase_visitor(shell: &Shell, id: &str, out: &mut dyn Write) -> Result<(), ShellError> {
    let domain = shell.domain()?;
    let e = domain
        .erase_visitor(&VisitorRef::parse(id))
        .map_err(|e| fail(format!("cannot erase the visitor: {e}")))?;
    describe_erasure("visitor", domain.name(), e, out)?;
    Ok(())
}

pub fn erase_session(shell: &Shell, id: &str, out: &mut dyn Write) -> Result<(), ShellError> {
    let domain = shell.domain()?;
    let session = SessionId::parse_hex(id)
        .ok_or_else(|| fail(".erase-session: a session id is 16 hex digits (see .sessions)"))?;
    let e = domain
        .erase_session(session)
        .map_err(|e| fail(format!("cannot erase the session: {e}")))?;
    describe_erasure("visit", domain.name(), e, out)?;
    Ok(())
}

fn setting(key: &str, value: String, meaning: &str) -> Vec<pledgedb_sql::Value> {
    vec![text(key), text(value), text(meaning)]
}

fn number(key: &str, v: &str) -> Result<u32, ShellError> {
    v.parse()
        .map_err(|_| fail(format!("{key}: expected a whole number, not {v:?}")))
}

pub fn retention(shell: &Shell, args: &[String], out: &mut dyn Write) -> Result<(), ShellError> {
    let domain = shell.domain()?;
    let mut r = domain.settings().retention;
    for a in args {
        let (k, v) = a
            .split_once('=')
            .ok_or_else(|| fail(format!(".retention: expected KEY=VALUE, not {a:?}")))?;
        match k {
            "raw" => r.raw_event_days = number(k, v)?,
            "aggregates" => r.aggregate_days = number(k, v)?,
            "tombstones" => r.tombstone_hours = number(k, v)?,
            _ => {
                return Err(fail(format!(
                    ".retention: unknown setting {k:?}; expected raw, aggregates or tombstones"
                )));
            }
        }
    }
    if !args.is_empty() {
        domain
            .set_retention(r)
            .map_err(|e| fail(format!(".retention: {e}")))?;
    }
    show_retention(domain.name(), &r, shell.style(), out)
}

fn show_retention(
    name: &str,
    r: &Retention,
    style: Style,
    out: &mut dyn Write,
) -> Result<(), ShellError> {
    let mut g = Grid::new(cols(&["setting", "value", "meaning"]));
    g.push(setting(
        "raw",
        format!("{} days", r.raw_event_days),
        "raw events: a day's segment is deleted whole after this",
    ));
    g.push(setting(
        "aggregates",
        format!("{} days", r.aggregate_days),
        "anonymous daily roll-ups are kept this long",
    ));
    g.push(setting(
        "tombstones",
        format!("{} hours", r.tombstone_hours),
        "an erasure's tombstone outlives its purge by this",
    ));
    output::render_sections(
        out,
        &[Section::new(
            &format!("Retention of {name}"),
            "retention",
            g,
        )],
        style,
    )?;
    Ok(())
}

fn on_off(v: &str, key: &str) -> Result<bool, ShellError> {
    match v {
        "on" | "true" | "yes" => Ok(true),
        "off" | "false" | "no" => Ok(false),
        _ => Err(fail(format!(".consent: {key}= takes on or off"))),
    }
}

pub fn consent(shell: &Shell, args: &[String], out: &mut dyn Write) -> Result<(), ShellError> {
    let domain = shell.domain()?;
    let mut p = domain.settings().consent;
    for a in args {
        match a.as_str() {
            "required" => p.require_consent = true,
            "optional" => p.require_consent = false,
            "drop" => p.without_consent = WithoutConsent::Drop,
            "anonymous" => p.without_consent = WithoutConsent::Anonymous,
            other => match other.split_once('=') {
                Some(("dnt", v)) => p.honour_dnt = on_off(v, "dnt")?,
                Some(("gpc", v)) => p.honour_gpc = on_off(v, "gpc")?,
                _ => {
                    return Err(fail(format!(
                        ".consent: unknown setting {other:?}; expected required, optional, \
                         drop, anonymous, dnt=on|off or gpc=on|off"
                    )));
                }
            },
        }
    }
    if !args.is_empty() {
        domain
            .set_consent_policy(p)
            .map_err(|e| fail(format!(".consent: {e}")))?;
    }
    show_consent(domain.name(), &p, shell.style(), out)
}

fn show_consent(
    name: &str,
    p: &ConsentPolicy,
    style: Style,
    out: &mut dyn Write,
) -> Result<(), ShellError> {
    let yes = |b: bool| if b { "on" } else { "off" }.to_string();
    let mut g = Grid::new(cols(&["setting", "value", "meaning"]));
    g.push(setting(
        "consent",
        if p.require_consent {
            "required"
        } else {
            "optional"
        }
        .into(),
        if p.require_consent {
            "hits need consent=granted to carry a visitor id"
        } else {
            "hits are tracked unless consent is denied"
        },
    ));
    g.push(setting(
        "without consent",
        match p.without_consent {
            WithoutConsent::Drop => "drop",
            WithoutConsent::Anonymous => "anonymous",
        }
        .into(),
        match p.without_consent {
            WithoutConsent::Drop => "such hits are dropped before anything is written",
            WithoutConsent::Anonymous => "such hits are kept without visitor or session id",
        },
    ));
    g.push(setting(
        "dnt",
        yes(p.honour_dnt),
        "hits with Do-Not-Track are dropped when on",
    ));
    g.push(setting(
        "gpc",
        yes(p.honour_gpc),
        "hits with Global Privacy Control are dropped when on",
    ));
    output::render_sections(
        out,
        &[Section::new(
            &format!("Consent policy of {name}"),
            "consent",
            g,
        )],
        style,
    )?;
    Ok(())
}

/// The rows of a compaction report.
pub fn compaction_grid(r: &CompactionReport) -> Grid {
    let mut g = Grid::new(vec![col("what", Fmt::Plain), col("count", Fmt::Plain)]);
    for (what, n) in [
        ("finished days sealed (roll-up computed)", r.segments_sealed),
        ("segments expired (past raw retention)", r.segments_expired),
        ("segments rewritten to purge erasures", r.segments_rewritten),
        ("events purged", r.events_purged),
        ("erasure requests completed", r.erasures_completed),
        ("cookieless salts deleted", r.salts_deleted),
        ("tombstones expired", r.tombstones_expired),
        ("daily aggregates expired", r.aggregates_expired),
    ] {
        g.push(vec![text(what), int(n)]);
    }
    g
}

pub fn compact(shell: &Shell, out: &mut dyn Write) -> Result<(), ShellError> {
    let r = shell
        .db()?
        .compact_now()
        .map_err(|e| fail(format!("compaction failed: {e}")))?;
    output::render_sections(
        out,
        &[Section::new(
            "Compaction",
            "compaction",
            compaction_grid(&r),
        )],
        shell.style(),
    )?;
    Ok(())
}

pub fn stats(shell: &Shell, out: &mut dyn Write) -> Result<(), ShellError> {
    let db = shell.db()?;
    let mut g = Grid::new(vec![
        col("domain", Fmt::Plain),
        col("segments", Fmt::Plain),
        col("first_day", Fmt::Plain),
        col("last_day", Fmt::Plain),
        col("events", Fmt::Plain),
        col("bytes", Fmt::Bytes),
        col("pending_purges", Fmt::Plain),
    ]);
    for name in db.domains() {
        let d = db
            .domain(&name)
            .map_err(|e| fail(format!("cannot read {name}: {e}")))?;
        let days = d.segment_days();
        let events = d
            .count(TimeRange::all())
            .map_err(|e| fail(format!("cannot read {name}: {e}")))?;
        let day = |x: Option<&pledgedb_core::Day>| {
            x.map_or(pledgedb_sql::Value::Null, |d| text(d.to_string()))
        };
        g.push(vec![
            text(&name),
            int(days.len()),
            day(days.first()),
            day(days.last()),
            int(events),
            int(d.disk_bytes()),
            int(d.pending_purges()),
        ]);
    }
    let total = db.disk_bytes();
    let style = shell.style();
    let health = db.health();
    output::render_sections(
        out,
        &[
            Section::new(
                &format!(
                    "{}: {} on disk",
                    shown_path(db.path()),
                    if style.mode == Mode::Table {
                        output::bytes(total)
                    } else {
                        total.to_string()
                    }
                ),
                "domains",
                g,
            ),
            overdue_section(&health.overdue_purges),
            quarantine_section(&health.quarantined),
            failing_section(&health.failing),
            unavailable_section(&health.unavailable),
        ],
        style,
    )?;
    Ok(())
}

/// The transparency report as sections.
pub fn privacy_sections(r: &PrivacyReport) -> Vec<Section> {
    let mut recorded = Grid::new(cols(&["field", "what it holds"]));
    for f in &r.recorded {
        recorded.push(vec![text(f.field), text(f.description)]);
    }
    let mut never = Grid::new(cols(&["never recorded"]));
    for n in &r.never_recorded {
        never.push(vec![text(*n)]);
    }
    let mut domains = Grid::new(vec![
        col("domain", Fmt::Plain),
        col("raw_days", Fmt::Plain),
        col("aggregate_days", Fmt::Plain),
        col("consent", Fmt::Plain),
        col("without_consent", Fmt::Plain),
        col("dnt", Fmt::Plain),
        col("gpc", Fmt::Plain),
        col("erasures", Fmt::Plain),
        col("pending_purges", Fmt::Plain),
    ]);
    for d in &r.domains {
        let honour = |b: bool| text(if b { "honoured" } else { "ignored" });
        domains.push(vec![
            text(&d.name),
            int(d.retention.raw_event_days),
            int(d.retention.aggregate_days),
            text(if d.consent.require_consent {
                "required"
            } else {
                "optional"
            }),
            text(match d.consent.without_consent {
                WithoutConsent::Drop => "drop",
                WithoutConsent::Anonymous => "anonymous",
            }),
            honour(d.consent.honour_dnt),
            honour(d.consent.honour_gpc),
            int(d.erasure_requests),
            int(d.pending_purges),
        ]);
    }
    let mut counters = Grid::new(vec![col("counter", Fmt::Plain), col("count", Fmt::Plain)]);
    counters.push(vec![
        text("opt-out tokens registered"),
        int(r.opt_outs_registered),
    ]);
    counters.push(vec![text("erasures completed"), int(r.erasures_completed)]);
    for (reason, n) in &r.hits_dropped {
        counters.push(vec![
            text(format!("hits dropped: {}", reason.as_str())),
            int(*n),
        ]);
    }
    vec![
        Section::new(
            &format!(
                "PledgeDB {} transparency report: what every event records",
                r.engine_version
            ),
            "recorded",
            recorded,
        ),
        Section::new("What is never recorded", "never_recorded", never),
        Section::new("Retention and consent per domain", "domains", domains),
        Section::new("Since the data directory was created", "counters", counters),
        overdue_section(&r.overdue_purges),
        quarantine_section(&r.quarantined_files),
    ]
}

/// Erasure purges past their deadline: never silent.
fn overdue_section(overdue: &[OverduePurge]) -> Section {
    let mut g = Grid::new(cols(&["domain", "request", "requested_at", "deadline"]));
    for o in overdue {
        g.push(vec![
            text(&o.domain),
            int(o.request),
            text(o.requested_at.to_string()),
            text(o.deadline.to_string()),
        ]);
    }
    Section::new(
        &format!("Erasure purges past their deadline: {}", overdue.len()),
        "overdue_purges",
        g,
    )
}

/// Files set aside because they could not be read, and why.
fn quarantine_section(files: &[QuarantinedFile]) -> Section {
    let mut g = Grid::new(cols(&["file", "set aside as", "cause"]));
    for f in files {
        g.push(vec![
            text(shown_path(&f.original)),
            text(shown_path(&f.path)),
            text(&f.cause),
        ]);
    }
    Section::new(
        &format!("Quarantined files: {}", files.len()),
        "quarantined",
        g,
    )
}

/// Domains of the catalog that could not be opened.
fn unavailable_section(unavailable: &[(String, String)]) -> Section {
    let mut g = Grid::new(cols(&["domain", "cause"]));
    for (d, cause) in unavailable {
        g.push(vec![text(d), text(cause)]);
    }
    Section::new(
        &format!("Domains that could not be opened: {}", unavailable.len()),
        "unavailable",
        g,
    )
}

/// Domains whose compaction jobs fail.
fn failing_section(failing: &[JobFailure]) -> Section {
    let mut g = Grid::new(cols(&[
        "domain",
        "error",
        "since",
        "attempts",
        "next_attempt",
    ]));
    for f in failing {
        g.push(vec![
            text(&f.domain),
            text(&f.error),
            text(f.since.to_string()),
            int(f.attempts),
            text(f.next_attempt.to_string()),
        ]);
    }
    Section::new(
        &format!("Domains whose compaction fails: {}", failing.len()),
        "failing",
        g,
    )
}

pub fn privacy_report(db: &Db, style: Style, out: &mut dyn Write) -> Result<(), ShellError> {
    let r = db
        .privacy_report()
        .map_err(|e| fail(format!("cannot make the privacy report: {e}")))?;
    if style.mode == Mode::Json {
        let json = serde_json::to_string_pretty(&r)
            .map_err(|e| fail(format!("cannot encode the report: {e}")))?;
        writeln!(out, "{json}")?;
    } else {
        output::render_sections(out, &privacy_sections(&r), style)?;
    }
    Ok(())
}

pub fn privacy(shell: &Shell, out: &mut dyn Write) -> Result<(), ShellError> {
    privacy_report(shell.db()?, shell.style(), out)
}

/// Runs the audit and prints its verdict: "clean", or every finding as a
/// file and a byte offset (never the text found).
pub fn print_audit(dir: &Path, out: &mut dyn Write) -> Result<AuditReport, ShellError> {
    let r = audit_dir(dir).map_err(|e| fail(format!("the audit could not read a file: {e}")))?;
    if r.is_clean() {
        writeln!(
            out,
            "clean: {} files, {} bytes scanned, nothing IP-shaped",
            output::thousands(r.files),
            output::thousands(r.bytes)
        )?;
        return Ok(r);
    }
    writeln!(
        out,
        "FOUND IP-shaped text in {} place(s) ({} files, {} bytes scanned):",
        r.findings.len(),
        output::thousands(r.files),
        output::thousands(r.bytes)
    )?;
    for f in &r.findings {
        let shown = f.path.strip_prefix(dir).unwrap_or(&f.path);
        writeln!(out, "  {} at byte offset {}", shown_path(shown), f.offset)?;
    }
    out.flush()?;
    Ok(r)
}

pub fn audit(shell: &Shell, out: &mut dyn Write) -> Result<(), ShellError> {
    let db = shell.db()?;
    db.flush()
        .map_err(|e| fail(format!("cannot flush before the audit: {e}")))?;
    let r = print_audit(db.path(), out)?;
    if r.is_clean() {
        Ok(())
    } else {
        Err(fail(format!(
            "audit failed: IP-shaped text in {} place(s) under {}",
            r.findings.len(),
            db.path().display()
        )))
    }
}
