//! The many-domains row: a data directory of many small sites, each with one
//! segment per day, opened from cold by a fresh process, which then lists
//! the domains and answers one dashboard.
//!
//! Generating the files cheaply: PledgeDB ingests one page view a day for
//! one template site and seals its days, creates every other domain through
//! the engine (control file, catalog entry), and hard-links the template's
//! day files into each other domain's `segments/` directory (as many files
//! and directory entries as a real directory, without writing the bytes
//! again). Only one domain's days are opened afterwards, so the shared
//! inodes are never open twice. SQLite gets the same page views as rows
//! (one per site per day) in its one file.

use crate::engine::{Engine, Result};
use crate::pledge::Pledge;
use crate::scenario::{Sizes, open_engine, rss_kib, start};
use crate::sqlite::Sqlite;
use pledgedb::{Consent, Hit, HitKind, MS_PER_DAY, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

/// The name of site `i`.
fn site(i: u32) -> String {
    format!("site{i:04}.example")
}

fn now(s: &Sizes) -> Timestamp {
    start().plus_millis(i64::from(s.many_days) * MS_PER_DAY + 2 * 3_600_000)
}

/// One page view of site `i` on day `d`.
fn page_view(i: u32, d: u32) -> Hit {
    let name = site(i);
    Hit {
        timestamp: Some(Timestamp(
            start().0 + i64::from(d) * MS_PER_DAY + 9 * 3_600_000 + i64::from(i) * 1_000,
        )),
        ip: "198.51.100.20".parse().ok(),
        user_agent: Some(
            "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0".into(),
        ),
        client_id: Some(format!("reader-{i}")),
        session_id: Some(format!("visit-{i}-{d}")),
        consent: Consent::Granted,
        ..Hit::new(
            &name,
            format!("https://{name}/"),
            HitKind::PageView { referrer: None },
        )
    }
}

/// What the generating child reports, with the cold open's numbers.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct DomainsResult {
    pub engine: String,
    pub domains: u32,
    pub days: u32,
    pub generate_secs: f64,
    /// Files under the data directory.
    pub files: u64,
    pub open: OpenResult,
}

/// The cold open, in a fresh process.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct OpenResult {
    /// Open the directory and list its domains.
    pub open_ms: f64,
    /// Resident memory after that (the whole process).
    pub rss_after_open_kib: u64,
    /// Resident memory of the process before opening.
    pub rss_before_kib: u64,
    pub domains_listed: u64,
    /// PledgeDB: segments open after listing (0: the open opened none).
    pub open_segments: Option<usize>,
    /// Then one dashboard of one site over every day.
    pub dashboard_ms: f64,
    pub dashboard_pageviews: u64,
}

fn count_files(dir: &Path) -> Result<u64> {
    let mut n = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            n += count_files(&entry.path())?;
        } else {
            n += 1;
        }
    }
    Ok(n)
}

/// Generates the directory, then measures its cold open in a fresh process.
pub fn run_domains(engine: &str, dir: &Path, geo: &Path, s: &Sizes) -> Result<DomainsResult> {
    let t = Instant::now();
    match engine {
        "pledgedb" => generate_pledge(dir, geo, s)?,
        "sqlite" => {
            let mut e = open_engine(engine, dir, geo, &[], now(s))?;
            let mut batch = Vec::new();
            for i in 0..s.many_domains {
                for d in 0..s.many_days {
                    batch.push(page_view(i, d));
                }
                if batch.len() >= 10_000 {
                    e.ingest(std::mem::take(&mut batch))?;
                }
            }
            e.ingest(batch)?;
            e.durable()?;
        }
        other => return Err(format!("no many-domains run for {other}").into()),
    }
    let generate_secs = t.elapsed().as_secs_f64();
    let files = count_files(dir)?;
    let out = dir.with_extension("open.json");
    let status = Command::new(std::env::current_exe()?)
        .arg("--child")
        .args(["--engine", engine, "--scenario", "domains-open"])
        .arg("--dir")
        .arg(dir)
        .arg("--geo")
        .arg(geo)
        .arg("--out")
        .arg(&out)
        .args(["--sizes", &serde_json::to_string(s)?])
        .status()?;
    if !status.success() {
        return Err(format!("{engine} cold open failed ({status})").into());
    }
    let open: OpenResult = serde_json::from_str(&std::fs::read_to_string(&out)?)?;
    let _ = std::fs::remove_file(&out);
    Ok(DomainsResult {
        engine: engine.to_string(),
        domains: s.many_domains,
        days: s.many_days,
        generate_secs,
        files,
        open,
    })
}

fn generate_pledge(dir: &Path, geo: &Path, s: &Sizes) -> Result<()> {
    let template = site(0);
    {
        let mut p = Pledge::open(dir, geo, now(s))?;
        p.ingest((0..s.many_days).map(|d| page_view(0, d)).collect())?;
        p.durable()?;
        p.compact()?;
        for i in 1..s.many_domains {
            p.db().create_domain(&site(i))?;
        }
        p.db().clone().close()?;
        drop(p);
    }
    let domains = dir.join("domains");
    let seg = |name: &str| domains.join(name).join("segments");
    let mut days = Vec::new();
    for entry in std::fs::read_dir(seg(&template))? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            days.push(entry.file_name());
        }
    }
    if days.len() != s.many_days as usize {
        return Err(format!("template has {} day files", days.len()).into());
    }
    for i in 1..s.many_domains {
        let to = seg(&site(i));
        std::fs::create_dir_all(&to)?;
        for f in &days {
            std::fs::hard_link(seg(&template).join(f), to.join(f))?;
        }
    }
    Ok(())
}

/// The cold open (run in its own process).
pub fn run_open(engine: &str, dir: &Path, geo: &Path, s: &Sizes) -> Result<OpenResult> {
    let rss_before_kib = rss_kib();
    let asked = site(s.many_domains / 2);
    let (first, last) = (start().day(), start().day().plus(s.many_days as i32 - 1));
    let mut r = OpenResult {
        rss_before_kib,
        ..OpenResult::default()
    };
    match engine {
        "pledgedb" => {
            let t = Instant::now();
            let p = Pledge::open(dir, geo, now(s))?;
            r.domains_listed = p.db().domains().len() as u64;
            r.open_ms = t.elapsed().as_secs_f64() * 1e3;
            r.rss_after_open_kib = rss_kib();
            r.open_segments = Some(p.db().open_segments());
            let t = Instant::now();
            r.dashboard_pageviews = p.dashboard(&asked, first, last)?.pageviews;
            r.dashboard_ms = t.elapsed().as_secs_f64() * 1e3;
        }
        "sqlite" => {
            let geo_bytes = std::fs::read(geo)?;
            let t = Instant::now();
            let e = Sqlite::open(dir, &geo_bytes, Arc::new(HashSet::new()))?;
            r.domains_listed = e.domain_names()?.len() as u64;
            r.open_ms = t.elapsed().as_secs_f64() * 1e3;
            r.rss_after_open_kib = rss_kib();
            let t = Instant::now();
            r.dashboard_pageviews = e.dashboard(&asked, first, last)?.pageviews;
            r.dashboard_ms = t.elapsed().as_secs_f64() * 1e3;
        }
        other => return Err(format!("no many-domains run for {other}").into()),
    }
    Ok(r)
}

/// The many-domains rows alone (`PLEDGEDB_BENCH_ONLY=domains`), and whether
/// both engines listed every domain and gave the same dashboard.
pub fn render_only(s: &Sizes, runs: &[DomainsResult]) -> (String, bool) {
    let mut o = format!(
        "many domains: {} domains × {} days\n\n| engine | open (ms) | RSS before (MiB) | RSS after open (MiB) | open segments | dashboard (ms) | page views |\n|---|---:|---:|---:|---:|---:|---:|\n",
        s.many_domains, s.many_days
    );
    let mib = |kib: u64| kib as f64 / 1024.0;
    for r in runs {
        o.push_str(&format!(
            "| {} | {:.1} | {:.1} | {:.1} | {} | {:.2} | {} |\n",
            r.engine,
            r.open.open_ms,
            mib(r.open.rss_before_kib),
            mib(r.open.rss_after_open_kib),
            r.open
                .open_segments
                .map_or_else(|| "—".to_string(), |n| n.to_string()),
            r.open.dashboard_ms,
            r.open.dashboard_pageviews
        ));
    }
    let ok = runs.iter().all(|r| {
        r.open.domains_listed == u64::from(r.domains)
            && r.open.dashboard_pageviews == u64::from(r.days)
            && r.open.open_segments.is_none_or(|n| n == 0)
    });
    (o, ok)
}
