//! A real server on a loopback port over a fresh data directory with a
//! manual clock and a test GeoIP database, and an HTTP client for it.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use pledgedb_core::geo::writer::{GeoLayout, build_country_db};
use pledgedb_core::{Config, Day, Db, Hit, ManualClock, Timestamp};
use pledgedb_server::auth::{Accounts, Scope};
use pledgedb_server::{Server, ServerConfig};
use pledgedb_workload::{COUNTRY_NETWORKS, Workload, WorkloadConfig};
use serde_json::Value;

/// The sites of the generated dataset.
pub const SITES: [&str; 2] = ["shop.example", "blog.example"];
/// Days of generated traffic.
pub const DAYS: u32 = 3;

/// The first day of traffic.
pub fn first_day() -> Day {
    Day::from_ymd(2026, 3, 2)
}

pub struct Served {
    pub base: String,
    pub addr: SocketAddr,
    pub db: Db,
    pub clock: ManualClock,
    pub tmp: tempfile::TempDir,
    pub agent: ureq::Agent,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn write_geoip(dir: &Path) -> std::path::PathBuf {
    let entries: Vec<(ipnet::IpNet, &str)> = COUNTRY_NETWORKS
        .iter()
        .map(|(n, c)| (n.parse().unwrap(), *c))
        .collect();
    let path = dir.join("country.mmdb");
    std::fs::write(
        &path,
        build_country_db(&entries, GeoLayout::Nested).unwrap(),
    )
    .unwrap();
    path
}

/// A response: status, headers we look at, and the body as JSON (Null
/// when it is not JSON).
pub struct Reply {
    pub status: u16,
    pub set_cookie: Vec<String>,
    pub headers: Vec<(String, String)>,
    pub text: String,
    pub json: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn reply(r: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Reply {
    let mut r = match r {
        Ok(r) => r,
        Err(e) => panic!("the server answers: {e:?}"),
    };
    let status = r.status().as_u16();
    let headers: Vec<(String, String)> = r
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    let set_cookie = headers
        .iter()
        .filter(|(k, _)| k == "set-cookie")
        .map(|(_, v)| v.clone())
        .collect();
    let text = r.body_mut().read_to_string().unwrap_or_default();
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    Reply {
        status,
        set_cookie,
        headers,
        text,
        json,
    }
}

/// Starts a server over a data directory with `SITES` registered (and
/// nothing ingested). `trusted` is the proxies list.
pub fn serve_with(trusted: Vec<ipnet::IpNet>) -> Served {
    let tmp = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(
        first_day()
            .plus(DAYS as i32)
            .start()
            .plus_millis(2 * 3_600_000),
    );
    let geoip = write_geoip(tmp.path());
    let data = tmp.path().join("data");
    let mut config = Config::default()
        .with_clock(Arc::new(clock.clone()))
        .with_geoip(&geoip);
    config.create_domains_on_ingest = false;
    config.background_compaction = false;
    let db = Db::open(&data, config).unwrap();
    for s in SITES {
        db.create_domain(s).unwrap();
    }
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
            let cfg = ServerConfig {
                listen: "127.0.0.1:0".parse().unwrap(),
                trusted_proxies: trusted,
                ..ServerConfig::default()
            };
            let server = Server::bind(db2, cfg).await.unwrap();
            addr_tx.send(server.local_addr().unwrap()).unwrap();
            server
                .run(async {
                    let _ = stop_rx.await;
                })
                .await
                .unwrap();
        });
    });
    let addr = addr_rx.recv().unwrap();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        // A fresh connection per request: a refusal answered before its
        // body was read closes the connection, and a pooled one could be
        // reused in the instant before the close is seen.
        .max_idle_connections(0)
        .max_idle_connections_per_host(0)
        .build()
        .into();
    Served {
        base: format!("http://{addr}"),
        addr,
        db,
        clock,
        tmp,
        agent,
        stop: Some(stop_tx),
        thread: Some(thread),
    }
}

pub fn serve() -> Served {
    serve_with(Vec::new())
}

impl Served {
    pub fn data_dir(&self) -> std::path::PathBuf {
        self.db.path().to_path_buf()
    }

    /// A second handle on the account store, as the `user` and `key`
    /// commands open it.
    pub fn accounts(&self) -> Accounts {
        Accounts::open(&self.data_dir()).unwrap()
    }

    pub fn add_user(&self, name: &str, password: &str, sites: &[&str], admin: bool) {
        let sites: Vec<String> = sites.iter().map(|s| (*s).to_string()).collect();
        self.accounts()
            .add_user(name, password, &sites, admin)
            .unwrap();
    }

    pub fn add_key(&self, name: &str, site: &str, scope: Scope) -> String {
        self.accounts().add_key(name, site, scope, 0).unwrap()
    }

    /// Ingests the seeded workload over `SITES` and seals the finished
    /// days.
    pub fn load(&self) {
        let cfg = WorkloadConfig {
            seed: 5,
            domains: SITES.iter().map(|s| (*s).to_string()).collect(),
            start: first_day().start(),
            days: DAYS,
            visitors_per_day: 80,
            ..WorkloadConfig::default()
        };
        let mut w = Workload::new(cfg);
        for t in w.opt_out_tokens().to_vec() {
            self.db.opt_out(&t).unwrap();
        }
        let hits: Vec<Hit> = w.by_ref().collect();
        for r in self.db.ingest_batch(hits) {
            let _ = r.unwrap();
        }
        self.db.flush().unwrap();
        self.db.compact_now().unwrap();
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// The origin this server is addressed by.
    pub fn origin(&self) -> String {
        self.base.clone()
    }

    pub fn get(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        let mut r = self.agent.get(self.url(path));
        for (k, v) in headers {
            r = r.header(*k, *v);
        }
        reply(r.call())
    }

    pub fn post_json(&self, path: &str, headers: &[(&str, &str)], body: &Value) -> Reply {
        let mut r = self.agent.post(self.url(path));
        for (k, v) in headers {
            r = r.header(*k, *v);
        }
        reply(r.send_json(body))
    }

    pub fn post_raw(&self, path: &str, headers: &[(&str, &str)], body: &str) -> Reply {
        let mut r = self.agent.post(self.url(path));
        for (k, v) in headers {
            r = r.header(*k, *v);
        }
        reply(r.send(body))
    }

    /// Logs in with JSON; returns the cookie header value and the CSRF
    /// token.
    pub fn login(&self, name: &str, password: &str) -> (String, String) {
        let r = self.post_json(
            "/login",
            &[],
            &serde_json::json!({"username": name, "password": password}),
        );
        assert_eq!(r.status, 200, "{}", r.text);
        let c = r.set_cookie.first().expect("a session cookie").clone();
        let pair = c.split(';').next().unwrap().trim().to_string();
        (pair, r.json["csrf"].as_str().unwrap().to_string())
    }

    pub fn query(&self, key: &str, body: &Value) -> Reply {
        self.post_json(
            "/api/v2/query",
            &[("authorization", &format!("Bearer {key}"))],
            body,
        )
    }
}

/// Moves the clock by `ms`.
pub fn advance(s: &Served, ms: i64) {
    s.clock.advance_millis(ms);
}

/// Now on the server's clock.
pub fn now(s: &Served) -> Timestamp {
    pledgedb_core::Clock::now(&s.clock)
}
