//! Freight drivers: sign-in by a mailed one-time code (its limits per address, per e-mail and
//! per client, X-Forwarded-For only from trusted proxies), the profile (identity documents,
//! the border-trade pass checked against issued permits) and vehicles; the pages in Vietnamese.

use std::time::Duration as StdDuration;

use borderdesk::clock::Clock;
use serde_json::{Value, json};

use crate::support::*;

/// The `.eml` files the folder transport wrote to `email`: (subject, text body).
fn mails_to(app: &TestApp, email: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(app._dir.path().join("mail")).expect("mail folder") {
        let path = entry.expect("entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("eml") {
            continue;
        }
        let raw = std::fs::read(&path).expect("eml");
        let parsed = mailparse::parse_mail(&raw).expect("a parseable message");
        use mailparse::MailHeaderMap;
        if !parsed.headers.get_first_value("To").unwrap_or_default().contains(email) {
            continue;
        }
        let text = parsed
            .subparts
            .iter()
            .find(|p| p.ctype.mimetype == "text/plain")
            .expect("a text part")
            .get_body()
            .expect("body");
        out.push((parsed.headers.get_first_value("Subject").unwrap_or_default(), text));
    }
    out
}

async fn ask_code(app: &TestApp, client: &reqwest::Client, email: &str, lang: &str) -> reqwest::Response {
    client
        .post(app.url("/api/v1/driver/codes"))
        .json(&json!({"email": email, "lang": lang}))
        .send()
        .await
        .unwrap()
}

async fn enter_code(app: &TestApp, client: &reqwest::Client, email: &str, code: &str) -> reqwest::Response {
    client
        .post(app.url("/api/v1/driver/sessions"))
        .json(&json!({"email": email, "code": code}))
        .send()
        .await
        .unwrap()
}

/// A client whose connections come from another loopback address.
fn from(address: [u8; 4]) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(std::net::IpAddr::from(address))
        .build()
        .unwrap()
}

/// The one error of a refusal: (status, field, rule, message).
async fn refusal(res: reqwest::Response) -> (u16, String, String, String, Option<String>) {
    let status = res.status().as_u16();
    let retry = res
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    let ctype = res.headers().get("content-type").unwrap().to_str().unwrap().to_string();
    assert_eq!(ctype, "application/problem+json");
    let p: Value = res.json().await.unwrap();
    let e = &p["errors"][0];
    (
        status,
        e["field"].as_str().unwrap().to_string(),
        e["rule"].as_str().unwrap().to_string(),
        e["message"].as_str().unwrap().to_string(),
        retry,
    )
}

#[actix_web::test]
async fn a_driver_signs_in_with_the_code_from_the_mail_and_out_again() {
    let app = TestApp::spawn_with(|s| s.mail_poll_seconds = 0).await;
    let res = ask_code(&app, &app.client, "Lan.Tran@Example.VN", "vi").await;
    let sent = expect_json(res, 202, "ask for a code").await;
    assert_eq!(sent["sent"], true);
    app.ctx.deliver_due("w").await.unwrap();
    let mails = mails_to(&app, "lan.tran@example.vn");
    assert_eq!(mails.len(), 1);
    let (subject, text) = &mails[0];
    let code = code_in(subject);
    assert_eq!(code_in(text), code, "subject and text say the same code");
    assert!(text.contains("10 phút") && text.contains("bỏ qua thư này"), "{text}");
    let stored: String = app
        .ctx
        .db
        .run_blocking(|c| {
            use borderdesk::db::schema::driver_codes;
            use diesel::prelude::*;
            Ok(driver_codes::table.select(driver_codes::code_hash).first(c)?)
        })
        .unwrap();
    assert!(!stored.contains(&code), "only the hash is stored");

    let res = enter_code(&app, &app.client, "lan.tran@example.vn", &code).await;
    let signed = expect_json(res, 201, "sign in").await;
    let token = signed["token"].as_str().unwrap();
    assert_eq!(signed["created"], true);
    let profile = app.get_json(token, "/api/v1/driver/profile").await;
    assert_eq!(profile["email"], "lan.tran@example.vn");
    assert_eq!(profile["lang"], "vi", "the language asked for is remembered");
    assert_eq!(profile["complete"], false);

    // An officer's API does not take a driver's token, nor the driver API an officer's.
    assert_eq!(app.get(token, "/api/v1/calendar").await.status(), 401);
    let officer = app.window();
    assert_eq!(app.get(&officer, "/api/v1/driver/profile").await.status(), 401);

    // The same answer for an address with an account and one without.
    let known = expect_json(
        ask_code(&app, &app.client, "lan.tran@example.vn", "vi").await,
        202,
        "known",
    )
    .await;
    let unknown = expect_json(
        ask_code(&app, &app.client, "nobody@example.vn", "vi").await,
        202,
        "unknown",
    )
    .await;
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&known), keys(&unknown));
    assert_eq!(known["sent"], unknown["sent"]);

    let res = app
        .client
        .delete(app.url("/api/v1/driver/sessions/current"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(app.get(token, "/api/v1/driver/profile").await.status(), 401);
    let trail = app.audit("driver", signed["driver_id"].as_str().unwrap());
    let actions: Vec<&str> = trail.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(actions, ["driver.create", "driver.sign_in", "driver.sign_out"]);
}

#[actix_web::test]
async fn wrong_expired_and_overtried_codes_are_refused_in_the_drivers_language() {
    let app = TestApp::spawn_with(|s| s.mail_poll_seconds = 0).await;
    let email = "minh@example.vn";
    expect_json(ask_code(&app, &app.client, email, "vi").await, 202, "code").await;
    let code = app.driver_code(email);
    let wrong = if code == "000000" { "111111" } else { "000000" };

    let (status, field, rule, message, _) = refusal(
        app.client
            .post(app.url("/api/v1/driver/sessions"))
            .json(&json!({"email": email, "code": wrong, "lang": "vi"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, field.as_str(), rule.as_str()), (422, "code", "wrong"));
    assert!(message.contains("Mã không đúng"), "{message}");
    let (_, _, rule, _, _) = refusal(enter_code(&app, &app.client, email, "12a").await).await;
    assert_eq!(rule, "format");
    assert_eq!(
        (app.count("drivers"), app.count("driver_sessions")),
        (0, 0),
        "nothing but the count changed"
    );

    // Ten minutes on, the code is dead.
    app.clock.set(app.clock.now() + chrono::Duration::minutes(10));
    let (_, _, rule, _, _) = refusal(enter_code(&app, &app.client, email, &code).await).await;
    assert_eq!(rule, "expired");

    // A new code: five wrong tries kill it, and then the right one is refused too.
    expect_json(ask_code(&app, &app.client, email, "vi").await, 202, "new code").await;
    let code = app.driver_code(email);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let mut rules = Vec::new();
    for _ in 0..5 {
        rules.push(refusal(enter_code(&app, &app.client, email, wrong).await).await.2);
    }
    assert_eq!(rules, ["wrong", "wrong", "wrong", "wrong", "too_many_attempts"]);
    let (status, _, rule, _, _) = refusal(enter_code(&app, &app.client, email, &code).await).await;
    assert_eq!((status, rule.as_str()), (422, "too_many_attempts"));
    assert_eq!(app.count("drivers"), 0);

    // A third code works, once.
    expect_json(ask_code(&app, &app.client, email, "vi").await, 202, "third code").await;
    let code = app.driver_code(email);
    expect_json(enter_code(&app, &app.client, email, &code).await, 201, "right code").await;
    let (_, _, rule, _, _) = refusal(enter_code(&app, &app.client, email, &code).await).await;
    assert_eq!(rule, "used");
}

#[actix_web::test]
async fn codes_are_limited_per_email_and_per_client_address_in_the_database() {
    let app = TestApp::spawn_with(|s| {
        s.mail_poll_seconds = 0;
        s.driver_codes_per_email = 2;
        s.driver_codes_per_client = 3;
    })
    .await;
    let here = from([127, 0, 0, 1]);
    for _ in 0..2 {
        expect_json(
            ask_code(&app, &here, "a@example.cn", "zh").await,
            202,
            "within the limit",
        )
        .await;
    }
    let (status, field, rule, message, retry) = refusal(ask_code(&app, &here, "a@example.cn", "zh").await).await;
    assert_eq!(
        (status, field.as_str(), rule.as_str()),
        (429, "email", "codes_per_email")
    );
    assert!(message.contains("过于频繁"), "{message}");
    let retry: i64 = retry.expect("Retry-After").parse().unwrap();
    assert!((1..=3600).contains(&retry), "{retry}");
    // The same e-mail from elsewhere is still limited: the count is per address.
    let (status, _, rule, _, _) = refusal(ask_code(&app, &from([127, 0, 0, 2]), "a@example.cn", "zh").await).await;
    assert_eq!((status, rule.as_str()), (429, "codes_per_email"));

    // This client has asked twice; one more, then it waits, whatever the address.
    expect_json(
        ask_code(&app, &here, "b@example.cn", "zh").await,
        202,
        "third from here",
    )
    .await;
    let (status, field, rule, _, _) = refusal(ask_code(&app, &here, "c@example.cn", "en").await).await;
    assert_eq!(
        (status, field.as_str(), rule.as_str()),
        (429, "client", "codes_per_client")
    );
    expect_json(
        ask_code(&app, &from([127, 0, 0, 3]), "c@example.cn", "en").await,
        202,
        "another client",
    )
    .await;

    // An hour later the window has moved on.
    app.clock.set(app.clock.now() + chrono::Duration::minutes(61));
    expect_json(ask_code(&app, &here, "a@example.cn", "zh").await, 202, "an hour later").await;
}

#[actix_web::test]
async fn wrong_codes_are_limited_per_client_address() {
    let app = TestApp::spawn_with(|s| {
        s.mail_poll_seconds = 0;
        s.driver_failures_per_client = 3;
    })
    .await;
    let here = from([127, 0, 0, 1]);
    for i in 0..3 {
        let (status, _, rule, _, _) =
            refusal(enter_code(&app, &here, &format!("x{i}@example.cn"), "123456").await).await;
        assert_eq!((status, rule.as_str()), (422, "unknown"));
    }
    let (status, field, rule, _, retry) = refusal(enter_code(&app, &here, "x9@example.cn", "123456").await).await;
    assert_eq!(
        (status, field.as_str(), rule.as_str()),
        (429, "code", "failures_per_client")
    );
    assert!(retry.is_some());
    // A driver elsewhere is not held up.
    let (status, _, _, _, _) = refusal(enter_code(&app, &from([127, 0, 0, 2]), "x9@example.cn", "123456").await).await;
    assert_eq!(status, 422);
}

#[actix_web::test]
async fn x_forwarded_for_counts_only_from_a_trusted_proxy() {
    let limited = |s: &mut borderdesk::config::Settings| {
        s.mail_poll_seconds = 0;
        s.driver_codes_per_client = 1;
    };
    let forwarded = |app: &TestApp, email: &str, xff: &str| {
        app.client
            .post(app.url("/api/v1/driver/codes"))
            .header("X-Forwarded-For", xff)
            .json(&json!({"email": email, "lang": "en"}))
            .send()
    };
    // No proxy is trusted: the header is the client's own say and changes nothing.
    let app = TestApp::spawn_with(limited).await;
    assert_eq!(
        forwarded(&app, "a@example.cn", "203.0.113.1").await.unwrap().status(),
        202
    );
    let (status, _, rule, _, _) = refusal(forwarded(&app, "b@example.cn", "203.0.113.2").await.unwrap()).await;
    assert_eq!((status, rule.as_str()), (429, "codes_per_client"));

    // Behind a trusted proxy each forwarded client is counted on its own, by the right-most
    // address the proxy did not write for itself.
    let app = TestApp::spawn_with(|s| {
        limited(s);
        s.trusted_proxies = vec!["127.0.0.0/8".into()];
    })
    .await;
    assert_eq!(
        forwarded(&app, "a@example.cn", "203.0.113.1").await.unwrap().status(),
        202
    );
    assert_eq!(
        forwarded(&app, "b@example.cn", "198.51.100.1, 203.0.113.2")
            .await
            .unwrap()
            .status(),
        202
    );
    let (status, _, rule, _, _) = refusal(
        forwarded(&app, "c@example.cn", "198.51.100.9, 203.0.113.1")
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, rule.as_str()),
        (429, "codes_per_client"),
        "a forged left-most entry does not help"
    );
}

#[actix_web::test]
async fn fifty_drivers_sign_in_quickly_through_the_helper() {
    let app = TestApp::spawn_with(|s| s.driver_codes_per_client = 1000).await;
    let started = std::time::Instant::now();
    let drivers = futures::future::join_all((0..50).map(|i| {
        let app = &app;
        async move { app.driver(&format!("driver{i}@example.vn"), "vi").await }
    }))
    .await;
    let ids: std::collections::BTreeSet<&str> = drivers.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids.len(), 50);
    assert!(
        started.elapsed() < StdDuration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
    let profile = drivers[7].get_json("/api/v1/driver/profile").await;
    assert_eq!(profile["email"], "driver7@example.vn");
}

#[actix_web::test]
async fn vehicles_follow_the_plate_rules_and_belong_to_their_driver() {
    let app = TestApp::spawn().await;
    let lan = app.driver("lan@example.vn", "vi").await;
    let wei = app.driver("wei@example.cn", "zh").await;

    let vn = lan.vehicle("12c 12345", "truck").await;
    assert_eq!(
        (vn["plate"].as_str(), vn["country"].as_str()),
        (Some("12C-123.45"), Some("VN"))
    );
    let res = lan
        .post_json(
            "/api/v1/driver/vehicles",
            &json!({"plate": "桂A·12345", "trailer_plate": "桂A1234挂", "vehicle_type": "tractor"}),
        )
        .await;
    let cn = expect_json(res, 201, "a tractor with its trailer").await;
    assert_eq!(
        (
            cn["plate"].as_str(),
            cn["country"].as_str(),
            cn["trailer_plate"].as_str()
        ),
        (Some("桂A12345"), Some("CN"), Some("桂A1234挂"))
    );
    let id = cn["id"].as_str().unwrap();
    assert_eq!(&id[14..15], "4", "random ids (UUID v4): {id}");

    // Bad plates, a bad type, a duplicate: each named with its rule, in the driver's language.
    let res = lan
        .post_json(
            "/api/v1/driver/vehicles",
            &json!({"plate": "ABC", "trailer_plate": "10C-123.45", "vehicle_type": "bus"}),
        )
        .await;
    let p = expect_json(res, 422, "bad vehicle").await;
    let rules: Vec<(&str, &str)> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["field"].as_str().unwrap(), e["rule"].as_str().unwrap()))
        .collect();
    assert_eq!(
        rules,
        [
            ("plate", "plate_format"),
            ("trailer_plate", "vn_province"),
            ("vehicle_type", "one_of")
        ]
    );
    assert!(p["errors"][2]["message"].as_str().unwrap().contains("loại xe"), "{p}");
    let res = lan
        .post_json(
            "/api/v1/driver/vehicles",
            &json!({"plate": "12C12345", "vehicle_type": "van"}),
        )
        .await;
    assert_eq!(
        expect_json(res, 422, "duplicate").await["errors"][0]["rule"],
        "duplicate"
    );
    let res = lan
        .post_json(
            "/api/v1/driver/vehicles",
            &json!({"plate": "12C-1234", "colour": "red"}),
        )
        .await;
    assert_eq!(res.status(), 422, "unknown fields are refused");

    for plate in ["12C-222.22", "12C-333.33", "12C-444.44"] {
        lan.vehicle(plate, "van").await;
    }
    let res = lan
        .post_json(
            "/api/v1/driver/vehicles",
            &json!({"plate": "12C-555.55", "vehicle_type": "van"}),
        )
        .await;
    assert_eq!(
        expect_json(res, 422, "a sixth").await["errors"][0]["rule"],
        "max_vehicles"
    );

    // Another driver's vehicle is answered exactly as a missing one, and stays.
    let theirs = wei.delete(&format!("/api/v1/driver/vehicles/{id}")).await;
    let missing = wei
        .delete("/api/v1/driver/vehicles/5b0c1f2e-8d4a-4c1e-9f00-000000000000")
        .await;
    assert_eq!((theirs.status().as_u16(), missing.status().as_u16()), (404, 404));
    let (a, b): (Value, Value) = (theirs.json().await.unwrap(), missing.json().await.unwrap());
    assert_eq!(a, b);
    assert!(
        wei.get_json("/api/v1/driver/vehicles")
            .await
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        lan.get_json("/api/v1/driver/vehicles").await.as_array().unwrap().len(),
        5
    );

    assert_eq!(lan.delete(&format!("/api/v1/driver/vehicles/{id}")).await.status(), 204);
    assert_eq!(lan.delete(&format!("/api/v1/driver/vehicles/{id}")).await.status(), 404);
    let left = lan.get_json("/api/v1/driver/vehicles").await;
    assert_eq!(left.as_array().unwrap().len(), 4);
    assert!(left.as_array().unwrap().iter().all(|v| v["id"] != id));
    lan.vehicle("12C-555.55", "van").await;
    let trail = app.audit("vehicle", id);
    let actions: Vec<&str> = trail.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(actions, ["vehicle.add", "vehicle.remove"]);
    assert_eq!(trail[0].actor.as_deref(), Some(format!("driver:{}", lan.id).as_str()));
}

#[actix_web::test]
async fn the_profile_checks_identity_and_the_trade_pass_against_issued_permits() {
    let app = TestApp::spawn().await;
    app.clock.set(china(2026, 9, 29, 10, 0));
    let officer = app.token("li", "officer", &["border_trade"]);
    let supervisor = app.token("wang", "supervisor", &["border_trade"]);
    let permit = app
        .issued_after_approval(
            (&officer, &supervisor),
            &trade(traveller(1), json!(["桂F 12345"])),
            &ALL_TRADE_ITEMS,
        )
        .await;
    let pass = permit["number"].as_str().unwrap();
    let holder_id = cn_id("19900307", 3);

    let lan = app.driver("lan@example.vn", "vi").await;
    // A decomposed (NFD) name comes back composed, diacritics as typed.
    let nfd = "Tra\u{302}\u{300}n Thi\u{323} Lan";
    let res = lan
        .put_json(
            "/api/v1/driver/profile",
            &json!({"name_latin": nfd, "nationality": "VNM", "id_type": "vn_citizen_id",
                "id_number": "001190000123", "phone": "+84 912 345 678"}),
        )
        .await;
    let saved = expect_json(res, 200, "a Vietnamese driver's profile").await;
    assert_eq!(saved["name_latin"], "Trần Thị Lan");
    assert_eq!(
        saved["id_number"], "001190000123",
        "the driver sees their own number in full"
    );
    assert_eq!(
        (saved["phone"].as_str(), saved["complete"].as_bool()),
        (Some("+84912345678"), Some(true))
    );
    let trail = app.audit("driver", &lan.id);
    let last = trail.last().unwrap();
    assert_eq!(last.action, "driver.profile");
    let after = last.after_json.as_deref().unwrap();
    assert!(
        !after.contains("001190000123") && after.contains("00******0123"),
        "{after}"
    );

    // Bad input: every field named, nothing saved.
    let res = lan
        .put_json(
            "/api/v1/driver/profile",
            &json!({"nationality": "VNM", "id_type": "vn_citizen_id", "id_number": "12345", "phone": "0912", "trade_pass": pass}),
        )
        .await;
    let p = expect_json(res, 422, "bad profile").await;
    let fields = error_fields(&p);
    for f in ["name_latin", "id_number", "phone"] {
        assert!(fields.contains(&f), "{f} in {p}");
    }
    let id_error = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["field"] == "id_number")
        .unwrap();
    assert_eq!(id_error["rule"], "format");
    assert_eq!(
        id_error["message"], "Số căn cước công dân Việt Nam gồm 12 chữ số",
        "in the driver's language"
    );
    assert_eq!(
        lan.get_json("/api/v1/driver/profile").await["name_latin"],
        "Trần Thị Lan"
    );

    // Chinese drivers: the pass must be theirs and in force.
    let wei = app.driver("wei@example.cn", "zh").await;
    let chinese = |id: &str, pass: &str| {
        json!({"name_zh": "张伟", "name_latin": "Zhang Wei", "nationality": "CHN", "id_type": "cn_resident_id",
            "id_number": id, "trade_pass": pass})
    };
    let someone_else = cn_id("19900307", 5);
    let res = wei
        .put_json("/api/v1/driver/profile", &chinese(&someone_else, pass))
        .await;
    let p = expect_json(res, 422, "someone else's pass").await;
    assert_eq!(
        (p["errors"][0]["field"].as_str(), p["errors"][0]["rule"].as_str()),
        (Some("trade_pass"), Some("not_holder"))
    );
    let res = wei
        .put_json("/api/v1/driver/profile", &chinese(&someone_else, "TR-YYG-2026-999999"))
        .await;
    assert_eq!(
        expect_json(res, 422, "unknown pass").await["errors"][0]["rule"],
        "unknown"
    );
    let res = wei.put_json("/api/v1/driver/profile", &chinese(&holder_id, pass)).await;
    let saved = expect_json(res, 200, "the holder's own pass").await;
    assert_eq!(saved["trade_pass"], pass);

    // The same person cannot hold a second account.
    let other = app.driver("wei.2@example.cn", "zh").await;
    let res = other.put_json("/api/v1/driver/profile", &chinese(&holder_id, "")).await;
    let p = expect_json(res, 422, "a second account").await;
    assert_eq!(
        (p["errors"][0]["field"].as_str(), p["errors"][0]["rule"].as_str()),
        (Some("id_number"), Some("taken"))
    );
    assert!(
        p["errors"][0]["message"].as_str().unwrap().contains("另一个账户"),
        "{p}"
    );

    // Two years on the pass has expired.
    app.clock.set(china(2028, 10, 1, 10, 0));
    // (Their sessions have long ended too: they sign in again.)
    let (wei, lan) = (
        app.driver("wei@example.cn", "zh").await,
        app.driver("lan@example.vn", "vi").await,
    );
    let res = wei.put_json("/api/v1/driver/profile", &chinese(&holder_id, pass)).await;
    assert_eq!(
        expect_json(res, 422, "an expired pass").await["errors"][0]["rule"],
        "not_in_force"
    );
    // A Vietnamese driver has no trade pass to give.
    let res = lan
        .put_json(
            "/api/v1/driver/profile",
            &json!({"name_latin": "Trần Thị Lan", "nationality": "VNM", "id_type": "vn_citizen_id",
                "id_number": "001190000123", "trade_pass": pass}),
        )
        .await;
    assert_eq!(
        expect_json(res, 422, "a VNM pass").await["errors"][0]["rule"],
        "chn_only"
    );
}

#[actix_web::test]
async fn the_pages_sign_a_driver_in_and_keep_profile_and_vehicles_in_vietnamese() {
    let app = TestApp::spawn().await;
    let mut s = Session::new(&app);
    let (status, _, location) = s.get("/driver/home").await;
    assert_eq!((status, location.as_deref()), (303, Some("/driver")), "not signed in");

    let (status, page, _) = s.get("/driver?lang=vi").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("<html lang=\"vi\">") && page.contains("Đăng nhập tài xế"),
        "{page}"
    );
    let csrf = hidden(&page, "csrf");
    let (status, page, _, _) = s
        .post(
            "/driver",
            &[("csrf", "forged"), ("email", "an@example.vn"), ("lang", "vi")],
        )
        .await;
    assert_eq!(status, 403, "the form's token is checked");
    assert!(
        page.contains("Trang đã hết hạn") && page.contains("href=\"/driver\""),
        "in words, with the way on: {page}"
    );
    let (status, page, _, _) = s
        .post("/driver", &[("csrf", &csrf), ("email", "not mail"), ("lang", "vi")])
        .await;
    assert_eq!(status, 422);
    assert!(page.contains("Vui lòng nhập một địa chỉ e-mail hợp lệ"), "{page}");
    let (status, _, location, _) = s
        .post(
            "/driver",
            &[("csrf", &csrf), ("email", "An@Example.vn"), ("lang", "vi")],
        )
        .await;
    assert_eq!((status, location.as_deref()), (303, Some("/driver/code")));

    let (status, page, _) = s.get("/driver/code").await;
    assert_eq!(status, 200);
    assert!(page.contains("an@example.vn") && page.contains("Nhập mã"), "{page}");
    let code = app.driver_code("an@example.vn");
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let (status, page, _, _) = s
        .post(
            "/driver/code",
            &[("csrf", &csrf), ("email", "an@example.vn"), ("code", wrong)],
        )
        .await;
    assert_eq!(status, 422);
    assert!(page.contains("Mã không đúng"), "{page}");
    let (status, _, location, headers) = s
        .post(
            "/driver/code",
            &[("csrf", &csrf), ("email", "an@example.vn"), ("code", &code)],
        )
        .await;
    assert_eq!((status, location.as_deref()), (303, Some("/driver/home")));
    let set: Vec<&str> = headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .filter(|c| c.starts_with("bd_driver="))
        .collect();
    assert_eq!(set.len(), 1);
    assert!(
        set[0].contains("HttpOnly") && set[0].contains("SameSite=Strict"),
        "{}",
        set[0]
    );

    let (status, page, _) = s.get("/driver/home").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("<section id=\"bookings\"") && page.contains("Hồ sơ cá nhân"),
        "{page}"
    );
    let csrf = hidden(&page, "csrf");

    // A refused profile comes back with each message in Vietnamese beside its field.
    let (status, page, _, _) = s
        .post(
            "/driver/profile",
            &[
                ("csrf", &csrf),
                ("name_latin", "Nguyễn Văn An"),
                ("nationality", "VNM"),
                ("id_type", "vn_citizen_id"),
                ("id_number", "12"),
                ("phone", ""),
            ],
        )
        .await;
    assert_eq!(status, 422);
    assert!(
        page.contains("Vui lòng sửa các mục sau") && page.contains("id=\"id_number-err\""),
        "{page}"
    );
    assert!(page.contains("value=\"Nguyễn Văn An\""), "what was typed stays");
    let (status, _, location, _) = s
        .post(
            "/driver/profile",
            &[
                ("csrf", &csrf),
                ("name_latin", "Nguyễn Văn An"),
                ("nationality", "VNM"),
                ("id_type", "vn_citizen_id"),
                ("id_number", "001190000123"),
                ("phone", "+84912345678"),
            ],
        )
        .await;
    assert_eq!((status, location.as_deref()), (303, Some("/driver/home")));

    let (status, page, _, _) = s
        .post(
            "/driver/vehicles",
            &[
                ("csrf", &csrf),
                ("plate", "ABC"),
                ("trailer_plate", ""),
                ("vehicle_type", "truck"),
            ],
        )
        .await;
    assert_eq!(status, 422);
    assert!(page.contains("id=\"plate-err\""), "{page}");
    let (status, _, location, _) = s
        .post(
            "/driver/vehicles",
            &[
                ("csrf", &csrf),
                ("plate", "12C 123 45"),
                ("trailer_plate", ""),
                ("vehicle_type", "truck"),
            ],
        )
        .await;
    assert_eq!((status, location.as_deref()), (303, Some("/driver/vehicles")));
    let (_, page, _) = s.get("/driver/vehicles").await;
    assert!(page.contains("12C-123.45") && page.contains("Xe tải"), "{page}");

    let (_, page, _) = s.get("/driver/home").await;
    assert!(page.contains("Nguyễn Văn An") && page.contains("12C-123.45"), "{page}");
    let (status, page, _, _) = s
        .post(
            "/driver/vehicles/5b0c1f2e-8d4a-4c1e-9f00-000000000000/remove",
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(status, 404);
    assert!(page.contains("Không tìm thấy xe"), "{page}");

    // The driver switches to English: remembered in their row, so the mail follows too.
    let (status, _, location, _) = s
        .post(
            "/driver/lang",
            &[("csrf", &csrf), ("lang", "en"), ("next", "/driver/vehicles")],
        )
        .await;
    assert_eq!((status, location.as_deref()), (303, Some("/driver/vehicles")));
    let (_, page, _) = s.get("/driver/home").await;
    assert!(
        page.contains("<html lang=\"en\">") && page.contains("My vehicles"),
        "{page}"
    );
    let driver_id: String = app
        .ctx
        .db
        .run_blocking(|c| {
            use borderdesk::db::schema::drivers;
            use diesel::prelude::*;
            Ok(drivers::table.select(drivers::lang).first(c)?)
        })
        .unwrap();
    assert_eq!(driver_id, "en");

    let (status, _, location, _) = s.post("/driver/signout", &[("csrf", &csrf)]).await;
    assert_eq!((status, location.as_deref()), (303, Some("/driver")));
    let (status, _, location) = s.get("/driver/home").await;
    assert_eq!((status, location.as_deref()), (303, Some("/driver")));
}

#[actix_web::test]
async fn racing_wrong_codes_and_vehicle_adds_stay_within_their_limits() {
    let app = TestApp::spawn_with(|s| s.driver_failures_per_client = 1000).await;
    let email = "race@example.vn";
    expect_json(ask_code(&app, &app.client, email, "vi").await, 202, "code").await;
    let code = app.driver_code(email);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let rules = futures::future::join_all(
        (0..20).map(|_| async { refusal(enter_code(&app, &app.client, email, wrong).await).await.2 }),
    )
    .await;
    assert_eq!(rules.iter().filter(|r| *r == "wrong").count(), 4, "{rules:?}");
    assert_eq!(
        rules.iter().filter(|r| *r == "too_many_attempts").count(),
        16,
        "{rules:?}"
    );
    let attempts: i32 = app
        .ctx
        .db
        .run_blocking(|c| {
            use borderdesk::db::schema::driver_codes;
            use diesel::prelude::*;
            Ok(driver_codes::table.select(driver_codes::attempts).first(c)?)
        })
        .unwrap();
    assert_eq!(attempts, 5, "no more tries compared than allowed");
    let (_, _, rule, _, _) = refusal(enter_code(&app, &app.client, email, &code).await).await;
    assert_eq!(rule, "too_many_attempts");

    let driver = app.driver("fleet@example.vn", "vi").await;
    let statuses = futures::future::join_all((0..10).map(|i| {
        let driver = driver.clone();
        async move {
            driver
                .post_json(
                    "/api/v1/driver/vehicles",
                    &json!({"plate": format!("12C-{}11.11", i), "vehicle_type": "truck"}),
                )
                .await
                .status()
                .as_u16()
        }
    }))
    .await;
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 5, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 422).count(), 5, "{statuses:?}");
    assert_eq!(
        driver
            .get_json("/api/v1/driver/vehicles")
            .await
            .as_array()
            .unwrap()
            .len(),
        5
    );
}

/// The progress page's limiter counts by the same client address as the driver limits: behind
/// a trusted proxy each forwarded client has its own ten look-ups a minute.
#[actix_web::test]
async fn the_progress_limiter_counts_the_forwarded_client_behind_a_trusted_proxy() {
    let app = TestApp::spawn_with(|s| s.trusted_proxies = vec!["127.0.0.1".into()]).await;
    let lookup = |xff: &'static str| {
        app.client
            .post(app.url("/progress"))
            .header("X-Forwarded-For", xff)
            .form(&[
                ("number", "YYG202611260001"),
                ("last4", "1234"),
                ("code", "AAAA-AAAA"),
                ("lang", "vi"),
            ])
            .send()
    };
    let mut statuses = Vec::new();
    for _ in 0..11 {
        statuses.push(lookup("203.0.113.1").await.unwrap().status().as_u16());
    }
    assert_eq!(statuses[..10], [404; 10]);
    assert_eq!(statuses[10], 429, "the eleventh from one client");
    assert_eq!(
        lookup("203.0.113.2").await.unwrap().status(),
        404,
        "another client behind the proxy"
    );
}
