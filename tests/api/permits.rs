//! The tourism pass issued on the spot: numbering, validity, lifecycle, idempotency, audit.

use borderdesk::clock::Clock;
use chrono::Duration;
use serde_json::{Value, json};

use crate::support::{TestApp, traveller};

#[actix_web::test]
async fn issue_on_the_spot_with_policy_validity_and_an_audit_trail() {
    let app = TestApp::spawn().await;
    let token = app.window();
    let id = app.application(&token, traveller(1)).await;
    let application = app.get_json(&token, &format!("/api/v1/applications/{id}")).await;
    assert_eq!(application["status"], "submitted");
    assert_eq!(
        application["traveller"]["id_number"]
            .as_str()
            .unwrap()
            .matches('*')
            .count(),
        12,
        "ID masked"
    );

    let res = app.issue(&token, &id, None).await;
    assert_eq!(res.status(), 201);
    assert_eq!(res.headers()["idempotent-replayed"], "false");
    let permit: Value = res.json().await.unwrap();
    let year = borderdesk::domain::local(app.clock.now()).format("%Y").to_string();
    assert_eq!(permit["number"], format!("BT-YYG-{year}-000001"));
    assert_eq!(permit["kind"], "border_tourism");
    assert_eq!(permit["status"], "issued");
    assert_eq!(permit["entries_allowed"], 1);
    assert!(permit["valid_until"].as_str().unwrap().ends_with("T23:59:59+08:00"));
    let from = chrono::DateTime::parse_from_rfc3339(permit["valid_from"].as_str().unwrap()).unwrap();
    let until = chrono::DateTime::parse_from_rfc3339(permit["valid_until"].as_str().unwrap()).unwrap();
    let days = (until - from).num_days();
    assert!((88..=92).contains(&days), "3 months of validity, got {days} days");

    let number = permit["number"].as_str().unwrap().to_string();
    let fetched = app.permit(&token, &number).await;
    assert_eq!(fetched["number"], permit["number"]);
    let application = app.get_json(&token, &format!("/api/v1/applications/{id}")).await;
    assert_eq!(application["status"], "issued");
    assert_eq!(application["permit_number"], permit["number"]);

    let trail = app.audit("application", &id);
    let actions: Vec<_> = trail.iter().map(|r| r.action.as_str()).collect();
    assert_eq!(actions, ["application.create", "application.issue"]);
    assert!(trail.iter().all(|r| r.actor.is_some()));
    let permit_trail = app.audit("permit", &number);
    assert_eq!(permit_trail.len(), 1);
    let after = permit_trail[0].after_json.as_deref().unwrap();
    assert!(
        !after.contains(&crate::support::cn_id("19900307", 3)),
        "no full ID number in the audit log"
    );

    // Issuing again is a conflict that names the current state.
    let res = app.issue(&token, &id, None).await;
    assert_eq!(res.status(), 409);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["current_state"], "issued");
    assert_eq!(app.count("permits"), 1);
}

#[actix_web::test]
async fn expiry_follows_the_clock() {
    let app = TestApp::spawn().await;
    let token = app.window();
    let permit = app.issued_permit(&token).await;
    let path = format!("/api/v1/permits/{}", permit["number"].as_str().unwrap());
    app.clock.set(app.clock.now() + Duration::days(85));
    let p = app.get_json(&token, &path).await;
    assert_eq!(p["status"], "issued");
    app.clock.set(app.clock.now() + Duration::days(10));
    let p = app.get_json(&token, &path).await;
    assert_eq!(p["status"], "expired");
}

#[actix_web::test]
async fn supervisors_revoke_with_a_reason_once() {
    let app = TestApp::spawn().await;
    let officer = app.window();
    let supervisor = app.boss();
    let permit = app.issued_permit(&officer).await;
    let path = format!("/api/v1/permits/{}/revoke", permit["number"].as_str().unwrap());

    assert_eq!(
        app.post_json(&officer, &path, &json!({"reason": "lost"}))
            .await
            .status(),
        403
    );
    let body = app.refused(&supervisor, &path, &json!({"reason": "   "})).await;
    assert_eq!(body["errors"][0]["field"], "reason");

    let res = app
        .post_json(&supervisor, &path, &json!({"reason": "reported lost"}))
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "revoked");
    assert_eq!(body["revoke_reason"], "reported lost");

    let res = app.post_json(&supervisor, &path, &json!({"reason": "again"})).await;
    assert_eq!(res.status(), 409);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["current_state"], "revoked");
    let trail = app.audit("permit", permit["number"].as_str().unwrap());
    assert_eq!(trail.iter().filter(|r| r.action == "permit.revoke").count(), 1);
}

#[actix_web::test]
async fn an_idempotency_key_replays_the_same_permit_and_refuses_another_request() {
    let app = TestApp::spawn().await;
    let token = app.window();
    let first = app.application(&token, traveller(1)).await;
    let second = app.application(&token, traveller(2)).await;

    let a = app.issue(&token, &first, Some("key-1")).await;
    assert_eq!(a.status(), 201);
    let a: Value = a.json().await.unwrap();
    let b = app.issue(&token, &first, Some("key-1")).await;
    assert_eq!(b.status(), 201);
    assert_eq!(b.headers()["idempotent-replayed"], "true");
    let b: Value = b.json().await.unwrap();
    assert_eq!(a["number"], b["number"]);

    let res = app.issue(&token, &second, Some("key-1")).await;
    assert_eq!(res.status(), 422);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["type"], "/problems/idempotency-key-reused");
    assert_eq!(app.count("permits"), 1);
}

#[actix_web::test]
async fn keys_are_published_and_verify_the_code() {
    let app = TestApp::spawn().await;
    let token = app.window();
    let permit = app.issued_permit(&token).await;
    let keys: Value = app.public_json("/api/v1/keys").await;
    let body = crate::print::verify_code(&keys, permit["code"].as_str().unwrap()).expect("verifies");
    assert_eq!(body.number, permit["number"].as_str().unwrap());
    assert_eq!(body.holder, "ZHANG WEI");
    assert_eq!(body.entries, 1);
    let mut tampered = permit["code"].as_str().unwrap().to_string();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    assert!(crate::print::verify_code(&keys, &tampered).is_err());
}

/// A stored state the code does not know is a fault, shown as one (500, logged with the column
/// and the value), not read as something else and answered as if it were true (an unknown last
/// direction used to count as "never left", an unknown permit status as "revoked").
#[actix_web::test]
async fn an_unknown_stored_state_is_a_server_error_not_a_guess() {
    let app = TestApp::spawn().await;
    let token = app.token("window", "officer", &["border_tourism"]);
    let permit = app.issued_permit(&token).await;
    let number = permit["number"].as_str().unwrap().to_string();
    let res = app.get(&token, &format!("/api/v1/permits/{number}")).await;
    assert_eq!(res.status(), 200);
    // The column has no CHECK constraint: what another version (or a hand) wrote stays there.
    let sql = format!("UPDATE permits SET last_direction = 'north' WHERE number = '{number}'");
    let changed = app
        .ctx
        .db
        .run_blocking(|c| Ok(diesel::RunQueryDsl::execute(diesel::sql_query(sql), c)?))
        .unwrap();
    assert_eq!(changed, 1);
    let res = app.get(&token, &format!("/api/v1/permits/{number}")).await;
    assert_eq!(res.status(), 500);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    let body = res.text().await.unwrap();
    assert!(!body.contains("north"), "internals are logged, not sent: {body}");
}
