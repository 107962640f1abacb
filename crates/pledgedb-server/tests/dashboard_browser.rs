//! The dashboard in a real browser (headless Chromium over WebDriver): sign
//! in, read the numbers, filter by clicking a row, play a visit, look at a
//! heatmap, make a shared link and open it as a stranger. The numbers are
//! checked against the Stats API; every page is photographed under
//! `target/screenshots/`.

mod api_common;
mod webdriver;

use std::time::{Duration, Instant};

use api_common::{CARD_METRICS, DAYS, Served, first_day};
use fantoccini::{Client, Locator};
use pledgedb_core::{FormField, Hit, HitKind, KeyKind};
use pledgedb_server::auth::Scope;
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse battery staple";
/// Typed into a password field and submitted: the engine never stores it,
/// so no page may show it.
const SECRET: &str = "Hunter2-Secret-77";
const REPLAY_PAGE: &str = "/replay-test";

/// One hand-made visit on the last day: a click at (300, 500), a scroll, a
/// form filled in and submitted with a password among its fields.
fn replay_visit(s: &Served) {
    let t0 = first_day()
        .plus(DAYS as i32 - 1)
        .start()
        .plus_millis(15 * 3_600_000);
    let mut at = 0;
    let mut hit = |kind: HitKind| {
        at += 700;
        Hit::new("shop.example", format!("https://shop.example{REPLAY_PAGE}"), kind)
            .at(t0.plus_millis(at))
            .client_id("replay-visitor")
            .session_id("replay-visit")
            .user_agent("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36")
    };
    let field = |f: &str| (String::from("signup"), f.to_string());
    let mut hits = vec![
        hit(HitKind::PageView { referrer: None }),
        hit(HitKind::Click {
            x: 300,
            y: 500,
            target: "button#go".into(),
        }),
        hit(HitKind::Scroll { depth: 60 }),
        hit(HitKind::FormView {
            form: "signup".into(),
        }),
    ];
    for (name, keys) in [("email", 6), ("password", SECRET.len())] {
        let (form, field) = field(name);
        hits.push(hit(HitKind::FieldFocus {
            form: form.clone(),
            field: field.clone(),
        }));
        for i in 0..keys {
            let key = if i == 3 {
                KeyKind::Delete
            } else {
                KeyKind::Character
            };
            hits.push(hit(HitKind::Keystroke {
                form: form.clone(),
                field: field.clone(),
                key,
            }));
        }
        hits.push(hit(HitKind::FieldBlur { form, field }));
    }
    hits.push(hit(HitKind::FormSubmit {
        form: "signup".into(),
        fields: vec![
            FormField::new("plan", "pro"),
            FormField::new("password", SECRET).input_type("password"),
        ],
    }));
    for r in s.db.ingest_batch(hits) {
        let _ = r.unwrap();
    }
    s.db.flush().unwrap();
}

/// Polls a JavaScript expression until it is truthy (bounded).
async fn until(c: &Client, expr: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let v = c
            .execute(&format!("return ({expr});"), vec![])
            .await
            .unwrap();
        let truthy = !(v.is_null() || v == json!(false) || v == json!("") || v == json!(0));
        if truthy {
            return v;
        }
        if Instant::now() > deadline {
            let at = c
                .execute(
                    "return location.href + ' | ' + document.body.innerText.slice(0, 400)",
                    vec![],
                )
                .await
                .unwrap_or_default();
            panic!("the page never showed `{expr}`; it is at {at}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The number a metric card shows (its exact value).
async fn metric(c: &Client, id: &str) -> Value {
    let v = until(c, &format!("document.querySelector('#metric-{id}') && document.querySelector('#metric-{id}').dataset.value")).await;
    serde_json::from_str(v.as_str().unwrap()).unwrap()
}

fn stats(s: &Served, key: &str, filters: Value) -> Value {
    let metrics = CARD_METRICS;
    let r = s.query(
        key,
        &json!({
            "site_id": "shop.example", "metrics": metrics, "date_range": "7d", "filters": filters,
        }),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let values = r.json["results"][0]["metrics"].as_array().unwrap().clone();
    json!(
        metrics
            .iter()
            .zip(values)
            .map(|(k, v)| (k.to_string(), v))
            .collect::<serde_json::Map<_, _>>()
    )
}

#[test]
fn the_dashboard_in_chromium() {
    let s = api_common::serve();
    s.load();
    replay_visit(&s);
    s.add_user("owner", PASSWORD, &[], true);
    let key = s.add_key("dash-check", "shop.example", Scope::Stats);
    let (_driver, wd_port, chromium) = webdriver::start_chromedriver();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let base = s.url("");
    rt.block_on(async {
        let c = webdriver::browser(wd_port, &chromium).await;

        // Signing in from a dashboard link comes back to it.
        c.goto(&format!("{base}/app/shop.example?range=7d")).await.unwrap();
        until(&c, "location.pathname === '/login'").await;
        webdriver::screenshot(&c, "login").await;
        c.find(Locator::Css("input[name=username]")).await.unwrap().send_keys("owner").await.unwrap();
        c.find(Locator::Css("input[name=password]")).await.unwrap().send_keys(PASSWORD).await.unwrap();
        c.find(Locator::Css("button[type=submit]")).await.unwrap().click().await.unwrap();
        until(&c, "location.pathname === '/app/shop.example'").await;
        // The login kept the path; the range defaults to 30 days, so ask
        // for the Stats API's "7d" explicitly.
        c.goto(&format!("{base}/app/shop.example?range=7d")).await.unwrap();

        // The numbers are the Stats API's.
        let want = stats(&s, &key, json!([]));
        for m in CARD_METRICS {
            assert_eq!(metric(&c, m).await, want[m], "{m}");
        }
        until(&c, "document.querySelectorAll('#chart circle').length === 7").await;
        webdriver::screenshot(&c, "dashboard").await;

        // Clicking a country filters every panel.
        let country = until(&c, "document.querySelector('#panel-country tr.row') && document.querySelector('#panel-country tr.row').dataset.value").await;
        let country = country.as_str().unwrap().to_string();
        c.find(Locator::Css("#panel-country tr.row")).await.unwrap().click().await.unwrap();
        until(&c, "document.querySelector('#chips [data-filter=country]')").await;
        until(&c, &format!("new URLSearchParams(location.search).get('country') === '{country}'")).await;
        let want = stats(&s, &key, json!([["is", "visit:country", [country]]]));
        until(&c, &format!("document.querySelector('#metric-visitors').dataset.value === '{}'", want["visitors"])).await;
        for m in ["visitors", "visits", "pageviews", "bounce_rate"] {
            assert_eq!(metric(&c, m).await, want[m], "{m} in {country}");
        }
        // Every country row left is the filtered one.
        let rows = until(&c, "Array.from(document.querySelectorAll('#panel-country tr.row')).map(r => r.dataset.value).join(',')").await;
        assert_eq!(rows, json!(country));
        webdriver::screenshot(&c, "dashboard-filtered").await;
        // Removing the chip brings the whole site back.
        c.find(Locator::Css("#chips [data-filter=country] button")).await.unwrap().click().await.unwrap();
        let all = stats(&s, &key, json!([]));
        until(&c, &format!("!document.querySelector('#chips [data-filter]') && document.querySelector('#metric-visitors').dataset.value === '{}'", all["visitors"])).await;

        // Forms and the privacy page.
        c.goto(&format!("{base}/app/shop.example/forms?range=7d")).await.unwrap();
        until(&c, "document.querySelector('.panel.form[data-form=signup]')").await;
        webdriver::screenshot(&c, "forms").await;
        c.goto(&format!("{base}/app/shop.example/privacy")).await.unwrap();
        let audit = until(&c, "document.querySelector('#audit-result') && document.querySelector('#audit-result').textContent").await;
        assert!(audit.as_str().unwrap().starts_with("Clean"), "{audit}");
        webdriver::screenshot(&c, "privacy").await;

        // The replay of the hand-made visit.
        c.goto(&format!("{base}/app/shop.example/replays?range=7d")).await.unwrap();
        let sid = until(&c, &format!(
            "(Array.from(document.querySelectorAll('#sessions tr.row')).find(r => r.children[1].textContent === '{REPLAY_PAGE}') || {{}}).dataset?.session"
        )).await;
        webdriver::screenshot(&c, "replays").await;
        c.goto(&format!("{base}/app/shop.example/replays/{}", sid.as_str().unwrap())).await.unwrap();
        until(&c, "document.querySelector('#replay-seek')").await;
        // Play a moment, then seek to the end.
        c.find(Locator::Css("#replay-play")).await.unwrap().click().await.unwrap();
        until(&c, "document.querySelector('#replay-play').textContent === 'Pause'").await;
        c.execute("const s = document.querySelector('#replay-seek'); s.value = s.max; s.dispatchEvent(new Event('input'));", vec![]).await.unwrap();
        let fields = until(&c, "document.querySelector('#replay-fields').textContent").await;
        let fields = fields.as_str().unwrap();
        assert!(fields.contains("signup.email ••••") && !fields.contains("signup.email •••••"), "{fields}");
        assert!(fields.contains("signup.plan = pro"), "{fields}");
        // Halfway: the email field is focused and lit.
        c.execute("const s = document.querySelector('#replay-seek'); s.value = 4200; s.dispatchEvent(new Event('input'));", vec![]).await.unwrap();
        until(&c, "document.querySelector('#replay-fields .focus')").await;
        let html = c.source().await.unwrap();
        let dom = c.execute("return document.documentElement.outerHTML + document.body.innerText", vec![]).await.unwrap();
        assert!(!html.contains(SECRET) && !dom.as_str().unwrap().contains(SECRET), "the password reached the page");
        webdriver::screenshot(&c, "replay").await;

        // The heatmap of that page: the clicked cell is drawn hot.
        c.goto(&format!("{base}/app/shop.example/heatmap?range=7d&heat={REPLAY_PAGE}")).await.unwrap();
        until(&c, "document.querySelector('#heat-canvas') && document.querySelector('#heat-canvas').dataset.cells === '1'").await;
        let px = c.execute(
            "const d = document.querySelector('#heat-canvas').getContext('2d').getImageData(155, 255, 1, 1).data; return Array.from(d);",
            vec![],
        ).await.unwrap();
        let px: Vec<u64> = px.as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
        assert!(px[0] > 200 && px[1] < 150, "the clicked cell is not hot: {px:?}");
        let blank = c.execute(
            "const d = document.querySelector('#heat-canvas').getContext('2d').getImageData(20, 650, 1, 1).data; return Array.from(d);",
            vec![],
        ).await.unwrap();
        assert_eq!(blank, json!([255, 255, 255, 255]), "no click was there");
        let targets = until(&c, "document.querySelector('#heat-targets').textContent").await;
        assert!(targets.as_str().unwrap().contains("button#go"));
        webdriver::screenshot(&c, "heatmap").await;

        // A shared link, opened by a stranger: small rows folded, nothing
        // but the overview.
        c.goto(&format!("{base}/app/shop.example/shares")).await.unwrap();
        c.wait().at_most(Duration::from_secs(20)).for_element(Locator::Css("#share-create")).await.unwrap().click().await.unwrap();
        let url = until(&c, "document.querySelector('#share-url') && document.querySelector('#share-url').textContent").await;
        let url = url.as_str().unwrap().to_string();
        webdriver::screenshot(&c, "shares").await;
        c.delete_all_cookies().await.unwrap();
        c.goto(&format!("{url}?range=7d")).await.unwrap();
        metric(&c, "visitors").await;
        let k = 5;
        let rows = until(&c, "JSON.stringify(Array.from(document.querySelectorAll('.panel tr[data-value]')).map(r => [r.dataset.value, r.children[1].textContent]))").await;
        let rows: Vec<(String, String)> = serde_json::from_str(rows.as_str().unwrap()).unwrap();
        assert!(!rows.is_empty());
        assert!(rows.iter().any(|(v, _)| v == "(other)"), "nothing was folded: {rows:?}");
        for (v, n) in &rows {
            if v != "(other)" {
                assert!(n.parse::<u64>().unwrap() >= k, "{v} has {n} visitors in a shared view");
            }
        }
        let nav = c.execute("return document.querySelector('#nav').children.length", vec![]).await.unwrap();
        assert_eq!(nav, json!(0), "a shared view links to nothing");
        webdriver::screenshot(&c, "shared").await;
        // The stranger is not signed in anywhere.
        c.goto(&format!("{base}/app/shop.example")).await.unwrap();
        until(&c, "location.pathname === '/login'").await;
        c.close().await.unwrap();
    });
}
