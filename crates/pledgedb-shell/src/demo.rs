//! `pledgedb demo [DIR]`: builds a small GeoIP database from the
//! generator's test networks, ingests generated traffic for three sites into
//! DIR/data, and prints what was kept, what was dropped and why, how fast it
//! went, and the top pages and countries of each site.

use clap::Args;
use ipnet::IpNet;
use pledgedb_core::geo::writer::{GeoLayout, build_country_db};
use pledgedb_core::{
    Clock, Config, ConsentPolicy, Db, EventType, SystemClock, TimeRange, WithoutConsent,
};
use pledgedb_workload::{COUNTRY_NETWORKS, Outcomes, Workload, WorkloadConfig};
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
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

    /// Days of traffic, ending yesterday (UTC).
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

    let today = SystemClock.now().day();
    let days = i32::try_from(args.days).map_err(|_| fail("--days is too large"))?;
    let first_day = today.plus(-days);
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
            today.plus(-1),
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

    for name in &cfg.domains {
        report_domain(out, &db, name)?;
    }

    db.close()
        .map_err(|e| fail(format!("cannot close the data directory: {e}")))?;

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
        "  From Rust:   Db::open({:?}, Config::default().with_geoip({:?}))",
        data.display().to_string(),
        geo.display().to_string()
    )?;
    writeln!(
        out,
        "               then db.domain(\"shop.example\")?.count_by_path(TimeRange::all())"
    )?;
    writeln!(
        out,
        "  Shell:       pledgedb {}   (the interactive shell is coming; not built yet)",
        data.display()
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

fn report_domain(out: &mut impl Write, db: &Db, name: &str) -> Result<(), DemoError> {
    let read = |e: &dyn fmt::Display| fail(format!("cannot read {name}: {e}"));
    let domain = db.domain(name).map_err(|e| read(&e))?;
    let by_path = domain
        .count_by_path(TimeRange::all())
        .map_err(|e| read(&e))?;
    let by_country = domain
        .count_by_country(TimeRange::all())
        .map_err(|e| read(&e))?;
    let mut views: HashMap<String, u64> = HashMap::new();
    domain
        .scan(TimeRange::all(), |e| {
            if e.kind.event_type() == EventType::PageView {
                *views.entry(e.path.as_str().to_string()).or_default() += 1;
            }
        })
        .map_err(|e| read(&e))?;
    let total: u64 = by_path.iter().map(|p| p.1).sum();

    writeln!(out)?;
    let title = format!("{name}: {} events", thousands(total));
    writeln!(out, "{title}")?;
    writeln!(out, "{}", "-".repeat(title.len()))?;

    let mut pages: Vec<(&str, u64, u64)> = by_path
        .iter()
        .map(|(p, n)| (p.as_str(), views.get(p.as_str()).copied().unwrap_or(0), *n))
        .collect();
    pages.sort_by(|a, b| b.1.cmp(&a.1).then(b.2.cmp(&a.2)).then(a.0.cmp(b.0)));
    writeln!(
        out,
        "Top pages (by page views; events include clicks, scrolls, form input)"
    )?;
    let rows: Vec<Vec<String>> = pages
        .iter()
        .take(10)
        .map(|(p, v, n)| vec![(*p).to_string(), thousands(*v), thousands(*n)])
        .collect();
    table(out, &["path", "page views", "events"], &rows)?;

    writeln!(out)?;
    writeln!(out, "Top countries")?;
    let rows: Vec<Vec<String>> = by_country
        .iter()
        .take(10)
        .map(|(c, n)| vec![c.as_str().to_string(), thousands(*n), percent(*n, total)])
        .collect();
    table(out, &["country", "events", "share"], &rows)?;
    Ok(())
}

/// Prints an aligned table: the first column left-aligned, the others
/// right-aligned.
fn table(out: &mut impl Write, headers: &[&str], rows: &[Vec<String>]) -> io::Result<()> {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &mut dyn Iterator<Item = &str>| -> String {
        let mut s = String::from("  ");
        for (i, (cell, w)) in cells.zip(&widths).enumerate() {
            let pad = w.saturating_sub(cell.chars().count());
            if i == 0 {
                s.push_str(cell);
                s.push_str(&" ".repeat(pad));
            } else {
                s.push_str("   ");
                s.push_str(&" ".repeat(pad));
                s.push_str(cell);
            }
        }
        s.trim_end().to_string()
    };
    writeln!(out, "{}", line(&mut headers.iter().copied()))?;
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    writeln!(out, "{}", line(&mut rule.iter().map(String::as_str)))?;
    if rows.is_empty() {
        writeln!(out, "  (none)")?;
    }
    for row in rows {
        writeln!(out, "{}", line(&mut row.iter().map(String::as_str)))?;
    }
    Ok(())
}

fn kv(out: &mut impl Write, key: &str, value: &str) -> io::Result<()> {
    writeln!(out, "  {key:<15} {value}")
}

/// `1234567` as `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut s = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            s.push(',');
        }
        s.push(c);
    }
    s
}

fn percent(n: u64, total: u64) -> String {
    if total == 0 {
        return "-".to_string();
    }
    format!("{:.1}%", n as f64 * 100.0 / total as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn tables_align() {
        let mut out = Vec::new();
        table(
            &mut out,
            &["path", "n"],
            &[
                vec!["/".into(), "1,000".into()],
                vec!["/pricing".into(), "7".into()],
            ],
        )
        .unwrap();
        let s = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = s.lines().collect();
        assert_eq!(lines[0], "  path           n");
        assert_eq!(lines[1], "  --------   -----");
        assert_eq!(lines[2], "  /          1,000");
        assert_eq!(lines[3], "  /pricing       7");
    }
}
