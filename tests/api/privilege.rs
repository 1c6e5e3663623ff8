//! Least privilege and office scoping: each role × route on an item of the actor's own office
//! and of another office, through the API and the pages, with every refusal changing nothing.

use borderdesk::clock::Clock;
use serde_json::{Value, json};

use crate::support::{Session, TestApp, photo_png, scan, trade, traveller};

const ALL: [&str; 3] = ["border_tourism", "border_trade", "passport"];

/// Adds an officer of `office` with every grant and returns (token, password).
fn account(app: &TestApp, username: &str, role: &str, office: &str) -> (String, String) {
    let grants: &[&str] = if matches!(role, "officer" | "supervisor") {
        &ALL
    } else {
        &[]
    };
    let (_, password) = app.officer_of(office, username, role, grants);
    (app.token_for(username), password)
}

/// One office's work: a tourism application issued as a permit with a portrait, a trade
/// application accepted with items deferred (so it has a notice), an accepted passport
/// application waiting for export.
struct Office {
    tourism: String,
    permit: String,
    trade: String,
    passport: String,
}

async fn office_work(app: &TestApp, officer: &str, n: u32) -> Office {
    let tourism = app.application(officer, traveller(n)).await;
    let permit = app.issued(officer, &tourism).await["number"]
        .as_str()
        .expect("number")
        .to_string();
    app.portrait(officer, &tourism).await;
    let trade = app
        .accepted(
            officer,
            &trade(traveller(n + 1), json!(["桂F 12345"])),
            &["application_form", "resident_id"],
        )
        .await;
    let passport = app
        .accepted(
            officer,
            &json!({"kind": "passport", "traveller": traveller(n + 2), "fee_waived": true, "photo_ref": "PH-1"}),
            &["application_form", "resident_id", "portrait"],
        )
        .await;
    Office {
        tourism,
        permit,
        trade,
        passport,
    }
}

/// What the stored state looks like, to show a refusal changed nothing.
async fn snapshot(app: &TestApp, owner: &str, o: &Office) -> Vec<Value> {
    let mut out = Vec::new();
    for path in [
        format!("/api/v1/applications/{}", o.tourism),
        format!("/api/v1/applications/{}", o.trade),
        format!("/api/v1/applications/{}", o.passport),
        format!("/api/v1/permits/{}", o.permit),
    ] {
        let res = app.get(owner, &path).await;
        assert_eq!(res.status(), 200, "{path}");
        out.push(res.json().await.expect("json"));
    }
    out
}

/// An API route on one office's items: `{tourism}`, `{permit}`, `{trade}` and `{passport}` stand
/// for that office's.
fn on(route: &str, o: &Office) -> String {
    format!("/api/v1{route}")
        .replace("{tourism}", &o.tourism)
        .replace("{permit}", &o.permit)
        .replace("{trade}", &o.trade)
        .replace("{passport}", &o.passport)
}

const WINDOW: &[&str] = &["officer", "supervisor"];

enum Method {
    Get,
    Post(Value),
    PostEmpty,
    PutPhoto,
}

async fn send(app: &TestApp, token: &str, method: &Method, path: &str) -> u16 {
    let res = match method {
        Method::Get => app.get(token, path).await,
        Method::Post(body) => app.post_json(token, path, body).await,
        Method::PostEmpty => app.post_json(token, path, &json!({})).await,
        Method::PutPhoto => app
            .client
            .put(app.url(path))
            .bearer_auth(token)
            .header("Content-Type", "image/png")
            .body(photo_png())
            .send()
            .await
            .expect("request"),
    };
    res.status().as_u16()
}

#[actix_web::test]
async fn each_role_reads_and_acts_on_its_own_office_only_and_refusals_change_nothing() {
    let app = TestApp::spawn().await;
    let (officer, _) = account(&app, "li", "officer", "YYG");
    let (supervisor, _) = account(&app, "wang", "supervisor", "YYG");
    let (checkpoint, _) = account(&app, "gate", "checkpoint", "YYG");
    let (admin, _) = account(&app, "root", "admin", "YYG");
    let (pxh_officer, _) = account(&app, "chen", "officer", "PXH");
    let own = office_work(&app, &officer, 1).await;
    let other = office_work(&app, &pxh_officer, 10).await;
    // Serial series are per office: the scoping follows the stock.
    assert!(
        own.permit.contains("-YYG-") && other.permit.contains("-PXH-"),
        "{} {}",
        own.permit,
        other.permit
    );

    let roles = [
        ("officer", &officer),
        ("supervisor", &supervisor),
        ("checkpoint", &checkpoint),
        ("admin", &admin),
    ];
    // Reads: (path on an office's items, who may read it). Window staff read their own
    // office's records; the checkpoint sees only the photo a verdict links to (any office's:
    // permits of every office cross at the port); the admin no personal data at all.
    let reads: [(&str, &[&str]); 6] = [
        ("/applications/{trade}", WINDOW),
        ("/applications/{trade}/notice", WINDOW),
        ("/applications/{tourism}/portrait", WINDOW),
        ("/permits/{permit}", WINDOW),
        ("/permits/{permit}/pdf", WINDOW),
        ("/permits/{permit}/photo", &["officer", "supervisor", "checkpoint"]),
    ];
    // The checkpoint sees a holder's photo through a verdict: it scans both passes first.
    for number in [&own.permit, &other.permit] {
        scan(&app, &checkpoint, number, "exit").await;
    }
    let mut cases = 0;
    for (path, allowed) in &reads {
        for (role, token) in roles {
            let may = allowed.contains(&role);
            let scoped = role != "checkpoint";
            let (mine, theirs) = (on(path, &own), on(path, &other));
            let expected_own = if may { 200 } else { 403 };
            // Another office's item answers as a missing one would: 404, not 403.
            let expected_other = match (may, scoped) {
                (false, _) => 403,
                (true, true) => 404,
                (true, false) => 200,
            };
            assert_eq!(
                send(&app, token, &Method::Get, &mine).await,
                expected_own,
                "{role} {mine}"
            );
            assert_eq!(
                send(&app, token, &Method::Get, &theirs).await,
                expected_other,
                "{role} {theirs}"
            );
            cases += 2;
        }
    }

    // Acts on another office's items, and by roles that may not act at all: refused, and
    // nothing changes. (Acting on one's own office is what the workflow tests do.)
    let before_own = snapshot(&app, &officer, &own).await;
    let before_other = snapshot(&app, &pxh_officer, &other).await;
    let audit_before = app.count("audit_log");
    let acts: [(&str, Method, &[&str]); 13] = [
        ("/applications/{tourism}/issue", Method::PostEmpty, WINDOW),
        (
            "/applications/{trade}/accept",
            Method::Post(json!({"materials": ["application_form", "resident_id"]})),
            WINDOW,
        ),
        ("/applications/{trade}/approve", Method::PostEmpty, WINDOW),
        (
            "/applications/{trade}/reject",
            Method::Post(json!({"reason": "测试 test"})),
            WINDOW,
        ),
        ("/applications/{trade}/withdraw", Method::PostEmpty, WINDOW),
        ("/applications/{tourism}/collect", Method::PostEmpty, WINDOW),
        (
            "/applications/{trade}/materials/trade_proof/supply",
            Method::PostEmpty,
            WINDOW,
        ),
        ("/applications/{trade}/acknowledge", Method::PostEmpty, WINDOW),
        (
            "/applications/{passport}/review",
            Method::Post(json!({"result": "approved"})),
            WINDOW,
        ),
        ("/applications/{tourism}/portrait", Method::PutPhoto, WINDOW),
        // The receipt's lookup code and the lookup's unlock belong to the window of the
        // application's office, like the application itself.
        ("/applications/{tourism}/receipt", Method::PostEmpty, WINDOW),
        ("/applications/{tourism}/lookup/unlock", Method::PostEmpty, WINDOW),
        // Revoking is the supervisor's, even in the officer's own office.
        (
            "/permits/{permit}/revoke",
            Method::Post(json!({"reason": "测试 test"})),
            &["supervisor"],
        ),
    ];
    for (path, method, who) in &acts {
        for (role, token) in roles {
            let may = who.contains(&role);
            let theirs = on(path, &other);
            let expected = if may { 404 } else { 403 };
            assert_eq!(send(&app, token, method, &theirs).await, expected, "{role} {theirs}");
            cases += 1;
            if !may {
                let mine = on(path, &own);
                assert_eq!(send(&app, token, method, &mine).await, 403, "{role} {mine}");
                cases += 1;
            }
        }
    }
    assert_eq!(app.count("audit_log"), audit_before, "a refusal wrote an audit row");
    assert_eq!(snapshot(&app, &officer, &own).await, before_own);
    assert_eq!(snapshot(&app, &pxh_officer, &other).await, before_other);

    // Views without an item: supervision and exports are the supervisor's (and hold their own
    // office only, below); the calendar holds no personal data.
    let views: [(&str, &[&str]); 3] = [
        ("/api/v1/sla", &["supervisor"]),
        ("/api/v1/checkpoint/lanes", &["supervisor", "checkpoint"]),
        ("/api/v1/calendar", &["officer", "supervisor", "checkpoint", "admin"]),
    ];
    for (path, allowed) in views {
        for (role, token) in roles {
            let expected = if allowed.contains(&role) { 200 } else { 403 };
            assert_eq!(send(&app, token, &Method::Get, path).await, expected, "{role} {path}");
            cases += 1;
        }
    }
    for (role, token) in roles {
        let status = send(&app, token, &Method::Get, "/api/v1/exports/passport").await;
        if role == "supervisor" {
            assert_eq!(status, 200, "{role}");
        } else {
            assert_eq!(status, 403, "{role}");
        }
        cases += 1;
    }
    assert!(cases >= 100, "{cases} cases");
}

#[actix_web::test]
async fn lists_sla_and_exports_hold_the_actors_office_only() {
    let app = TestApp::spawn().await;
    let (officer, officer_pw) = account(&app, "li", "officer", "YYG");
    let (supervisor, _) = account(&app, "wang", "supervisor", "YYG");
    let (pxh_officer, _) = account(&app, "chen", "officer", "PXH");
    let (pxh_supervisor, _) = account(&app, "huang", "supervisor", "PXH");
    let own = office_work(&app, &officer, 1).await;
    let other = office_work(&app, &pxh_officer, 10).await;

    let sla = app.get_json(&supervisor, "/api/v1/sla").await;
    let text = sla.to_string();
    assert!(text.contains(&own.trade) && text.contains(&own.passport), "{text}");
    assert!(
        !text.contains(&other.trade) && !text.contains(&other.passport) && !text.contains("\"PXH\""),
        "{text}"
    );

    // The supervisor's batch holds the office's passport applications only; another office's
    // batch is not theirs to acknowledge (404, and it stays unacknowledged).
    let batch = app.get_json(&supervisor, "/api/v1/exports/passport").await;
    let payload = batch["payload"].as_str().expect("payload");
    assert!(
        payload.contains(&own.passport) && !payload.contains(&other.passport),
        "{payload}"
    );
    let theirs = app.get_json(&pxh_supervisor, "/api/v1/exports/passport").await;
    let theirs_id = theirs["batch_id"].as_str().expect("batch id");
    assert_ne!(theirs_id, batch["batch_id"].as_str().expect("batch id"));
    assert!(theirs["payload"].as_str().expect("payload").contains(&other.passport));
    let audit = app.count("audit_log");
    let ack = format!("/api/v1/exports/passport/{theirs_id}/ack");
    assert_eq!(app.post_json(&supervisor, &ack, &json!({})).await.status(), 404);
    assert_eq!(app.count("audit_log"), audit);
    let again = app.get_json(&pxh_supervisor, "/api/v1/exports/passport").await;
    assert_eq!(again["batch_id"], theirs["batch_id"]);
    assert_eq!(again["acknowledged"], false);

    // The desk lists the office's queue and permits; the pages answer another office's items
    // as missing.
    let mut b = Session::new(&app);
    assert_eq!(b.login("li", &officer_pw, None).await.0, 303);
    let (status, desk, _) = b.get("/desk").await;
    assert_eq!(status, 200);
    assert!(desk.contains(&own.trade) && desk.contains(&own.permit), "{desk}");
    assert!(!desk.contains(&other.trade) && !desk.contains(&other.permit), "{desk}");
    for (mine, theirs) in [
        (
            format!("/desk/applications/{}", own.trade),
            format!("/desk/applications/{}", other.trade),
        ),
        (
            format!("/desk/applications/{}/notice", own.trade),
            format!("/desk/applications/{}/notice", other.trade),
        ),
        (
            format!("/desk/permits/{}", own.permit),
            format!("/desk/permits/{}", other.permit),
        ),
    ] {
        assert_eq!(b.get(&mine).await.0, 200, "{mine}");
        assert_eq!(b.get(&theirs).await.0, 404, "{theirs}");
    }
}

#[actix_web::test]
async fn admins_and_the_checkpoint_get_no_personal_data_pages_nor_links_to_them() {
    let app = TestApp::spawn().await;
    let (officer, _) = account(&app, "li", "officer", "YYG");
    let (_, admin_pw) = account(&app, "root", "admin", "YYG");
    let (_, gate_pw) = account(&app, "gate", "checkpoint", "YYG");
    let (_, boss_pw) = account(&app, "wang", "supervisor", "YYG");
    let own = office_work(&app, &officer, 1).await;
    for (user, pw, home) in [
        ("root", &admin_pw, "/admin/calendar"),
        ("gate", &gate_pw, "/checkpoint"),
    ] {
        let mut b = Session::new(&app);
        assert_eq!(b.login(user, pw, None).await.0, 303);
        let (status, page, _) = b.get(home).await;
        assert_eq!(status, 200, "{user}");
        for link in ["href=\"/desk\"", "href=\"/supervisor/sla\""] {
            assert!(!page.contains(link), "{user} is offered {link}: {page}");
        }
        for path in [
            format!("/desk/applications/{}", own.trade),
            format!("/desk/applications/{}/notice", own.trade),
            format!("/desk/permits/{}", own.permit),
            "/supervisor/sla".to_string(),
        ] {
            assert_eq!(b.get(&path).await.0, 403, "{user} {path}");
        }
    }
    // The supervisor is offered the SLA view, and it opens.
    let mut b = Session::signed_in(&app, "wang", &boss_pw, None).await;
    let (status, page, _) = b.get("/supervisor/sla").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("href=\"/supervisor/sla\"") && page.contains(&own.trade),
        "{page}"
    );
}

#[actix_web::test]
async fn the_checkpoint_sees_the_photo_of_what_it_just_scanned_only() {
    let app = TestApp::spawn().await;
    let (officer, _) = account(&app, "li", "officer", "YYG");
    let (gate, _) = account(&app, "gate", "checkpoint", "YYG");
    let (other_gate, _) = account(&app, "gate2", "checkpoint", "YYG");
    let own = office_work(&app, &officer, 1).await;
    let photo = format!("/api/v1/permits/{}/photo", own.permit);
    // A number alone (serials are sequential) opens no photo: answered as if there were none.
    assert_eq!(send(&app, &gate, &Method::Get, &photo).await, 404);
    scan(&app, &gate, &own.permit, "exit").await;
    assert_eq!(
        send(&app, &gate, &Method::Get, &photo).await,
        200,
        "the verdict's photo"
    );
    assert_eq!(
        send(&app, &other_gate, &Method::Get, &photo).await,
        404,
        "another device did not scan it"
    );
    app.clock.set(app.clock.now() + chrono::Duration::minutes(31));
    assert_eq!(
        send(&app, &gate, &Method::Get, &photo).await,
        404,
        "half an hour after the scan"
    );
}
