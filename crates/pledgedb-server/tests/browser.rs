//! The tracker in a real browser: headless Chromium driven over WebDriver
//! (Debian's `chromium` and `chromium-driver`, installed by `.ci/run`).
//! The test fails, never skips, when they are missing.
//!
//! A page server of the test (another port, another host name: a
//! cross-origin page as on a real site) serves pages that include
//! `pledge.full.js` from the PledgeDB server; the browser navigates
//! (including a pushState navigation), clicks, scrolls, types into a form
//! it never submits and submits another. Afterwards the engine holds
//! exactly the expected events and no file holds the un-submitted text.
//! With Global Privacy Control set, nothing arrives.

mod common;
mod webdriver;

use std::time::{Duration, Instant};

use axum::Router;
use axum::response::Html;
use axum::routing::get;
use common::TestServer;
use fantoccini::{Client, Locator};
use pledgedb_core::{Event, EventKind, KeyKind};
use webdriver::{browser, browser_with, start_chromedriver};

const UNSUBMITTED: &str = "Unsubmitted-Draft-Text-4417";
const PASSWORD: &str = "Hunter2-Password-9981";
const EMAIL: &str = "person@example.org";

fn page(script_src: &str, gpc: bool, domain: &str) -> String {
    // The GPC variant sets the signal before the tracker runs, as a
    // browser with GPC switched on does (Chromium has no switch for it).
    let gpc = if gpc {
        "<script>Object.defineProperty(navigator, 'globalPrivacyControl', {value: true});</script>"
    } else {
        ""
    };
    format!(
        r#"<!doctype html><html><head><title>shop</title>{gpc}
<script defer src="{script_src}" data-domain="{domain}"></script></head>
<body style="height: 4000px; margin: 0">
<button id="buy" class="cta big" style="position:absolute; left: 100px; top: 200px; width: 80px; height: 30px">Buy</button>
<form name="draft" style="position:absolute; top: 300px"><input name="note" type="text"></form>
<form name="signup" action="/thanks" method="get" style="position:absolute; top: 400px">
  <input name="email" type="email"><input name="pw" type="password">
  <button id="send" type="submit">Send</button></form>
</body></html>"#
    )
}

/// Polls the engine until `done` holds for the domain's events, bounded.
fn wait_for(s: &TestServer, domain: &str, done: impl Fn(&[Event]) -> bool) -> Vec<Event> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ev = s.events(domain);
        if done(&ev) || Instant::now() > deadline {
            return ev;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn has_submit(ev: &[Event]) -> bool {
    ev.iter()
        .any(|e| matches!(e.kind, EventKind::FormSubmit { .. }))
}

#[test]
fn the_tracker_in_chromium_records_exactly_what_happened_and_nothing_typed_unsubmitted() {
    let (_driver, wd_port, chromium) = start_chromedriver();
    // the test's pages on "localhost" (the PledgeDB server is on
    // 127.0.0.1: another origin); real time here: the browser's clock and
    // the server's must agree on "now" for the tracker's timestamps; the
    // manual clock follows it.
    let (s, page_origin, rt) = servers("localhost");
    let c = rt.block_on(browser(wd_port, &chromium));
    rt.block_on(async {
        open(&c, &format!("{page_origin}/page.html")).await;
        click(&c, "#buy").await;
        run(&c, "history.pushState({}, '', '/app/step2')").await;
        run(&c, "history.replaceState({}, '', '/app/step3')").await;
        // a fragment is no new page; going back to the first entry is
        run(&c, "location.hash = 'section'").await;
        run(&c, "history.back()").await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        run(&c, "history.back()").await;
        for _ in 0..100 {
            if run(&c, "return location.pathname").await == "/page.html" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        run(&c, "pledge('signup_start', {plan: 'pro', seats: 3})").await;
        run(
            &c,
            "window.scrollTo(0, document.documentElement.scrollHeight)",
        )
        .await;
        tokio::time::sleep(Duration::from_millis(700)).await; // the tracker's scroll debounce
        run(&c, "window.scrollTo(0, 0)").await;
        type_into(&c, "input[name=note]", UNSUBMITTED).await;
        type_into(&c, "input[name=email]", EMAIL).await;
        type_into(&c, "input[name=pw]", PASSWORD).await;
        click(&c, "#send").await;
    });
    let ev = wait_for(&s, "shop.example", has_submit);
    assert!(has_submit(&ev), "no form submit arrived: {:?}", kinds(&ev));

    let mut pageviews: Vec<&str> = ev
        .iter()
        .filter(|e| matches!(e.kind, EventKind::PageView { .. }))
        .map(|e| e.path.as_str())
        .collect();
    pageviews.sort_unstable();
    assert_eq!(
        pageviews,
        ["/app/step2", "/app/step3", "/page.html", "/page.html"]
    );
    let clicks: Vec<(i32, i32, &str)> = ev
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Click { x, y, target } if target.as_str() == "button#buy" => {
                Some((*x, *y, target.as_str()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(clicks.len(), 1, "{clicks:?}");
    let (x, y, _) = clicks[0];
    assert!(
        (100..180).contains(&x) && (200..230).contains(&y),
        "{x},{y}"
    );
    let scrolls: Vec<u8> = ev
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::Scroll { depth } => Some(depth),
            _ => None,
        })
        .collect();
    assert_eq!(scrolls, [100]);
    let mut forms: Vec<&str> = ev
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::FormView { form } => Some(form.as_str()),
            _ => None,
        })
        .collect();
    forms.sort_unstable();
    assert_eq!(forms, ["draft", "signup"]);
    let keys = |field: &str| {
        ev.iter()
            .filter(|e| {
                matches!(&e.kind, EventKind::Keystroke { field: f, key: KeyKind::Character, .. } if f.as_str() == field)
            })
            .count()
    };
    assert_eq!(keys("note"), UNSUBMITTED.chars().count());
    assert_eq!(keys("email"), EMAIL.chars().count());
    assert_eq!(keys("pw"), 0, "keystrokes in a password field");
    let focus = |field: &str| {
        ev.iter()
            .filter(|e| matches!(&e.kind, EventKind::FieldFocus { field: f, .. } if f.as_str() == field))
            .count()
    };
    assert_eq!((focus("note"), focus("email")), (1, 1));
    let submits: Vec<Vec<(String, String)>> = ev
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::FormSubmit { form, fields } if form.as_str() == "signup" => Some(
                fields
                    .iter()
                    .map(|f| (f.name.as_str().to_owned(), f.value.as_str().to_owned()))
                    .collect(),
            ),
            _ => None,
        })
        .collect();
    assert_eq!(submits, vec![vec![("email".to_owned(), EMAIL.to_owned())]]);
    let customs: Vec<&str> = ev
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Custom { name, .. } => Some(name.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(customs, ["signup_start"]);
    // every event is one of those kinds: nothing else arrived
    let expected = pageviews.len()
        + ev.iter()
            .filter(|e| matches!(e.kind, EventKind::Click { .. }))
            .count()
        + scrolls.len()
        + forms.len()
        + ev.iter()
            .filter(|e| {
                matches!(
                    e.kind,
                    EventKind::FieldFocus { .. }
                        | EventKind::FieldBlur { .. }
                        | EventKind::Keystroke { .. }
                )
            })
            .count()
        + submits.len()
        + customs.len();
    assert_eq!(ev.len(), expected);
    let bytes = s.all_bytes();
    let has = |n: &str| bytes.windows(n.len()).any(|w| w == n.as_bytes());
    assert!(!has(UNSUBMITTED), "the un-submitted text is in a file");
    assert!(!has(PASSWORD), "the password is in a file");
    assert!(has(EMAIL), "the submitted email is not stored");

    // Global Privacy Control: nothing arrives. A control page for another
    // site is loaded after it, so once the control's page view is in,
    // anything the GPC page had sent would be too.
    let before = s.events("shop.example").len();
    rt.block_on(async {
        visit_and_act(&c, &format!("{page_origin}/gpc.html"), "gpc").await;
        c.goto(&format!("{page_origin}/control.html"))
            .await
            .unwrap();
        c.goto(&format!("{page_origin}/thanks")).await.unwrap();
    });
    let control = wait_for(&s, "control.example", |e| !e.is_empty());
    assert!(!control.is_empty(), "the control page's view never arrived");
    assert_eq!(
        s.events("shop.example").len(),
        before,
        "a GPC browser sent something"
    );
    rt.block_on(c.close()).unwrap();
}

fn kinds(ev: &[Event]) -> Vec<&'static str> {
    ev.iter().map(|e| e.kind.event_type().as_str()).collect()
}

/// The PledgeDB server (`shop.example` and `control.example`; the pages
/// may send for them) and the test's page server on `page_host`, another
/// port: a cross-origin page as on a real site. Returns the server, the
/// pages' origin and the runtime that serves them.
fn servers(page_host: &str) -> (TestServer, String, tokio::runtime::Runtime) {
    let pages = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let page_origin = format!("http://{page_host}:{}", pages.local_addr().unwrap().port());
    let s = TestServer::start(&["shop.example", "control.example"], |c| {
        c.extra_origins = vec![page_origin.clone()];
    });
    let rt = runtime();
    page_server(
        &rt,
        pages,
        &format!("http://127.0.0.1:{}/pledge.full.js", s.addr.port()),
    );
    (s, page_origin, rt)
}

/// The test's page server, serving `/page.html` (the tracker for
/// `shop.example`), `/gpc.html` (the same with Global Privacy Control on),
/// `/control.html` (for `control.example`) and `/thanks`.
fn page_server(rt: &tokio::runtime::Runtime, pages: std::net::TcpListener, script: &str) {
    let normal = page(script, false, "shop.example");
    let gpc = page(script, true, "shop.example");
    let control = page(script, false, "control.example");
    let app = Router::new()
        .route("/page.html", get(move || async move { Html(normal) }))
        .route("/gpc.html", get(move || async move { Html(gpc) }))
        .route("/control.html", get(move || async move { Html(control) }))
        .route(
            "/thanks",
            get(|| async { Html("<!doctype html><p>thanks</p>") }),
        );
    pages.set_nonblocking(true).unwrap();
    rt.spawn(async move {
        let l = tokio::net::TcpListener::from_std(pages).unwrap();
        axum::serve(l, app).await.unwrap();
    });
}

/// Runs a script in the page; its result.
async fn run(c: &Client, script: &str) -> serde_json::Value {
    c.execute(script, vec![]).await.unwrap()
}

/// Clicks the element `css`.
async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// Types `text` into the element `css`.
async fn type_into(c: &Client, css: &str, text: &str) {
    let field = c.find(Locator::Css(css)).await.unwrap();
    field.send_keys(text).await.unwrap();
}

/// Opens `url` and waits (bounded) for the tracker to load.
async fn open(c: &Client, url: &str) {
    c.goto(url).await.unwrap();
    for _ in 0..100 {
        if run(c, "return typeof window.pledge").await == "function" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Opens a page, clicks its button, sends a custom event and types `typed`
/// into the form it never submits.
async fn visit_and_act(c: &Client, url: &str, typed: &str) {
    open(c, url).await;
    click(c, "#buy").await;
    run(c, "pledge('signup_start', {})").await;
    type_into(c, "input[name=note]", typed).await;
}

/// On the opt-out page at `url`, clicks `button` and waits (bounded) for
/// the page to show `state`; whether it does.
async fn choose(c: &Client, url: &str, button: &str, state: &str) -> bool {
    c.goto(url).await.unwrap();
    click(c, button).await;
    let shown = format!("[data-state={state}]");
    for _ in 0..100 {
        if c.find(Locator::Css(&shown)).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    c.find(Locator::Css(&shown)).await.is_ok()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn with_do_not_track_switched_on_in_chromium_nothing_arrives() {
    let (_driver, wd_port, chromium) = start_chromedriver();
    let (s, page_origin, rt) = servers("localhost");
    let c = rt.block_on(browser_with(
        wd_port,
        &chromium,
        serde_json::json!({"enable_do_not_track": true}),
    ));
    let dnt = rt.block_on(async {
        visit_and_act(&c, &format!("{page_origin}/page.html"), "abc").await;
        let dnt = run(&c, "return navigator.doNotTrack").await;
        c.goto(&format!("{page_origin}/thanks")).await.unwrap();
        dnt
    });
    assert_eq!(dnt, "1", "Chromium did not switch Do-Not-Track on");
    // Nothing was sent by the browser; had it been, the server would
    // have dropped it for the DNT header and counted the drop.
    let report = s.db.privacy_report().unwrap();
    let dropped: u64 = report.hits_dropped.iter().map(|(_, n)| n).sum();
    // the control: a hit sent by another route arrives, so the server was
    // listening all along
    assert_eq!(
        common::post_json(
            &s.url("/api/event"),
            r#"{"name":"pageview","url":"https://control.example/","domain":"control.example"}"#
        )
        .status,
        202
    );
    assert_eq!(s.events("control.example").len(), 1);
    assert_eq!(
        s.events("shop.example").len(),
        0,
        "a DNT browser's hit was stored"
    );
    assert_eq!(
        dropped, 0,
        "a DNT browser sent hits (the server dropped them)"
    );
    rt.block_on(c.close()).unwrap();
}

#[test]
fn the_opt_out_page_stops_the_tracker_of_every_site_in_chromium() {
    let (_driver, wd_port, chromium) = start_chromedriver();
    // The page on 127.0.0.1 (another port: another origin, the same
    // site), so the server's SameSite=Lax opt-out cookie travels with the
    // page's beacons, as it does for a server on a subdomain of the site.
    let (s, page_origin, rt) = servers("127.0.0.1");
    let c = rt.block_on(browser(wd_port, &chromium));
    let opt_out = s.url("/opt-out");
    rt.block_on(async {
        if !choose(&c, &opt_out, "#opt-out", "out").await {
            panic!(
                "the opt-out page does not show the opted-out state: {} {}",
                c.current_url().await.unwrap(),
                c.source().await.unwrap()
            );
        }
        visit_and_act(&c, &format!("{page_origin}/page.html"), "abc").await;
        visit_and_act(&c, &format!("{page_origin}/control.html"), "abc").await;
        c.goto(&format!("{page_origin}/thanks")).await.unwrap();
    });
    // the browser sent its hits (the server counted the drops) and none
    // was stored, on either site
    let dropped = || {
        s.db.privacy_report()
            .unwrap()
            .hits_dropped
            .iter()
            .find(|(r, _)| *r == pledgedb_core::DropReason::OptedOut)
            .map_or(0, |(_, n)| *n)
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while dropped() < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(dropped() >= 2, "the opted-out browser's hits never arrived");
    assert_eq!(s.events("shop.example").len(), 0);
    assert_eq!(s.events("control.example").len(), 0);
    // opting back in: the next visit is counted
    rt.block_on(async {
        choose(&c, &opt_out, "#opt-in", "in").await;
        visit_and_act(&c, &format!("{page_origin}/page.html"), "abc").await;
        c.goto(&format!("{page_origin}/thanks")).await.unwrap();
    });
    let ev = wait_for(&s, "shop.example", |e| !e.is_empty());
    assert!(!ev.is_empty(), "after opting in nothing arrived");
    rt.block_on(c.close()).unwrap();
}
