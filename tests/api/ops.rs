//! Health, readiness, metrics and the OpenAPI document.

use borderdesk::clock::Clock;
use serde_json::Value;

use crate::support::TestApp;

#[actix_web::test]
async fn health_readiness_and_metrics() {
    let app = TestApp::spawn().await;
    assert_eq!(app.client.get(app.url("/healthz")).send().await.unwrap().status(), 200);
    assert_eq!(app.client.get(app.url("/readyz")).send().await.unwrap().status(), 200);
    // Probes that send HEAD get the same status, without a body.
    for path in ["/healthz", "/readyz"] {
        let res = app.client.head(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 200, "HEAD {path}");
        assert!(res.bytes().await.unwrap().is_empty(), "HEAD {path} has no body");
    }
    let token = app.window();
    app.issued_permit(&token).await;
    let metrics = app.metrics().await;
    assert!(metrics.contains("borderdesk_permits_issued_total 1"), "{metrics}");
    assert!(metrics.contains("borderdesk_http_requests_total"), "{metrics}");
    assert!(
        metrics.contains("borderdesk_oldest_unreviewed_seconds 0\n"),
        "issued: none waits"
    );
    let gauge = |text: &str, name: &str| -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{name} in {text}"))
    };
    assert!(gauge(&metrics, "borderdesk_pool_checkouts_total") > 0.0);
    assert!(gauge(&metrics, "borderdesk_pool_wait_seconds_total") >= 0.0);
    assert_eq!(gauge(&metrics, "borderdesk_pool_timeouts_total"), 0.0);
    assert!(
        metrics.contains("# TYPE borderdesk_pool_checkouts_total counter"),
        "{metrics}"
    );
    // An application taken and left waiting an hour and a half is the operators' alert.
    let trade = app.token("li", "officer", &["border_trade"]);
    let first = app
        .take(
            &trade,
            &serde_json::json!({"kind": "border_trade", "traveller": crate::support::traveller(2)}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.clock.set(app.clock.now() + chrono::Duration::minutes(90));
    assert_eq!(
        gauge(&app.metrics().await, "borderdesk_oldest_unreviewed_seconds"),
        5400.0
    );
    // Accepted and still not decided, it stays the oldest, ahead of one taken since.
    app.accept(&trade, &first, &crate::support::DEFERRING_PORTRAIT).await;
    app.application(&token, crate::support::traveller(3)).await;
    app.clock.set(app.clock.now() + chrono::Duration::minutes(10));
    assert_eq!(
        gauge(&app.metrics().await, "borderdesk_oldest_unreviewed_seconds"),
        6000.0
    );
}

/// Every answer carries its request id; a proxy's plain id is kept, anything else replaced.
#[actix_web::test]
async fn each_answer_carries_a_request_id() {
    let app = TestApp::spawn().await;
    let id = |res: &reqwest::Response| res.headers()["x-request-id"].to_str().unwrap().to_string();
    let a = id(&app.client.get(app.url("/healthz")).send().await.unwrap());
    let b = id(&app.client.get(app.url("/no/such/page")).send().await.unwrap());
    assert!(
        a.len() == 32 && a.bytes().all(|c| c.is_ascii_hexdigit()) && a != b,
        "{a} {b}"
    );
    let kept = app
        .client
        .get(app.url("/healthz"))
        .header("X-Request-Id", "nginx-7f3a9c")
        .send()
        .await
        .unwrap();
    assert_eq!(id(&kept), "nginx-7f3a9c");
    let replaced = app
        .client
        .get(app.url("/healthz"))
        .header("X-Request-Id", "x\" injected=\"1")
        .send()
        .await
        .unwrap();
    assert_ne!(id(&replaced), "x\" injected=\"1");
}

/// With `BORDERDESK_LOG_FORMAT=json` the binary logs one JSON object per line, and a request's
/// line names the id its response carried; where it listens is on stdout as JSON too.
#[actix_web::test]
async fn json_logs_name_each_request_by_its_id() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_borderdesk"))
        .arg("serve")
        .env_clear()
        .env("BORDERDESK_DATA_DIR", dir.path())
        .env("BORDERDESK_BIND", "127.0.0.1:0")
        .env("BORDERDESK_LOG_FORMAT", "json")
        .env("BORDERDESK_MAIL_POLL_SECONDS", "0")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    // Where it listens, as JSON too.
    let listening: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
    let addr = listening["listening"].as_str().unwrap().to_string();
    let res = reqwest::get(format!("{addr}/readyz")).await.unwrap();
    assert_eq!(res.status(), 200);
    let id = res.headers()["x-request-id"].to_str().unwrap().to_string();
    child.kill().unwrap();
    child.wait().unwrap();
    let mut logs = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut logs).unwrap();
    let lines: Vec<Value> = logs
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let answered = lines
        .iter()
        .find(|l| l["span"]["request_id"] == id.as_str())
        .unwrap_or_else(|| panic!("no line for {id}: {logs}"));
    assert_eq!(answered["fields"]["status"], 200, "{answered}");
    assert_eq!(answered["fields"]["path"], "/readyz", "{answered}");
}

/// After an upgrade, an older binary refuses to start on the newer schema and says what to do;
/// the database is left as it was.
#[actix_web::test]
async fn an_older_binary_refuses_a_newer_schema() {
    let app = TestApp::spawn().await;
    app.ctx
        .db
        .run_blocking(|c| {
            diesel::RunQueryDsl::execute(
                diesel::sql_query("INSERT INTO __diesel_schema_migrations (version) VALUES ('20991231000001')"),
                c,
            )?;
            Ok(())
        })
        .unwrap();
    let settings = borderdesk::config::Settings {
        data_dir: app._dir.path().to_path_buf(),
        database_url: app.database_url.clone(),
        kek: Some(crate::support::TEST_KEK.into()),
        ..borderdesk::config::Settings::default()
    };
    let clock = std::sync::Arc::new(borderdesk::clock::SystemClock);
    let e = borderdesk::app::context(&settings, clock)
        .err()
        .expect("refused")
        .to_string();
    assert!(
        e.contains("newer borderdesk") && e.contains("20991231000001") && e.contains("RUNBOOK"),
        "{e}"
    );
    assert_eq!(app.client.get(app.url("/readyz")).send().await.unwrap().status(), 200);
}

#[actix_web::test]
async fn openapi_lists_every_route() {
    let app = TestApp::spawn().await;
    let doc: Value = app.public_json("/api/openapi.json").await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    let expected = [
        ("/api/v1/applications", "post"),
        ("/api/v1/applications/{id}", "get"),
        ("/api/v1/applications/{id}/issue", "post"),
        ("/api/v1/permits/{number}", "get"),
        ("/api/v1/permits/{number}/pdf", "get"),
        ("/api/v1/permits/{number}/photo", "get"),
        ("/api/v1/applications/{id}/portrait", "put"),
        ("/api/v1/applications/{id}/portrait", "get"),
        ("/api/v1/permits/{number}/revoke", "post"),
        ("/api/v1/permits/{number}/prints", "post"),
        ("/api/v1/permits/{number}/prints", "get"),
        ("/api/v1/stock", "get"),
        ("/api/v1/free-services", "post"),
        ("/api/v1/free-services", "get"),
        ("/api/v1/savings", "get"),
        ("/api/v1/savings.csv", "get"),
        ("/api/v1/applications/{id}/photo-sheet", "post"),
        ("/api/v1/applications/{id}/portrait/draft", "put"),
        ("/api/v1/applications/{id}/notice/print", "post"),
        ("/api/v1/seals", "get"),
        ("/api/v1/seals", "post"),
        ("/api/v1/seals/{id}/grants", "post"),
        ("/api/v1/seals/grants/{id}/withdraw", "post"),
        ("/api/v1/seals/{id}/retire", "post"),
        ("/api/v1/applications/{id}/portrait/draft", "get"),
        ("/api/v1/applications/{id}/portrait/draft/image", "get"),
        ("/api/v1/applications/{id}/portrait/draft/save", "post"),
        ("/api/v1/stock/reconciliation", "get"),
        ("/api/v1/stock/batches", "post"),
        ("/api/v1/stock/blanks/{serial}/void", "post"),
        ("/api/v1/stock/counts", "post"),
        ("/api/v1/stock/counts/{day}/explain", "post"),
        ("/api/v1/keys", "get"),
        ("/api/v1/applications/{id}/accept", "post"),
        ("/api/v1/applications/{id}/approve", "post"),
        ("/api/v1/applications/{id}/reject", "post"),
        ("/api/v1/applications/{id}/withdraw", "post"),
        ("/api/v1/applications/{id}/collect", "post"),
        ("/api/v1/applications/{id}/materials/{item}/supply", "post"),
        ("/api/v1/applications/{id}/acknowledge", "post"),
        ("/api/v1/applications/{id}/review", "post"),
        ("/api/v1/applications/{id}/notice", "get"),
        ("/api/v1/exports/passport", "get"),
        ("/api/v1/exports/passport/{batch}/ack", "post"),
        ("/api/v1/sla", "get"),
        ("/api/v1/checkpoint/scans", "post"),
        ("/api/v1/checkpoint/scans/{id}/cleared", "post"),
        ("/api/v1/checkpoint/lanes", "get"),
        ("/api/v1/checkpoint/trust", "get"),
        ("/api/v1/checkpoint/crossings", "post"),
        ("/api/v1/calendar", "get"),
        ("/api/v1/calendar/{date}", "put"),
        ("/api/v1/calendar/{date}", "delete"),
        ("/healthz", "get"),
        ("/healthz", "head"),
        ("/readyz", "get"),
        ("/readyz", "head"),
        ("/metrics", "get"),
        ("/api/openapi.json", "get"),
        ("/", "get"),
        ("/login", "get"),
        ("/login", "post"),
        ("/logout", "post"),
        ("/progress", "get"),
        ("/progress", "post"),
        ("/checkpoint", "get"),
        ("/checkpoint", "post"),
        ("/checkpoint/upload", "post"),
        ("/static/checkpoint.js", "get"),
        ("/static/jsqr-1.4.0.js", "get"),
        ("/static/jsqr-1.4.0.LICENSE.txt", "get"),
        ("/static/desk.js", "get"),
        ("/static/board.js", "get"),
        ("/supervisor/sla", "get"),
        ("/supervisor/mail", "get"),
        ("/admin/calendar", "get"),
        ("/admin/calendar", "post"),
        ("/admin/calendar/remove", "post"),
        ("/desk", "get"),
        ("/desk/applications", "post"),
        ("/desk/applications/{id}/receipt", "post"),
        ("/desk/applications/{id}/unlock", "post"),
        ("/api/v1/applications/{id}/receipt", "post"),
        ("/api/v1/applications/{id}/lookup/unlock", "post"),
        ("/desk/applications/{id}", "get"),
        ("/desk/applications/{id}/issue", "post"),
        ("/desk/applications/{id}/step", "post"),
        ("/desk/applications/{id}/portrait", "post"),
        ("/desk/applications/{id}/notice", "get"),
        ("/desk/permits/{number}", "get"),
        ("/desk/permits/{number}/revoke", "post"),
        ("/desk/permits/{number}/print", "post"),
        ("/desk/stock", "get"),
        ("/desk/free-services", "get"),
        ("/desk/free-services", "post"),
        ("/supervisor/savings", "get"),
        ("/desk/applications/{id}/photo-sheet", "post"),
        ("/desk/applications/{id}/portrait", "get"),
        ("/desk/applications/{id}/notice/print", "post"),
        ("/supervisor/seals", "get"),
        ("/supervisor/seals", "post"),
        ("/supervisor/seals/{id}/grant", "post"),
        ("/supervisor/seals/grants/{id}/withdraw", "post"),
        ("/supervisor/seals/{id}/retire", "post"),
        ("/desk/applications/{id}/portrait/save", "post"),
        ("/static/portrait.js", "get"),
        ("/desk/stock/batches", "post"),
        ("/desk/stock/void", "post"),
        ("/desk/stock/count", "post"),
        ("/desk/stock/explain", "post"),
        ("/api/v1/slots", "get"),
        ("/api/v1/slots/changes", "post"),
        ("/api/v1/yard/check-ins", "post"),
        ("/api/v1/yard/walk-ups", "post"),
        ("/api/v1/yard/calls", "post"),
        ("/api/v1/yard/{port}/queues", "get"),
        ("/api/v1/drivers/struck", "get"),
        ("/api/v1/drivers/{id}/strikes/lift", "post"),
        ("/api/v1/board/{port}", "get"),
        ("/yard", "get"),
        ("/yard/check-in", "post"),
        ("/yard/walk-up", "post"),
        ("/yard/call", "post"),
        ("/supervisor/slots", "get"),
        ("/supervisor/slots", "post"),
        ("/supervisor/slots/lift", "post"),
        ("/board/{port}", "get"),
        ("/api/v1/driver/codes", "post"),
        ("/api/v1/driver/sessions", "post"),
        ("/api/v1/driver/sessions/current", "delete"),
        ("/api/v1/driver/profile", "get"),
        ("/api/v1/driver/profile", "put"),
        ("/api/v1/driver/vehicles", "get"),
        ("/api/v1/driver/vehicles", "post"),
        ("/api/v1/driver/vehicles/{id}", "delete"),
        ("/api/v1/driver/bookings", "get"),
        ("/api/v1/driver/bookings", "post"),
        ("/api/v1/driver/bookings/{id}", "get"),
        ("/api/v1/driver/bookings/{id}/slip", "get"),
        ("/api/v1/driver/bookings/{id}/move", "post"),
        ("/api/v1/driver/bookings/{id}/cancel", "post"),
        ("/driver", "get"),
        ("/driver", "post"),
        ("/driver/code", "get"),
        ("/driver/code", "post"),
        ("/driver/home", "get"),
        ("/driver/profile", "get"),
        ("/driver/profile", "post"),
        ("/driver/vehicles", "get"),
        ("/driver/vehicles", "post"),
        ("/driver/vehicles/{id}/remove", "post"),
        ("/driver/signout", "post"),
        ("/driver/lang", "post"),
        ("/driver/bookings", "get"),
        ("/driver/bookings", "post"),
        ("/driver/bookings/{id}/slip", "get"),
        ("/driver/bookings/{id}/move", "post"),
        ("/driver/bookings/{id}/cancel", "post"),
    ];
    for (path, method) in expected {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} missing from the OpenAPI document"
        );
    }
    let documented: usize = paths.values().map(|p| p.as_object().unwrap().len()).sum();
    assert_eq!(
        documented,
        expected.len(),
        "a documented route is not in this list (or the reverse)"
    );
    // And each documented route answers (not the 404 of an unknown route).
    for (path, method) in expected {
        let concrete = ["{id}", "{number}", "{item}", "{date}", "{batch}"]
            .iter()
            .fold(path.to_string(), |p, v| p.replace(v, "x"));
        let verb = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let body = app
            .client
            .request(verb, app.url(&concrete))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            !body.contains("/problems/no-route") && !body.contains("no such page"),
            "{method} {path} is not routed"
        );
    }
}
