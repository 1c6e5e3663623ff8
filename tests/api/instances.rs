//! Two instances on one database, as behind a load balancer: what one changes, the other acts on
//! at once — a revoked permit, a disabled officer — although each decides scans from memory
//! (the scan index, the auth cache); and the scan writer keeps serving when a scan fails.

use borderdesk::clock::Clock;
use borderdesk::service::accounts;
use futures::future::join_all;
use serde_json::{Value, json};

use crate::support::{Jar, Session, TestApp, scan};

/// Two instances of one deployment, the gate's token and a pass issued on the first.
async fn two_instances_and_a_pass() -> (TestApp, TestApp, String, String) {
    let a = TestApp::spawn().await;
    let b = a.twin(|_| {}).await;
    let window = a.window();
    let gate = a.gate();
    let permit = a.issued_permit(&window).await;
    let number = permit["number"].as_str().unwrap().to_string();
    (a, b, gate, number)
}

/// A scan's raw answer at lane YYG-C1 (`scan` expects a verdict; this one may be a refusal).
async fn try_scan(app: &TestApp, token: &str, number: &str, direction: &str) -> reqwest::Response {
    app.post_json(
        token,
        "/api/v1/checkpoint/scans",
        &json!({"code": number, "lane": "YYG-C1", "direction": direction}),
    )
    .await
}

#[actix_web::test]
async fn a_revocation_on_one_instance_rejects_the_next_scan_on_the_other() {
    let (a, b, gate, number) = two_instances_and_a_pass().await;
    let number = number.as_str();
    let boss = a.boss();
    // B holds the permit in its scan index: the exit is admitted there.
    let out = scan(&b, &gate, number, "exit").await;
    assert_eq!(out["verdict"], "admit", "{out}");
    a.revoke(&boss, number, "lost and reported").await;
    let out = scan(&b, &gate, number, "entry").await;
    assert_eq!(out["verdict"], "reject", "{out}");
    assert_eq!(out["reason"], "revoked", "{out}");
    // And A, which revoked it, answers the same.
    let out = scan(&a, &gate, number, "entry").await;
    assert_eq!(out["reason"], "revoked", "{out}");
}

#[actix_web::test]
async fn a_trip_recorded_on_one_instance_counts_on_the_other() {
    let (a, b, gate, number) = two_instances_and_a_pass().await;
    let number = number.as_str();
    assert_eq!(scan(&b, &gate, number, "exit").await["verdict"], "admit");
    // A never saw this permit leave; its index must learn it from B's batch.
    let out = scan(&a, &gate, number, "exit").await;
    assert_eq!(out["reason"], "wrong_direction", "{out}");
    assert_eq!(scan(&a, &gate, number, "entry").await["verdict"], "admit");
    let out = scan(&b, &gate, number, "entry").await;
    assert_eq!(out["verdict"], "reject", "B heard of A's entry: {out}");
}

#[actix_web::test]
async fn a_disabled_officers_token_is_refused_on_both_instances_at_once() {
    let (a, b, gate, number) = two_instances_and_a_pass().await;
    let number = number.as_str();
    // Both instances have the token in their caches: the scan writer's and the auth cache.
    assert_eq!(scan(&a, &gate, number, "exit").await["verdict"], "admit");
    assert_eq!(scan(&b, &gate, number, "entry").await["verdict"], "admit");
    for app in [&a, &b] {
        assert_eq!(app.get(&gate, "/api/v1/checkpoint/lanes").await.status(), 200);
        assert_eq!(app.get(&gate, "/api/v1/checkpoint/lanes").await.status(), 200);
    }
    let now = a.clock.now();
    a.ctx
        .db
        .run_blocking(|c| accounts::set_disabled(c, now, "gate", true))
        .unwrap();
    for (name, app) in [("A", &a), ("B", &b)] {
        let res = try_scan(app, &gate, number, "exit").await;
        assert_eq!(res.status(), 401, "scan on {name}");
        assert_eq!(res.headers()["content-type"], "application/problem+json");
        let res = app.get(&gate, "/api/v1/checkpoint/lanes").await;
        assert_eq!(res.status(), 401, "read on {name}");
    }
    // Nothing was recorded for the refused scans.
    let crossings = a.count("crossings");
    assert_eq!(crossings, 2);
    // Enabled again, the same token is answered again (a single trip's pass, used up).
    a.ctx
        .db
        .run_blocking(|c| accounts::set_disabled(c, now, "gate", false))
        .unwrap();
    assert_eq!(scan(&b, &gate, number, "exit").await["reason"], "used");
    assert_eq!(a.count("crossings"), 3);
}

#[actix_web::test]
async fn a_revoked_token_is_refused_by_the_instance_that_cached_it() {
    let a = TestApp::spawn().await;
    let b = a.twin(|_| {}).await;
    let window = a.window();
    a.officer("gate", "checkpoint", &[]);
    let now = a.clock.now();
    let (id, gate) = a
        .ctx
        .db
        .run_blocking(|c| accounts::create_token(c, now, "gate", "lane 1"))
        .unwrap();
    let permit = a.issued_permit(&window).await;
    let number = permit["number"].as_str().unwrap();
    assert_eq!(scan(&b, &gate, number, "exit").await["verdict"], "admit");
    a.ctx.db.run_blocking(|c| accounts::revoke_token(c, now, &id)).unwrap();
    assert_eq!(try_scan(&b, &gate, number, "entry").await.status(), 401);
}

/// A database that refuses one scan's record (here a trigger, as a full disk or a constraint
/// would) fails that scan alone: the others of its batch are recorded and answered, and the
/// writer goes on serving.
#[actix_web::test]
async fn a_scan_batch_with_one_failing_scan_records_the_others_and_the_writer_keeps_serving() {
    let app = TestApp::spawn().await;
    let window = app.window();
    let gate = app.gate();
    let permits = app.issued_permits(&window, 12).await;
    let postgres = app.database_url.is_some();
    let trigger: &[&str] = if postgres {
        &[
            "CREATE FUNCTION refuse_lane() RETURNS trigger AS $$ BEGIN IF NEW.lane = 'BROKEN-1' THEN RAISE EXCEPTION 'lane refused'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER refuse_lane BEFORE INSERT ON crossings FOR EACH ROW EXECUTE FUNCTION refuse_lane()",
        ]
    } else {
        &[
            "CREATE TRIGGER refuse_lane BEFORE INSERT ON crossings WHEN NEW.lane = 'BROKEN-1' BEGIN SELECT RAISE(ABORT, 'lane refused'); END",
        ]
    };
    for sql in trigger {
        let sql = sql.to_string();
        app.ctx
            .db
            .run_blocking(move |c| Ok(diesel::RunQueryDsl::execute(diesel::sql_query(sql), c)?))
            .unwrap();
    }
    let scans = permits.iter().enumerate().map(|(i, p)| {
        let lane = if i == 5 { "BROKEN-1" } else { "YYG-C1" };
        let body = json!({"code": p["number"], "lane": lane, "direction": "exit"});
        let (app, gate) = (&app, &gate);
        async move { app.post_json(gate, "/api/v1/checkpoint/scans", &body).await.status() }
    });
    let statuses = join_all(scans).await;
    for (i, status) in statuses.iter().enumerate() {
        if i == 5 {
            assert_eq!(*status, 500, "the refused scan fails");
        } else {
            assert_eq!(*status, 200, "scan {i} is recorded");
        }
    }
    assert_eq!(app.count("crossings"), 11);
    assert!(
        app.metrics().await.contains("borderdesk_scan_batch_fallbacks_total 1"),
        "the batch fell back to one transaction per scan once"
    );
    // The refused scan changed nothing: its permit still leaves once.
    let broken = permits[5]["number"].as_str().unwrap();
    assert_eq!(scan(&app, &gate, broken, "exit").await["verdict"], "admit");
    assert_eq!(app.count("crossings"), 12);
}

/// Scans arriving together are decided in one batch from the index, and their trips written
/// together (on PostgreSQL one statement for the batch): the index and the database agree, so
/// no batch has to fall back to one transaction per scan.
#[actix_web::test]
async fn scans_arriving_together_are_recorded_as_one_batch_that_agrees_with_the_database() {
    let app = TestApp::spawn().await;
    let window = app.window();
    let gate = app.gate();
    let permits = app.issued_permits(&window, 16).await;
    for direction in ["exit", "entry"] {
        let scans = permits.iter().map(|p| {
            let body = json!({"code": p["number"], "lane": "YYG-C1", "direction": direction});
            let (app, gate) = (&app, &gate);
            async move {
                let res = app.post_json(gate, "/api/v1/checkpoint/scans", &body).await;
                assert_eq!(res.status(), 200);
                res.json::<serde_json::Value>().await.unwrap()
            }
        });
        for out in join_all(scans).await {
            assert_eq!(out["verdict"], "admit", "{direction}: {out}");
        }
    }
    // Each pass is used up now, in the database as in the index.
    for p in &permits {
        let number = p["number"].as_str().unwrap();
        assert_eq!(scan(&app, &gate, number, "exit").await["reason"], "used");
    }
    assert!(app.metrics().await.contains("borderdesk_scan_batch_fallbacks_total 0"));
}

/// A metric of this instance, as a number.
async fn metric(app: &TestApp, name: &str) -> i64 {
    let text = app.metrics().await;
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or_else(|| panic!("{name} in {text}"))
}

/// An instance knows a caller it has seen from memory (no lookup per request), and still refuses
/// at once what the other instance ended: a revoked API token, an officer's logout, a driver's
/// sign-out.
#[actix_web::test]
async fn callers_are_known_from_memory_and_an_end_on_one_instance_holds_on_the_other() {
    let a = TestApp::spawn().await;
    let b = a.twin(|_| {}).await;
    let (user, password) = a.officer("desk", "officer", &["border_tourism"]);
    let now = a.clock.now();
    let (token_id, token) = a
        .ctx
        .db
        .run_blocking(|c| accounts::create_token(c, now, "desk", "window 1"))
        .unwrap();

    // Ten reads with one token on B: one lookup, the rest from memory.
    let (hits, misses) = (
        metric(&b, "borderdesk_auth_cache_hits_total").await,
        metric(&b, "borderdesk_auth_cache_misses_total").await,
    );
    for _ in 0..10 {
        assert_eq!(b.get(&token, "/api/v1/calendar").await.status(), 200);
    }
    assert_eq!(metric(&b, "borderdesk_auth_cache_misses_total").await - misses, 1);
    assert_eq!(metric(&b, "borderdesk_auth_cache_hits_total").await - hits, 9);
    a.ctx
        .db
        .run_blocking(|c| accounts::revoke_token(c, now, &token_id))
        .unwrap();
    assert_eq!(b.get(&token, "/api/v1/calendar").await.status(), 401);

    // A page session opened on A, used on B, logged out on A: refused on B at once.
    let mut on_a = Session::signed_in(&a, &user, &password, None).await;
    let mut on_b = Session::new(&b);
    on_b.jar = std::mem::take(&mut on_a.jar);
    assert_eq!(on_b.get("/desk").await.0, 200);
    assert_eq!(on_b.get("/desk").await.0, 200);
    on_a.jar = std::mem::take(&mut on_b.jar);
    let cookies = on_a.jar.0.clone();
    let csrf = on_a.csrf("/desk").await;
    let (status, _, _, _) = on_a.post("/logout", &[("csrf", &csrf)]).await;
    assert_eq!(status, 303);
    assert_eq!(a.count("sessions"), 0, "the session is ended");
    let mut stale = Session::new(&b);
    stale.jar = Jar(cookies);
    let (status, _, location) = stale.get("/desk").await;
    assert_eq!(status, 303, "back to the login page");
    assert!(location.unwrap_or_default().starts_with("/login"));

    // A driver signed in on A, known to B, signs out on B: refused on A at once.
    let driver = a.driver("lai.xe@example.vn", "vi").await;
    for app in [&a, &b] {
        assert_eq!(app.get(&driver.token, "/api/v1/driver/profile").await.status(), 200);
        assert_eq!(app.get(&driver.token, "/api/v1/driver/profile").await.status(), 200);
    }
    let res = b
        .client
        .delete(b.url("/api/v1/driver/sessions/current"))
        .bearer_auth(&driver.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(a.get(&driver.token, "/api/v1/driver/profile").await.status(), 401);
}

/// The signing keys live in the database: a key rotated through instance A (as `borderdesk keys
/// rotate` does on any host) signs B's next permit with no restart, A verifies B's permit though
/// A has not read the ring since, and removing a key on B fails its permits on both at once.
#[actix_web::test]
async fn a_key_rotated_on_one_instance_signs_on_the_other_and_a_removal_holds_on_both() {
    let (a, b, gate, before) = two_instances_and_a_pass().await;
    let window = a.token_for("window");
    let first = a.permit(&window, &before).await["key_id"].as_str().unwrap().to_string();
    let now = a.clock.now();
    let (old, new) = a
        .ctx
        .db
        .run_blocking(|c| borderdesk::keys::rotate(c, a.ctx.keys.kek(), &[], now, 1826))
        .unwrap();
    assert_eq!(old, first);

    let on_b = b.issued_permit(&window).await;
    assert_eq!(on_b["key_id"], json!(new), "B signs with the key rotated on A");
    let kids: Vec<Value> = b
        .public_json("/api/v1/keys")
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|k| json!([k["kid"], k["active"]]))
        .collect();
    assert!(
        kids.contains(&json!([new, true])) && kids.contains(&json!([old, false])),
        "{kids:?}"
    );
    let code = on_b["code"].as_str().unwrap();
    assert_eq!(
        scan(&a, &gate, code, "exit").await["verdict"],
        "admit",
        "A reads the new key's code"
    );

    // The first key is compromised: removed through B, its permit fails on A and on B.
    b.ctx
        .db
        .run_blocking(|c| borderdesk::keys::remove(c, &old, now))
        .unwrap();
    for app in [&a, &b] {
        let out = scan(app, &gate, &before, "exit").await;
        assert_eq!(out["reason"], "unknown_key", "{out}");
    }
    assert_eq!(
        scan(&b, &gate, code, "entry").await["verdict"],
        "admit",
        "the new key's permit still does"
    );
}

/// Both instances issuing at once share one series: every serial once, none missing.
#[actix_web::test]
async fn serials_stay_gapless_when_both_instances_issue() {
    let a = TestApp::spawn().await;
    let b = a.twin(|_| {}).await;
    let window = a.window();
    crate::concurrency::issue_at_once_gapless(&[&a, &b], &window, 16).await;
}
