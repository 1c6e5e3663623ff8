//! The public progress query: three languages, one answer for any mismatch, a rate limit.
//! (Its lookup code and the lock after wrong tries: tests/api/hardening.rs.)

use serde_json::json;

use crate::support::{DEFERRING_PORTRAIT, TestApp, cn_id, traveller};

async fn lookup(app: &TestApp, number: &str, last4: &str, code: &str, lang: &str) -> (u16, String) {
    let res = app
        .client
        .post(app.url("/progress"))
        .form(&[("number", number), ("last4", last4), ("code", code), ("lang", lang)])
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

#[actix_web::test]
async fn applicants_see_status_and_missing_items_in_three_languages() {
    let app = TestApp::spawn().await;
    let token = app.token("li", "officer", &["border_trade"]);
    let body = app
        .take(&token, &json!({"kind": "border_trade", "traveller": traveller(1)}))
        .await;
    let (id, number) = (
        body["id"].as_str().unwrap().to_string(),
        body["number"].as_str().unwrap().to_string(),
    );
    app.accept(&token, &id, &DEFERRING_PORTRAIT).await;
    let last4 = &cn_id("19900307", 3)[14..];
    let code = app.receipt(&token, &id).await;

    let (status, page) = lookup(&app, &number, last4, &code, "zh").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("已受理") && page.contains("证件照片") && page.contains("lang=\"zh-CN\""),
        "{page}"
    );
    let (_, page) = lookup(&app, &number.to_lowercase(), last4, &code, "vi").await;
    assert!(
        page.contains("Đã tiếp nhận") && page.contains("Ảnh chân dung") && page.contains("lang=\"vi\""),
        "{page}"
    );
    let (_, page) = lookup(&app, &number, last4, &code, "en").await;
    assert!(
        page.contains("Accepted, being decided") && page.contains("Portrait photo") && page.contains("Decision due"),
        "{page}"
    );

    // A wrong suffix and an unknown number get the same answer.
    let (s1, wrong_digits) = lookup(&app, &number, "0000", &code, "en").await;
    let (s2, unknown) = lookup(&app, "YYG209901010001", last4, &code, "en").await;
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
    let code = "7K3M-Q9TX";
    let mut statuses = Vec::new();
    for _ in 0..12 {
        statuses.push(lookup(&app, "YYG209901010001", "1234", code, "zh").await.0);
    }
    assert_eq!(&statuses[..10], [404; 10]);
    assert_eq!(statuses[10], 429);
    let page = app.public_text("/progress?lang=vi").await;
    assert!(page.contains("Tra cứu tiến độ hồ sơ"));
}

async fn page(
    app: &TestApp,
    path: &str,
    accept_language: Option<&str>,
    cookie: Option<&str>,
) -> (String, Option<String>) {
    let mut req = app.client.get(app.url(path));
    if let Some(al) = accept_language {
        req = req.header("Accept-Language", al);
    }
    if let Some(c) = cookie {
        req = req.header("Cookie", c);
    }
    let res = req.send().await.unwrap();
    let set = res
        .headers()
        .get("set-cookie")
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string());
    (res.text().await.unwrap(), set)
}

#[actix_web::test]
async fn the_language_follows_the_browser_until_the_reader_chooses() {
    let app = TestApp::spawn().await;
    let (vi, _) = page(&app, "/progress", Some("vi-VN,vi;q=0.9,en;q=0.5"), None).await;
    assert!(
        vi.contains("lang=\"vi\"") && vi.contains("Tra cứu tiến độ hồ sơ"),
        "{vi}"
    );
    let (en, _) = page(&app, "/progress", Some("en-GB,en;q=0.9"), None).await;
    assert!(en.contains("Application progress"));
    let (zh, _) = page(&app, "/progress", None, None).await;
    assert!(zh.contains("lang=\"zh-CN\"") && zh.contains("办理进度查询"));
    // The reader picks English on a Vietnamese phone: remembered over Accept-Language.
    let (en, cookie) = page(&app, "/progress?lang=en", Some("vi"), None).await;
    assert!(en.contains("Application progress"));
    let cookie = cookie.expect("the choice is remembered");
    let (en, _) = page(&app, "/progress", Some("vi"), Some(&cookie)).await;
    assert!(en.contains("lang=\"en\""), "{en}");
    // The public page carries no staff branding and no way to the staff login.
    assert!(
        !en.contains("borderdesk 边境通行证受理") && !en.contains("/login"),
        "{en}"
    );
}

#[actix_web::test]
async fn a_pending_pass_is_printed_not_valid_and_found_by_its_permit_number() {
    let app = TestApp::spawn().await;
    let li = app.token("li", "officer", &["border_trade"]);
    let wang = app.token("wang", "supervisor", &["border_trade"]);
    let body = json!({"kind": "border_trade", "traveller": traveller(1)});
    let permit = app
        .issued_after_approval((&li, &wang), &body, &DEFERRING_PORTRAIT)
        .await;
    let id = permit["application_id"].as_str().unwrap();
    assert_eq!(permit["status"], "pending");
    let number = permit["number"].as_str().unwrap();
    let due = permit["outstanding"][0]
        .as_str()
        .unwrap()
        .split("due ")
        .nth(1)
        .unwrap()
        .trim_end_matches(')')
        .to_string();
    let last4 = &cn_id("19900307", 3)[14..];
    let code = app.receipt(&li, id).await;

    let (status, zh) = lookup(&app, number, last4, &code, "zh").await;
    assert_eq!(status, 200, "the permit number finds the application");
    assert!(
        zh.contains(&format!("已制证，尚未生效：待补 证件照片（截止 {due}）")),
        "{zh}"
    );
    assert!(!zh.contains("可领取"), "{zh}");
    let (_, vi) = lookup(&app, number, last4, &code, "vi").await;
    assert!(vi.contains("chưa có hiệu lực") && vi.contains(&due), "{vi}");
    let (_, en) = lookup(&app, &number.to_lowercase(), last4, &code, "en").await;
    assert!(
        en.contains("Printed, not yet valid: still to bring Portrait photo"),
        "{en}"
    );
    // On a phone the result comes before the form.
    assert!(en.find("id=\"result\"").unwrap() < en.find("<form").unwrap());
    // A wrong suffix with the permit number: the same answer as for anything unknown.
    assert_eq!(lookup(&app, number, "0000", &code, "en").await.0, 404);
    // Revoked: said so, not "ready to collect".
    app.revoke(&wang, number, "lost").await;
    let (_, en) = lookup(&app, number, last4, &code, "en").await;
    assert!(
        en.contains("The permit was revoked") && !en.contains("ready to collect"),
        "{en}"
    );
}
