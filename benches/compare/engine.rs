//! The one interface every compared engine implements, the answers it gives,
//! and helpers shared by the engines (disk usage, byte scans).

use pledgedb::{Day, Hit};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

pub type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// A dashboard over a range of days of one domain.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DashboardAnswer {
    /// Distinct identified visitors (PledgeDB: HyperLogLog estimate).
    pub visitors: u64,
    pub pageviews: u64,
    /// Stored events.
    pub events: u64,
    /// Top 10 pages by page views: (path, page views, visitors).
    pub top_pages: Vec<(String, u64, u64)>,
    /// Top 10 countries by page views: (code, page views, visitors).
    pub top_countries: Vec<(String, u64, u64)>,
    /// Every day of the range: (day, page views, visitors).
    pub daily: Vec<(i32, u64, u64)>,
}

/// The ad-hoc question: distinct visitors per (country, device code) among
/// the events on one page.
pub type ScanAnswer = BTreeMap<(String, u8), u64>;

/// How an erasure went.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct EraseTiming {
    /// Until the erase call returned (the data is no longer visible).
    pub returned: Duration,
    /// Until the marker bytes were gone from every file of the engine, or
    /// `None` if they never were.
    pub gone: Option<Duration>,
    /// The steps taken, with their cumulative times and whether the marker
    /// was still on disk after each.
    pub steps: Vec<(String, Duration, bool)>,
    /// Events removed.
    pub removed: u64,
}

/// One caller's handle for concurrent ingest.
pub trait Caller: Send {
    /// Adds a batch to the current unit of work.
    fn ingest(&mut self, batch: Vec<Hit>) -> Result<()>;
    /// Makes everything ingested so far durable.
    fn durable(&mut self) -> Result<()>;
}

/// A compared engine. `ingest` adds a batch to the engine's current unit of
/// work (a transaction for SQLite and redb, the writer queues for PledgeDB);
/// `durable` returns once everything ingested is durable on disk.
pub trait Engine {
    fn name(&self) -> &'static str;
    fn ingest(&mut self, batch: Vec<Hit>) -> Result<()>;
    fn durable(&mut self) -> Result<()>;
    /// A handle for another thread ingesting concurrently.
    fn caller(&self) -> Result<Box<dyn Caller>>;
    /// Every byte of every file the engine keeps.
    fn bytes_on_disk(&self) -> Result<u64>;
    /// The engine's own compaction (PledgeDB: `compact_now`, which seals
    /// finished days; SQLite: `VACUUM`; redb: `Database::compact`).
    fn compact(&mut self) -> Result<()>;
    fn dashboard(&self, domain: &str, first: Day, last: Day) -> Result<DashboardAnswer>;
    fn adhoc_scan(&self, domain: &str, first: Day, last: Day, page: &str) -> Result<ScanAnswer>;
    /// The dashboard of events from one country (`country`: two-letter
    /// code): visitors, page views, events, top pages, the country row and
    /// the daily series, all of that country's events only.
    fn filtered_dashboard(
        &self,
        domain: &str,
        first: Day,
        last: Day,
        country: &str,
    ) -> Result<DashboardAnswer>;
    /// Erases one visitor (named by its client id) and times it until the
    /// `marker` bytes, carried only by that visitor, are gone from disk.
    fn erase_visitor(
        &mut self,
        domain: &str,
        client_id: &str,
        marker: &[u8],
    ) -> Result<EraseTiming>;
    /// Deletes every event of `domain` before `before`, physically.
    fn drop_days(&mut self, domain: &str, before: Day) -> Result<()>;
    /// The directory holding the engine's files.
    fn dir(&self) -> &Path;
    /// PledgeDB only: the bytes of `domain`'s stored events re-encoded as
    /// blocks of 4,096 events per day (the block payload without the files
    /// around it).
    fn block_bytes(&self, _domain: &str) -> Result<Option<u64>> {
        Ok(None)
    }
}

/// Bytes of every file under `dir`.
pub fn dir_bytes(dir: &Path) -> Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let ft = entry.file_type()?;
        if ft.is_dir() {
            total += dir_bytes(&entry.path())?;
        } else if ft.is_file() {
            total += entry.metadata()?.len();
        }
    }
    Ok(total)
}

/// Whether any file under `dir` contains `needle`.
pub fn dir_contains(dir: &Path, needle: &[u8]) -> Result<bool> {
    let finder = memchr::memmem::Finder::new(needle);
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let ft = entry.file_type()?;
        if ft.is_dir() {
            if dir_contains(&entry.path(), needle)? {
                return Ok(true);
            }
        } else if ft.is_file() && file_contains(&entry.path(), &finder)? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Reads a file in 1 MiB pieces (keeping the last bytes of each piece, so a
/// needle across two pieces is found): the scan itself must not add the
/// size of a large database to the engine's peak memory.
fn file_contains(path: &Path, finder: &memchr::memmem::Finder<'_>) -> Result<bool> {
    use std::io::Read;
    const PIECE: usize = 1 << 20;
    let keep = finder.needle().len().saturating_sub(1);
    let mut f = std::fs::File::open(path)?;
    let mut buf = vec![0u8; PIECE + keep];
    let mut have = 0;
    loop {
        let n = f.read(&mut buf[have..])?;
        if n == 0 {
            return Ok(false);
        }
        have += n;
        if finder.find(&buf[..have]).is_some() {
            return Ok(true);
        }
        if have > keep {
            buf.copy_within(have - keep..have, 0);
            have = keep;
        }
    }
}

/// Records erasure steps: times only the operations, not the byte scans
/// between them.
pub struct EraseClock {
    pub timing: EraseTiming,
    elapsed: Duration,
}

impl EraseClock {
    pub fn new() -> Self {
        EraseClock {
            timing: EraseTiming::default(),
            elapsed: Duration::ZERO,
        }
    }

    /// Runs one timed step, then scans `dir`. Returns whether the marker is
    /// gone.
    pub fn step(
        &mut self,
        name: &str,
        dir: &Path,
        marker: &[u8],
        op: impl FnOnce() -> Result<()>,
    ) -> Result<bool> {
        let t = std::time::Instant::now();
        op()?;
        self.elapsed += t.elapsed();
        let present = dir_contains(dir, marker)?;
        self.timing
            .steps
            .push((name.to_string(), self.elapsed, present));
        if !present && self.timing.gone.is_none() {
            self.timing.gone = Some(self.elapsed);
        }
        Ok(!present)
    }

    /// Marks the time the erase call returned (after the first step).
    pub fn returned(&mut self) {
        self.timing.returned = self.elapsed;
    }
}

/// The top `n` of `(key, pageviews, visitors)` rows by page views, then key.
pub fn top_by_pageviews(mut rows: Vec<(String, u64, u64)>, n: usize) -> Vec<(String, u64, u64)> {
    rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    rows.truncate(n);
    rows
}

/// Every day of `first..=last`, with zeros where `found` has nothing.
pub fn all_days(first: Day, last: Day, found: &BTreeMap<i32, (u64, u64)>) -> Vec<(i32, u64, u64)> {
    (first.0..=last.0)
        .map(|d| {
            let (pv, v) = found.get(&d).copied().unwrap_or((0, 0));
            (d, pv, v)
        })
        .collect()
}
