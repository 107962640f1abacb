//! A real server on a loopback port over a fresh data directory, for the
//! dashboard's tests.

use std::net::SocketAddr;
use std::sync::Arc;

use pledgedb_core::time::{ManualClock, Timestamp};
use pledgedb_core::{Config, Db};
use pledgedb_server::{Server, ServerConfig};

#[allow(dead_code)] // each test uses what it needs
pub struct Running {
    pub addr: SocketAddr,
    pub db: Db,
    pub clock: ManualClock,
    pub dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Running {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Starts a server whose engine's clock stands at `now`; `prepare` runs on
/// the engine before the server binds (register sites, ingest, ...).
pub fn start(now: Timestamp, prepare: impl FnOnce(&Db)) -> Running {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(now);
    let config = Config {
        clock: Arc::new(clock.clone()),
        create_domains_on_ingest: false,
        background_compaction: false,
        ..Config::default()
    };
    let db = Db::open(dir.path(), config).unwrap();
    prepare(&db);
    db.flush().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let server_db = db.clone();
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listen = SocketAddr::from(([127, 0, 0, 1], 0));
            let server = Server::bind(
                server_db,
                ServerConfig {
                    listen,
                    ..ServerConfig::default()
                },
            )
            .await
            .unwrap();
            addr_tx.send(server.local_addr().unwrap()).unwrap();
            server
                .run(async {
                    let _ = rx.await;
                })
                .await
                .unwrap();
        });
    });
    let addr = addr_rx.recv().unwrap();
    Running {
        addr,
        db,
        clock,
        dir,
        stop: Some(tx),
        thread: Some(thread),
    }
}

/// An HTTP agent that reports every status as a response (no error for
/// 4xx/5xx) and follows no redirect.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into()
}
