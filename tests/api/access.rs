//! Authentication and authorisation: tokens, roles and per-kind grants.

use serde_json::{Value, json};

use crate::support::{TestApp, traveller};

#[actix_web::test]
async fn api_without_or_with_a_bad_token_is_401() {
    let app = TestApp::spawn().await;
    let res = app
        .client
        .get(app.url("/api/v1/permits/BT-YYG-2026-000001"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(res.headers()["www-authenticate"], "Bearer");
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    let res = app.get("bdt_not-a-token", "/api/v1/permits/BT-YYG-2026-000001").await;
    assert_eq!(res.status(), 401);
}

#[actix_web::test]
async fn an_officer_without_the_tourism_grant_cannot_take_or_issue() {
    let app = TestApp::spawn().await;
    let trade_only = app.token("trader", "officer", &["border_trade"]);
    let res = app
        .post_json(
            &trade_only,
            "/api/v1/applications",
            &json!({"kind": "border_tourism", "traveller": traveller(1)}),
        )
        .await;
    assert_eq!(res.status(), 403);
    let body: Value = res.json().await.unwrap();
    assert!(body["detail"].as_str().unwrap().contains("border_tourism"), "{body}");

    let granted = app.window();
    let id = app.application(&granted, traveller(1)).await;
    assert_eq!(app.issue(&trade_only, &id, None).await.status(), 403);
    let checkpoint = app.token("gate", "checkpoint", &["border_tourism"]);
    assert_eq!(app.issue(&checkpoint, &id, None).await.status(), 403);
    // Refusals changed nothing.
    assert_eq!(app.count("permits"), 0);
    assert_eq!(app.issue(&granted, &id, None).await.status(), 201);
}

#[actix_web::test]
async fn revoked_tokens_and_disabled_officers_stop_at_once() {
    let app = TestApp::spawn().await;
    let token = app.window();
    assert_eq!(app.get(&token, "/api/v1/keys").await.status(), 200);
    let permit = app.issued_permit(&token).await;
    let path = format!("/api/v1/permits/{}", permit["number"].as_str().unwrap());
    assert_eq!(app.get(&token, &path).await.status(), 200);

    let now = app.clock.now();
    app.ctx
        .db
        .run_blocking(|c| borderdesk::service::accounts::set_disabled(c, now, "window", true))
        .unwrap();
    assert_eq!(app.get(&token, &path).await.status(), 401);
    app.ctx
        .db
        .run_blocking(|c| borderdesk::service::accounts::set_disabled(c, now, "window", false))
        .unwrap();
    assert_eq!(app.get(&token, &path).await.status(), 200);

    let (id, second) = app
        .ctx
        .db
        .run_blocking(|c| borderdesk::service::accounts::create_token(c, now, "window", "second"))
        .unwrap();
    assert_eq!(app.get(&second, &path).await.status(), 200);
    app.ctx
        .db
        .run_blocking(|c| borderdesk::service::accounts::revoke_token(c, now, &id))
        .unwrap();
    assert_eq!(app.get(&second, &path).await.status(), 401);
    assert_eq!(
        app.get(&token, &path).await.status(),
        200,
        "revoking one token leaves the others"
    );
}

use borderdesk::clock::Clock;
