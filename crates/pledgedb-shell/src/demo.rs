//! `pledgedb demo [DIR]`: builds a small GeoIP database from the
//! generator's test networks, ingests generated traffic for three sites into
//! DIR/data, and prints what was kept, what was dropped and why, and how fast
//! it went; then tours what the shell shows: an overview of the sites, a
//! dashboard, form analytics, a session replay with masked keystrokes, the
//! transparency report and a clean audit.

use crate::dashboard;
use crate::output::{Style, thousands};
use crate::shell::ShellError;
use clap::Args;
use ipnet::IpNet;
use pledgedb_core::geo::writer::{GeoLayout, build_country_db};
use pledgedb_core::{Clock, Config, ConsentPolicy, DayRange, Db, SystemClock, WithoutConsent};
use pledgedb_workload::{COUNTRY_NETWORKS, Outcomes, Workload, WorkloadConfig};
use std::collections::HashSet;
use std::fmt;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Hits handed to the engine per `ingest_batch` call.
const CHUNK: usize = 10_000;

/// The domain the demo runs with a strict consent policy, to show hits
/// without consent being dropped.
const STRICT_DOMAIN: &str = "docs.example";

/// Options of `pledgedb demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where to put the demo: the data directory DIR/data and the GeoIP
    /// database DIR/geoip-demo.mmdb next to it. DIR/data must not exist yet
    /// (or be empty).
    #[arg(value_name = "DIR", default_value = "./pledgedb-demo")]
    pub dir: PathBuf,

    /// Days of traffic, ending with the last day that can be sealed now
    /// (yesterday, or the day before in the first hour after midnight UTC).
    #[arg(long, value_name = "N", default_value_t = 7,
          value_parser = clap::value_parser!(u32).range(1..=90))]
    pub days: u32,

    /// Visits per site per day.
    #[arg(long, value_name = "N", default_value_t = 1_000,
          value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    pub visitors: u32,

    /// Seed of the traffic generator: the same seed gives the same traffic.
    #[arg(long, value_name = "N", default_value_t = 42)]
    pub seed: u64,
}

/// Why the demo stopped.
#[derive(Debug)]
pub enum DemoError {
    /// Something to tell the user, already phrased.
    Message(String),
    /// Writing the report failed.
    Output(io::Error),
}

impl DemoError {
    /// The reader went away (e.g. `pledgedb demo | head`): nothing to say.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, DemoError::Output(e) if e.kind() == io::ErrorKind::BrokenPipe)
    }
}

impl fmt::Display for DemoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DemoError::Message(m) => f.write_str(m),
            DemoError::Output(e) => write!(f, "cannot write the report: {e}"),
        }
    }
}

impl From<io::Error> for DemoError {
    fn from(e: io::Error) -> Self {
        DemoError::Output(e)
    }
}

impl From<ShellError> for DemoError {
    fn from(e: ShellError) -> Self {
        match e {
            ShellError::Output(io) => DemoError::Output(io),
            other => DemoError::Message(other.to_string()),
        }
    }
}

/// `pledgedb demo`: runs the demo on standard output.
pub fn main(args: &DemoArgs) -> ExitCode {
    let stdout = io::stdout();
    let mut out = stdout.lock();
    match run(args, &mut out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = out.flush();
            if !e.is_broken_pipe() {
                eprintln!(
                    "pledgedb demo: error: {}",
                    pledgedb_core::text::redact_ips(&e.to_string())
                );
            }
            ExitCode::FAILURE
        }
    }
}

fn fail(msg: impl Into<String>) -> DemoError {
    DemoError::Message(msg.into())
}

/// Runs the demo, writing the report to `out`.
pub fn run(args: &DemoArgs, out: &mut impl Write) -> Result<(), DemoError> {
    let data = args.dir.join("data");
    let geo = args.dir.join("geoip-demo.mmdb");
    check_fresh(&data)?;
    std::fs::create_dir_all(&args.dir)
        .map_err(|e| fail(format!("cannot create {}: {e}", args.dir.display())))?;

    let networks = write_geoip(&geo)?;
    let countries: HashSet<&str> = COUNTRY_NETWORKS.iter().map(|n| n.1).collect();

    // The traffic ends with the last day the compactor can seal now (a day
    // is sealed once it has been over for SEAL_GRACE_MS): yesterday, or the
    // day before in the first hour after midnight UTC.
    let now = SystemClock.now();
    let last_day = now
        .plus_millis(-pledgedb_core::SEAL_GRACE_MS)
        .day()
        .plus(-1);
    let days = i32::try_from(args.days).map_err(|_| fail("--days is too large"))?;
    let first_day = last_day.plus(1 - days);
    let mut cfg = WorkloadConfig {
        seed: args.seed,
        start: first_day.start(),
        days: args.days,
        visitors_per_day: args.visitors,
        ..WorkloadConfig::default()
    };
    cfg.domain_policies = vec![(
        STRICT_DOMAIN.to_string(),
        ConsentPolicy {
            require_consent: true,
            without_consent: WithoutConsent::Drop,
            ..ConsentPolicy::default()
        },
    )];

    writeln!(out, "PledgeDB demo")?;
    writeln!(out, "=============")?;
    writeln!(out)?;
    kv(out, "data directory", &data.display().to_string())?;
    kv(
        out,
        "GeoIP database",
        &format!(
            "{} ({} countries, {networks} networks, documentation and test address ranges only)",
            geo.display(),
            countries.len()
        ),
    )?;
    kv(
        out,
        "traffic",
        &format!(
            "{} sites x {} days ({} to {}) x {} visits per site per day, seed {}",
            cfg.domains.len(),
            args.days,
            first_day,
            last_day,
            thousands(u64::from(args.visitors)),
            args.seed
        ),
    )?;
    writeln!(out)?;

    let db = Db::open(&data, Config::default().with_geoip(&geo)).map_err(|e| {
        fail(format!(
            "cannot open the data directory {}: {e}",
            data.display()
        ))
    })?;

    writeln!(out, "Consent policies")?;
    let name_w = cfg.domains.iter().map(|d| d.len()).max().unwrap_or(0);
    for name in &cfg.domains {
        let policy = cfg.policy_for(name);
        db.create_domain(name)
            .and_then(|d| d.set_consent_policy(policy))
            .map_err(|e| fail(format!("cannot set up the domain {name}: {e}")))?;
        writeln!(out, "  {name:<name_w$}  {}", describe_policy(&policy))?;
    }
    writeln!(out)?;

    let mut workload = Workload::new(cfg.clone());
    for token in workload.opt_out_tokens() {
        db.opt_out(token)
            .map_err(|e| fail(format!("cannot register an opt-out token: {e}")))?;
    }
    writeln!(
        out,
        "Registered {} opt-out tokens: one per generated visitor who opted out.",
        thousands(workload.opt_out_tokens().len() as u64)
    )?;
    writeln!(out, "Ingesting...")?;
    out.flush()?;

    let mut got = Outcomes::default();
    let mut rejected = 0u64;
    let mut first_rejection: Option<String> = None;
    let mut ingest_time = Duration::ZERO;
    let mut generate_time = Duration::ZERO;
    let mut chunk = Vec::with_capacity(CHUNK);
    loop {
        let t = Instant::now();
        chunk.extend(workload.by_ref().take(CHUNK));
        generate_time += t.elapsed();
        if chunk.is_empty() {
            break;
        }
        let t = Instant::now();
        let results = db.ingest_batch(chunk.drain(..));
        ingest_time += t.elapsed();
        for r in results {
            match r {
                Ok(v) => got.record(v),
                Err(e) => {
                    rejected += 1;
                    if first_rejection.is_none() {
                        first_rejection = Some(e.to_string());
                    }
                }
            }
        }
    }
    let t = Instant::now();
    db.flush()
        .map_err(|e| fail(format!("cannot make the events durable: {e}")))?;
    ingest_time += t.elapsed();
    let truth = workload.into_truth();

    writeln!(out)?;
    writeln!(out, "Ingest")?;
    let secs = ingest_time.as_secs_f64();
    let rate = if secs > 0.0 {
        truth.hits as f64 / secs
    } else {
        0.0
    };
    let rows = [
        ("hits generated", thousands(truth.hits), String::new()),
        (
            "ingested",
            thousands(got.stored()),
            format!(
                "events stored ({} without a visitor id: consent denied)",
                thousands(got.anonymous)
            ),
        ),
        (
            "dropped: opted out",
            thousands(got.opted_out),
            "the visitor's opt-out token is registered".to_string(),
        ),
        (
            "dropped: Do-Not-Track",
            thousands(got.do_not_track),
            String::new(),
        ),
        (
            "dropped: GPC",
            thousands(got.global_privacy_control),
            "Global Privacy Control".to_string(),
        ),
        (
            "dropped: no consent",
            thousands(got.no_consent),
            format!("only {STRICT_DOMAIN} requires consent"),
        ),
        (
            "rejected",
            thousands(rejected),
            "invalid hits, nothing written".to_string(),
        ),
    ];
    let mut rows: Vec<(&str, String, String)> = rows.into_iter().collect();
    if got.expired > 0 {
        rows.push((
            "dropped: expired",
            thousands(got.expired),
            "older than the retention".to_string(),
        ));
    }
    let label_w = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
    let num_w = rows.iter().map(|r| r.1.len()).max().unwrap_or(0);
    for (label, n, note) in &rows {
        let line = format!("  {label:<label_w$}  {n:>num_w$}  {note}");
        writeln!(out, "{}", line.trim_end())?;
    }
    writeln!(
        out,
        "  {:<label_w$}  {secs:.2} s to durable, {} hits/s (generation not counted: {:.2} s)",
        "ingest time",
        thousands(rate.round() as u64),
        generate_time.as_secs_f64()
    )?;
    if got == truth.outcomes && rejected == 0 {
        writeln!(
            out,
            "  Every count matches what the generator expected the engine to do."
        )?;
    } else {
        writeln!(
            out,
            "  Note: the generator expected {} stored and {} dropped.",
            thousands(truth.outcomes.stored()),
            thousands(truth.outcomes.dropped())
        )?;
        if let Some(r) = &first_rejection {
            writeln!(out, "  First rejection: {r}")?;
        }
    }

    tour(out, &db, &cfg.domains, DayRange::new(first_day, last_day))?;

    db.close()
        .map_err(|e| fail(format!("cannot close the data directory: {e}")))?;

    writeln!(out)?;
    writeln!(
        out,
        "Audit: every byte of every file under the data directory"
    )?;
    let audit = crate::admin::print_audit(&data, out)?;
    if !audit.is_clean() {
        // IP-shaped text in a file breaks promise P1: the places are listed
        // above, and the demo fails.
        return Err(fail(format!(
            "the audit found IP-shaped text in {} place(s) under {}",
            audit.findings.len(),
            data.display()
        )));
    }

    writeln!(out)?;
    writeln!(out, "Look at the data again")?;
    writeln!(
        out,
        "  It stays in {}: events with a country, a device class and keyed",
        data.display()
    )?;
    writeln!(out, "  hashes, never an IP address or a raw client id.")?;
    writeln!(
        out,
        "  Shell:       pledgedb {} --geoip {}",
        data.display(),
        geo.display()
    )?;
    writeln!(
        out,
        "               then .use shop.example, .dashboard 7, .forms, .sessions 5, or SQL such as"
    )?;
    writeln!(
        out,
        "               SELECT path, COUNT(*) AS views FROM pageviews GROUP BY path ORDER BY views DESC LIMIT 5;"
    )?;
    writeln!(
        out,
        "  From Rust:   Db::open({:?}, Config::default().with_geoip({:?}))",
        data.display().to_string(),
        geo.display().to_string()
    )?;
    writeln!(
        out,
        "  Start over:  delete {} and run `pledgedb demo` again (try --seed, --days, --visitors)",
        args.dir.display()
    )?;
    Ok(())
}

/// Refuses to add demo traffic to a data directory that already has some:
/// the report would no longer add up.
fn check_fresh(data: &Path) -> Result<(), DemoError> {
    match std::fs::read_dir(data) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                Err(fail(format!(
                    "{} already holds data; the demo needs a fresh directory. \
                     Delete it or pass another DIR.",
                    data.display()
                )))
            } else {
                Ok(())
            }
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotADirectory || data.is_file() => Err(fail(format!(
            "{} exists and is not a directory",
            data.display()
        ))),
        Err(e) => Err(fail(format!("cannot read {}: {e}", data.display()))),
    }
}

/// Builds the GeoIP database from the generator's networks; returns how many
/// networks it holds.
fn write_geoip(path: &Path) -> Result<usize, DemoError> {
    let entries = COUNTRY_NETWORKS
        .iter()
        .map(|&(cidr, code)| {
            cidr.parse::<IpNet>()
                .map(|n| (n, code))
                .map_err(|e| fail(format!("bad network {cidr} in the generator: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let bytes = build_country_db(&entries, GeoLayout::Nested)
        .map_err(|e| fail(format!("cannot build the GeoIP database: {e}")))?;
    std::fs::write(path, bytes)
        .map_err(|e| fail(format!("cannot write {}: {e}", path.display())))?;
    Ok(entries.len())
}

fn describe_policy(p: &ConsentPolicy) -> String {
    let consent = match (p.require_consent, p.without_consent) {
        (false, WithoutConsent::Anonymous) => {
            "tracked unless consent is denied; denied: kept without a visitor id"
        }
        (false, WithoutConsent::Drop) => "tracked unless consent is denied; denied: dropped",
        (true, WithoutConsent::Anonymous) => {
            "consent required; without it: kept without a visitor id"
        }
        (true, WithoutConsent::Drop) => "consent required; without it: dropped",
    };
    let signals = match (p.honour_dnt, p.honour_gpc) {
        (true, true) => "DNT and GPC honoured",
        (true, false) => "DNT honoured",
        (false, true) => "GPC honoured",
        (false, false) => "DNT and GPC ignored",
    };
    format!("{consent}; {signals}")
}

/// The tour after the ingest: compaction, an overview of the sites, the
/// dashboard, form analytics and a replay of the first site, and the
/// transparency report.
fn tour(out: &mut impl Write, db: &Db, names: &[String], days: DayRange) -> Result<(), DemoError> {
    let style = Style::plain_table();
    let report = db
        .compact_now()
        .map_err(|e| fail(format!("cannot compact: {e}")))?;
    writeln!(out)?;
    writeln!(
        out,
        "Compaction: {} finished days sealed; the dashboards below read their roll-ups, not raw events.",
        report.segments_sealed
    )?;

    writeln!(out)?;
    dashboard::sites(db, names, days, style, out)?;

    let Some(first) = names.first() else {
        return Ok(());
    };
    let domain = db
        .domain(first)
        .map_err(|e| fail(format!("cannot read {first}: {e}")))?;
    writeln!(out)?;
    writeln!(out, "Dashboard (.dashboard)")?;
    writeln!(out, "======================")?;
    dashboard::dashboard(&domain, days, style, out)?;

    writeln!(out)?;
    writeln!(out, "Form analytics (.forms)")?;
    writeln!(out, "=======================")?;
    dashboard::forms(&domain, None, style, out)?;

    writeln!(out)?;
    writeln!(out, "Session replay (.replay)")?;
    writeln!(out, "========================")?;
    match dashboard::replay_candidate(&domain, days)? {
        Some(session) => dashboard::replay(&domain, session, style, out)?,
        None => writeln!(
            out,
            "  (no visit with keystrokes and a submit in this traffic)"
        )?,
    }

    writeln!(out)?;
    writeln!(out, "Privacy report (.privacy)")?;
    writeln!(out, "=========================")?;
    crate::admin::privacy_report(db, style, out)?;
    Ok(())
}

fn kv(out: &mut impl Write, key: &str, value: &str) -> io::Result<()> {
    writeln!(out, "  {key:<15} {value}")
}
