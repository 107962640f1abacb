//! Headless Chromium over WebDriver for the browser tests: Debian's
//! `chromium` and `chromium-driver` (installed by `.ci/run`). A missing
//! browser fails the test with a message; it never skips.
#![allow(dead_code)]

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder};

pub fn find_binary(names: &[&str]) -> Option<String> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for name in names {
        for dir in
            std::env::split_paths(&path).chain(["/usr/bin".into(), "/usr/lib/chromium".into()])
        {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p.to_string_lossy().into_owned());
            }
        }
    }
    None
}

pub struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn start_chromedriver() -> (Driver, u16, String) {
    let driver = find_binary(&["chromedriver"]).unwrap_or_else(|| {
        panic!(
            "chromedriver not found: install Debian's chromium and chromium-driver \
             (apt-get install -y chromium chromium-driver); .ci/run does"
        )
    });
    let chromium =
        find_binary(&["chromium", "chromium-browser", "google-chrome"]).unwrap_or_else(|| {
            panic!("chromium not found: install Debian's chromium (apt-get install -y chromium)")
        });
    let port = free_port();
    let child = Command::new(driver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver does not start");
    let d = Driver(child);
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not listen");
        std::thread::sleep(Duration::from_millis(50));
    }
    (d, port, chromium)
}

/// A headless Chromium session.
pub async fn browser(port: u16, chromium: &str) -> Client {
    browser_with(port, chromium, serde_json::json!({})).await
}

/// A headless Chromium session with these browser preferences.
pub async fn browser_with(port: u16, chromium: &str, prefs: serde_json::Value) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1200,800", "--no-first-run", "--disable-extensions"],
            "prefs": prefs
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("cannot start a Chromium session")
}

/// Writes a screenshot of the current page to `target/screenshots/NAME.png`
/// for a person to look at.
pub async fn screenshot(c: &Client, name: &str) {
    let png = c.screenshot().await.expect("a screenshot");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
}
