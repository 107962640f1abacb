//! The API and dashboard tests' server: `common`'s server over the
//! generated dataset's sites, with the workload's GeoIP networks, accounts
//! and the Stats API's requests.
#![allow(dead_code)]

use std::ops::Deref;

use pledgedb_core::{Config, Day, Hit, ManualClock, Timestamp};
use pledgedb_server::ServerConfig;
use pledgedb_server::auth::{Accounts, Scope};
use pledgedb_workload::{COUNTRY_NETWORKS, Workload, WorkloadConfig};
use serde_json::Value;

#[path = "../common/mod.rs"]
mod common;

pub use common::TestServer;

/// The sites of the generated dataset.
pub const SITES: [&str; 2] = ["shop.example", "blog.example"];
/// Days of generated traffic.
pub const DAYS: u32 = 3;

/// Every metric of the Stats API.
pub const METRICS: [&str; 7] = [
    "visitors",
    "visits",
    "pageviews",
    "views_per_visit",
    "bounce_rate",
    "visit_duration",
    "events",
];

/// The dashboard's metric cards: every metric but `events`.
pub const CARD_METRICS: &[&str] = METRICS.split_at(6).0;

/// The first day of traffic.
pub fn first_day() -> Day {
    Day::from_ymd(2026, 3, 2)
}

/// A server of the API tests (a [`TestServer`]), with the account and
/// Stats API helpers.
pub struct Served(TestServer);

impl Deref for Served {
    type Target = TestServer;

    fn deref(&self) -> &TestServer {
        &self.0
    }
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
        common::header(&self.headers, name)
    }
}

impl From<common::Reply> for Reply {
    fn from(r: common::Reply) -> Reply {
        let set_cookie = r
            .headers
            .iter()
            .filter(|(k, _)| k == "set-cookie")
            .map(|(_, v)| v.clone())
            .collect();
        let json = serde_json::from_str(&r.body).unwrap_or(Value::Null);
        Reply {
            status: r.status,
            set_cookie,
            headers: r.headers,
            text: r.body,
            json,
        }
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
    let mut engine = Config::default().with_geoip(common::geoip_of(tmp.path(), COUNTRY_NETWORKS));
    engine.create_domains_on_ingest = false;
    engine.background_compaction = false;
    let config = ServerConfig {
        trusted_proxies: trusted,
        ..common::loopback()
    };
    Served(TestServer::serve(tmp, clock, &SITES, engine, config))
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

    /// The origin this server is addressed by.
    pub fn origin(&self) -> String {
        self.url("")
    }

    pub fn get(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        common::get(&self.url(path), headers).into()
    }

    pub fn post_json(&self, path: &str, headers: &[(&str, &str)], body: &Value) -> Reply {
        common::post_value(&self.url(path), headers, body).into()
    }

    pub fn post_raw(&self, path: &str, headers: &[(&str, &str)], body: &str) -> Reply {
        common::post(&self.url(path), headers, body).into()
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
