//! Ordinary passports: accepted the same day, handed to the review system in signed batches,
//! review results recorded, overdue reviews flagged; and the supervisors' SLA view.

use base64::Engine;
use ed25519_dalek::Verifier;
use serde_json::{Value, json};

use crate::support::{TestApp, china, cn_id, expect_json, traveller};

async fn accepted_passport(app: &TestApp, token: &str, n: u32) -> String {
    let body = json!({"kind": "passport", "traveller": traveller(n), "fee_waived": true, "photo_ref": "PH-0001"});
    let id = app.take(token, &body).await["id"].as_str().unwrap().to_string();
    let body = app
        .accept(token, &id, &["application_form", "resident_id", "portrait"])
        .await;
    assert_eq!(body["status"], "accepted");
    assert!(body["due_at"].is_null(), "the review clock starts at upload");
    id
}

#[actix_web::test]
async fn accepted_exported_acknowledged_reviewed_and_overdue_flagged() {
    let app = TestApp::spawn().await;
    // Thu 26 Nov 2026, 10:00.
    app.clock.set(china(2026, 11, 26, 10, 0));
    let officer = app.token("window", "officer", &["passport"]);
    let supervisor = app.token("wang", "supervisor", &["passport"]);

    // The portrait may not be deferred for a passport.
    let id = app
        .take(&officer, &json!({"kind": "passport", "traveller": traveller(9)}))
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let materials = json!({"materials": ["application_form", "resident_id"]});
    let res = app.step(&officer, &id, "accept", &materials).await;
    assert_eq!(res.status(), 422);
    assert_eq!(
        res.json::<Value>().await.unwrap()["errors"][0]["field"],
        "materials.portrait"
    );

    let first = accepted_passport(&app, &officer, 1).await;
    let second = accepted_passport(&app, &officer, 2).await;

    assert_eq!(app.get(&officer, "/api/v1/exports/passport").await.status(), 403);
    let batch = app.get_json(&supervisor, "/api/v1/exports/passport").await;
    let payload: Value = serde_json::from_str(batch["payload"].as_str().unwrap()).unwrap();
    let ids: Vec<&str> = payload["applications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [first.as_str(), second.as_str()]);
    assert_eq!(
        payload["applications"][0]["id_number"],
        cn_id("19900307", 3),
        "the review system gets the full number"
    );
    assert_eq!(payload["applications"][0]["fee_waived"], true);

    // The signature verifies against the published key.
    let keys: Value = app.public_json("/api/v1/keys").await;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(keys[0]["public_key"].as_str().unwrap())
        .unwrap();
    let key = ed25519_dalek::VerifyingKey::from_bytes(&raw.try_into().unwrap()).unwrap();
    let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(batch["signature"].as_str().unwrap())
        .unwrap();
    let sig = ed25519_dalek::Signature::from_slice(&sig).unwrap();
    assert!(key.verify(batch["payload"].as_str().unwrap().as_bytes(), &sig).is_ok());

    // Pulling again before acknowledging gives the same batch.
    let again = app.get_json(&supervisor, "/api/v1/exports/passport").await;
    assert_eq!(again["batch_id"], batch["batch_id"]);
    let ack_path = format!("/api/v1/exports/passport/{}/ack", batch["batch_id"].as_str().unwrap());
    let ack = || async { expect_json(app.post_json(&supervisor, &ack_path, &json!({})).await, 200, "ack").await };
    assert_eq!(ack().await["uploaded"], 2);
    assert_eq!(ack().await["uploaded"], 0, "acknowledging twice changes nothing");
    assert_eq!(app.get(&supervisor, "/api/v1/exports/passport").await.status(), 204);

    let body = app.get_json(&officer, &format!("/api/v1/applications/{first}")).await;
    assert_eq!(body["status"], "uploaded");
    assert_eq!(body["due_at"], "2026-11-27T17:30:00+08:00");

    let review_path = format!("/api/v1/applications/{first}/review");
    assert_eq!(
        app.post_json(&officer, &review_path, &json!({"result": "maybe"}))
            .await
            .status(),
        422
    );
    let res = app
        .post_json(&officer, &review_path, &json!({"result": "rejected"}))
        .await;
    assert_eq!(res.status(), 422, "a rejection needs a reason");
    let res = app
        .post_json(&officer, &review_path, &json!({"result": "approved"}))
        .await;
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "approved");
    assert_eq!(
        app.post_json(&officer, &review_path, &json!({"result": "approved"}))
            .await
            .status(),
        409
    );

    // Monday 30 Nov: the second review is overdue, and leads the supervisors' list.
    app.clock.set(china(2026, 11, 30, 9, 0));
    let body = app.get_json(&officer, &format!("/api/v1/applications/{second}")).await;
    assert_eq!(body["overdue"], true);
    assert_eq!(app.get(&officer, "/api/v1/sla").await.status(), 403);
    let sla = app.get_json(&supervisor, "/api/v1/sla").await;
    assert_eq!(sla["open"][0]["id"], second.as_str());
    assert_eq!(sla["open"][0]["overdue"], true);
    let week = &sla["weekly"][0];
    assert_eq!(
        (
            week["kind"].as_str(),
            week["week"].as_str(),
            week["decided"].as_u64(),
            week["on_time"].as_u64()
        ),
        (Some("passport"), Some("2026-11-23"), Some(1), Some(1))
    );
}
