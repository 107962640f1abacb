//! PledgeDB, the real engine: hits go through `Db::ingest_batch`, and
//! `flush` makes them durable.

use crate::engine::{
    Caller, DashboardAnswer, Engine, EraseClock, EraseTiming, Result, ScanAnswer, all_days,
    dir_bytes, top_by_pageviews,
};
use pledgedb::query::Agg;
use pledgedb::{
    Clock, Config, Day, Db, Dimension, Hit, ManualClock, Query, Retention, TimeRange, VisitorRef,
};
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub struct Pledge {
    db: Db,
    dir: PathBuf,
    clock: ManualClock,
}

impl Pledge {
    /// Opens a fresh data directory with the GeoIP file `geoip`, a manual
    /// clock at `now`, no background compaction, and raw events kept a
    /// year (so nothing of a 90-day dataset expires on its own).
    pub fn open(dir: &Path, geoip: &Path, now: pledgedb::Timestamp) -> Result<Pledge> {
        let clock = ManualClock::new(now);
        let mut config = Config::default()
            .with_geoip(geoip)
            .with_clock(Arc::new(clock.clone()));
        config.background_compaction = false;
        config.domain_defaults.retention = Retention {
            raw_event_days: 365,
            ..Retention::default()
        };
        let db = Db::open(dir, config)?;
        Ok(Pledge {
            db,
            dir: dir.to_path_buf(),
            clock,
        })
    }

    /// Registers opt-out tokens (as every other engine's derivation does).
    pub fn opt_out_all(&self, tokens: &[String]) -> Result<()> {
        for t in tokens {
            self.db.opt_out(t)?;
        }
        Ok(())
    }

    pub fn db(&self) -> &Db {
        &self.db
    }
}

fn ingest(db: &Db, batch: Vec<Hit>) -> Result<()> {
    for r in db.ingest_batch(batch) {
        let _queued = r?;
    }
    Ok(())
}

struct PledgeCaller(Db);

impl Caller for PledgeCaller {
    fn ingest(&mut self, batch: Vec<Hit>) -> Result<()> {
        ingest(&self.0, batch)
    }

    fn durable(&mut self) -> Result<()> {
        Ok(self.0.flush()?)
    }
}

impl Engine for Pledge {
    fn name(&self) -> &'static str {
        "PledgeDB"
    }

    fn ingest(&mut self, batch: Vec<Hit>) -> Result<()> {
        ingest(&self.db, batch)
    }

    fn durable(&mut self) -> Result<()> {
        Ok(self.db.flush()?)
    }

    fn caller(&self) -> Result<Box<dyn Caller>> {
        Ok(Box::new(PledgeCaller(self.db.clone())))
    }

    fn bytes_on_disk(&self) -> Result<u64> {
        dir_bytes(&self.dir)
    }

    fn compact(&mut self) -> Result<()> {
        self.db.compact_now()?;
        Ok(())
    }

    fn dashboard(&self, domain: &str, first: Day, last: Day) -> Result<DashboardAnswer> {
        let d = self.db.domain(domain)?;
        let q = Query::days(pledgedb::DayRange::new(first, last));
        let m = d.metrics(&q)?;
        let pages = d
            .breakdown(&q, Dimension::Page, usize::MAX)?
            .into_iter()
            .map(|(k, m)| (k, m.pageviews, m.visitors))
            .collect();
        let countries = d
            .breakdown(&q, Dimension::Country, usize::MAX)?
            .into_iter()
            .map(|(k, m)| (k, m.pageviews, m.visitors))
            .collect();
        let daily: BTreeMap<i32, (u64, u64)> = d
            .timeseries(&q)?
            .into_iter()
            .map(|(day, m)| (day.0, (m.pageviews, m.visitors)))
            .collect();
        Ok(DashboardAnswer {
            visitors: m.visitors,
            pageviews: m.pageviews,
            events: m.events,
            top_pages: top_by_pageviews(pages, 10),
            top_countries: top_by_pageviews(countries, 10),
            daily: all_days(first, last, &daily),
        })
    }

    fn filtered_dashboard(
        &self,
        domain: &str,
        first: Day,
        last: Day,
        country: &str,
    ) -> Result<DashboardAnswer> {
        // One pass: each day rolled up once from a projected scan of the
        // country's blocks (sealed days included: a filter needs raw
        // events), then metrics, pages, the country row and the daily
        // series all read from those roll-ups.
        let d = self.db.domain(domain)?;
        let q = Query::days(pledgedb::DayRange::new(first, last)).filtered(pledgedb::Filters {
            country: Some(pledgedb::Country::from_code(country)),
            ..pledgedb::Filters::default()
        });
        let mut total = Agg::default();
        let mut by: BTreeMap<Dimension, BTreeMap<String, Agg>> = BTreeMap::new();
        let mut daily: BTreeMap<i32, (u64, u64)> = BTreeMap::new();
        for (day, r, _) in d.day_rollups(&q)? {
            total.merge(&r.totals);
            daily.insert(day.0, (r.totals.pageviews, r.totals.visitors.estimate()));
            for dim in [Dimension::Page, Dimension::Country] {
                if let Some(values) = r.by.get(&dim) {
                    let mine = by.entry(dim).or_default();
                    for (k, a) in values {
                        mine.entry(k.clone()).or_default().merge(a);
                    }
                }
            }
        }
        let rows = |dim| -> Vec<(String, u64, u64)> {
            by.get(&dim)
                .map(|m| {
                    m.iter()
                        .map(|(k, a)| (k.clone(), a.pageviews, a.visitors.estimate()))
                        .collect()
                })
                .unwrap_or_default()
        };
        Ok(DashboardAnswer {
            visitors: total.visitors.estimate(),
            pageviews: total.pageviews,
            events: total.events,
            top_pages: top_by_pageviews(rows(Dimension::Page), 10),
            top_countries: top_by_pageviews(rows(Dimension::Country), 10),
            daily: all_days(first, last, &daily),
        })
    }

    fn adhoc_scan(&self, domain: &str, first: Day, last: Day, page: &str) -> Result<ScanAnswer> {
        let d = self.db.domain(domain)?;
        // A projected scan through the Reader: the page decided on the path
        // dictionary of each block (blocks without it skipped), then three
        // columns decoded for the blocks that hold it, the days spread over
        // the cores, one set of (country, device, visitor) a day.
        use pledgedb::domain::reader::{Columns, Predicate};
        type Seen = HashSet<(pledgedb::Country, u8, u64), pledgedb::hash::FoldState>;
        let pred = Predicate {
            filters: pledgedb::Filters {
                page: Some(page.to_string()),
                ..pledgedb::Filters::default()
            },
            ..Predicate::default()
        };
        let (days, _) = d.reader(TimeRange::new(first.start(), last.end()))?.fold(
            Columns::VISITOR | Columns::COUNTRY | Columns::DEVICE,
            &pred,
            Seen::default,
            |seen, b| {
                for &r in b.rows() {
                    let v = b.visitor(r).0;
                    if v != 0 {
                        seen.insert((b.country(r), b.device(r).code(), v));
                    }
                }
            },
        )?;
        let mut seen = Seen::default();
        for day in days {
            seen.extend(day);
        }
        let mut out = ScanAnswer::new();
        for (c, dev, _) in seen {
            *out.entry((c.as_str().to_string(), dev)).or_default() += 1;
        }
        Ok(out)
    }

    fn erase_visitor(
        &mut self,
        domain: &str,
        client_id: &str,
        marker: &[u8],
    ) -> Result<EraseTiming> {
        let d = self.db.domain(domain)?;
        let who = VisitorRef::ClientId(client_id.to_string());
        let mut clock = EraseClock::new();
        let dir = self.dir.clone();
        clock.step("erase_visitor", &dir, marker, || {
            d.erase_visitor(&who)?;
            Ok(())
        })?;
        clock.returned();
        let mut removed = 0;
        clock.step("compact_now", &dir, marker, || {
            removed = self.db.compact_now()?.events_purged;
            Ok(())
        })?;
        clock.timing.removed = removed;
        Ok(clock.timing)
    }

    fn drop_days(&mut self, domain: &str, before: Day) -> Result<()> {
        // Retention is relative to the clock: keep the days from `before`
        // to today.
        let today = self.clock.now().day();
        let d = self.db.domain(domain)?;
        let mut r = d.settings().retention;
        r.raw_event_days = u32::try_from(today.0 - before.0)?;
        d.set_retention(r)?;
        let report = self.db.compact_now()?;
        if report.segments_expired == 0 {
            return Err("retention expired no segment".into());
        }
        Ok(())
    }

    fn dir(&self) -> &Path {
        &self.dir
    }

    fn block_bytes(&self, domain: &str) -> Result<Option<u64>> {
        let d = self.db.domain(domain)?;
        let mut total = 0u64;
        let mut out = Vec::new();
        for day in d.segment_days() {
            let events = d.events(TimeRange::new(day.start(), day.end()))?;
            for chunk in events.chunks(4_096) {
                out.clear();
                pledgedb::codec::encode_block(chunk, &mut out);
                total += out.len() as u64;
            }
        }
        Ok(Some(total))
    }
}
