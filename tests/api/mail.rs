//! Mail through the outbox: the notice of missing items is queued with the acceptance and sent
//! as an `.eml` file (the default transport), in the traveller's language; two workers racing
//! on one database send each message once.

use serde_json::{Value, json};

use crate::support::*;

/// The `.eml` files the folder transport wrote, parsed: (to, subject, text body, html body).
fn mails(app: &TestApp) -> Vec<(String, String, String, String)> {
    read_mails(&app._dir.path().join("mail"))
}

/// The `.eml` files in `dir`, parsed: (to, subject, text body, html body).
fn read_mails(dir: &std::path::Path) -> Vec<(String, String, String, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("mail folder") {
        let path = entry.expect("entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("eml") {
            continue;
        }
        let raw = std::fs::read(&path).expect("eml");
        let parsed = mailparse::parse_mail(&raw).expect("a parseable message");
        let header = |name: &str| {
            use mailparse::MailHeaderMap;
            parsed.headers.get_first_value(name).unwrap_or_default()
        };
        let part = |mime: &str| {
            parsed
                .subparts
                .iter()
                .find(|p| p.ctype.mimetype == mime)
                .unwrap_or_else(|| panic!("a {mime} part"))
                .get_body()
                .expect("body")
        };
        out.push((header("To"), header("Subject"), part("text/plain"), part("text/html")));
    }
    out
}

/// A Vietnamese citizen, with an e-mail address.
fn vietnamese(email: &str) -> Value {
    json!({"name_latin": "Nguyễn Văn An", "nationality": "VNM", "sex": "M", "birth_date": "1985-01-02",
        "id_type": "vn_citizen_id", "id_number": "020085000123", "email": email})
}

/// The shipped policy, with Vietnamese citizens eligible for a trade pass (the fixture has
/// only Chinese residents eligible for every kind, and nothing else defers items).
fn policy_with_vietnamese_traders(dir: &std::path::Path) -> std::path::PathBuf {
    let mut policy: Value =
        serde_json::from_str(&std::fs::read_to_string("fixtures/policy.json").expect("policy")).expect("json");
    policy["kinds"]["border_trade"]["eligible_id_types"] = json!(["cn_resident_id", "vn_citizen_id"]);
    let path = dir.join("policy.json");
    std::fs::write(&path, policy.to_string()).expect("write policy");
    path
}

#[actix_web::test]
async fn accepting_with_deferred_items_mails_the_notice_in_the_travellers_language() {
    let policy_dir = tempfile::tempdir().expect("dir");
    let policy = policy_with_vietnamese_traders(policy_dir.path());
    // No background worker: the test runs the passes itself, so it knows when one has ended.
    let app = TestApp::spawn_with(|s| {
        s.mail_poll_seconds = 0;
        s.policy_file = Some(policy);
    })
    .await;
    app.clock.set(china(2026, 11, 13, 10, 0));
    let officer = app.token("li", "officer", &["border_trade"]);

    let mut zh = traveller(1);
    zh["email"] = json!("zhang.wei@example.cn");
    app.accepted(&officer, &trade(zh, json!(["桂F 12345"])), &DEFERRING_PORTRAIT)
        .await;
    app.accepted(
        &officer,
        &trade(vietnamese("an.nguyen@example.vn"), json!(["12C-123.45"])),
        &["application_form", "resident_id"],
    )
    .await;
    // Nothing missing, or no address: no mail.
    let mut all = traveller(2);
    all["email"] = json!("li@example.cn");
    app.accepted(&officer, &trade(all, json!(["桂F 22345"])), &ALL_TRADE_ITEMS)
        .await;
    app.accepted(
        &officer,
        &trade(traveller(3), json!(["桂F 32345"])),
        &DEFERRING_PORTRAIT,
    )
    .await;

    // An acceptance refused (a missing item that may not be deferred) queues nothing either:
    // the mail commits with the acceptance or not at all.
    let mut refused = traveller(4);
    refused["email"] = json!("wu@example.cn");
    let id = app.take(&officer, &trade(refused, json!(["桂F 42345"]))).await["id"]
        .as_str()
        .expect("id")
        .to_string();
    let res = app
        .step(&officer, &id, "accept", &json!({"materials": ["application_form"]}))
        .await;
    assert_eq!(res.status(), 422);
    let stats = app.ctx.outbox_stats().await.expect("stats");
    assert_eq!((stats.queued, stats.sent), (2, 0));
    // Operators see the queue: in /metrics (its age by the clock) and on the supervisors' page.
    app.clock.set(china(2026, 11, 13, 10, 1));
    let metrics = app.metrics().await;
    for line in [
        "borderdesk_mail_queued 2",
        "borderdesk_mail_failing 0",
        "borderdesk_mail_oldest_queued_seconds 60",
    ] {
        assert!(metrics.contains(line), "{line} in {metrics}");
    }
    let (boss, password) = app.officer("wang", "supervisor", &["border_trade"]);
    let mut s = Session::signed_in(&app, &boss, &password, None).await;
    let (status, page, _) = s.get("/supervisor/mail").await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains(r#"href="/supervisor/mail""#),
        "linked from the nav: {page}"
    );
    assert!(page.contains(r#"<strong id="mail-queued">2</strong>"#), "{page}");
    assert!(
        page.contains("a********@example.vn") && !page.contains("an.nguyen@"),
        "masked: {page}"
    );
    let (desk, desk_password) = app.officer("zhao", "officer", &["border_trade"]);
    let mut officer_page = Session::signed_in(&app, &desk, &desk_password, None).await;
    assert_eq!(officer_page.get("/supervisor/mail").await.0, 403);
    let done = app.ctx.deliver_due("test").await.expect("deliver");
    assert_eq!((done.sent, done.failed), (2, 0));

    let mut got = mails(&app);
    got.sort();
    assert_eq!(got.len(), 2, "{got:?}");
    let (to, subject, text, html) = &got[0];
    assert_eq!(to, "an.nguyen@example.vn");
    assert!(subject.starts_with("Thông báo bổ sung giấy tờ"), "{subject}");
    // Five working days for the licences, three for the portrait, from Fri 13 Nov.
    for line in [
        "Kính gửi NGUYỄN VĂN AN,",
        "Giấy chứng nhận kinh doanh thương mại biên giới: trước ngày 2026-11-20",
        "Giấy đăng ký xe (lái xe): trước ngày 2026-11-20",
        "Ảnh chân dung: trước ngày 2026-11-18",
    ] {
        assert!(text.contains(line), "{line:?} in {text}");
    }
    assert!(
        html.contains("<li>Ảnh chân dung: trước ngày <strong>2026-11-18</strong></li>"),
        "{html}"
    );
    let (to, subject, text, _) = &got[1];
    assert_eq!(to, "zhang.wei@example.cn");
    assert!(subject.starts_with("补正材料告知"), "{subject}");
    assert!(text.starts_with("张伟："), "{text}");
    assert!(text.contains("证件照片：2026-11-18 前"), "{text}");
    assert!(!text.contains("车辆行驶证"), "only what is missing: {text}");

    let stats = app.ctx.outbox_stats().await.expect("stats");
    assert_eq!((stats.queued, stats.failing, stats.sent), (0, 0, 2));
    let metrics = app.metrics().await;
    for line in ["borderdesk_mail_queued 0", "borderdesk_mail_oldest_queued_seconds 0"] {
        assert!(metrics.contains(line), "{line} in {metrics}");
    }
    let (_, page, _) = s.get("/supervisor/mail").await;
    assert!(page.contains(r#"<strong id="mail-sent">2</strong>"#), "{page}");
    // A second pass finds nothing to send.
    assert_eq!(app.ctx.deliver_due("test").await.expect("deliver").sent, 0);
    assert_eq!(mails(&app).len(), 2);
}

#[actix_web::test]
async fn two_workers_racing_on_one_database_send_each_message_once() {
    let app = TestApp::spawn_with(|s| s.mail_poll_seconds = 0).await;
    app.clock.set(china(2026, 11, 13, 10, 0));
    let officer = app.token("li", "officer", &["border_trade"]);
    const N: u32 = 12;
    for n in 0..N {
        let mut t = traveller(10 + n);
        t["email"] = json!(format!("t{n}@example.cn"));
        let plates = json!([format!("桂F {}", 10000 + n)]);
        app.accepted(&officer, &trade(t, plates), &DEFERRING_PORTRAIT).await;
    }
    // A second instance on the same database and data directory: its own pool and worker id.
    let settings = borderdesk::config::Settings {
        data_dir: app._dir.path().to_path_buf(),
        database_url: app.database_url.clone(),
        kek: Some(crate::support::TEST_KEK.into()),
        ..borderdesk::config::Settings::default()
    };
    let other = borderdesk::app::context(&settings, app.clock.clone()).expect("a second instance");
    let (a, b) = futures::join!(app.ctx.deliver_due("instance-a"), other.deliver_due("instance-b"));
    let (a, b) = (a.expect("a"), b.expect("b"));
    assert_eq!(a.sent + b.sent, N as usize, "a {a:?} b {b:?}");
    assert_eq!(a.failed + b.failed, 0);
    let got = mails(&app);
    assert_eq!(got.len(), N as usize);
    let mut to: Vec<_> = got.iter().map(|m| m.0.clone()).collect();
    to.sort();
    to.dedup();
    assert_eq!(to.len(), N as usize, "each recipient once");
    let stats = app.ctx.outbox_stats().await.expect("stats");
    assert_eq!((stats.queued, stats.sent), (0, i64::from(N)));
}

/// The worker `app::start` runs sends on its own (here every second), with no one asking.
#[actix_web::test]
async fn the_instances_worker_sends_by_itself() {
    let app = TestApp::spawn_with(|s| s.mail_poll_seconds = 1).await;
    let officer = app.token("li", "officer", &["border_trade"]);
    let mut t = traveller(1);
    t["email"] = json!("zhang.wei@example.cn");
    app.accepted(&officer, &trade(t, json!(["桂F 12345"])), &DEFERRING_PORTRAIT)
        .await;
    // Waits for the outcome (sent), bounded; the worker's own tick is what is being tested.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let stats = app.ctx.outbox_stats().await.expect("stats");
        if stats.sent == 1 {
            assert_eq!(stats.queued, 0);
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the worker sent nothing: {stats:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(mails(&app).len(), 1);
}

/// The SMTP receiver's script (BORDERDESK_TEST_SMTP), or None after saying the test is skipped;
/// where CI requires its tools (BORDERDESK_REQUIRE_TOOLS=1) a missing one fails the test.
pub(crate) fn smtp_script() -> Option<String> {
    if let Ok(script) = std::env::var("BORDERDESK_TEST_SMTP") {
        return Some(script);
    }
    assert!(
        std::env::var("BORDERDESK_REQUIRE_TOOLS").as_deref() != Ok("1"),
        "the SMTP receiver is required here (BORDERDESK_REQUIRE_TOOLS=1): set BORDERDESK_TEST_SMTP=ops/smtp/receiver.py"
    );
    eprintln!("skipped: set BORDERDESK_TEST_SMTP=ops/smtp/receiver.py (needs python3 -m pip install aiosmtpd)");
    None
}

/// A free port on loopback for a receiver to listen on.
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// The loopback SMTP receiver (ops/smtp/receiver.py) as a child process.
pub(crate) struct Receiver {
    child: std::process::Child,
}

impl Receiver {
    pub(crate) fn start(script: &str, port: u16, dir: &std::path::Path) -> Receiver {
        use std::io::BufRead;
        let mut child = std::process::Command::new("python3")
            .arg(script)
            .arg(port.to_string())
            .arg(dir)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("start the SMTP receiver");
        // It says "ready" once it listens: no guessing how long that takes.
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read the receiver");
        assert_eq!(
            line.trim(),
            "ready",
            "the receiver did not start (is aiosmtpd installed?)"
        );
        Receiver { child }
    }

    pub(crate) fn stop(mut self) {
        self.child.kill().expect("stop the receiver");
        self.child.wait().expect("wait for the receiver");
    }
}

/// A real SMTP receiver (aiosmtpd) on loopback: a mail goes out over SMTP; with the receiver
/// down the acceptance still succeeds and its mail waits, failing; once it is back, every mail
/// arrives, each once. Runs when BORDERDESK_TEST_SMTP names the receiver script (CI sets it).
#[actix_web::test]
async fn with_smtp_down_mail_waits_and_every_message_arrives_once_it_is_back() {
    let Some(script) = smtp_script() else { return };
    let port = free_port();
    let inbox = tempfile::tempdir().expect("inbox");
    let receiver = Receiver::start(&script, port, inbox.path());
    let app = TestApp::spawn_with(|s| {
        s.mail_poll_seconds = 0;
        s.mail = Some(format!("smtp://127.0.0.1:{port}?tls=none"));
    })
    .await;
    app.clock.set(china(2026, 11, 13, 10, 0));
    let officer = app.token("li", "officer", &["border_trade"]);
    let accept = |n: u32| {
        let mut t = traveller(n);
        t["email"] = json!(format!("t{n}@example.cn"));
        let body = trade(t, json!([format!("桂F {}", 10000 + n)]));
        let (app, officer) = (&app, officer.clone());
        async move { app.accepted(&officer, &body, &DEFERRING_PORTRAIT).await }
    };

    accept(1).await;
    assert_eq!(app.ctx.deliver_due("w").await.expect("deliver").sent, 1);
    let got = read_mails(inbox.path());
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, "t1@example.cn");
    assert!(got[0].1.starts_with("补正材料告知"), "{:?}", got[0].1);

    receiver.stop();
    accept(2).await;
    accept(3).await;
    let down = app.ctx.deliver_due("w").await.expect("deliver");
    assert_eq!((down.sent, down.failed), (0, 2));
    let stats = app.ctx.outbox_stats().await.expect("stats");
    assert_eq!((stats.queued, stats.failing, stats.sent), (2, 2, 1));
    assert!(app.metrics().await.contains("borderdesk_mail_failing 2"));

    let receiver = Receiver::start(&script, port, inbox.path());
    // Not before the backoff has passed, then all of it.
    assert_eq!(app.ctx.deliver_due("w").await.expect("deliver").sent, 0);
    app.clock.set(china(2026, 11, 13, 10, 1));
    let back = app.ctx.deliver_due("w").await.expect("deliver");
    assert_eq!((back.sent, back.failed), (2, 0));
    assert_eq!(app.ctx.deliver_due("w").await.expect("deliver").sent, 0);
    let mut to: Vec<String> = read_mails(inbox.path()).into_iter().map(|m| m.0).collect();
    to.sort();
    assert_eq!(to, ["t1@example.cn", "t2@example.cn", "t3@example.cn"]);
    let stats = app.ctx.outbox_stats().await.expect("stats");
    assert_eq!((stats.queued, stats.failing, stats.sent), (0, 0, 3));
    receiver.stop();
}
