//! Deterministic, realistic web-analytics traffic for PledgeDB's demo, tests
//! and benchmarks.
//!
//! A [`Workload`] is an iterator of [`Hit`]s, the way trackers on a few sites
//! would send them: visitors arrive through the day (more in daytime), each
//! visit views 1 to 8 pages chosen with a Zipf-like popularity, comes from a
//! search engine, a social site or nowhere (direct), sometimes from a
//! campaign (`utm_*` parameters), scrolls, clicks, fires a few custom events,
//! and now and then fills in a sign-up, newsletter or checkout form, which
//! ~60% submit (with passwords and card numbers the engine must drop) and the
//! others abandon. About 30% of the visits on a day after the first are by
//! returning visitors, with the same client id; ~10% of visitors are
//! cookieless (IP and user agent only); a few are crawlers. Some visitors
//! send Do-Not-Track or Global Privacy Control, deny consent, or have opted
//! out.
//!
//! The same [`WorkloadConfig`] (seed included) always yields the same hits,
//! in time order. While it runs, the workload counts what it yielded and
//! what the engine should make of it in a [`GeneratedTruth`], so tests can
//! compare the engine's results with it.
//!
//! ```
//! use pledgedb_workload::{Workload, WorkloadConfig};
//! let cfg = WorkloadConfig { days: 1, visitors_per_day: 20, ..WorkloadConfig::default() };
//! let mut w = Workload::new(cfg);
//! let tokens = w.opt_out_tokens().to_vec(); // register these with Db::opt_out first
//! let hits: Vec<_> = w.by_ref().collect();
//! assert_eq!(w.truth().hits, hits.len() as u64);
//! # let _ = tokens;
//! ```
//!
//! Client IPs come from [`COUNTRY_NETWORKS`]: documentation and special-use
//! blocks, so a test or demo can build a matching GeoIP database and no real
//! person's address is ever generated.
//!
//! Visitors belong to one domain: each domain has its own population, and a
//! visitor's client id (like a real first-party cookie) and opt-out token are
//! derived from the seed, the domain's position in
//! [`WorkloadConfig::domains`] and the visitor's number, so no two domains
//! ever share a client id. Keystroke hits carry only the key's kind
//! (character or delete), never what was typed; field values appear only on
//! form submits.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod catalog;
mod net;
mod truth;

pub use catalog::COUNTRY_NETWORKS;
pub use truth::{DomainTruth, GeneratedTruth, KindCounts, Outcomes, event_type};

use catalog::{
    BOT_AGENTS, CAMPAIGNS, CLICK_TARGETS, CODE_LANGS, COUNTRIES, CustomDef, FIRST_NAMES, FormDef,
    HUMAN_AGENTS, LAST_NAMES, Page, REFERRERS, SHARE_NETWORKS, STREETS, TEST_CARDS, UaClass,
    ValueKind, Weighted,
};
use net::Net;
use pledgedb_core::{
    Consent, ConsentPolicy, DropReason, FormField, Hit, HitKind, HitProp, Ingested, KeyKind,
    MS_PER_DAY, Timestamp, WithoutConsent,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::net::IpAddr;

/// What to generate. Every share is a probability from 0 to 1 (values
/// outside are clamped).
#[derive(Clone, Debug)]
pub struct WorkloadConfig {
    /// The seed: the same configuration always yields the same hits.
    pub seed: u64,
    /// The sites. The kind of site (and so its pages and forms) is guessed
    /// from the first label: `shop.*` has products and a checkout form,
    /// `blog.*` posts and a newsletter form, `docs.*` guides and a sign-up
    /// form; any other name gets a generic site with a sign-up form.
    pub domains: Vec<String>,
    /// Traffic starts on the UTC day of this moment, at midnight.
    pub start: Timestamp,
    /// Days of traffic. Visits that start late on the last day may run a
    /// few minutes into the next.
    pub days: u32,
    /// Visits per domain per day (one session each).
    pub visitors_per_day: u32,
    /// Share of each day's visits (after the first day) made by a visitor
    /// first seen on an earlier day, with the same client id. Exact, up to
    /// rounding.
    pub returning_share: f64,
    /// Share of human visitors without a client id (cookieless: the engine
    /// only has their IP and user agent).
    pub cookieless_share: f64,
    /// Share of visitors that are crawlers (Googlebot and friends): always
    /// cookieless, page views only.
    pub bot_share: f64,
    /// Share of visitors who opted out: their hits carry an opt-out token
    /// listed by [`Workload::opt_out_tokens`].
    pub opt_out_share: f64,
    /// Share of human visitors sending Do-Not-Track.
    pub dnt_share: f64,
    /// Share of human visitors sending Global Privacy Control.
    pub gpc_share: f64,
    /// Share of human visitors who granted consent.
    pub consent_granted_share: f64,
    /// Share of human visitors who denied consent (the rest did not say).
    pub consent_denied_share: f64,
    /// Share of forms that are submitted once started; the others are
    /// abandoned part-way.
    pub form_submit_share: f64,
    /// The consent policy the engine is expected to apply, for the
    /// [`GeneratedTruth`] expectations.
    pub policy: ConsentPolicy,
    /// Per-domain exceptions to [`WorkloadConfig::policy`].
    pub domain_policies: Vec<(String, ConsentPolicy)>,
}

impl Default for WorkloadConfig {
    /// Three sites (`shop.example`, `blog.example`, `docs.example`), seven
    /// days from 2026-03-02, 1,000 visits per site per day, seed 42, the
    /// engine's default consent policy.
    fn default() -> Self {
        WorkloadConfig {
            seed: 42,
            domains: vec![
                "shop.example".to_string(),
                "blog.example".to_string(),
                "docs.example".to_string(),
            ],
            start: Timestamp::from_ymd_hms(2026, 3, 2, 0, 0, 0),
            days: 7,
            visitors_per_day: 1_000,
            returning_share: 0.30,
            cookieless_share: 0.10,
            bot_share: 0.03,
            opt_out_share: 0.015,
            dnt_share: 0.04,
            gpc_share: 0.03,
            consent_granted_share: 0.55,
            consent_denied_share: 0.10,
            form_submit_share: 0.60,
            policy: ConsentPolicy::default(),
            domain_policies: Vec::new(),
        }
    }
}

impl WorkloadConfig {
    /// The consent policy expected on `domain`.
    #[must_use]
    pub fn policy_for(&self, domain: &str) -> ConsentPolicy {
        self.domain_policies
            .iter()
            .find(|(d, _)| d == domain)
            .map_or(self.policy, |(_, p)| *p)
    }

    /// The number of distinct visitors a domain will get: every visit of the
    /// first day, and every visit of later days that is not a return.
    #[must_use]
    pub fn new_visitors_per_domain(&self) -> u64 {
        (0..self.days)
            .map(|d| u64::from(self.visitors_per_day - self.returning_on(d)))
            .sum()
    }

    /// Returning visits on day `day` (0-based) of each domain.
    fn returning_on(&self, day: u32) -> u32 {
        if day == 0 {
            0
        } else {
            let r = (f64::from(self.visitors_per_day) * self.returning_share.clamp(0.0, 1.0))
                .round() as u32;
            r.min(self.visitors_per_day)
        }
    }
}

/// The same as [`Workload::new`] with a copy of `cfg`.
#[must_use]
pub fn generate(cfg: &WorkloadConfig) -> Workload {
    Workload::new(cfg.clone())
}

/// Relative traffic per UTC hour: a mix of time zones, busiest in the
/// European afternoon and American morning, quiet at night.
const HOURLY: [f64; 24] = [
    2.0, 1.5, 1.2, 1.0, 1.0, 1.2, 2.0, 3.5, 5.0, 6.0, 6.5, 6.5, 6.5, 6.5, 6.5, 6.0, 6.0, 6.0, 5.5,
    5.0, 4.5, 4.0, 3.5, 2.5,
];

/// Weights of 1 to 8 page views per visit.
const PAGES_PER_VISIT: [f64; 8] = [35.0, 22.0, 15.0, 10.0, 7.0, 5.0, 3.0, 3.0];

/// Share of landings carrying campaign parameters.
const CAMPAIGN_SHARE: f64 = 0.12;

/// Share of IPv6 visitors in countries with an IPv6 network.
const IPV6_SHARE: f64 = 0.25;

/// Returning visitors remembered per domain.
const POOL_CAP: usize = 100_000;

/// Heap entries with this bit set are a domain's next arrival.
const ARRIVAL: u32 = 1 << 31;

const SALT_OPT_OUT: u64 = 0x6f70_745f_6f75_7431;
const SALT_TOKEN: u64 = 0x746f_6b65_6e5f_7631;
const SALT_CLIENT: u64 = 0x636c_6965_6e74_5f31;
const SALT_SESSION: u64 = 0x7365_7373_696f_6e31;

/// SplitMix64's finaliser.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn mix3(a: u64, b: u64, c: u64) -> u64 {
    mix(mix(mix(a) ^ b) ^ c)
}

/// A uniform draw in `[0, 1)` from a hash.
fn unit(h: u64) -> f64 {
    (h >> 11) as f64 / (1u64 << 53) as f64
}

fn chance(rng: &mut StdRng, p: f64) -> bool {
    rng.random::<f64>() < p
}

/// One person on one site.
#[derive(Clone, Copy, Debug)]
struct Visitor {
    /// Number within its domain, from 0.
    n: u64,
    ua: &'static str,
    class: UaClass,
    ip: IpAddr,
    country: u8,
    cookie: bool,
    dnt: bool,
    gpc: bool,
    consent: Consent,
    opted_out: bool,
}

/// What a visit does next.
#[derive(Clone, Copy, Debug)]
enum Action {
    PageView,
    Scroll(u8),
    Click { x: u16, y: u16, target: u8 },
    Custom(CustomDef, u16),
    FormView,
    Focus(u8),
    Key(u8, KeyKind),
    Blur(u8),
    Submit,
}

/// One visit in flight.
#[derive(Debug)]
struct Session {
    site: usize,
    visitor: Visitor,
    verdict: Ingested,
    client_id: Option<String>,
    session_id: Option<String>,
    token: Option<String>,
    pages_left: u8,
    page: usize,
    url: String,
    /// The referrer of the current page's view, taken when it is emitted.
    referrer: Option<String>,
    /// Actions on the current page, each with its delay after the previous.
    plan: Vec<(u32, Action)>,
    pos: usize,
    /// Values of the form being filled in.
    values: Vec<String>,
    ts: i64,
}

/// A domain's arrivals of the current day: the sorted arrival times are
/// drawn one by one, as the order statistics of uniform draws, so no day is
/// ever held in memory.
#[derive(Debug)]
struct Arrivals {
    day: u32,
    left: u32,
    returning_left: u32,
    /// The largest of the `left` remaining uniform draws is below this.
    cur: f64,
}

#[derive(Debug)]
struct Site {
    name: String,
    base: String,
    pages: Vec<Page>,
    zipf: Weighted,
    policy: ConsentPolicy,
    next_visitor: u64,
    sessions: u64,
    pool: Vec<Visitor>,
    today: Vec<Visitor>,
    arrivals: Arrivals,
}

/// A stream of generated hits, in time order, with the running
/// [`GeneratedTruth`] of what it yielded. Memory stays bounded by the visits
/// in flight and the remembered returning visitors (at most 100,000 per
/// domain), whatever the number of days.
#[derive(Debug)]
pub struct Workload {
    cfg: WorkloadConfig,
    rng: StdRng,
    sites: Vec<Site>,
    heap: BinaryHeap<Reverse<(i64, u64, u32)>>,
    seq: u64,
    slab: Vec<Option<Session>>,
    free: Vec<u32>,
    start_day: i64,
    diurnal: [f64; 25],
    countries: Weighted,
    /// Per country: its IPv4 and its IPv6 networks.
    nets: Vec<(Vec<Net>, Vec<Net>)>,
    humans: Weighted,
    bots: Weighted,
    referrers: Weighted,
    pages_per_visit: Weighted,
    tokens: Vec<String>,
    truth: GeneratedTruth,
}

impl Workload {
    /// A workload for `cfg`. Nothing is generated until it is iterated.
    #[must_use]
    pub fn new(mut cfg: WorkloadConfig) -> Workload {
        for s in [
            &mut cfg.returning_share,
            &mut cfg.cookieless_share,
            &mut cfg.bot_share,
            &mut cfg.opt_out_share,
            &mut cfg.dnt_share,
            &mut cfg.gpc_share,
            &mut cfg.consent_granted_share,
            &mut cfg.consent_denied_share,
            &mut cfg.form_submit_share,
        ] {
            *s = if s.is_nan() { 0.0 } else { s.clamp(0.0, 1.0) };
        }
        let mut nets: Vec<(Vec<Net>, Vec<Net>)> = vec![(Vec::new(), Vec::new()); COUNTRIES.len()];
        for (cidr, code) in COUNTRY_NETWORKS {
            if let (Some(net), Some(i)) = (
                Net::parse(cidr),
                COUNTRIES.iter().position(|(c, _)| c == code),
            ) && let Some(slot) = nets.get_mut(i)
            {
                if net.is_v6() {
                    slot.1.push(net);
                } else {
                    slot.0.push(net);
                }
            }
        }
        let mut diurnal = [0.0; 25];
        for (h, w) in HOURLY.iter().enumerate() {
            diurnal[h + 1] = diurnal[h] + w;
        }
        let start_day = cfg.start.millis().div_euclid(MS_PER_DAY);
        let new_per_domain = cfg.new_visitors_per_domain();
        let mut tokens = Vec::new();
        let mut sites = Vec::with_capacity(cfg.domains.len());
        let mut domains = Vec::with_capacity(cfg.domains.len());
        for (d, name) in cfg.domains.iter().enumerate() {
            for n in 0..new_per_domain {
                if is_opted_out(&cfg, d, n) {
                    tokens.push(opt_out_token(cfg.seed, d, n));
                }
            }
            let pages = catalog::site_pages(name);
            domains.push(truth::DomainTruth::new(
                name.clone(),
                pages.iter().map(|p| p.path.clone()).collect(),
                COUNTRIES.len(),
            ));
            sites.push(Site {
                name: name.clone(),
                base: format!("https://{name}"),
                zipf: Weighted::zipf(pages.len(), 1.05),
                pages,
                policy: cfg.policy_for(name),
                next_visitor: 0,
                sessions: 0,
                pool: Vec::new(),
                today: Vec::new(),
                arrivals: Arrivals {
                    day: 0,
                    left: 0,
                    returning_left: 0,
                    cur: 1.0,
                },
            });
        }
        let mut w = Workload {
            rng: StdRng::seed_from_u64(cfg.seed),
            sites,
            heap: BinaryHeap::new(),
            seq: 0,
            slab: Vec::new(),
            free: Vec::new(),
            start_day,
            diurnal,
            countries: Weighted::new(COUNTRIES.iter().map(|&(_, w)| f64::from(w))),
            nets,
            humans: Weighted::new(HUMAN_AGENTS.iter().map(|&(_, w, _)| f64::from(w))),
            bots: Weighted::new(BOT_AGENTS.iter().map(|&(_, w)| f64::from(w))),
            referrers: Weighted::new(REFERRERS.iter().map(|&(_, w)| f64::from(w))),
            pages_per_visit: Weighted::new(PAGES_PER_VISIT),
            tokens,
            truth: GeneratedTruth {
                hits: 0,
                by_kind: KindCounts::default(),
                outcomes: Outcomes::default(),
                domains,
            },
            cfg,
        };
        for d in 0..w.sites.len() {
            w.start_day_of(d, 0);
        }
        w
    }

    /// The configuration (with shares clamped to 0..=1).
    #[must_use]
    pub fn config(&self) -> &WorkloadConfig {
        &self.cfg
    }

    /// The opt-out tokens of every opted-out visitor this workload will
    /// generate, known before the first hit: pass each to
    /// [`Db::opt_out`](pledgedb_core::Db::opt_out) before ingesting. Each
    /// token appears in at least one hit.
    #[must_use]
    pub fn opt_out_tokens(&self) -> &[String] {
        &self.tokens
    }

    /// What was generated so far. Complete once the iterator returned
    /// `None`.
    #[must_use]
    pub fn truth(&self) -> &GeneratedTruth {
        &self.truth
    }

    /// The truth, consuming the workload.
    #[must_use]
    pub fn into_truth(self) -> GeneratedTruth {
        self.truth
    }

    fn push(&mut self, ts: i64, slot: u32) {
        self.seq += 1;
        self.heap.push(Reverse((ts, self.seq, slot)));
    }

    /// Starts day `day` of domain `d`, or ends its arrivals after the last
    /// day. Visitors of the previous day become returning candidates.
    fn start_day_of(&mut self, d: usize, day: u32) {
        let vpd = self.cfg.visitors_per_day;
        let returning = self.cfg.returning_on(day);
        let Some(site) = self.sites.get_mut(d) else {
            return;
        };
        let today = std::mem::take(&mut site.today);
        for v in today {
            if site.pool.len() < POOL_CAP {
                site.pool.push(v);
            } else {
                let i = self.rng.random_range(0..site.pool.len());
                if let Some(slot) = site.pool.get_mut(i) {
                    *slot = v;
                }
            }
        }
        if day >= self.cfg.days || vpd == 0 {
            site.arrivals.left = 0;
            return;
        }
        site.arrivals = Arrivals {
            day,
            left: vpd,
            returning_left: returning,
            cur: 1.0,
        };
        let ts = self.next_arrival_ts(d);
        self.push(ts, ARRIVAL | d as u32);
    }

    /// The time of domain `d`'s next arrival (`left` must be at least 1).
    fn next_arrival_ts(&mut self, d: usize) -> i64 {
        let v: f64 = self.rng.random();
        let Some(site) = self.sites.get_mut(d) else {
            return 0;
        };
        let a = &mut site.arrivals;
        a.cur *= v.powf(1.0 / f64::from(a.left.max(1)));
        let u = 1.0 - a.cur;
        // Inverse of the piecewise-linear cumulative diurnal curve.
        let total = self.diurnal[24];
        let target = u * total;
        let h = self.diurnal[1..].partition_point(|&c| c <= target).min(23);
        let w = HOURLY[h];
        let frac = if w > 0.0 {
            ((target - self.diurnal[h]) / w).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let ms = (((h as f64) + frac) * 3_600_000.0) as i64;
        let day = self.start_day + i64::from(a.day);
        day * MS_PER_DAY + ms.min(MS_PER_DAY - 1)
    }

    fn new_visitor(&mut self, d: usize) -> Visitor {
        let Some(site) = self.sites.get_mut(d) else {
            return self.fallback_visitor();
        };
        let n = site.next_visitor;
        site.next_visitor += 1;
        let opted_out = is_opted_out(&self.cfg, d, n);
        let bot = !opted_out && chance(&mut self.rng, self.cfg.bot_share);
        let (ua, class) = if bot {
            let i = self.bots.index(self.rng.random());
            (BOT_AGENTS.get(i).map_or("", |a| a.0), UaClass::Bot)
        } else {
            let i = self.humans.index(self.rng.random());
            HUMAN_AGENTS
                .get(i)
                .map_or(("", UaClass::Desktop), |a| (a.0, a.2))
        };
        // Crawlers come from the first country (the US).
        let country = if bot {
            0
        } else {
            self.countries.index(self.rng.random())
        };
        let ip = self.draw_ip(country);
        let human = !bot;
        let cookie = human && !chance(&mut self.rng, self.cfg.cookieless_share);
        let dnt = human && chance(&mut self.rng, self.cfg.dnt_share);
        let gpc = human && chance(&mut self.rng, self.cfg.gpc_share);
        let consent = if bot {
            Consent::Unknown
        } else {
            let u: f64 = self.rng.random();
            if u < self.cfg.consent_granted_share {
                Consent::Granted
            } else if u < self.cfg.consent_granted_share + self.cfg.consent_denied_share {
                Consent::Denied
            } else {
                Consent::Unknown
            }
        };
        if let Some(t) = self.truth.domains.get_mut(d) {
            t.new_visitors += 1;
        }
        Visitor {
            n,
            ua,
            class,
            ip,
            country: country as u8,
            cookie,
            dnt,
            gpc,
            consent,
            opted_out,
        }
    }

    fn fallback_visitor(&self) -> Visitor {
        Visitor {
            n: 0,
            ua: "",
            class: UaClass::Desktop,
            ip: IpAddr::from([192, 0, 2, 1]),
            country: 0,
            cookie: false,
            dnt: false,
            gpc: false,
            consent: Consent::Unknown,
            opted_out: false,
        }
    }

    fn draw_ip(&mut self, country: usize) -> IpAddr {
        let Some((v4, v6)) = self.nets.get(country) else {
            return IpAddr::from([192, 0, 2, 1]);
        };
        let use_v6 = !v6.is_empty() && (v4.is_empty() || self.rng.random::<f64>() < IPV6_SHARE);
        let list = if use_v6 { v6 } else { v4 };
        if list.is_empty() {
            return IpAddr::from([192, 0, 2, 1]);
        }
        let i = self.rng.random_range(0..list.len());
        let r: u128 = self.rng.random();
        list.get(i)
            .map_or(IpAddr::from([192, 0, 2, 1]), |n| n.host(r))
    }

    /// Handles the arrival of a visit on domain `d` at `ts`.
    fn arrive(&mut self, d: usize, ts: i64) {
        let (left, returning_left, day) = match self.sites.get(d) {
            Some(s) => (s.arrivals.left, s.arrivals.returning_left, s.arrivals.day),
            None => return,
        };
        let returning = returning_left > 0
            && self.rng.random_range(0..left.max(1)) < returning_left
            && self.sites.get(d).is_some_and(|s| !s.pool.is_empty());
        let visitor = if returning {
            let pool_len = self.sites.get(d).map_or(0, |s| s.pool.len());
            let i = self.rng.random_range(0..pool_len.max(1));
            let mut v = self
                .sites
                .get(d)
                .and_then(|s| s.pool.get(i).copied())
                .unwrap_or_else(|| self.fallback_visitor());
            // Phones and laptops move: some come back from another address.
            if self.rng.random::<f64>() < 0.15 {
                v.ip = self.draw_ip(usize::from(v.country));
            }
            v
        } else {
            self.new_visitor(d)
        };
        if let Some(site) = self.sites.get_mut(d) {
            site.arrivals.left = left.saturating_sub(1);
            if returning {
                site.arrivals.returning_left = returning_left - 1;
            } else {
                site.today.push(visitor);
            }
        }
        if let Some(t) = self.truth.domains.get_mut(d) {
            t.sessions += 1;
            if returning {
                t.returning_sessions += 1;
            }
        }
        self.start_session(d, visitor, ts);
        if left > 1 {
            let next = self.next_arrival_ts(d);
            self.push(next, ARRIVAL | d as u32);
        } else {
            self.start_day_of(d, day + 1);
        }
    }

    fn start_session(&mut self, d: usize, v: Visitor, ts: i64) {
        let seed = self.cfg.seed;
        let Some(site) = self.sites.get_mut(d) else {
            return;
        };
        let session_no = site.sessions;
        site.sessions += 1;
        let verdict = expected_verdict(&v, &site.policy);
        let bot = v.class == UaClass::Bot;
        let pages = if bot {
            self.rng.random_range(1..=5u8)
        } else {
            (self.pages_per_visit.index(self.rng.random()) + 1) as u8
        };
        let landing = if bot {
            self.rng.random_range(0..site.pages.len().max(1))
        } else {
            site.zipf.index(self.rng.random())
        };
        let mut url = String::with_capacity(64);
        url.push_str(&site.base);
        url.push_str(site.pages.get(landing).map_or("/", |p| p.path.as_str()));
        if !bot && chance(&mut self.rng, CAMPAIGN_SHARE) {
            let i = self.rng.random_range(0..CAMPAIGNS.len());
            url.push_str(CAMPAIGNS.get(i).copied().unwrap_or(""));
        }
        let referrer = if bot {
            None
        } else {
            let i = self.referrers.index(self.rng.random());
            REFERRERS.get(i).and_then(|r| r.0).map(str::to_string)
        };
        let mut s = Session {
            site: d,
            visitor: v,
            verdict,
            client_id: v
                .cookie
                .then(|| format!("pl.{:016x}", mix3(seed ^ SALT_CLIENT, d as u64, v.n))),
            session_id: v
                .cookie
                .then(|| format!("{:016x}", mix3(seed ^ SALT_SESSION, d as u64, session_no))),
            token: v.opted_out.then(|| opt_out_token(seed, d, v.n)),
            pages_left: pages,
            page: landing,
            url,
            referrer,
            plan: Vec::with_capacity(16),
            pos: 0,
            values: Vec::new(),
            ts,
        };
        self.plan_page(&mut s, 0);
        let slot = match self.free.pop() {
            Some(i) => {
                if let Some(e) = self.slab.get_mut(i as usize) {
                    *e = Some(s);
                }
                i
            }
            None => {
                self.slab.push(Some(s));
                (self.slab.len() - 1) as u32
            }
        };
        self.push(ts, slot);
    }

    /// Plans what the visit does on its current page; the page view comes
    /// `delay` ms after the previous action.
    fn plan_page(&mut self, s: &mut Session, delay: u32) {
        s.plan.clear();
        s.pos = 0;
        s.plan.push((delay, Action::PageView));
        if s.visitor.class == UaClass::Bot {
            return;
        }
        let rng = &mut self.rng;
        let width: u16 = match s.visitor.class {
            UaClass::Desktop => 1440,
            UaClass::Tablet => 820,
            _ => 390,
        };
        let mut scrolls = if chance(rng, 0.8) {
            rng.random_range(1..=4u8)
        } else {
            0
        };
        let mut clicks = match rng.random_range(0..100u8) {
            0..40 => 0u8,
            40..75 => 1,
            75..90 => 2,
            _ => 3,
        };
        let mut depth: u8 = rng.random_range(10..=40);
        let mut y_max: u16 = 900;
        while scrolls > 0 || clicks > 0 {
            if scrolls > 0 && (clicks == 0 || chance(rng, 0.5)) {
                s.plan
                    .push((rng.random_range(1_500..15_000), Action::Scroll(depth)));
                y_max = y_max.saturating_add(700);
                scrolls = if depth >= 100 { 0 } else { scrolls - 1 };
                depth = depth.saturating_add(rng.random_range(10..=35)).min(100);
            } else {
                let target = rng.random_range(0..CLICK_TARGETS.len()) as u8;
                s.plan.push((
                    rng.random_range(1_000..20_000),
                    Action::Click {
                        x: rng.random_range(0..width),
                        y: rng.random_range(0..y_max),
                        target,
                    },
                ));
                clicks -= 1;
            }
        }
        let Some(site) = self.sites.get(s.site) else {
            return;
        };
        let Some(page) = site.pages.get(s.page) else {
            return;
        };
        if let Some(c) = page.custom {
            let (p, value) = match c {
                CustomDef::AddToCart => (0.12, rng.random_range(5..300u16)),
                CustomDef::CopyCode => (0.15, rng.random_range(0..CODE_LANGS.len()) as u16),
                CustomDef::Share => (0.04, rng.random_range(0..SHARE_NETWORKS.len()) as u16),
            };
            if chance(rng, p) {
                s.plan
                    .push((rng.random_range(2_000..20_000), Action::Custom(c, value)));
            }
        }
        if let Some(form) = page.form {
            let submit = chance(rng, self.cfg.form_submit_share);
            plan_form(rng, s, form, submit);
            if !submit && chance(rng, 0.5) {
                // Gave up on the form and left the site.
                s.pages_left = 1;
            }
        }
    }

    /// Moves the visit to its next page, or ends it. Returns whether it
    /// goes on.
    fn next_page(&mut self, s: &mut Session) -> bool {
        if s.pages_left <= 1 {
            return false;
        }
        s.pages_left -= 1;
        let Some(site) = self.sites.get(s.site) else {
            return false;
        };
        let n = site.pages.len().max(1);
        let bot = s.visitor.class == UaClass::Bot;
        let mut next = if bot {
            self.rng.random_range(0..n)
        } else {
            site.zipf.index(self.rng.random())
        };
        if next == s.page {
            next = site.zipf.index(self.rng.random());
        }
        s.page = next;
        let mut url = String::with_capacity(s.url.len() + 16);
        url.push_str(&site.base);
        url.push_str(site.pages.get(next).map_or("/", |p| p.path.as_str()));
        let prev = std::mem::replace(&mut s.url, url);
        s.referrer = Some(prev);
        let delay = if bot {
            self.rng.random_range(500..4_000)
        } else {
            let u: f64 = self.rng.random();
            let tail = (-(1.0 - u).ln() * 20_000.0).min(600_000.0) as u32;
            3_000 + tail
        };
        self.plan_page(s, delay);
        true
    }

    /// Emits the current action of a visit as a hit and counts it.
    fn emit(&mut self, s: &mut Session) -> Option<Hit> {
        let &(_, action) = s.plan.get(s.pos)?;
        let site = self.sites.get(s.site)?;
        let page = site.pages.get(s.page)?;
        let form = page.form;
        let field = |i: u8| -> (String, String) {
            let f = form.and_then(|f| f.fields.get(usize::from(i)));
            (
                form.map_or("", |f| f.name).to_string(),
                f.map_or("", |f| f.name).to_string(),
            )
        };
        let mut sensitive = 0u64;
        let kind = match action {
            Action::PageView => HitKind::PageView {
                referrer: s.referrer.take(),
            },
            Action::Scroll(depth) => HitKind::Scroll { depth },
            Action::Click { x, y, target } => HitKind::Click {
                x: i32::from(x),
                y: i32::from(y),
                target: CLICK_TARGETS
                    .get(usize::from(target))
                    .copied()
                    .unwrap_or("a")
                    .to_string(),
            },
            Action::Custom(c, value) => custom_kind(c, value, &page.path),
            Action::FormView => HitKind::FormView {
                form: form.map_or("", |f| f.name).to_string(),
            },
            Action::Focus(i) => {
                let (form, field) = field(i);
                HitKind::FieldFocus { form, field }
            }
            Action::Key(i, key) => {
                let (form, field) = field(i);
                HitKind::Keystroke { form, field, key }
            }
            Action::Blur(i) => {
                let (form, field) = field(i);
                HitKind::FieldBlur { form, field }
            }
            Action::Submit => {
                let values = std::mem::take(&mut s.values);
                let defs = form.map_or(&[][..], |f| f.fields);
                let fields = defs
                    .iter()
                    .zip(values)
                    .map(|(def, value)| {
                        if def.sensitive {
                            sensitive += 1;
                        }
                        FormField {
                            name: def.name.to_string(),
                            value,
                            input_type: Some(def.input_type.to_string()),
                            autocomplete: def.autocomplete.map(str::to_string),
                            sensitive: false,
                        }
                    })
                    .collect();
                HitKind::FormSubmit {
                    form: form.map_or("", |f| f.name).to_string(),
                    fields,
                }
            }
        };
        let v = &s.visitor;
        let hit = Hit {
            domain: site.name.clone(),
            timestamp: Some(Timestamp(s.ts)),
            url: s.url.clone(),
            ip: Some(v.ip),
            user_agent: Some(v.ua.to_string()),
            client_id: s.client_id.clone(),
            session_id: s.session_id.clone(),
            opt_out_token: s.token.clone(),
            dnt: v.dnt,
            gpc: v.gpc,
            consent: v.consent,
            kind,
        };
        self.count(s, &hit, sensitive);
        Some(hit)
    }

    fn count(&mut self, s: &Session, hit: &Hit, sensitive: u64) {
        let verdict = verdict_for_hit(s.verdict, hit);
        let t = &mut self.truth;
        t.hits += 1;
        t.by_kind.add(&hit.kind);
        t.outcomes.record(verdict);
        let Some(d) = t.domains.get_mut(s.site) else {
            return;
        };
        d.hits += 1;
        d.by_kind.add(&hit.kind);
        d.outcomes.record(verdict);
        if hit.client_id.is_none() {
            d.cookieless_hits += 1;
        }
        if s.visitor.class == UaClass::Bot {
            d.bot_hits += 1;
        }
        match &hit.kind {
            HitKind::FormView { .. } => d.form_views += 1,
            HitKind::FormSubmit { .. } => {
                d.form_submits += 1;
                d.sensitive_fields_submitted += sensitive;
            }
            _ => {}
        }
        if matches!(verdict, Ingested::Queued | Ingested::QueuedAnonymous) {
            if let Some(c) = d.stored_by_page.get_mut(s.page) {
                *c += 1;
            }
            if let Some(c) = d.stored_by_country.get_mut(usize::from(s.visitor.country)) {
                *c += 1;
            }
        }
    }
}

impl Iterator for Workload {
    type Item = Hit;

    fn next(&mut self) -> Option<Hit> {
        loop {
            let Reverse((ts, _, slot)) = self.heap.pop()?;
            if slot & ARRIVAL != 0 {
                self.arrive((slot & !ARRIVAL) as usize, ts);
                continue;
            }
            let Some(mut s) = self.slab.get_mut(slot as usize).and_then(Option::take) else {
                continue;
            };
            s.ts = ts;
            let hit = self.emit(&mut s);
            s.pos += 1;
            let goes_on = if let Some(&(delay, _)) = s.plan.get(s.pos) {
                s.ts += i64::from(delay);
                true
            } else if self.next_page(&mut s) {
                s.ts += i64::from(s.plan.first().map_or(0, |p| p.0));
                true
            } else {
                false
            };
            if goes_on {
                let next_ts = s.ts;
                if let Some(e) = self.slab.get_mut(slot as usize) {
                    *e = Some(s);
                }
                self.push(next_ts, slot);
            } else {
                self.free.push(slot);
            }
            if hit.is_some() {
                return hit;
            }
        }
    }
}

/// Whether visitor `n` of domain `d` opted out: a hash of the seed, so the
/// tokens are known before any hit is generated.
fn is_opted_out(cfg: &WorkloadConfig, d: usize, n: u64) -> bool {
    unit(mix3(cfg.seed ^ SALT_OPT_OUT, d as u64, n)) < cfg.opt_out_share
}

fn opt_out_token(seed: u64, d: usize, n: u64) -> String {
    format!("optout-{:016x}", mix3(seed ^ SALT_TOKEN, d as u64, n))
}

/// What the engine should do with a visitor's hits under `policy`, once
/// the opt-out tokens are registered: the engine's gate, in its order.
/// The session's verdict for one of its hits: the engine drops a keystroke
/// in a sensitive field that the gate let through.
pub(crate) fn verdict_for_hit(session: Ingested, hit: &Hit) -> Ingested {
    let stored = matches!(session, Ingested::Queued | Ingested::QueuedAnonymous);
    match &hit.kind {
        HitKind::Keystroke { form, field, .. } if stored => {
            let s = pledgedb_core::DomainSettings::default();
            if s.is_sensitive_name(form) || s.is_sensitive_name(field) {
                Ingested::Dropped(DropReason::SensitiveKeystroke)
            } else {
                session
            }
        }
        _ => session,
    }
}

fn expected_verdict(v: &Visitor, policy: &ConsentPolicy) -> Ingested {
    if v.opted_out {
        return Ingested::Dropped(DropReason::OptedOut);
    }
    if v.dnt && policy.honour_dnt {
        return Ingested::Dropped(DropReason::DoNotTrack);
    }
    if v.gpc && policy.honour_gpc {
        return Ingested::Dropped(DropReason::GlobalPrivacyControl);
    }
    let consented = match v.consent {
        Consent::Granted => true,
        Consent::Denied => false,
        Consent::Unknown => !policy.require_consent,
    };
    if consented {
        // Every hit carries an IP, so a cookieless visitor is identified too.
        Ingested::Queued
    } else {
        match policy.without_consent {
            WithoutConsent::Drop => Ingested::Dropped(DropReason::NoConsent),
            WithoutConsent::Anonymous => Ingested::QueuedAnonymous,
        }
    }
}

fn custom_kind(c: CustomDef, value: u16, path: &str) -> HitKind {
    match c {
        CustomDef::AddToCart => HitKind::Custom {
            name: "add_to_cart".to_string(),
            props: vec![
                (
                    "item".to_string(),
                    HitProp::Text(path.rsplit('/').next().unwrap_or("").to_string()),
                ),
                (
                    "price_cents".to_string(),
                    HitProp::Int(i64::from(value) * 100 - 1),
                ),
                ("currency".to_string(), HitProp::Text("EUR".to_string())),
            ],
        },
        CustomDef::CopyCode => HitKind::Custom {
            name: "copy_code".to_string(),
            props: vec![(
                "lang".to_string(),
                HitProp::Text(
                    CODE_LANGS
                        .get(usize::from(value))
                        .copied()
                        .unwrap_or("rust")
                        .to_string(),
                ),
            )],
        },
        CustomDef::Share => HitKind::Custom {
            name: "share".to_string(),
            props: vec![(
                "network".to_string(),
                HitProp::Text(
                    SHARE_NETWORKS
                        .get(usize::from(value))
                        .copied()
                        .unwrap_or("email")
                        .to_string(),
                ),
            )],
        },
    }
}

/// Plans a form: shown, fields focused, typed into (character and delete
/// keys only) and left, then submitted, or abandoned part-way.
fn plan_form(rng: &mut StdRng, s: &mut Session, form: &'static FormDef, submit: bool) {
    let n = form.fields.len();
    s.values.clear();
    for f in form.fields {
        s.values.push(field_value(rng, f.value, s.visitor.n));
    }
    s.plan
        .push((rng.random_range(1_000..4_000), Action::FormView));
    // An abandoned form stops in field `stop`, part-typed.
    let stop = if submit {
        n
    } else {
        rng.random_range(0..n.max(1))
    };
    for (i, value) in s.values.iter().enumerate().take(stop + 1).take(n) {
        let fi = i as u8;
        s.plan
            .push((rng.random_range(400..2_500), Action::Focus(fi)));
        let len = value.chars().count();
        let typed = if i < stop {
            len
        } else {
            rng.random_range(0..=len)
        };
        for _ in 0..typed {
            if chance(rng, 0.05) {
                // A typo, corrected.
                s.plan.push((
                    rng.random_range(70..320),
                    Action::Key(fi, KeyKind::Character),
                ));
                s.plan
                    .push((rng.random_range(150..600), Action::Key(fi, KeyKind::Delete)));
            }
            s.plan.push((
                rng.random_range(70..320),
                Action::Key(fi, KeyKind::Character),
            ));
        }
        if i < stop {
            s.plan
                .push((rng.random_range(200..1_200), Action::Blur(fi)));
        }
    }
    if submit {
        s.plan.push((rng.random_range(800..3_000), Action::Submit));
    } else {
        s.values.clear();
    }
}

fn pick<'a>(rng: &mut StdRng, list: &[&'a str]) -> &'a str {
    list.get(rng.random_range(0..list.len().max(1)))
        .copied()
        .unwrap_or("")
}

/// A made-up value for a form field. Names are tied to the visitor number,
/// so a returning visitor types the same name and address.
fn field_value(rng: &mut StdRng, kind: ValueKind, n: u64) -> String {
    let h = mix(n);
    let first = FIRST_NAMES
        .get((h % FIRST_NAMES.len() as u64) as usize)
        .copied()
        .unwrap_or("Alex");
    let last = LAST_NAMES
        .get(((h >> 16) % LAST_NAMES.len() as u64) as usize)
        .copied()
        .unwrap_or("Smith");
    match kind {
        ValueKind::Email => format!(
            "{}.{}{}@mail.example",
            first.to_ascii_lowercase(),
            last.to_ascii_lowercase(),
            n % 100
        ),
        ValueKind::Name => format!("{first} {last}"),
        ValueKind::Address => format!(
            "{} {}",
            (h >> 32) % 200 + 1,
            STREETS
                .get(((h >> 40) % STREETS.len() as u64) as usize)
                .copied()
                .unwrap_or("Example Street")
        ),
        ValueKind::Password => {
            const CHARS: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789!#%";
            let len = rng.random_range(10..=16);
            (0..len)
                .map(|_| {
                    char::from(
                        CHARS
                            .get(rng.random_range(0..CHARS.len()))
                            .copied()
                            .unwrap_or(b'x'),
                    )
                })
                .collect()
        }
        ValueKind::Card => pick(rng, TEST_CARDS).to_string(),
        ValueKind::Cvc => format!("{:03}", rng.random_range(0..1000)),
    }
}

#[cfg(test)]
mod tests;
