//! The public progress query: three languages, one answer for any mismatch, a rate limit.

use serde_json::{Value, json};

use crate::support::{TestApp, cn_id, traveller};

async fn lookup(app: &TestApp, number: &str, last4: &str, lang: &str) -> (u16, String) {
    let res = app
        .client
        .post(app.url("/progress"))
        .form(&[("number", number), ("last4", last4), ("lang", lang)])
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

#[actix_web::test]
async fn applicants_see_status_and_missing_items_in_three_languages() {
    let app = TestApp::spawn().await;
    let token = app.token("li", "officer", &["border_trade"]);
    let res = app
        .post_json(
            &token,
            "/api/v1/applications",
            &json!({"kind": "border_trade", "traveller": traveller(1)}),
        )
        .await;
    let body: Value = res.json().await.unwrap();
    let (id, number) = (
        body["id"].as_str().unwrap().to_string(),
        body["number"].as_str().unwrap().to_string(),
    );
    let res = app
        .post_json(
            &token,
            &format!("/api/v1/applications/{id}/accept"),
            &json!({"materials": ["application_form", "resident_id", "trade_proof", "vehicle_licence"]}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let last4 = &cn_id("19900307", 3)[14..];

    let (status, page) = lookup(&app, &number, last4, "zh").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("已受理") && page.contains("证件照片") && page.contains("lang=\"zh-CN\""),
        "{page}"
    );
    let (_, page) = lookup(&app, &number.to_lowercase(), last4, "vi").await;
    assert!(
        page.contains("Đã tiếp nhận") && page.contains("Ảnh chân dung") && page.contains("lang=\"vi\""),
        "{page}"
    );
    let (_, page) = lookup(&app, &number, last4, "en").await;
    assert!(
        page.contains("Accepted, being decided") && page.contains("Portrait photo") && page.contains("Decision due"),
        "{page}"
    );

    // A wrong suffix and an unknown number get the same answer.
    let (s1, wrong_digits) = lookup(&app, &number, "0000", "en").await;
    let (s2, unknown) = lookup(&app, "YYG209901010001", last4, "en").await;
    assert_eq!((s1, s2), (404, 404));
    assert_eq!(
        wrong_digits.replace(&number, "N"),
        unknown.replace("YYG209901010001", "N")
    );
    assert!(!wrong_digits.contains("Portrait"));
}

#[actix_web::test]
async fn lookups_are_rate_limited_per_address() {
    let app = TestApp::spawn().await;
    let mut statuses = Vec::new();
    for _ in 0..12 {
        statuses.push(lookup(&app, "YYG209901010001", "1234", "zh").await.0);
    }
    assert_eq!(&statuses[..10], [404; 10]);
    assert_eq!(statuses[10], 429);
    let page = app
        .client
        .get(app.url("/progress?lang=vi"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Tra cứu tiến độ hồ sơ"));
}
