//! Issue 9, defects 7 and 8: the public progress query cannot be brute-forced, and `/metrics`
//! neither grows with made-up paths nor shows itself to anyone who asks.

use borderdesk::service::progress;
use futures::future::join_all;
use reqwest::header::COOKIE;
use serde_json::Value;

use crate::support::{Jar, METRICS_TOKEN, TestApp, cn_id, hidden, traveller};

/// The progress form as a phone posts it, from `client` (bound to some source address).
async fn lookup(app: &TestApp, client: &reqwest::Client, number: &str, last4: &str, code: &str) -> (u16, String) {
    let res = client
        .post(app.url("/progress"))
        .form(&[("number", number), ("last4", last4), ("code", code), ("lang", "en")])
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

/// A client whose connections come from another loopback address (127.0.0.0/8 is all
/// loopback on Linux): the app limits per socket address and trusts no forwarded header.
fn client_from(n: u8) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 1, n]))
        .build()
        .unwrap()
}

/// An application taken through the API: (id, number, the ID number's last four).
async fn taken(app: &TestApp, token: &str) -> (String, String, String) {
    let res = app
        .post_json(
            token,
            "/api/v1/applications",
            &serde_json::json!({"kind": "border_tourism", "traveller": traveller(1)}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let body: Value = res.json().await.unwrap();
    (
        body["id"].as_str().unwrap().to_string(),
        body["number"].as_str().unwrap().to_string(),
        cn_id("19900307", 3)[14..].to_string(),
    )
}

fn lookup_state(app: &TestApp, id: &str) -> progress::LookupState {
    let now = app.ctx.clock.now();
    app.ctx
        .db
        .run_blocking(|c| progress::state(c, now, id))
        .unwrap()
        .expect("a code was issued")
}

fn audit_actions(app: &TestApp, id: &str) -> Vec<(String, Option<String>, String)> {
    app.ctx
        .db
        .run_blocking(|c| borderdesk::db::audit::for_entity(c, "application", id))
        .unwrap()
        .into_iter()
        .map(|r| {
            let text = format!("{:?} {:?}", r.before_json, r.after_json);
            (r.action, r.actor, text)
        })
        .collect()
}

#[actix_web::test]
async fn guesses_from_many_addresses_get_five_tries_then_the_lookup_locks() {
    let app = TestApp::spawn().await;
    let li = app.token("li", "officer", &["border_tourism"]);
    let (id, number, last4) = taken(&app, &li).await;
    let code = app.receipt(&li, &id).await;
    let wrong = if code.starts_with('Z') {
        "2222-2222"
    } else {
        "ZZZZ-ZZZZ"
    };

    // Forty guesses at once, each from its own address (each well under the per-address limit).
    let guesses = (0..40u8).map(|n| {
        let (app, number, last4) = (&app, number.clone(), last4.clone());
        async move { lookup(app, &client_from(n + 2), &number, &last4, wrong).await.0 }
    });
    let statuses = join_all(guesses).await;
    assert!(statuses.iter().all(|s| *s == 404), "{statuses:?}");
    let state = lookup_state(&app, &id);
    assert_eq!(state.failures, 5, "no more tries were checked than allowed");
    let until = state.locked_until.expect("locked");
    assert_eq!(until, app.ctx.clock.now() + chrono::Duration::minutes(30));
    let locks: Vec<_> = audit_actions(&app, &id)
        .into_iter()
        .filter(|(a, _, _)| a == "progress.locked")
        .collect();
    assert_eq!(locks.len(), 1, "{locks:?}");

    // Locked: even the right code gets the answer an unknown number gets.
    let fresh = client_from(100);
    let (status, locked) = lookup(&app, &fresh, &number, &last4, &code).await;
    let (_, unknown) = lookup(&app, &fresh, "YYG209901010001", &last4, &code).await;
    assert_eq!(status, 404);
    assert_eq!(locked.replace(&number, "N"), unknown.replace("YYG209901010001", "N"));
    assert!(locked.contains("bring your ID to the permit window"), "{locked}");

    // The window lifts it (checkpoint staff may not); audited with the officer.
    let gate = app.gate();
    let path = format!("/api/v1/applications/{id}/lookup/unlock");
    assert_eq!(app.post_json(&gate, &path, &serde_json::json!({})).await.status(), 403);
    assert!(
        lookup_state(&app, &id).locked_until.is_some(),
        "a refused unlock changes nothing"
    );
    assert_eq!(app.post_json(&li, &path, &serde_json::json!({})).await.status(), 204);
    let (status, page) = lookup(&app, &fresh, &number, &last4, &code).await;
    assert_eq!(status, 200, "{page}");
    assert!(
        audit_actions(&app, &id)
            .iter()
            .any(|(a, actor, _)| a == "progress.unlocked" && actor.is_some())
    );

    // Locked again by five more wrong tries, then the lock runs out on its own.
    for _ in 0..5 {
        assert_eq!(lookup(&app, &fresh, &number, "0000", &code).await.0, 404);
    }
    assert_eq!(lookup(&app, &fresh, &number, &last4, &code).await.0, 404);
    app.clock.set(app.ctx.clock.now() + chrono::Duration::minutes(31));
    assert_eq!(lookup(&app, &client_from(101), &number, &last4, &code).await.0, 200);
    assert_eq!(lookup_state(&app, &id).failures, 0, "a right answer clears the count");
}

#[actix_web::test]
async fn the_lookup_needs_the_receipts_code_and_a_new_receipt_replaces_it() {
    let app = TestApp::spawn().await;
    let li = app.token("li", "officer", &["border_tourism"]);
    let (id, number, last4) = taken(&app, &li).await;
    let c = &app.client;
    // Taken before its receipt (as every application before this change): no lookup at all.
    assert_eq!(lookup(&app, c, &number, &last4, "").await.0, 404);
    assert_eq!(lookup(&app, c, &number, &last4, "7K3M-Q9TX").await.0, 404);

    let first = app.receipt(&li, &id).await;
    assert!(first.len() == 9 && first.as_bytes()[4] == b'-', "{first}");
    assert!(!first.contains(['I', 'L', 'O', 'U']), "{first}");
    // The four digits alone are not enough.
    assert_eq!(lookup(&app, c, &number, &last4, "").await.0, 404);
    // Typed loosely: lower case, no hyphen.
    let loose = first.replace('-', "").to_lowercase();
    assert_eq!(lookup(&app, c, &number, &last4, &loose).await.0, 200);
    // The right code with the wrong digits is still wrong.
    assert_eq!(lookup(&app, c, &number, "0000", &first).await.0, 404);

    let second = app.receipt(&li, &id).await;
    assert_ne!(first, second);
    assert_eq!(
        lookup(&app, c, &number, &last4, &first).await.0,
        404,
        "the old code stops working"
    );
    assert_eq!(lookup(&app, c, &number, &last4, &second).await.0, 200);

    // Kept only as a hash; never in the audit trail.
    let stored: String = app
        .ctx
        .db
        .run_blocking(|c| {
            use borderdesk::db::schema::progress_access::dsl::*;
            use diesel::prelude::*;
            Ok(progress_access.find(&id).select(code_hash).first(c)?)
        })
        .unwrap();
    let plain = second.replace('-', "");
    assert!(!stored.contains(&plain) && stored.len() == 64, "{stored}");
    let trail = audit_actions(&app, &id);
    assert_eq!(trail.iter().filter(|(a, _, _)| a == "progress.code_issued").count(), 2);
    assert!(
        trail
            .iter()
            .all(|(_, _, t)| !t.contains(&plain) && !t.contains(&first.replace('-', "")))
    );
}

#[actix_web::test]
async fn the_desk_prints_the_receipt_sees_the_lock_and_unlocks() {
    let app = TestApp::spawn().await;
    let (user, password) = app.officer("li", "officer", &["border_tourism"]);
    let li = app.token("li2", "officer", &["border_tourism"]);
    let (id, number, last4) = taken(&app, &li).await;
    let jar = app.page_login(&user, &password, "/desk").await;
    let get = |jar: &Jar, path: String| app.client.get(app.url(&path)).header(COOKIE, jar.header()).send();

    let page_path = format!("/desk/applications/{id}");
    let page = get(&jar, page_path.clone()).await.unwrap().text().await.unwrap();
    assert!(page.contains("尚未打印回执"), "{page}");
    let csrf = hidden(&page, "csrf");
    let post = |path: String| {
        app.client
            .post(app.url(&path))
            .header(COOKIE, jar.header())
            .form(&[("csrf", csrf.as_str())])
            .send()
    };
    let res = post(format!("/desk/applications/{id}/receipt")).await.unwrap();
    assert_eq!(res.status(), 200);
    let receipt = res.text().await.unwrap();
    let code = receipt
        .split("id=\"lookup-code\"")
        .nth(1)
        .and_then(|rest| rest.split("<strong>").nth(1))
        .and_then(|rest| rest.split("</strong>").next())
        .expect("the code on the receipt")
        .to_string();
    assert!(receipt.contains(&number) && receipt.contains("/progress"), "{receipt}");
    assert!(
        receipt.contains("Mã tra cứu") && receipt.contains("Lookup code"),
        "{receipt}"
    );
    assert!(
        !receipt.contains(&cn_id("19900307", 3)),
        "the ID number is masked on the receipt"
    );
    assert_eq!(lookup(&app, &app.client, &number, &last4, &code).await.0, 200);

    for _ in 0..5 {
        lookup(&app, &app.client, &number, "0000", &code).await;
    }
    let page = get(&jar, page_path.clone()).await.unwrap().text().await.unwrap();
    assert!(page.contains("查询已锁定至") && page.contains("/unlock"), "{page}");
    let res = post(format!("/desk/applications/{id}/unlock")).await.unwrap();
    assert_eq!(res.status(), 303);
    let page = get(&jar, page_path).await.unwrap().text().await.unwrap();
    assert!(!page.contains("查询已锁定至") && page.contains("补打回执"), "{page}");
    assert_eq!(lookup(&app, &app.client, &number, &last4, &code).await.0, 200);
}

async fn metrics_status(app: &TestApp, token: Option<&str>) -> (u16, String, String) {
    let mut req = app.client.get(app.url("/metrics"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let kind = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, kind, res.text().await.unwrap())
}

#[actix_web::test]
async fn made_up_paths_and_methods_do_not_grow_the_metrics() {
    let app = TestApp::spawn().await;
    // Every series the probe below can touch exists once before the baseline.
    let probe = |path: String| {
        let c = app.client.clone();
        async move { c.get(path).send().await.unwrap().status().as_u16() }
    };
    probe(app.url("/nothing-here")).await;
    probe(app.url("/api/v1/nothing-here")).await;
    let before = app.metrics().await;

    let paths: Vec<String> = (0..2000)
        .map(|i| {
            if i % 2 == 0 {
                app.url(&format!("/probe-{i}/x{i}"))
            } else {
                app.url(&format!("/api/v1/probe-{i}"))
            }
        })
        .collect();
    for chunk in paths.chunks(100) {
        let statuses = join_all(chunk.iter().cloned().map(probe)).await;
        assert!(statuses.iter().all(|s| *s == 404), "{statuses:?}");
    }
    // Any token is a method to HTTP: each would have been a series of its own.
    for i in 0..200 {
        let method = reqwest::Method::from_bytes(format!("PROBE{i}").as_bytes()).unwrap();
        let res = app.client.request(method, app.url("/healthz")).send().await.unwrap();
        assert_eq!(res.status(), 501);
    }
    let after = app.metrics().await;
    assert!(!after.contains("probe-") && !after.contains("PROBE"), "{after}");
    assert!(after.contains(r#"endpoint="unmatched""#), "{after}");
    // Only the counts' digits may grow.
    assert!(
        after.len() < before.len() + 2_000,
        "metrics grew from {} to {} bytes",
        before.len(),
        after.len()
    );
}

#[actix_web::test]
async fn metrics_need_the_token_on_the_public_listener() {
    let app = TestApp::spawn().await;
    let (status, kind, body) = metrics_status(&app, None).await;
    assert_eq!((status, kind.as_str()), (401, "application/problem+json"), "{body}");
    assert!(!body.contains("borderdesk_http_requests"), "{body}");
    let (status, _, body) = metrics_status(&app, Some("not-the-token-at-all")).await;
    assert_eq!(status, 401);
    assert!(!body.contains("borderdesk_http_requests"), "{body}");
    let (status, kind, body) = metrics_status(&app, Some(METRICS_TOKEN)).await;
    assert_eq!(status, 200);
    assert!(kind.starts_with("text/plain"), "{kind}");
    assert!(body.contains("borderdesk_http_requests_total"), "{body}");
}

#[actix_web::test]
async fn without_a_token_metrics_are_served_only_on_the_metrics_address() {
    let app = TestApp::spawn_with(|s| s.metrics_token = None).await;
    let (status, kind, body) = metrics_status(&app, None).await;
    assert_eq!((status, kind.as_str()), (404, "application/problem+json"), "{body}");
    let (status, _, _) = metrics_status(&app, Some(METRICS_TOKEN)).await;
    assert_eq!(status, 404);

    let app = TestApp::spawn_with(|s| {
        s.metrics_token = None;
        s.metrics_addr = Some("127.0.0.1:0".into());
    })
    .await;
    let private = app.metrics_addr.expect("a metrics listener");
    assert_ne!(private.to_string(), app.address());
    assert_eq!(metrics_status(&app, None).await.0, 404, "not on the public listener");
    let res = app
        .client
        .get(format!("http://{private}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("borderdesk_http_requests_total"));
    // The metrics address serves nothing else.
    for path in ["/healthz", "/progress", "/api/v1/keys"] {
        let res = app.client.get(format!("http://{private}{path}")).send().await.unwrap();
        assert_eq!(res.status(), 404, "{path}");
    }
}
