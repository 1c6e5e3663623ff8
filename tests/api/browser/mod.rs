//! Pages in a real browser: headless Chromium driven through chromedriver (fantoccini).
//!
//! A machine with only the Rust toolchain has no browser: each browser test then says it was
//! skipped (on the terminal, past the test harness's output capture) and passes. CI sets
//! `BORDERDESK_REQUIRE_BROWSER=1`, which turns a missing browser into a failure, so these tests
//! are never silently skipped there. Debian: `apt-get install chromium chromium-driver`.
//!
//! Accessibility is measured with axe-core (WCAG 2.1 A/AA): `ops/browser` installs it from npm
//! (`npm ci --prefix ops/browser`); `BORDERDESK_AXE_JS` may point elsewhere.

mod calendar_page;
mod desk_pages;
mod driver_pages;
mod freight_flow;
mod portrait_page;
mod receipt_page;
mod scan_offline;
mod scan_page;
mod seals_page;
mod stock_pages;

use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use fantoccini::{Client, ClientBuilder, Locator, key::Key};
use serde_json::{Value, json};

use crate::support::TestApp;

fn required() -> bool {
    std::env::var("BORDERDESK_REQUIRE_BROWSER").is_ok_and(|v| v == "1")
}

fn chromium_path() -> PathBuf {
    std::env::var("CHROMIUM")
        .unwrap_or_else(|_| "/usr/bin/chromium".into())
        .into()
}

fn chromedriver_cmd() -> String {
    std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into())
}

/// Says on the terminal (not through the harness's capture, which hides a passing test's
/// output) that a test did not run here, and why.
pub fn skipped(test: &str, why: &str) {
    let line = format!("browser test SKIPPED: {test}: {why}\n");
    let _ = std::io::stderr().write_all(line.as_bytes());
}

/// chromedriver on a free port, stopped when dropped with the browser it started: both run in a
/// process group of their own, which the drop kills whole. Killing chromedriver alone left its
/// Chromium running whenever the session was not closed first (a failed test, or a client
/// dropped as the test's runtime stopped): some forty browsers after each run of the suite.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn driver() -> Driver {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let mut child = Command::new(chromedriver_cmd())
        .process_group(0)
        .arg(format!("--port={port}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
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

/// A browser session: the client, its chromedriver and its own profile directory.
pub struct Browser {
    pub c: Client,
    _driver: Driver,
    _profile: tempfile::TempDir,
}

impl std::ops::Deref for Browser {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.c
    }
}

impl Browser {
    /// A headless Chromium at a phone's size (390×844) or a desk's; `extra` adds Chromium flags
    /// (e.g. a fake camera). None, after saying so, when this machine has no browser and CI
    /// does not require one.
    pub async fn start(test: &str, size: (u32, u32), extra: &[String]) -> Option<Browser> {
        let has_driver = Command::new(chromedriver_cmd())
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        let has_chromium = chromium_path().exists();
        if !(has_driver && has_chromium) {
            let why = "no chromium/chromedriver on this machine (apt-get install chromium chromium-driver)";
            assert!(!required(), "{test}: {why}, and BORDERDESK_REQUIRE_BROWSER=1");
            skipped(test, why);
            return None;
        }
        let driver = driver();
        let profile = tempfile::tempdir().expect("profile dir");
        let mut args = vec![
            "--headless=new".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-dev-shm-usage".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            format!("--user-data-dir={}", profile.path().display()),
            format!("--window-size={},{}", size.0, size.1),
        ];
        args.extend(extra.iter().cloned());
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({ "binary": chromium_path(), "args": args }),
        );
        let c = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&driver.url)
            .await
            .expect("a Chromium session");
        viewport(&c, size.0, size.1).await;
        Some(Browser {
            c,
            _driver: driver,
            _profile: profile,
        })
    }

    /// Signs in as `user` and opens `path`.
    pub async fn open_as(&self, app: &TestApp, user: &str, password: &str, path: &str) {
        self.login(app, user, password).await;
        self.goto(&app.url(path)).await.expect("page");
    }

    /// Logs in through the login page and waits until the browser has left it.
    pub async fn login(&self, app: &TestApp, user: &str, password: &str) {
        self.goto(&app.url("/login")).await.expect("login page");
        type_into(self, "username", user).await;
        type_into(self, "password", &format!("{password}{}", char::from(Key::Enter))).await;
        until(self, "location.pathname !== '/login'").await;
    }
}

/// Clicks the element `at` finds.
pub async fn click(c: &Client, at: Locator<'_>) {
    let what = format!("{at:?}");
    let e = c.find(at).await.unwrap_or_else(|e| panic!("{what}: {e}"));
    e.click().await.unwrap_or_else(|e| panic!("click {what}: {e}"));
}

/// Waits for the element `at` finds to appear, then clicks it.
pub async fn click_when_shown(c: &Client, at: Locator<'_>) {
    let what = format!("{at:?}");
    let e = c.wait().for_element(at).await.unwrap_or_else(|e| panic!("{what}: {e}"));
    e.click().await.unwrap_or_else(|e| panic!("click {what}: {e}"));
}

/// Chooses `value` in the select with this id.
pub async fn select(c: &Client, id: &str, value: &str) {
    let e = c.find(Locator::Id(id)).await.unwrap_or_else(|e| panic!("#{id}: {e}"));
    e.select_by_value(value)
        .await
        .unwrap_or_else(|e| panic!("#{id} = {value}: {e}"));
}

/// Types `keys` into the element with this id.
pub async fn type_into(c: &Client, id: &str, keys: &str) {
    let e = c.find(Locator::Id(id)).await.unwrap_or_else(|e| panic!("#{id}: {e}"));
    e.send_keys(keys)
        .await
        .unwrap_or_else(|e| panic!("typing into #{id}: {e}"));
}

/// The text of the element with this id.
pub async fn text_of(c: &Client, id: &str) -> String {
    let e = c.find(Locator::Id(id)).await.unwrap_or_else(|e| panic!("#{id}: {e}"));
    e.text().await.unwrap_or_else(|e| panic!("text of #{id}: {e}"))
}

/// The value of a JS expression that gives a string.
pub async fn js_text(c: &Client, expr: &str) -> String {
    let v = js(c, expr).await;
    v.as_str()
        .unwrap_or_else(|| panic!("{expr} is not a string: {v}"))
        .to_string()
}

/// Resolves once `condition` (a JS expression) is true in the page, or fails after 10 s.
///
/// Polled from here, one synchronous evaluation at a time: a form submitted or a link followed
/// replaces the document, which would leave a script waiting inside the old one unanswered; an
/// evaluation that fails while the next page loads is simply tried again.
pub async fn until(c: &Client, condition: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let script = format!("try {{ return !!({condition}); }} catch (_) {{ return false; }}");
    loop {
        if let Ok(Value::Bool(true)) = c.execute(&script, vec![]).await {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for: {condition}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Sizes the window so that the viewport is `w`×`h` CSS pixels (the window's size includes any
/// browser chrome).
pub async fn viewport(c: &Client, w: u32, h: u32) {
    c.set_window_size(w, h).await.expect("resize");
    let inner = js(c, "[window.innerWidth, window.innerHeight]").await;
    if let (Some(iw), Some(ih)) = (inner[0].as_u64(), inner[1].as_u64()) {
        c.set_window_size(2 * w - iw as u32, 2 * h - ih as u32)
            .await
            .expect("resize");
    }
    until(c, &format!("window.innerWidth === {w} && window.innerHeight === {h}")).await;
}

/// Whether the page fits its viewport's width (it scrolls only down, WCAG 1.4.10).
pub async fn scrolls_only_down(c: &Client) -> bool {
    js(
        c,
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth",
    )
    .await
    .as_bool()
    .unwrap_or(false)
}

/// The value of a JS expression in the page.
pub async fn js(c: &Client, expr: &str) -> Value {
    c.execute(&format!("return {expr};"), vec![]).await.expect("script")
}

fn axe_source() -> Option<String> {
    let path = std::env::var("BORDERDESK_AXE_JS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("ops/browser/node_modules/axe-core/axe.min.js")
        });
    std::fs::read_to_string(path).ok()
}

/// Runs axe-core's WCAG 2.1 A/AA rules on the page shown and returns each violation as
/// "rule: target …". Empty when there is none; also empty, after saying so, when axe-core is not
/// installed and CI does not require it.
pub async fn axe(c: &Client, page: &str) -> Vec<String> {
    let Some(source) = axe_source() else {
        let why = "axe-core not installed (npm ci --prefix ops/browser)";
        assert!(!required(), "{page}: {why}, and BORDERDESK_REQUIRE_BROWSER=1");
        skipped(&format!("axe on {page}"), why);
        return Vec::new();
    };
    c.execute(&source, vec![]).await.expect("axe-core loads");
    let result = c
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
               .then((r) => done(r.violations.map((v) => v.id + ': ' + v.nodes.map((n) => n.target.join(' ')).join(', '))))
               .catch((e) => done(['axe failed: ' + e]));",
            vec![],
        )
        .await
        .expect("axe runs");
    result
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str().map(String::from)).collect())
        .unwrap_or_default()
}
