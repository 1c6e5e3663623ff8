//! Starts the real app on port 0 with its own fresh database (SQLite in a temp dir, or a new
//! PostgreSQL database when BORDERDESK_TEST_DATABASE_URL names a server), and talks HTTP to it.

use std::collections::BTreeMap;
use std::sync::Arc;

use borderdesk::clock::{Clock, FixedClock, SystemClock};
use borderdesk::config::Settings;
use borderdesk::service::{Ctx, accounts};
use diesel::Connection;
use diesel::connection::SimpleConnection;
use reqwest::header::{COOKIE, HeaderMap, SET_COOKIE};
use serde_json::{Value, json};

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub ctx: Ctx,
    pub clock: Arc<FixedClock>,
    pub database_url: Option<String>,
    /// The metrics-only listener, when the settings name one.
    pub metrics_addr: Option<std::net::SocketAddr>,
    pub _dir: tempfile::TempDir,
    server: actix_web::dev::ServerHandle,
}

/// What Prometheus sends to read `/metrics` in tests.
pub const METRICS_TOKEN: &str = "test-metrics-token-0123456789";

/// An app whose server is stopped.
pub struct Outage(TestApp);

impl Outage {
    pub async fn end(self) -> TestApp {
        let old = self.0;
        let (url, addr, at) = (old.database_url.clone(), old.address().to_string(), old.clock.now());
        let app = TestApp::start(old._dir, url, |s| s.bind = addr).await;
        app.clock.set(at);
        app
    }
}

/// The key-encryption key of every test instance (`BORDERDESK_KEK`).
pub const TEST_KEK: &str = "6b656b2d666f722d7465737473000000000000000000000000000000000000ff";

/// A fresh database URL: a new PostgreSQL database per app, or None for SQLite.
pub fn fresh_postgres() -> Option<String> {
    let admin = std::env::var("BORDERDESK_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())?;
    let name = format!("bd_test_{}", uuid_like());
    let mut conn = diesel::PgConnection::establish(&admin).expect("BORDERDESK_TEST_DATABASE_URL must reach PostgreSQL");
    conn.batch_execute(&format!("CREATE DATABASE {name}"))
        .expect("create test database");
    let base = admin
        .rsplit_once('/')
        .map(|(b, _)| b.to_string())
        .expect("URL with a database name");
    Some(format!("{base}/{name}"))
}

fn uuid_like() -> String {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).expect("random");
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    /// An app with some settings changed from the test defaults.
    pub async fn spawn_with(tweak: impl FnOnce(&mut Settings)) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = fresh_postgres();
        Self::start(dir, url, tweak).await
    }

    /// A second instance on the same database (its own data directory, pool, limits and
    /// port), as a second server behind the load balancer; the clock set like this one's.
    pub async fn twin(&self, tweak: impl FnOnce(&mut Settings)) -> TestApp {
        let url = self
            .database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite:{}", self._dir.path().join("borderdesk.db").display()));
        let dir = tempfile::tempdir().expect("temp dir");
        let app = Self::start(dir, Some(url), tweak).await;
        app.clock.set(self.clock.now());
        app
    }

    /// The hall goes down: the server stops listening (connections are refused), then comes
    /// back at the same address on the same data, as a restarted instance would.
    pub async fn outage(self) -> Outage {
        self.server.stop(true).await;
        Outage(self)
    }

    /// An instance on the data directory `dir` and the database `database_url` (None: the
    /// directory's SQLite file), as they are.
    pub async fn start(
        dir: tempfile::TempDir,
        database_url: Option<String>,
        tweak: impl FnOnce(&mut Settings),
    ) -> TestApp {
        let mut settings = Settings {
            data_dir: dir.path().to_path_buf(),
            database_url: database_url.clone(),
            bind: "127.0.0.1:0".into(),
            workers: 2,
            pool_size: 8,
            body_limit: 16 * 1024,
            metrics_token: Some(METRICS_TOKEN.into()),
            // One deployment's key-encryption key, as an operator gives every instance.
            kek: Some(TEST_KEK.into()),
            ..Settings::default()
        };
        tweak(&mut settings);
        let clock = Arc::new(FixedClock::new(SystemClock.now()));
        let ctx = borderdesk::app::context(&settings, clock.clone()).expect("context");
        let running = borderdesk::app::start(&settings, ctx).expect("start");
        let server = running.server.handle();
        actix_web::rt::spawn(running.server);
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        TestApp {
            base: format!("http://{}", running.addr),
            client,
            ctx: running.ctx,
            clock,
            database_url,
            metrics_addr: running.metrics_addr,
            _dir: dir,
            server,
        }
    }

    pub fn address(&self) -> &str {
        self.base.trim_start_matches("http://")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Adds an officer and returns (username, password).
    pub fn officer(&self, username: &str, role: &str, grants: &[&str]) -> (String, String) {
        self.officer_of("YYG", username, role, grants)
    }

    /// Adds an officer of `office` and returns (username, password).
    pub fn officer_of(&self, office: &str, username: &str, role: &str, grants: &[&str]) -> (String, String) {
        let password = format!("pw-{username}-0123456789");
        let new = accounts::NewOfficer {
            username: username.into(),
            display_name: None,
            role: role.into(),
            grants: grants.iter().map(|g| g.to_string()).collect(),
            office: office.into(),
            password: password.clone(),
        };
        let now = self.ctx.clock.now();
        self.ctx
            .db
            .run_blocking(|c| accounts::add_officer(c, now, &self.ctx.policy, new))
            .expect("add officer");
        (username.into(), password)
    }

    /// The window officer who takes and issues tourism passes ("window"): their token.
    pub fn window(&self) -> String {
        self.token("window", "officer", &["border_tourism"])
    }

    /// A lane's scanner at the checkpoint ("gate"): its token.
    pub fn gate(&self) -> String {
        self.token("gate", "checkpoint", &[])
    }

    /// A supervisor without a grant, who may revoke ("boss"): their token.
    pub fn boss(&self) -> String {
        self.token("boss", "supervisor", &[])
    }

    /// Adds an officer and returns an API token for them.
    pub fn token(&self, username: &str, role: &str, grants: &[&str]) -> String {
        self.officer(username, role, grants);
        self.token_for(username)
    }

    /// A new API token for an officer already added.
    pub fn token_for(&self, username: &str) -> String {
        let now = self.ctx.clock.now();
        self.ctx
            .db
            .run_blocking(|c| accounts::create_token(c, now, username, "test"))
            .expect("token")
            .1
    }

    pub async fn post_json(&self, token: &str, path: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    /// POSTs JSON that must be refused as unprocessable (422); returns the problem.
    pub async fn refused(&self, token: &str, path: &str, body: &Value) -> Value {
        let res = self.post_json(token, path, body).await;
        expect_json(res, 422, &format!("POST {path} {body} is refused")).await
    }

    /// `/metrics` as Prometheus reads it (with the token).
    pub async fn metrics(&self) -> String {
        let res = self
            .client
            .get(self.url("/metrics"))
            .bearer_auth(METRICS_TOKEN)
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), 200, "metrics with the token");
        res.text().await.expect("text")
    }

    /// GETs a public JSON resource (no token).
    pub async fn public_json(&self, path: &str) -> Value {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
            .json()
            .await
            .expect("json")
    }

    pub async fn get(&self, token: &str, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
    }

    /// Takes an application and returns its id.
    pub async fn application(&self, token: &str, traveller: Value) -> String {
        self.take(token, &json!({"kind": "border_tourism", "traveller": traveller}))
            .await["id"]
            .as_str()
            .expect("id")
            .to_string()
    }

    /// Prints a receipt for an application: returns its lookup code as printed.
    pub async fn receipt(&self, token: &str, app_id: &str) -> String {
        let res = self
            .post_json(token, &format!("/api/v1/applications/{app_id}/receipt"), &json!({}))
            .await;
        expect_json(res, 201, &format!("print the receipt of {app_id}")).await["lookup_code"]
            .as_str()
            .expect("lookup_code")
            .to_string()
    }

    pub async fn issue(&self, token: &str, app_id: &str, key: Option<&str>) -> reqwest::Response {
        let mut req = self
            .client
            .post(self.url(&format!("/api/v1/applications/{app_id}/issue")))
            .bearer_auth(token);
        if let Some(k) = key {
            req = req.header("Idempotency-Key", k);
        }
        req.send().await.expect("request")
    }

    /// Takes and issues a tourism pass; returns the permit JSON.
    pub async fn issued_permit(&self, token: &str) -> Value {
        let app = self.application(token, traveller(1)).await;
        self.issued(token, &app).await
    }

    /// Issues `n` tourism passes, one after another; returns the permits.
    pub async fn issued_permits(&self, token: &str, n: usize) -> Vec<Value> {
        let mut permits = Vec::with_capacity(n);
        for _ in 0..n {
            permits.push(self.issued_permit(token).await);
        }
        permits
    }

    /// Signs in on the pages (login form with its CSRF token) and returns the session's cookies.
    pub async fn page_login(&self, user: &str, password: &str, next: &str) -> Jar {
        Session::signed_in(self, user, password, Some(next)).await.jar
    }

    /// GETs a JSON resource with a token: it must answer 200.
    pub async fn get_json(&self, token: &str, path: &str) -> Value {
        expect_json(self.get(token, path).await, 200, &format!("GET {path}")).await
    }

    /// A permit as its API shows it.
    pub async fn permit(&self, token: &str, number: &str) -> Value {
        self.get_json(token, &format!("/api/v1/permits/{number}")).await
    }

    /// The signed trust bundle a checkpoint device takes: full, or the delta since a version.
    pub async fn trust(&self, token: &str, since: Option<i64>) -> Value {
        let path = match since {
            Some(v) => format!("/api/v1/checkpoint/trust?since={v}"),
            None => "/api/v1/checkpoint/trust".to_string(),
        };
        self.get_json(token, &path).await
    }

    /// Takes an application from a whole JSON body: it must be created (201); returns it.
    pub async fn take(&self, token: &str, body: &Value) -> Value {
        let res = self.post_json(token, "/api/v1/applications", body).await;
        expect_json(res, 201, "take an application").await
    }

    /// One workflow step on an application (`accept`, `approve`, `materials/x/supply`…), as sent.
    pub async fn step(&self, token: &str, id: &str, step: &str, body: &Value) -> reqwest::Response {
        self.post_json(token, &format!("/api/v1/applications/{id}/{step}"), body)
            .await
    }

    /// Accepts an application with the materials handed in: it must succeed (200).
    pub async fn accept(&self, token: &str, id: &str, materials: &[&str]) -> Value {
        let res = self.step(token, id, "accept", &json!({ "materials": materials })).await;
        expect_json(res, 200, &format!("accept {id}")).await
    }

    /// Approves an application: it must succeed (200).
    pub async fn approve(&self, token: &str, id: &str) -> Value {
        let res = self.step(token, id, "approve", &json!({})).await;
        expect_json(res, 200, &format!("approve {id}")).await
    }

    /// Issues an application's permit: it must be created (201); returns the permit.
    pub async fn issued(&self, token: &str, id: &str) -> Value {
        expect_json(self.issue(token, id, None).await, 201, &format!("issue {id}")).await
    }

    /// Takes an application from `body` and accepts it with `materials`; returns its id.
    pub async fn accepted(&self, token: &str, body: &Value, materials: &[&str]) -> String {
        let id = self.take(token, body).await["id"].as_str().expect("id").to_string();
        self.accept(token, &id, materials).await;
        id
    }

    /// Takes a (trade) application from `body`, accepts it with `materials`, has a supervisor
    /// approve it and issues it; returns the permit.
    pub async fn issued_after_approval(
        &self,
        (officer, supervisor): (&str, &str),
        body: &Value,
        materials: &[&str],
    ) -> Value {
        let id = self.accepted(officer, body, materials).await;
        self.approve(supervisor, &id).await;
        self.issued(supervisor, &id).await
    }

    /// Revokes a permit: it must succeed (200); returns the permit.
    pub async fn revoke(&self, token: &str, number: &str, reason: &str) -> Value {
        let res = self
            .post_json(
                token,
                &format!("/api/v1/permits/{number}/revoke"),
                &json!({ "reason": reason }),
            )
            .await;
        expect_json(res, 200, &format!("revoke {number}")).await
    }

    /// PUTs a portrait as sent, with its content type.
    pub async fn put_portrait(&self, token: &str, id: &str, ctype: &str, body: Vec<u8>) -> reqwest::Response {
        self.client
            .put(self.url(&format!("/api/v1/applications/{id}/portrait")))
            .bearer_auth(token)
            .header("Content-Type", ctype)
            .body(body)
            .send()
            .await
            .expect("request")
    }

    /// Uploads a camera's photo as an application's portrait: it must be taken (204).
    pub async fn portrait(&self, token: &str, id: &str) {
        let res = self.put_portrait(token, id, "image/png", photo_png()).await;
        assert_eq!(res.status(), 204, "upload the portrait of {id}");
    }

    /// A permit's printable PDF: it must answer 200.
    pub async fn permit_pdf(&self, token: &str, number: &str) -> Vec<u8> {
        let res = self.get(token, &format!("/api/v1/permits/{number}/pdf")).await;
        assert_eq!(res.status(), 200, "the PDF of {number}");
        res.bytes().await.expect("pdf").to_vec()
    }

    /// Uploads a handheld's queued crossings: it must answer 200; returns the counts.
    pub async fn upload_crossings(&self, token: &str, queue: &Value) -> Value {
        let res = self.post_json(token, "/api/v1/checkpoint/crossings", queue).await;
        expect_json(res, 200, "upload queued crossings").await
    }

    /// Sets a calendar day as sent (the admin's API).
    pub async fn put_day(&self, token: &str, date: &str, body: Value) -> reqwest::Response {
        self.client
            .put(self.url(&format!("/api/v1/calendar/{date}")))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .expect("request")
    }

    /// Removes a calendar day; `date` may carry a query (`2026-10-10?confirm=true`).
    pub async fn delete_day(&self, token: &str, date: &str) -> reqwest::Response {
        self.client
            .delete(self.url(&format!("/api/v1/calendar/{date}")))
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
    }

    /// A public page or file (no token, no cookie): it must answer 200; returns its text.
    pub async fn public_text(&self, path: &str) -> String {
        let res = self.client.get(self.url(path)).send().await.expect("request");
        assert_eq!(res.status(), 200, "GET {path}");
        res.text().await.expect("text")
    }

    /// The audit trail of one entity, oldest first.
    pub fn audit(&self, entity: &'static str, id: &str) -> Vec<borderdesk::db::models::AuditRow> {
        let id = id.to_string();
        self.ctx
            .db
            .run_blocking(move |c| borderdesk::db::audit::for_entity(c, entity, &id))
            .expect("audit trail")
    }

    /// Runs a count query: how many rows a table holds.
    pub fn count(&self, table: &'static str) -> i64 {
        use diesel::QueryableByName;
        #[derive(QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        self.ctx
            .db
            .run_blocking(|c| {
                Ok(diesel::RunQueryDsl::get_result::<N>(
                    diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}")),
                    c,
                )?
                .n)
            })
            .expect("count")
    }
}

/// A permit's serial: the last part of its number (`BT-YYG-2026-000123` → 123).
pub fn serial(permit: &Value) -> i64 {
    permit["number"]
        .as_str()
        .and_then(|n| n.rsplit('-').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("a permit number: {permit}"))
}

/// A valid GB 11643 number for a birth date and sequence.
pub fn cn_id(birth: &str, seq: u32) -> String {
    let first17 = format!("450681{birth}{seq:03}");
    let check = borderdesk::domain::ids::gb11643_check_char(&first17).expect("digits");
    format!("{first17}{check}")
}

/// A valid Chinese traveller; `n` varies the sequence number (odd = male).
pub fn traveller(n: u32) -> Value {
    let seq = (n * 2 + 1) % 1000;
    json!({
        "name_zh": "张伟", "name_latin": "ZHANG WEI", "nationality": "CHN", "sex": "M",
        "birth_date": "1990-03-07", "id_type": "cn_resident_id", "id_number": cn_id("19900307", seq),
        "phone": "+8613800000000"
    })
}

/// A minimal cookie jar, so tests can see each cookie's attributes.
#[derive(Default)]
pub struct Jar(pub BTreeMap<String, String>);

impl Jar {
    pub fn update(&mut self, headers: &HeaderMap) {
        for v in headers.get_all(SET_COOKIE) {
            let raw = v.to_str().unwrap_or("");
            if let Some((name, rest)) = raw.split(';').next().and_then(|kv| kv.split_once('=')) {
                if rest.is_empty() || raw.contains("Max-Age=0") {
                    self.0.remove(name);
                } else {
                    self.0.insert(name.to_string(), rest.to_string());
                }
            }
        }
    }

    pub fn header(&self) -> String {
        self.0
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// Pulls `name="csrf" value="..."` (or another hidden field) out of a page.
pub fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .map(|i| i + marker.len())
        .expect("hidden field present");
    html[start..].split('"').next().unwrap_or("").to_string()
}

/// A photo as a camera would give it: PNG, landscape, 800×600.
pub fn photo_png() -> Vec<u8> {
    let img = image::RgbImage::from_fn(800, 600, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 220]));
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut out, image::ImageFormat::Png)
        .expect("png");
    out.into_inner()
}

/// A sitting at the window as a camera gives it: a landscape PNG (1500×1000) of a head and
/// shoulders left of the middle, in front of `background`, with skin and cloth texture (a real
/// face has detail); `blurred` as if the camera shook.
pub fn sitting(background: [u8; 3], blurred: bool) -> Vec<u8> {
    let texture = |x: u32, y: u32| {
        // A fixed pseudo-random value per 3×3 block, -30..=30.
        let h = (x / 3).wrapping_mul(0x9E37_79B1) ^ (y / 3).wrapping_mul(0x85EB_CA77);
        let h = h ^ (h >> 15);
        (h % 61) as i32 - 30
    };
    let inside = |x: u32, y: u32, cx: f32, cy: f32, rx: f32, ry: f32| {
        let (dx, dy) = ((x as f32 - cx) / rx, (y as f32 - cy) / ry);
        dx * dx + dy * dy <= 1.0
    };
    let shade = |base: [i32; 3], t: i32| image::Rgb(base.map(|c| (c + t).clamp(0, 255) as u8));
    let img = image::RgbImage::from_fn(1500, 1000, |x, y| {
        if inside(x, y, 600.0, 420.0, 170.0, 220.0) {
            shade([200, 160, 130], texture(x, y))
        } else if inside(x, y, 600.0, 1000.0, 340.0, 280.0) {
            shade([40, 50, 80], texture(x, y))
        } else {
            image::Rgb(background)
        }
    });
    let img = if blurred { image::imageops::blur(&img, 8.0) } else { img };
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut out, image::ImageFormat::Png)
        .expect("png");
    out.into_inner()
}

/// A moment on the office's wall clock (China time), as a UTC instant for the test clock.
pub fn china(y: i32, m: u32, d: u32, h: u32, min: u32) -> chrono::DateTime<chrono::Utc> {
    use chrono::TimeZone;
    borderdesk::domain::OFFICE_TZ
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .single()
        .expect("a time that exists in China")
        .with_timezone(&chrono::Utc)
}

/// The payload of a signed trust bundle.
pub fn payload(signed: &Value) -> Value {
    serde_json::from_str(signed["payload"].as_str().expect("payload")).expect("payload JSON")
}

/// Checks an answer's status, naming the step in the message, and reads its JSON body.
pub async fn expect_json(res: reqwest::Response, status: u16, step: &str) -> Value {
    let got = res.status();
    let body = res.text().await.expect("body");
    assert_eq!(got, status, "{step}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{step}: not JSON ({e}): {body}"))
}

/// The fields a problem's errors name, in its order.
pub fn error_fields(problem: &Value) -> Vec<&str> {
    problem["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("a problem with errors: {problem}"))
        .iter()
        .map(|e| e["field"].as_str().expect("each error names its field"))
        .collect()
}

/// A trade pass's application body: the enterprise of every test, the plates given.
pub fn trade(traveller: Value, plates: Value) -> Value {
    json!({"kind": "border_trade", "traveller": traveller,
        "enterprise": {"name": "凭祥市友谊边贸有限公司", "credit_code": "91350100M000100Y43"},
        "plates": plates})
}

/// Every item a trade pass asks for; `DEFERRING_PORTRAIT` leaves out the portrait (容缺).
pub const ALL_TRADE_ITEMS: [&str; 5] = [
    "application_form",
    "resident_id",
    "trade_proof",
    "vehicle_licence",
    "portrait",
];
pub const DEFERRING_PORTRAIT: [&str; 4] = ["application_form", "resident_id", "trade_proof", "vehicle_licence"];

/// A page session as a browser without script keeps it: its own cookies (kept by hand, so tests
/// see each one) and redirects not followed.
pub struct Session<'a> {
    pub app: &'a TestApp,
    pub http: reqwest::Client,
    pub jar: Jar,
}

fn location(headers: &HeaderMap) -> Option<String> {
    headers
        .get(reqwest::header::LOCATION)
        .map(|l| l.to_str().expect("Location").to_string())
}

impl<'a> Session<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        Session {
            app,
            http: app.client.clone(),
            jar: Jar::default(),
        }
    }

    /// A session from another client address (its own connection), as throttling sees it.
    pub fn at(app: &'a TestApp, address: [u8; 4]) -> Self {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .local_address(std::net::IpAddr::from(address))
            .build()
            .expect("client");
        Session {
            app,
            http,
            jar: Jar::default(),
        }
    }

    /// A session signed in through the login form: the login must answer 303.
    pub async fn signed_in(app: &'a TestApp, user: &str, password: &str, next: Option<&str>) -> Self {
        let mut s = Session::new(app);
        let (status, page, _, _) = s.login(user, password, next).await;
        assert_eq!(status, 303, "sign in as {user}: {page}");
        s
    }

    /// Sends a request with the session's cookies, and keeps the cookies it is given.
    async fn send(&mut self, req: reqwest::RequestBuilder) -> reqwest::Response {
        let res = req.header(COOKIE, self.jar.header()).send().await.expect("request");
        self.jar.update(res.headers());
        res
    }

    /// GETs a page: (status, body, Location).
    pub async fn get(&mut self, path: &str) -> (u16, String, Option<String>) {
        let res = self.send(self.http.get(self.app.url(path))).await;
        let location = location(res.headers());
        (res.status().as_u16(), res.text().await.expect("text"), location)
    }

    /// GETs with the session's cookies and gives the whole answer (for files and headers).
    pub async fn http_get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(self.app.url(path))
            .header(COOKIE, self.jar.header())
            .send()
            .await
            .expect("request")
    }

    /// The CSRF token of the form on a page.
    pub async fn csrf(&mut self, path: &str) -> String {
        hidden(&self.get(path).await.1, "csrf")
    }

    /// POSTs a form: (status, body, Location, headers).
    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> (u16, String, Option<String>, HeaderMap) {
        let res = self.send(self.http.post(self.app.url(path)).form(form)).await;
        let headers = res.headers().clone();
        (
            res.status().as_u16(),
            res.text().await.expect("text"),
            location(&headers),
            headers,
        )
    }

    /// Submits the portrait form as a browser does (multipart, with the CSRF field).
    pub async fn upload(&mut self, path: &str, csrf: &str, photo: Vec<u8>) -> (u16, String, Option<String>) {
        let form = reqwest::multipart::Form::new().text("csrf", csrf.to_string()).part(
            "photo",
            reqwest::multipart::Part::bytes(photo)
                .file_name("camera.png")
                .mime_str("image/png")
                .expect("mime"),
        );
        let res = self.send(self.http.post(self.app.url(path)).multipart(form)).await;
        let location = location(res.headers());
        (res.status().as_u16(), res.text().await.expect("text"), location)
    }

    /// Fills in the login form with its CSRF token; `next` as sent, or (None) the form's own
    /// hidden field, as a browser sends it.
    pub async fn login(
        &mut self,
        user: &str,
        password: &str,
        next: Option<&str>,
    ) -> (u16, String, Option<String>, HeaderMap) {
        let (_, page, _) = self.get("/login").await;
        let csrf = hidden(&page, "csrf");
        let next = next.map_or_else(|| hidden(&page, "next"), str::to_string);
        self.post(
            "/login",
            &[
                ("csrf", &csrf),
                ("next", &next),
                ("username", user),
                ("password", password),
            ],
        )
        .await
    }
}

/// One online scan at lane YYG-C1: a rejection is an answer (200), never an error.
pub async fn scan(app: &TestApp, token: &str, code: &str, direction: &str) -> Value {
    let res = app
        .post_json(
            token,
            "/api/v1/checkpoint/scans",
            &json!({"code": code, "lane": "YYG-C1", "direction": direction}),
        )
        .await;
    assert_eq!(res.status(), 200, "a rejection is an answer, not an error");
    res.json().await.expect("verdict")
}

/// A driver signed in through the whole HTTP flow (code asked for, read from its mail, entered):
/// their bearer token and id. Owns its client, so it can move into spawned tasks for races.
#[derive(Clone)]
pub struct Driver {
    pub token: String,
    pub id: String,
    pub email: String,
    base: String,
    client: reqwest::Client,
}

impl TestApp {
    /// Signs a driver in by e-mail code (creating the account on the first sign-in). Asking for
    /// many drivers from one test counts against the sign-in limits per client address: raise
    /// them with `TestApp::spawn_with(|s| s.driver_codes_per_client = 1000)`.
    pub async fn driver(&self, email: &str, lang: &str) -> Driver {
        let res = self
            .client
            .post(self.url("/api/v1/driver/codes"))
            .json(&json!({"email": email, "lang": lang}))
            .send()
            .await
            .expect("request");
        expect_json(res, 202, &format!("ask for a sign-in code for {email}")).await;
        let code = self.driver_code(email);
        let res = self
            .client
            .post(self.url("/api/v1/driver/sessions"))
            .json(&json!({"email": email, "code": code, "lang": lang}))
            .send()
            .await
            .expect("request");
        let signed = expect_json(res, 201, &format!("sign in as {email}")).await;
        Driver {
            token: signed["token"].as_str().expect("token").to_string(),
            id: signed["driver_id"].as_str().expect("driver_id").to_string(),
            email: email.to_string(),
            base: self.base.clone(),
            client: self.client.clone(),
        }
    }

    /// The code in the latest sign-in mail queued for `email`, read from the outbox row (the
    /// message exactly as it is sent, without waiting for the worker).
    pub fn driver_code(&self, email: &str) -> String {
        use borderdesk::db::schema::mail_outbox;
        use diesel::prelude::*;
        let email = email.trim().to_lowercase();
        let to = email.clone();
        let text: String = self
            .ctx
            .db
            .run_blocking(move |c| {
                Ok(mail_outbox::table
                    .filter(mail_outbox::recipient.eq(&email))
                    .filter(mail_outbox::kind.eq("driver_code"))
                    // Ids are UUID v7, in order within an instant of the test clock.
                    .order((mail_outbox::created_at.desc(), mail_outbox::id.desc()))
                    .select(mail_outbox::body_text)
                    .first(c)?)
            })
            .expect("a sign-in mail in the outbox");
        if text.chars().filter(char::is_ascii_digit).count() >= 6 {
            return code_in(&text);
        }
        // The worker sent it already, and the outbox kept no copy: read the mail itself.
        let mut newest: Option<(std::time::SystemTime, String)> = None;
        for entry in std::fs::read_dir(self._dir.path().join("mail")).expect("mail folder") {
            let path = entry.expect("entry").path();
            let raw = std::fs::read_to_string(&path).unwrap_or_default();
            if !raw.contains(&format!("To: {to}")) {
                continue;
            }
            let at = std::fs::metadata(&path).and_then(|m| m.modified()).expect("mtime");
            if newest.as_ref().is_none_or(|(t, _)| at >= *t) {
                let parsed = mailparse::parse_mail(raw.as_bytes()).expect("a message");
                let body = parsed
                    .subparts
                    .first()
                    .map_or_else(|| parsed.get_body(), |p| p.get_body())
                    .expect("body");
                newest = Some((at, body));
            }
        }
        code_in(&newest.expect("the sent sign-in mail").1)
    }
}

/// The 6-digit code in a sign-in mail's text.
pub fn code_in(text: &str) -> String {
    text.split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .unwrap_or_else(|| panic!("a 6-digit code in {text}"))
        .to_string()
}

impl Driver {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("request")
    }

    /// GETs a driver resource: it must answer 200.
    pub async fn get_json(&self, path: &str) -> Value {
        expect_json(
            self.get(path).await,
            200,
            &format!("GET {path} as driver {}", self.email),
        )
        .await
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn put_json(&self, path: &str, body: &Value) -> reqwest::Response {
        self.client
            .put(self.url(path))
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn delete(&self, path: &str) -> reqwest::Response {
        self.client
            .delete(self.url(path))
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("request")
    }

    /// Adds a vehicle: it must be created (201); returns it.
    pub async fn vehicle(&self, plate: &str, vehicle_type: &str) -> Value {
        let res = self
            .post_json(
                "/api/v1/driver/vehicles",
                &json!({"plate": plate, "vehicle_type": vehicle_type}),
            )
            .await;
        expect_json(res, 201, &format!("add vehicle {plate}")).await
    }
}
