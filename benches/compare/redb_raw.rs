//! Raw redb: one table per domain, one key per event (`(timestamp, sequence)`,
//! the value the derived event encoded with postcard), one write
//! transaction per batch committed with `Durability::Immediate` (redb's
//! default). No secondary index: every question is a range scan.

use crate::derive::{Deriver, Ev};
use crate::engine::{
    Caller, DashboardAnswer, Engine, EraseClock, EraseTiming, Result, ScanAnswer, all_days,
    dir_bytes, top_by_pageviews,
};
use pledgedb::{Day, Hit};
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

type Key = (i64, u64);

/// The page cache, the same size as SQLite's (redb's default is 1 GiB).
const CACHE_BYTES: usize = 64 << 20;

fn table_name(domain: &str) -> String {
    format!("events:{domain}")
}

struct Writer {
    db: Arc<Database>,
    seq: Arc<AtomicU64>,
    deriver: Deriver,
    txn: Option<WriteTransaction>,
    buf: Vec<u8>,
}

impl Writer {
    fn ingest(&mut self, batch: Vec<Hit>) -> Result<()> {
        let rows = self.deriver.derive_all(batch);
        if self.txn.is_none() {
            self.txn = Some(self.db.begin_write()?);
        }
        let Some(txn) = self.txn.as_ref() else {
            return Err("no transaction".into());
        };
        // Rows of one domain go into its table; most batches are one domain.
        let mut by_domain: Vec<(Arc<str>, Vec<usize>)> = Vec::new();
        for (i, r) in rows.iter().enumerate() {
            match by_domain
                .iter_mut()
                .find(|(d, _)| Arc::ptr_eq(d, &r.domain))
            {
                Some((_, v)) => v.push(i),
                None => by_domain.push((Arc::clone(&r.domain), vec![i])),
            }
        }
        for (domain, idx) in by_domain {
            let name = table_name(&domain);
            let mut table = txn.open_table(TableDefinition::<Key, &[u8]>::new(&name))?;
            for i in idx {
                let Some(r) = rows.get(i) else { continue };
                let seq = self.seq.fetch_add(1, Ordering::Relaxed);
                self.buf.clear();
                let buf = postcard::to_extend(&r.ev, std::mem::take(&mut self.buf))?;
                table.insert((r.ts, seq), buf.as_slice())?;
                self.buf = buf;
            }
        }
        Ok(())
    }

    fn durable(&mut self) -> Result<()> {
        if let Some(txn) = self.txn.take() {
            txn.commit()?;
        }
        Ok(())
    }
}

impl Caller for Writer {
    fn ingest(&mut self, batch: Vec<Hit>) -> Result<()> {
        Writer::ingest(self, batch)
    }

    fn durable(&mut self) -> Result<()> {
        Writer::durable(self)
    }
}

pub struct RedbRaw {
    w: Writer,
    dir: PathBuf,
    geo: Vec<u8>,
    opt_outs: Arc<HashSet<String>>,
}

impl RedbRaw {
    pub fn open(dir: &Path, geo: &[u8], opt_outs: Arc<HashSet<String>>) -> Result<RedbRaw> {
        std::fs::create_dir_all(dir)?;
        let mut builder = Database::builder();
        builder.set_cache_size(CACHE_BYTES);
        let db = Arc::new(builder.create(dir.join("events.redb"))?);
        Ok(RedbRaw {
            w: Writer {
                db,
                seq: Arc::new(AtomicU64::new(0)),
                deriver: Deriver::new(geo, Arc::clone(&opt_outs))?,
                txn: None,
                buf: Vec::new(),
            },
            dir: dir.to_path_buf(),
            geo: geo.to_vec(),
            opt_outs,
        })
    }

    /// Calls `f` with every event of `domain` in `[from, to)`.
    fn scan(
        &self,
        domain: &str,
        from: i64,
        to: i64,
        mut f: impl FnMut(i64, &Ev<&str>),
    ) -> Result<()> {
        let rx = self.w.db.begin_read()?;
        let name = table_name(domain);
        let table = rx.open_table(TableDefinition::<Key, &[u8]>::new(&name))?;
        for row in table.range((from, 0)..(to, 0))? {
            let (k, v) = row?;
            let bytes = v.value();
            let ev: Ev<&str> = postcard::from_bytes(bytes)?;
            f(k.value().0, &ev);
        }
        Ok(())
    }

    fn compact_all(&mut self) -> Result<()> {
        let db = Arc::get_mut(&mut self.w.db).ok_or("redb still shared by a caller")?;
        while db.compact()? {}
        Ok(())
    }
}

#[derive(Default)]
struct Acc {
    pageviews: u64,
    visitors: HashSet<u64>,
}

impl Acc {
    fn add(&mut self, pv: bool, visitor: u64) {
        self.pageviews += u64::from(pv);
        if visitor != 0 {
            self.visitors.insert(visitor);
        }
    }
}

fn rows(m: HashMap<String, Acc>) -> Vec<(String, u64, u64)> {
    m.into_iter()
        .map(|(k, a)| (k, a.pageviews, a.visitors.len() as u64))
        .collect()
}

impl Engine for RedbRaw {
    fn name(&self) -> &'static str {
        "redb"
    }

    fn ingest(&mut self, batch: Vec<Hit>) -> Result<()> {
        self.w.ingest(batch)
    }

    fn durable(&mut self) -> Result<()> {
        self.w.durable()
    }

    fn caller(&self) -> Result<Box<dyn Caller>> {
        Ok(Box::new(Writer {
            db: Arc::clone(&self.w.db),
            seq: Arc::clone(&self.w.seq),
            deriver: Deriver::new(&self.geo, Arc::clone(&self.opt_outs))?,
            txn: None,
            buf: Vec::new(),
        }))
    }

    fn bytes_on_disk(&self) -> Result<u64> {
        dir_bytes(&self.dir)
    }

    fn compact(&mut self) -> Result<()> {
        self.compact_all()
    }

    fn dashboard(&self, domain: &str, first: Day, last: Day) -> Result<DashboardAnswer> {
        self.dashboard_of(domain, first, last, None)
    }

    fn filtered_dashboard(
        &self,
        domain: &str,
        first: Day,
        last: Day,
        country: &str,
    ) -> Result<DashboardAnswer> {
        let code: [u8; 2] = country
            .as_bytes()
            .try_into()
            .map_err(|_| "a country is two letters")?;
        self.dashboard_of(domain, first, last, Some(code))
    }

    fn adhoc_scan(&self, domain: &str, first: Day, last: Day, page: &str) -> Result<ScanAnswer> {
        let mut seen: HashSet<([u8; 2], u8, u64)> = HashSet::new();
        self.scan(domain, first.start().0, last.end().0, |_, e| {
            if e.visitor != 0 && e.path == page {
                seen.insert((e.country, e.device, e.visitor));
            }
        })?;
        let mut out = ScanAnswer::new();
        for (c, dev, _) in seen {
            let c = String::from_utf8_lossy(&c).into_owned();
            *out.entry((c, dev)).or_default() += 1;
        }
        Ok(out)
    }

    fn erase_visitor(
        &mut self,
        domain: &str,
        client_id: &str,
        marker: &[u8],
    ) -> Result<EraseTiming> {
        let visitor = Deriver::visitor_of_client(client_id);
        let dir = self.dir.clone();
        let mut clock = EraseClock::new();
        let mut removed = 0u64;
        let gone = clock.step("scan + delete + commit", &dir, marker, || {
            let mut keys = Vec::new();
            {
                let rx = self.w.db.begin_read()?;
                let name = table_name(domain);
                let table = rx.open_table(TableDefinition::<Key, &[u8]>::new(&name))?;
                for row in table.iter()? {
                    let (k, v) = row?;
                    let ev: Ev<&str> = postcard::from_bytes(v.value())?;
                    if ev.visitor == visitor {
                        keys.push(k.value());
                    }
                }
            }
            let txn = self.w.db.begin_write()?;
            {
                let name = table_name(domain);
                let mut table = txn.open_table(TableDefinition::<Key, &[u8]>::new(&name))?;
                for k in &keys {
                    table.remove(k)?;
                }
            }
            txn.commit()?;
            removed = keys.len() as u64;
            Ok(())
        })?;
        clock.returned();
        if !gone {
            clock.step("Database::compact", &dir, marker, || self.compact_all())?;
        }
        clock.timing.removed = removed;
        Ok(clock.timing)
    }

    fn drop_days(&mut self, domain: &str, before: Day) -> Result<()> {
        let txn = self.w.db.begin_write()?;
        {
            let name = table_name(domain);
            let mut table = txn.open_table(TableDefinition::<Key, &[u8]>::new(&name))?;
            table.retain_in(..(before.start().0, 0u64), |_, _| false)?;
        }
        txn.commit()?;
        self.compact_all()
    }

    fn dir(&self) -> &Path {
        &self.dir
    }
}

impl RedbRaw {
    /// The dashboard of every event, or of one country's.
    fn dashboard_of(
        &self,
        domain: &str,
        first: Day,
        last: Day,
        country: Option<[u8; 2]>,
    ) -> Result<DashboardAnswer> {
        let mut total = Acc::default();
        let mut events = 0u64;
        let mut pages: HashMap<String, Acc> = HashMap::new();
        let mut countries: HashMap<String, Acc> = HashMap::new();
        let mut days: BTreeMap<i32, Acc> = BTreeMap::new();
        self.scan(domain, first.start().0, last.end().0, |ts, e| {
            if country.is_some_and(|c| c != e.country) {
                return;
            }
            let pv = e.kind.code() == 0;
            events += 1;
            total.add(pv, e.visitor);
            if pv {
                match pages.get_mut(e.path) {
                    Some(a) => a.add(true, e.visitor),
                    None => pages
                        .entry(e.path.to_string())
                        .or_default()
                        .add(true, e.visitor),
                }
            }
            let c = std::str::from_utf8(&e.country).unwrap_or("ZZ");
            match countries.get_mut(c) {
                Some(a) => a.add(pv, e.visitor),
                None => countries
                    .entry(c.to_string())
                    .or_default()
                    .add(pv, e.visitor),
            }
            let day = ts.div_euclid(pledgedb::MS_PER_DAY) as i32;
            days.entry(day).or_default().add(pv, e.visitor);
        })?;
        let daily: BTreeMap<i32, (u64, u64)> = days
            .into_iter()
            .map(|(d, a)| (d, (a.pageviews, a.visitors.len() as u64)))
            .collect();
        Ok(DashboardAnswer {
            visitors: total.visitors.len() as u64,
            pageviews: total.pageviews,
            events,
            top_pages: top_by_pageviews(rows(pages), 10),
            top_countries: top_by_pageviews(rows(countries), 10),
            daily: all_days(first, last, &daily),
        })
    }
}
