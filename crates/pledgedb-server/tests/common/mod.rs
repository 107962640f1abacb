//! A real server on a loopback port over a fresh data directory, and a
//! small HTTP client for it. The collector tests use it as it is; the API
//! and dashboard tests through `api_common`, which starts its servers here.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;

use pledgedb_core::geo::writer::{GeoLayout, build_country_db};
use pledgedb_core::{Config, Db, Event, ManualClock, Timestamp};
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
    geoip_of(
        dir,
        &[
            ("127.0.0.0/8", "US"),
            ("203.0.113.0/24", "DE"),
            ("198.51.100.0/24", "FR"),
            ("2001:db8::/32", "JP"),
        ],
    )
}

/// A GeoIP database of `networks` (network, country code) in `dir`.
pub fn geoip_of(dir: &std::path::Path, networks: &[(&str, &str)]) -> std::path::PathBuf {
    let entries: Vec<(ipnet::IpNet, &str)> = networks
        .iter()
        .map(|(n, c)| (n.parse().unwrap(), *c))
        .collect();
    let p = dir.join("test-country.mmdb");
    std::fs::write(&p, build_country_db(&entries, GeoLayout::Nested).unwrap()).unwrap();
    p
}

/// A server configuration listening on a free loopback port.
pub fn loopback() -> ServerConfig {
    ServerConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        ..ServerConfig::default()
    }
}

impl TestServer {
    /// A server over a fresh directory with `sites` registered, the
    /// test's GeoIP database and a manual clock, configured by `tune`.
    pub fn start(sites: &[&str], tune: impl FnOnce(&mut ServerConfig)) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let mut config = ServerConfig {
            geoip: Some(geoip(dir.path())),
            ..loopback()
        };
        tune(&mut config);
        let engine = pledgedb_server::cli::engine_config(&config);
        let clock = ManualClock::new(start_time());
        Self::serve(dir, clock, sites, engine, config)
    }

    /// A server over `dir/data` with `sites` registered: the engine
    /// configured by `engine` on `clock`, the server by `config`.
    pub fn serve(
        dir: tempfile::TempDir,
        clock: ManualClock,
        sites: &[&str],
        mut engine: Config,
        config: ServerConfig,
    ) -> TestServer {
        engine.clock = Arc::new(clock.clone());
        let db = Db::open(dir.path().join("data"), engine).unwrap();
        for s in sites {
            db.create_domain(s).unwrap();
        }
        Self::serve_open(db, config, clock, dir)
    }

    /// A server over `db`, already open (on `clock`, in `dir`).
    pub fn serve_open(
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
        header(&self.headers, name)
    }
}

/// The first value of the header `name` (any case) in `headers`.
pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// A client that reports every status as an answer and follows no
/// redirect. It keeps no idle connection: a refusal answered before its
/// body was read closes the connection, and a pooled one could be reused in
/// the instant before the close is seen.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .max_idle_connections(0)
        .max_idle_connections_per_host(0)
        .build()
        .into()
}

/// Sends `req` with `headers` added, by `how`, and reads the answer.
fn send<B>(
    mut req: ureq::RequestBuilder<B>,
    headers: &[(&str, &str)],
    how: impl FnOnce(ureq::RequestBuilder<B>) -> Result<ureq::http::Response<ureq::Body>, ureq::Error>,
) -> Reply {
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let mut r = match how(req) {
        Ok(r) => r,
        Err(e) => panic!("the server answers: {e:?}"),
    };
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
    send(agent().post(url), headers, |r| r.send(body))
}

/// POSTs raw bytes.
pub fn post_bytes(url: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
    send(agent().post(url), headers, |r| r.send(body))
}

/// POSTs `body` serialized as JSON, with extra headers.
pub fn post_value(url: &str, headers: &[(&str, &str)], body: &serde_json::Value) -> Reply {
    send(agent().post(url), headers, |r| r.send_json(body))
}

/// POSTs JSON.
pub fn post_json(url: &str, body: &str) -> Reply {
    post(url, &[("Content-Type", "application/json")], body)
}

pub fn get(url: &str, headers: &[(&str, &str)]) -> Reply {
    send(agent().get(url), headers, |r| r.call())
}

pub fn options(url: &str, headers: &[(&str, &str)]) -> Reply {
    send(agent().options(url), headers, |r| r.call())
}
