//! Bad input gets a clear answer naming the field and the rule, never a 500, and changes nothing.

use serde_json::{Value, json};

use crate::support::{TestApp, cn_id, traveller};

async fn unchanged(app: &TestApp) {
    assert_eq!(app.count("applications"), 0);
    assert_eq!(app.count("travellers"), 0);
    assert_eq!(app.count("permits"), 0);
}

#[actix_web::test]
async fn malformed_json_is_400_oversized_is_413_wrong_type_is_415() {
    let app = TestApp::spawn().await;
    let token = app.token("window", "officer", &["border_tourism"]);
    let post = |body: String, ct: &'static str| {
        app.client
            .post(app.url("/api/v1/applications"))
            .bearer_auth(&token)
            .header("content-type", ct)
            .body(body)
            .send()
    };
    let res = post("{\"kind\": ".into(), "application/json").await.unwrap();
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["type"], "/problems/malformed-json");

    let huge = json!({"kind": "border_tourism", "traveller": {"name_latin": "A".repeat(20_000)}}).to_string();
    assert_eq!(post(huge, "application/json").await.unwrap().status(), 413);
    assert_eq!(
        post("kind=border_tourism".into(), "application/x-www-form-urlencoded")
            .await
            .unwrap()
            .status(),
        415
    );
    unchanged(&app).await;
}

#[actix_web::test]
async fn every_broken_field_is_listed_in_one_422() {
    let app = TestApp::spawn().await;
    let token = app.token("window", "officer", &["border_tourism"]);
    let mut bad_check = cn_id("19900307", 123);
    bad_check.replace_range(17..18, if bad_check.ends_with('0') { "1" } else { "0" });
    let res = app
        .post_json(
            &token,
            "/api/v1/applications",
            &json!({"kind": "border_tourism", "traveller": {
                "name_zh": "Zhang", "nationality": "ZZZ", "sex": "male", "birth_date": "1990-02-30",
                "id_type": "cn_resident_id", "id_number": bad_check, "phone": "12", "email": "x@"
            }}),
        )
        .await;
    assert_eq!(res.status(), 422);
    let body: Value = res.json().await.unwrap();
    let errors = body["errors"].as_array().unwrap();
    let has = |field: &str, rule: &str| errors.iter().any(|e| e["field"] == field && e["rule"] == rule);
    assert!(has("traveller.name_zh", "chinese_characters"), "{body}");
    assert!(has("traveller.name_latin", "required"), "{body}");
    assert!(has("traveller.nationality", "iso3166_alpha3"), "{body}");
    assert!(has("traveller.sex", "one_of"), "{body}");
    assert!(has("traveller.birth_date", "date"), "{body}");
    assert!(has("traveller.id_number", "check_character"), "{body}");
    assert!(has("traveller.phone", "e164"), "{body}");
    assert!(has("traveller.email", "email"), "{body}");
    assert!(errors.iter().all(|e| !e["message"].as_str().unwrap().is_empty()));

    let mut nul = traveller(1);
    nul["name_latin"] = json!("ZHANG\u{0}WEI");
    let res = app
        .post_json(
            &token,
            "/api/v1/applications",
            &json!({"kind": "border_tourism", "traveller": nul}),
        )
        .await;
    assert_eq!(res.status(), 422);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["errors"][0]["rule"], "printable");
    unchanged(&app).await;
}

#[actix_web::test]
async fn wrong_types_kinds_and_eligibility_name_the_field() {
    let app = TestApp::spawn().await;
    let token = app.token("window", "officer", &["border_tourism", "border_trade"]);
    let res = app
        .post_json(
            &token,
            "/api/v1/applications",
            &json!({"kind": "border_tourism", "traveller": {"sex": 5}}),
        )
        .await;
    assert_eq!(res.status(), 422);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["errors"][0]["field"], "traveller.sex");

    let res = app.post_json(&token, "/api/v1/applications", &json!([1, 2])).await;
    assert_eq!(res.status(), 422);

    let res = app
        .post_json(
            &token,
            "/api/v1/applications",
            &json!({"kind": "visa", "traveller": traveller(1)}),
        )
        .await;
    assert_eq!(res.status(), 422);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["errors"][0]["field"], "kind");

    // The tourism pass is for holders of a Chinese resident ID (policy data).
    let vietnamese = json!({"name_latin": "Nguyễn Văn An", "nationality": "VNM", "sex": "M", "birth_date": "1985-01-02",
        "id_type": "vn_citizen_id", "id_number": "020085000123"});
    let res = app
        .post_json(
            &token,
            "/api/v1/applications",
            &json!({"kind": "border_tourism", "traveller": vietnamese}),
        )
        .await;
    assert_eq!(res.status(), 422);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["errors"][0]["field"], "traveller.id_type");
    assert_eq!(body["errors"][0]["rule"], "eligible");
    unchanged(&app).await;
}

#[actix_web::test]
async fn unknown_things_are_404_and_bad_keys_are_422() {
    let app = TestApp::spawn().await;
    let token = app.token("window", "officer", &["border_tourism"]);
    for path in [
        "/api/v1/permits/BT-YYG-2026-999999",
        "/api/v1/permits/%00%ff/pdf",
        "/api/v1/applications/nope",
        "/api/v1/nothing-here",
    ] {
        let res = app.get(&token, path).await;
        assert_eq!(res.status(), 404, "{path}");
        assert_eq!(res.headers()["content-type"], "application/problem+json", "{path}");
    }
    assert_eq!(app.issue(&token, "no-such-application", None).await.status(), 404);
    let id = app.application(&token, traveller(1)).await;
    let long_key = "k".repeat(300);
    let res = app.issue(&token, &id, Some(&long_key)).await;
    assert_eq!(res.status(), 422);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["errors"][0]["field"], "Idempotency-Key");
    assert_eq!(app.count("permits"), 0);
}
