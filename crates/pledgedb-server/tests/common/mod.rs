//! A real server on a loopback port over a fresh data directory, and a
//! small HTTP client for it.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;

use pledgedb_core::geo::writer::{GeoLayout, build_country_db};
use pledgedb_core::{Db, Event, ManualClock, Timestamp};
use pledgedb_server::{Server, ServerConfig};

/// 2026-03-02 10:00 UTC.
pub fn start_time() -> Timestamp {
    Timestamp::from_ymd_hms(2026, 3, 2, 10, 0, 0)
}

pub struct TestServer {
    pub addr: SocketAddr,
    pub db: Db,
    pub clock: ManualClock,
    pub dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<std::io::Result<()>>>,
}

/// A GeoIP database: 127.0.0.0/8 US, 203.0.113.0/24 DE, 198.51.100.0/24
/// FR, 2001:db8::/32 JP.
pub fn geoip(dir: &std::path::Path) -> std::path::PathBuf {
    let bytes = build_country_db(
        &[
            ("127.0.0.0/8".parse().unwrap(), "US"),
            ("203.0.113.0/24".parse().unwrap(), "DE"),
            ("198.51.100.0/24".parse().unwrap(), "FR"),
            ("2001:db8::/32".parse().unwrap(), "JP"),
        ],
        GeoLayout::Nested,
    )
    .unwrap();
    let p = dir.join("test-country.mmdb");
    std::fs::write(&p, bytes).unwrap();
    p
}

impl TestServer {
    /// A server over a fresh directory with `sites` registered, the
    /// test's GeoIP database and a manual clock, configured by `tune`.
    pub fn start(sites: &[&str], tune: impl FnOnce(&mut ServerConfig)) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let geo_keep = geoip(dir.path());
        let clock = ManualClock::new(start_time());
        let mut config = ServerConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            geoip: Some(geo_keep.clone()),
            ..ServerConfig::default()
        };
        tune(&mut config);
        let mut engine = pledgedb_server::cli::engine_config(&config);
        engine.clock = Arc::new(clock.clone());
        let db = Db::open(dir.path().join("data"), engine).unwrap();
        for s in sites {
            db.create_domain(s).unwrap();
        }
        Self::serve(db, config, clock, dir)
    }

    pub fn serve(
        db: Db,
        config: ServerConfig,
        clock: ManualClock,
        dir: tempfile::TempDir,
    ) -> TestServer {
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let db2 = db.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let server = Server::bind(db2, config).await?;
                addr_tx.send(server.local_addr()?).unwrap();
                server
                    .run(async move {
                        let _ = stop_rx.await;
                    })
                    .await
            })
        });
        let addr = addr_rx.recv().unwrap();
        TestServer {
            addr,
            db,
            clock,
            dir,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Stops the server (graceful shutdown, final flush).
    pub fn stop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            t.join().unwrap().unwrap();
        }
    }

    /// Every event of a domain, after a flush.
    pub fn events(&self, domain: &str) -> Vec<Event> {
        self.db.flush().unwrap();
        self.db
            .domain(domain)
            .unwrap()
            .events(pledgedb_core::domain::TimeRange::all())
            .unwrap()
    }

    /// Every file under the data directory (`dir/data`), concatenated.
    pub fn all_bytes(&self) -> Vec<u8> {
        self.db.flush().unwrap();
        let mut out = Vec::new();
        let mut stack = vec![self.dir.path().join("data")];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    out.extend(std::fs::read(&p).unwrap());
                }
            }
        }
        out
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into()
}

fn reply(r: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Reply {
    let mut r = r.unwrap();
    let status = r.status().as_u16();
    let headers = r
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    let body = r.body_mut().read_to_string().unwrap_or_default();
    Reply {
        status,
        headers,
        body,
    }
}

/// POSTs `body` with extra headers.
pub fn post(url: &str, headers: &[(&str, &str)], body: &str) -> Reply {
    let mut req = agent().post(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    reply(req.send(body))
}

/// POSTs JSON.
pub fn post_json(url: &str, body: &str) -> Reply {
    post(url, &[("Content-Type", "application/json")], body)
}

pub fn get(url: &str, headers: &[(&str, &str)]) -> Reply {
    let mut req = agent().get(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    reply(req.call())
}

pub fn options(url: &str, headers: &[(&str, &str)]) -> Reply {
    let mut req = agent().options(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    reply(req.call())
}
