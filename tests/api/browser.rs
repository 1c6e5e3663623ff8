//! The scan page in a real browser (headless Chromium through chromedriver): online scans go to
//! the hall; with the hall down the page decides from its trust data (a full bundle, then the
//! delta since its version), queues, and uploads the queue once the hall is back.
//!
//! Needs `chromium` and `chromedriver` (Debian: `apt-get install chromium chromium-driver`);
//! `.ci/run` installs them.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use fantoccini::{Client, ClientBuilder, Locator, key::Key};
use serde_json::{Value, json};

use crate::support::TestApp;

/// chromedriver on a free port, stopped when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn driver() -> Driver {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let mut child = Command::new(std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into()))
        .arg(format!("--port={port}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver not found: apt-get install chromium chromium-driver (see README)");
    // It says when it listens: wait for that line rather than for a guessed time.
    let out = child.stdout.take().expect("stdout");
    let ready = BufReader::new(out)
        .lines()
        .map_while(Result::ok)
        .any(|l| l.contains("started successfully"));
    assert!(ready, "chromedriver did not start");
    Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
    }
}

async fn browser(driver: &Driver, profile: &std::path::Path) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--no-first-run", "--disable-background-networking", "--disable-component-update",
                     format!("--user-data-dir={}", profile.display())],
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("a Chromium session")
}

/// Resolves once `condition` (a JS expression) is true in the page, or fails after 10 s.
async fn until(c: &Client, condition: &str) {
    let script = format!(
        "const done = arguments[arguments.length - 1]; const t0 = Date.now();
         (function poll() {{
           let ok = false; try {{ ok = !!({condition}); }} catch (_) {{}}
           if (ok) done(true); else if (Date.now() - t0 > 10000) done(false); else setTimeout(poll, 20);
         }})();"
    );
    let ok = c.execute_async(&script, vec![]).await.expect("script");
    assert_eq!(ok, json!(true), "timed out waiting for: {condition}");
}

async fn js(c: &Client, expr: &str) -> Value {
    c.execute(&format!("return {expr};"), vec![]).await.expect("script")
}

/// Types a code as a keyboard-wedge scanner does: the characters, then Enter.
async fn scan(c: &Client, code: &str) {
    let input = c.find(Locator::Id("code")).await.expect("code input");
    input.clear().await.expect("clear");
    input
        .send_keys(&format!("{code}{}", char::from(Key::Enter)))
        .await
        .expect("typing");
}

fn queue_len() -> &'static str {
    "JSON.parse(localStorage.getItem('bd-queue') || '[]').length"
}

#[actix_web::test]
async fn the_scan_page_verifies_offline_from_its_bundle_and_delta_and_uploads_once() {
    let app = TestApp::spawn().await;
    let officer = app.token("window", "officer", &["border_tourism"]);
    let boss = app.token("boss", "supervisor", &[]);
    let gate = app.token("gate", "checkpoint", &[]);
    let (user, password) = app.officer("lane5", "checkpoint", &[]);
    let mut permits = Vec::new();
    for _ in 0..4 {
        permits.push(app.issued_permit(&officer).await);
    }
    let code = |i: usize| permits[i]["code"].as_str().unwrap().to_string();
    let number = |i: usize| permits[i]["number"].as_str().unwrap().to_string();

    let driver = driver();
    let profile = tempfile::tempdir().unwrap();
    let c = browser(&driver, profile.path()).await;
    c.goto(&app.url("/login")).await.unwrap();
    c.find(Locator::Id("username"))
        .await
        .unwrap()
        .send_keys(&user)
        .await
        .unwrap();
    c.find(Locator::Id("password"))
        .await
        .unwrap()
        .send_keys(&format!("{password}{}", char::from(Key::Enter)))
        .await
        .unwrap();
    until(&c, "location.pathname !== '/login'").await;
    c.goto(&app.url("/checkpoint?lane=YYG-C5")).await.unwrap();
    // The page takes a full bundle and the keys while the hall answers.
    until(
        &c,
        "localStorage.getItem('bd-trust') && localStorage.getItem('bd-anchors')",
    )
    .await;
    assert_eq!(c.title().await.unwrap(), "查验 Scan · borderdesk");
    let v0 = js(&c, "JSON.parse(localStorage.getItem('bd-trust')).version").await;

    // Online: the scan goes to the hall.
    scan(&c, &code(0)).await;
    until(&c, "document.querySelector('.verdict.admit')").await;

    // Meanwhile permit 2 is revoked and permit 3 leaves at another lane; the page takes the delta.
    let n2 = number(2);
    app.post_json(
        &boss,
        &format!("/api/v1/permits/{n2}/revoke"),
        &json!({"reason": "lost"}),
    )
    .await;
    let res = app
        .post_json(
            &gate,
            "/api/v1/checkpoint/scans",
            &json!({"code": code(3), "lane": "YYG-C1", "direction": "exit"}),
        )
        .await;
    assert_eq!(res.json::<Value>().await.unwrap()["verdict"], "admit");
    let hall: Value = app.get(&gate, "/api/v1/checkpoint/trust").await.json().await.unwrap();
    let hall: Value = serde_json::from_str(hall["payload"].as_str().unwrap()).unwrap();
    let v1 = hall["version"].as_i64().unwrap();
    assert!(v1 > v0.as_i64().unwrap());
    c.goto(&app.url("/checkpoint?lane=YYG-C5")).await.unwrap();
    // The page holds the hall's version once it has merged the delta since its own.
    until(
        &c,
        &format!("JSON.parse(localStorage.getItem('bd-trust')).version >= {v1}"),
    )
    .await;
    let held = js(&c, "JSON.parse(localStorage.getItem('bd-trust')).permits").await;
    assert_eq!(held[&n2]["standing"], "revoked", "{held}");
    assert_eq!(held[number(3)]["standing"], "out", "{held}");

    // The hall goes down.
    let outage = app.outage().await;
    let cases = [
        (code(1), "ADMIT", "verified offline"),
        (code(2), "REJECT", "revoked"),
        (code(3), "REJECT", "wrong direction"),
        // The page remembers its own admitted exit.
        (code(1), "REJECT", "wrong direction"),
        ("not-a-permit".to_string(), "REJECT", "not a permit"),
    ];
    for (i, (scanned, verdict, why)) in cases.iter().enumerate() {
        scan(&c, scanned).await;
        until(&c, &format!("{} === {}", queue_len(), i + 1)).await;
        let shown = c
            .find(Locator::Id("offline-result"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            shown.contains(verdict) && shown.contains(why) && shown.contains("OFFLINE"),
            "case {i}: {shown}"
        );
    }
    assert!(
        c.find(Locator::Id("offline-result"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
            .contains("bundle v"),
        "the bundle's version and age are shown"
    );

    // The hall is back: the next page load uploads the queue, once.
    let app = outage.end().await;
    c.goto(&app.url("/checkpoint?lane=YYG-C5")).await.unwrap();
    until(&c, &format!("{} === 0", queue_len())).await;
    c.close().await.unwrap();
    assert_eq!(
        app.count("crossings"),
        2 + 5,
        "two online scans, five offline, none twice"
    );
    let p1: Value = app
        .get(&officer, &format!("/api/v1/permits/{}", number(1)))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(p1["entries_used"], 1, "the offline exit counts on the permit");
}
