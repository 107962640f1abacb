//! SQLite (bundled, through rusqlite): one `events` table with the columns
//! an analytics store needs and the indexes its queries need, WAL mode with
//! `synchronous=FULL` (a commit is durable when it returns), prepared
//! statements, one transaction per batch, and `secure_delete=ON` so that
//! deleted rows are overwritten (without it SQLite keeps erased bytes in
//! free space).

use crate::derive::{Deriver, Kind, Prop, Row};
use crate::engine::{
    Caller, DashboardAnswer, Engine, EraseClock, EraseTiming, Result, ScanAnswer, all_days,
    dir_bytes,
};
use pledgedb::{Day, Hit, Text};
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS domains (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS events (
    domain INTEGER NOT NULL,
    ts INTEGER NOT NULL,
    day INTEGER NOT NULL,
    visitor INTEGER NOT NULL,
    session INTEGER NOT NULL,
    type INTEGER NOT NULL,
    country TEXT NOT NULL,
    device INTEGER NOT NULL,
    browser TEXT NOT NULL,
    path TEXT NOT NULL,
    referrer TEXT,
    utm TEXT,
    x INTEGER,
    y INTEGER,
    target TEXT,
    depth INTEGER,
    form TEXT,
    field TEXT,
    key_kind INTEGER,
    name TEXT,
    props TEXT
);
CREATE INDEX IF NOT EXISTS events_day ON events (domain, day);
CREATE INDEX IF NOT EXISTS events_path ON events (domain, path);
CREATE INDEX IF NOT EXISTS events_visitor ON events (domain, visitor);
";

const INSERT: &str = "INSERT INTO events VALUES \
    (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)";

fn connect(path: &Path) -> Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(600))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "secure_delete", "ON")?;
    conn.pragma_update(None, "cache_size", -65_536)?;
    Ok(conn)
}

/// One connection with its own derivation state.
struct Writer {
    conn: Connection,
    deriver: Deriver,
    domain_ids: HashMap<Arc<str>, i64>,
    in_txn: bool,
}

fn opt(t: &Text) -> Option<&str> {
    if t.is_empty() { None } else { Some(t.as_str()) }
}

fn props_json(kind: &Kind<Text>) -> Option<String> {
    let mut m = serde_json::Map::new();
    match kind {
        Kind::FormSubmit { fields, .. } => {
            for (k, v) in fields {
                m.insert(k.to_string(), serde_json::Value::from(v.as_str()));
            }
        }
        Kind::Custom { props, .. } => {
            for (k, v) in props {
                let v = match v {
                    Prop::Bool(b) => serde_json::Value::from(*b),
                    Prop::Int(i) => serde_json::Value::from(*i),
                    Prop::Float(f) => serde_json::Value::from(*f),
                    Prop::Text(t) => serde_json::Value::from(t.as_str()),
                };
                m.insert(k.to_string(), v);
            }
        }
        _ => return None,
    }
    Some(serde_json::Value::Object(m).to_string())
}

impl Writer {
    fn open(path: &Path, geo: &[u8], opt_outs: Arc<HashSet<String>>) -> Result<Writer> {
        Ok(Writer {
            conn: connect(path)?,
            deriver: Deriver::new(geo, opt_outs)?,
            domain_ids: HashMap::new(),
            in_txn: false,
        })
    }

    fn domain_id(&mut self, d: &Arc<str>) -> Result<i64> {
        if let Some(id) = self.domain_ids.get(d) {
            return Ok(*id);
        }
        self.conn
            .execute("INSERT OR IGNORE INTO domains (name) VALUES (?1)", [&**d])?;
        let id: i64 =
            self.conn
                .query_row("SELECT id FROM domains WHERE name = ?1", [&**d], |r| {
                    r.get(0)
                })?;
        self.domain_ids.insert(Arc::clone(d), id);
        Ok(id)
    }

    fn ingest(&mut self, batch: Vec<Hit>) -> Result<()> {
        // Derivation (the same work PledgeDB's ingest does) runs outside
        // the write lock, so concurrent callers overlap it.
        let rows = self.deriver.derive_all(batch);
        if !self.in_txn {
            self.conn.execute_batch("BEGIN IMMEDIATE")?;
            self.in_txn = true;
        }
        let mut ids = Vec::with_capacity(rows.len());
        for r in &rows {
            ids.push(self.domain_id(&r.domain)?);
        }
        let mut stmt = self.conn.prepare_cached(INSERT)?;
        for (r, id) in rows.iter().zip(ids) {
            insert(&mut stmt, id, r)?;
        }
        Ok(())
    }

    fn durable(&mut self) -> Result<()> {
        if self.in_txn {
            self.conn.execute_batch("COMMIT")?;
            self.in_txn = false;
        }
        Ok(())
    }
}

fn insert(stmt: &mut rusqlite::CachedStatement<'_>, domain: i64, r: &Row) -> Result<()> {
    let e = &r.ev;
    let country = std::str::from_utf8(&e.country).unwrap_or("ZZ");
    let (mut referrer, mut utm, mut x, mut y, mut target, mut depth) =
        (None, None, None, None, None, None);
    let (mut form, mut field, mut key, mut name) = (None, None, None, None);
    match &e.kind {
        Kind::PageView {
            referrer: rf,
            utm: u,
        } => {
            referrer = opt(rf);
            utm = opt(u);
        }
        Kind::Click {
            x: cx,
            y: cy,
            target: t,
        } => {
            x = Some(*cx);
            y = Some(*cy);
            target = Some(t.as_str());
        }
        Kind::Scroll { depth: d } => depth = Some(*d),
        Kind::FormView { form: f } => form = Some(f.as_str()),
        Kind::FieldFocus { form: f, field: fi } | Kind::FieldBlur { form: f, field: fi } => {
            form = Some(f.as_str());
            field = Some(fi.as_str());
        }
        Kind::Keystroke {
            form: f,
            field: fi,
            key: k,
        } => {
            form = Some(f.as_str());
            field = Some(fi.as_str());
            key = Some(*k);
        }
        Kind::FormSubmit { form: f, .. } => form = Some(f.as_str()),
        Kind::Custom { name: n, .. } => name = Some(n.as_str()),
    }
    stmt.execute(params![
        domain,
        r.ts,
        r.ts.div_euclid(pledgedb::MS_PER_DAY),
        e.visitor as i64,
        e.session as i64,
        e.kind.code(),
        country,
        e.device,
        e.browser.as_str(),
        e.path.as_str(),
        referrer,
        utm,
        x,
        y,
        target,
        depth,
        form,
        field,
        key,
        name,
        props_json(&e.kind),
    ])?;
    Ok(())
}

impl Caller for Writer {
    fn ingest(&mut self, batch: Vec<Hit>) -> Result<()> {
        Writer::ingest(self, batch)
    }

    fn durable(&mut self) -> Result<()> {
        Writer::durable(self)
    }
}

pub struct Sqlite {
    w: Writer,
    path: PathBuf,
    dir: PathBuf,
    geo: Vec<u8>,
    opt_outs: Arc<HashSet<String>>,
}

impl Sqlite {
    pub fn open(dir: &Path, geo: &[u8], opt_outs: Arc<HashSet<String>>) -> Result<Sqlite> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join("events.sqlite");
        let w = Writer::open(&path, geo, Arc::clone(&opt_outs))?;
        w.conn.execute_batch(SCHEMA)?;
        Ok(Sqlite {
            w,
            path,
            dir: dir.to_path_buf(),
            geo: geo.to_vec(),
            opt_outs,
        })
    }

    /// Every domain's name.
    pub fn domain_names(&self) -> Result<Vec<String>> {
        let mut s = self
            .w
            .conn
            .prepare("SELECT name FROM domains ORDER BY name")?;
        let rows = s.query_map([], |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for r in rows {
            out.push(r?);
        }
        Ok(out)
    }

    fn domain(&self, name: &str) -> Result<i64> {
        self.w
            .conn
            .query_row("SELECT id FROM domains WHERE name = ?1", [name], |r| {
                r.get(0)
            })
            .optional()?
            .ok_or_else(|| format!("no domain {name}").into())
    }

    fn checkpoint(&self) -> Result<()> {
        self.w
            .conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }
}

impl Engine for Sqlite {
    fn name(&self) -> &'static str {
        "SQLite"
    }

    fn ingest(&mut self, batch: Vec<Hit>) -> Result<()> {
        self.w.ingest(batch)
    }

    fn durable(&mut self) -> Result<()> {
        self.w.durable()
    }

    fn caller(&self) -> Result<Box<dyn Caller>> {
        Ok(Box::new(Writer::open(
            &self.path,
            &self.geo,
            Arc::clone(&self.opt_outs),
        )?))
    }

    fn bytes_on_disk(&self) -> Result<u64> {
        dir_bytes(&self.dir)
    }

    fn compact(&mut self) -> Result<()> {
        self.w.conn.execute_batch("VACUUM")?;
        self.checkpoint()
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
        self.dashboard_of(domain, first, last, Some(country))
    }

    fn adhoc_scan(&self, domain: &str, first: Day, last: Day, page: &str) -> Result<ScanAnswer> {
        let d = self.domain(domain)?;
        let mut s = self.w.conn.prepare_cached(
            "SELECT country, device, COUNT(DISTINCT visitor) FROM events \
             WHERE domain = ?1 AND path = ?2 AND day BETWEEN ?3 AND ?4 AND visitor != 0 \
             GROUP BY country, device",
        )?;
        let rows = s.query_map(params![d, page, first.0, last.0], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, u8>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })?;
        let mut out = ScanAnswer::new();
        for r in rows {
            let (c, dev, n) = r?;
            out.insert((c, dev), n as u64);
        }
        Ok(out)
    }

    fn erase_visitor(
        &mut self,
        domain: &str,
        client_id: &str,
        marker: &[u8],
    ) -> Result<EraseTiming> {
        let d = self.domain(domain)?;
        let visitor = Deriver::visitor_of_client(client_id) as i64;
        let dir = self.dir.clone();
        let mut clock = EraseClock::new();
        let mut removed = 0;
        let conn = &self.w.conn;
        let mut gone = clock.step("DELETE + COMMIT", &dir, marker, || {
            conn.execute_batch("BEGIN IMMEDIATE")?;
            removed = conn.execute(
                "DELETE FROM events WHERE domain = ?1 AND visitor = ?2",
                params![d, visitor],
            )?;
            conn.execute_batch("COMMIT")?;
            Ok(())
        })?;
        clock.returned();
        if !gone {
            gone = clock.step("wal_checkpoint(TRUNCATE)", &dir, marker, || {
                self.checkpoint()
            })?;
        }
        if !gone {
            clock.step("VACUUM + wal_checkpoint(TRUNCATE)", &dir, marker, || {
                conn.execute_batch("VACUUM")?;
                self.checkpoint()
            })?;
        }
        clock.timing.removed = removed as u64;
        Ok(clock.timing)
    }

    fn drop_days(&mut self, domain: &str, before: Day) -> Result<()> {
        let d = self.domain(domain)?;
        let conn = &self.w.conn;
        conn.execute_batch("BEGIN IMMEDIATE")?;
        conn.execute(
            "DELETE FROM events WHERE domain = ?1 AND day < ?2",
            params![d, before.0],
        )?;
        conn.execute_batch("COMMIT")?;
        conn.execute_batch("VACUUM")?;
        self.checkpoint()
    }

    fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Sqlite {
    /// The dashboard of every event, or of one country's.
    fn dashboard_of(
        &self,
        domain: &str,
        first: Day,
        last: Day,
        country: Option<&str>,
    ) -> Result<DashboardAnswer> {
        let d = self.domain(domain)?;
        let c = &self.w.conn;
        // One country: the same statements with one more condition (the
        // country is a checked two-letter code, bound as a parameter).
        let (cond, code) = match country {
            Some(k) => (" AND country = ?4", k.to_string()),
            None => (" AND ?4 = ?4", String::new()),
        };
        let (a, b) = (first.0, last.0);
        let (visitors, pageviews, events): (i64, i64, i64) = c
            .prepare_cached(&format!(
                "SELECT COUNT(DISTINCT NULLIF(visitor, 0)), COALESCE(SUM(type = 0), 0), COUNT(*) \
                 FROM events WHERE domain = ?1 AND day BETWEEN ?2 AND ?3{cond}"
            ))?
            .query_row(params![d, a, b, code], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?;
        let rows3 = |sql: &str| -> Result<Vec<(String, u64, u64)>> {
            let mut s = c.prepare_cached(sql)?;
            let rows = s.query_map(params![d, a, b, code], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            })?;
            let mut out = Vec::new();
            for r in rows {
                let (k, pv, v) = r?;
                out.push((k, pv as u64, v as u64));
            }
            Ok(out)
        };
        let top_pages = rows3(&format!(
            "SELECT path, COUNT(*) AS pv, COUNT(DISTINCT NULLIF(visitor, 0)) FROM events \
             WHERE domain = ?1 AND day BETWEEN ?2 AND ?3 AND type = 0{cond} \
             GROUP BY path ORDER BY pv DESC, path LIMIT 10"
        ))?;
        let top_countries = rows3(&format!(
            "SELECT country, SUM(type = 0) AS pv, COUNT(DISTINCT NULLIF(visitor, 0)) FROM events \
             WHERE domain = ?1 AND day BETWEEN ?2 AND ?3{cond} \
             GROUP BY country ORDER BY pv DESC, country LIMIT 10"
        ))?;
        let mut daily = BTreeMap::new();
        {
            let mut s = c.prepare_cached(&format!(
                "SELECT day, SUM(type = 0), COUNT(DISTINCT NULLIF(visitor, 0)) FROM events \
                 WHERE domain = ?1 AND day BETWEEN ?2 AND ?3{cond} GROUP BY day"
            ))?;
            let rows = s.query_map(params![d, a, b, code], |r| {
                Ok((
                    r.get::<_, i32>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            })?;
            for r in rows {
                let (day, pv, v) = r?;
                daily.insert(day, (pv as u64, v as u64));
            }
        }
        Ok(DashboardAnswer {
            visitors: visitors as u64,
            pageviews: pageviews as u64,
            events: events as u64,
            top_pages,
            top_countries,
            daily: all_days(first, last, &daily),
        })
    }
}
