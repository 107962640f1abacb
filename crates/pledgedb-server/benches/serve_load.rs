//! A load generator for `pledgedb serve` on loopback: HTTP/1.1 keep-alive
//! clients against a real server over a fresh data directory.
//!
//! 1. Throughput: client threads send as fast as they can, single
//!    Plausible-shaped events to `POST /api/event` and batches of 50 hits
//!    to `POST /api/hits`; events accepted (202) per second.
//! 2. Latency: an open-loop pace of 5,000 events/s of single events;
//!    p50/p99/max of the request latency.
//!
//! Bounded in count and time: each phase stops after its event count or
//! its duration, whichever comes first. `PLEDGEDB_BENCH_QUICK=1` runs a
//! smoke of a few seconds (CI).
//!
//! `cargo bench -p pledgedb-server --bench serve_load`

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use pledgedb_core::Db;
use pledgedb_server::{Server, ServerConfig};

const SITE: &str = "load.example";

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

fn event_body(i: u64) -> String {
    format!(
        r#"{{"name":"pageview","url":"https://{SITE}/page/{}","domain":"{SITE}","referrer":"https://search.example/"}}"#,
        i % 200
    )
}

fn batch_body(i: u64, n: u64) -> String {
    let hits: Vec<String> = (0..n)
        .map(|k| {
            format!(
                r#"{{"type":"click","domain":"{SITE}","url":"https://{SITE}/page/{}","x":{},"y":{},"target":"a.nav"}}"#,
                (i + k) % 200,
                k * 3,
                k * 7
            )
        })
        .collect();
    format!("[{}]", hits.join(","))
}

struct Target {
    url_event: String,
    url_hits: String,
}

/// Client threads sending as fast as they can; returns (events accepted,
/// seconds).
fn throughput(
    t: &Target,
    threads: u64,
    per_request: u64,
    max_events: u64,
    max_time: Duration,
) -> (u64, f64) {
    let accepted = Arc::new(AtomicU64::new(0));
    let sent = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|th| {
            let accepted = Arc::clone(&accepted);
            let sent = Arc::clone(&sent);
            let (ue, uh) = (t.url_event.clone(), t.url_hits.clone());
            std::thread::spawn(move || {
                let a = agent();
                let mut i = th * 1_000_000;
                while start.elapsed() < max_time
                    && sent.fetch_add(per_request, Ordering::Relaxed) < max_events
                {
                    i += 1;
                    let r = if per_request == 1 {
                        a.post(&ue)
                            .header("Content-Type", "text/plain")
                            .header(
                                "User-Agent",
                                "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0",
                            )
                            .send(event_body(i))
                    } else {
                        a.post(&uh)
                            .header("Content-Type", "text/plain")
                            .header(
                                "User-Agent",
                                "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0",
                            )
                            .send(batch_body(i, per_request))
                    };
                    if let Ok(mut r) = r {
                        let _ = r.body_mut().read_to_string();
                        if r.status().as_u16() == 202 {
                            accepted.fetch_add(per_request, Ordering::Relaxed);
                        }
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    (
        accepted.load(Ordering::Relaxed),
        start.elapsed().as_secs_f64(),
    )
}

/// An open-loop pace of `rate` single events per second over `threads`
/// keep-alive connections; returns sorted latencies.
fn paced(t: &Target, rate: u64, threads: u64, duration: Duration) -> (Vec<Duration>, u64) {
    let per_thread = rate / threads;
    let interval = Duration::from_secs_f64(1.0 / per_thread as f64);
    let start = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|th| {
            let ue = t.url_event.clone();
            std::thread::spawn(move || {
                let a = agent();
                let mut lat = Vec::new();
                let mut failed = 0u64;
                let mut n = 0u64;
                loop {
                    let due = start + interval * n as u32;
                    if due.duration_since(start) >= duration {
                        break;
                    }
                    let now = Instant::now();
                    if due > now {
                        std::thread::sleep(due - now);
                    }
                    // latency from when the request was due (open loop:
                    // a late start counts against the server)
                    let r = a
                        .post(&ue)
                        .header("Content-Type", "text/plain")
                        .send(event_body(th * 1_000_000 + n));
                    match r {
                        Ok(mut r) => {
                            let _ = r.body_mut().read_to_string();
                            if r.status().as_u16() != 202 {
                                failed += 1;
                            }
                        }
                        Err(_) => failed += 1,
                    }
                    lat.push(Instant::now().duration_since(due.max(start)));
                    n += 1;
                }
                (lat, failed)
            })
        })
        .collect();
    let mut all = Vec::new();
    let mut failed = 0;
    for h in handles {
        let (l, f) = h.join().unwrap();
        all.extend(l);
        failed += f;
    }
    all.sort();
    (all, failed)
}

fn pct(v: &[Duration], p: f64) -> Duration {
    if v.is_empty() {
        return Duration::ZERO;
    }
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i]
}

fn main() {
    // `cargo bench -- --test` style arguments are ignored; quick mode is
    // chosen by the environment.
    let quick = std::env::var_os("PLEDGEDB_BENCH_QUICK").is_some()
        || std::env::args().any(|a| a == "--test");
    let dir = tempfile::tempdir().unwrap();
    let config = ServerConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        rate_per_second: 1e9,
        rate_burst: u32::MAX,
        ..ServerConfig::default()
    };
    let db = Db::open(dir.path(), pledgedb_server::cli::engine_config(&config)).unwrap();
    db.create_domain(SITE).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let server = rt.block_on(Server::bind(db.clone(), config)).unwrap();
    let addr = server.local_addr().unwrap();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let serving = rt.spawn(server.run(async move {
        let _ = stop_rx.await;
    }));
    let t = Target {
        url_event: format!("http://{addr}/api/event"),
        url_hits: format!("http://{addr}/api/hits"),
    };
    let (time, count) = if quick {
        (Duration::from_secs(2), 200_000)
    } else {
        (Duration::from_secs(10), 2_000_000)
    };
    println!(
        "serve_load: loopback, HTTP/1.1 keep-alive, {} client threads",
        4
    );
    let (n, secs) = throughput(&t, 4, 1, count, time);
    println!(
        "  single events  POST /api/event : {n} accepted in {secs:.2} s = {:.0} events/s",
        n as f64 / secs
    );
    let (n, secs) = throughput(&t, 4, 50, count * 5, time);
    println!(
        "  batches of 50  POST /api/hits  : {n} accepted in {secs:.2} s = {:.0} events/s",
        n as f64 / secs
    );
    let (lat, failed) = paced(&t, 5_000, 8, time);
    println!(
        "  paced 5,000 events/s (single events, 8 connections): {} requests, {failed} not 202, \
         p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        lat.len(),
        pct(&lat, 0.50).as_secs_f64() * 1e3,
        pct(&lat, 0.99).as_secs_f64() * 1e3,
        lat.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
    );
    let _ = stop_tx.send(());
    rt.block_on(serving).unwrap().unwrap();
    let stored = db
        .domain(SITE)
        .unwrap()
        .count(pledgedb_core::domain::TimeRange::all())
        .unwrap();
    println!("  stored after the final flush: {stored} events");
    db.close().unwrap();
}
