//! Bad input gets a clear answer naming the field and the rule, never a 500, and changes nothing.

use serde_json::{Value, json};

use reqwest::header::COOKIE;

use crate::support::{TestApp, cn_id, hidden, traveller};

async fn unchanged(app: &TestApp) {
    assert_eq!(app.count("applications"), 0);
    assert_eq!(app.count("travellers"), 0);
    assert_eq!(app.count("permits"), 0);
}

#[actix_web::test]
async fn malformed_json_is_400_oversized_is_413_wrong_type_is_415() {
    let app = TestApp::spawn().await;
    let token = app.window();
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
    let token = app.window();
    let mut bad_check = cn_id("19900307", 123);
    bad_check.replace_range(17..18, if bad_check.ends_with('0') { "1" } else { "0" });
    let body = app
        .refused(
            &token,
            "/api/v1/applications",
            &json!({"kind": "border_tourism", "traveller": {
                "name_zh": "Zhang", "nationality": "ZZZ", "sex": "male", "birth_date": "1990-02-30",
                "id_type": "cn_resident_id", "id_number": bad_check, "phone": "12", "email": "x@"
            }}),
        )
        .await;
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
    let body = app
        .refused(
            &token,
            "/api/v1/applications",
            &json!({"kind": "border_tourism", "traveller": nul}),
        )
        .await;
    assert_eq!(body["errors"][0]["rule"], "printable");
    unchanged(&app).await;
}

#[actix_web::test]
async fn wrong_types_kinds_and_eligibility_name_the_field() {
    let app = TestApp::spawn().await;
    let token = app.token("window", "officer", &["border_tourism", "border_trade"]);
    let body = app
        .refused(
            &token,
            "/api/v1/applications",
            &json!({"kind": "border_tourism", "traveller": {"sex": 5}}),
        )
        .await;
    assert_eq!(body["errors"][0]["field"], "traveller.sex");

    let res = app.post_json(&token, "/api/v1/applications", &json!([1, 2])).await;
    assert_eq!(res.status(), 422);

    let body = app
        .refused(
            &token,
            "/api/v1/applications",
            &json!({"kind": "visa", "traveller": traveller(1)}),
        )
        .await;
    assert_eq!(body["errors"][0]["field"], "kind");

    // The tourism pass is for holders of a Chinese resident ID (policy data).
    let vietnamese = json!({"name_latin": "Nguyễn Văn An", "nationality": "VNM", "sex": "M", "birth_date": "1985-01-02",
        "id_type": "vn_citizen_id", "id_number": "020085000123"});
    let body = app
        .refused(
            &token,
            "/api/v1/applications",
            &json!({"kind": "border_tourism", "traveller": vietnamese}),
        )
        .await;
    assert_eq!(body["errors"][0]["field"], "traveller.id_type");
    assert_eq!(body["errors"][0]["rule"], "eligible");
    unchanged(&app).await;
}

#[actix_web::test]
async fn unknown_things_are_404_and_bad_keys_are_422() {
    let app = TestApp::spawn().await;
    let token = app.window();
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

/// The last step before a passport review: accepted, exported and acknowledged as uploaded.
async fn uploaded_passport(app: &TestApp, officer: &str, supervisor: &str) -> String {
    let res = app
        .post_json(
            officer,
            "/api/v1/applications",
            &json!({"kind": "passport", "traveller": traveller(1), "fee_waived": true, "photo_ref": "PH-0001"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let id = res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    let res = app
        .post_json(
            officer,
            &format!("/api/v1/applications/{id}/accept"),
            &json!({"materials": ["application_form", "resident_id", "portrait"]}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let batch: Value = app
        .get(supervisor, "/api/v1/exports/passport")
        .await
        .json()
        .await
        .unwrap();
    let ack = format!("/api/v1/exports/passport/{}/ack", batch["batch_id"].as_str().unwrap());
    assert_eq!(app.post_json(supervisor, &ack, &json!({})).await.status(), 200);
    id
}

fn rules(body: &Value) -> Vec<(String, String)> {
    body["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| {
                    (
                        e["field"].as_str().unwrap_or("").to_string(),
                        e["rule"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[actix_web::test]
async fn unknown_fields_are_named_and_refused_on_every_json_route() {
    let app = TestApp::spawn().await;
    let token = app.token("li", "officer", &["border_trade", "border_tourism"]);
    // A typo of `validity_option` used to be ignored: 201 with the default validity.
    let res = app
        .post_json(
            &token,
            "/api/v1/applications",
            &json!({"kind": "border_trade", "traveller": traveller(1), "validity_options": "multiple_1y"}),
        )
        .await;
    assert_eq!(res.status(), 422);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        rules(&body),
        [("validity_options".to_string(), "unknown_field".to_string())],
        "{body}"
    );

    // Nested and several at once, each with its path.
    let mut t = traveller(1);
    t["surname"] = json!("ZHANG");
    let body = app
        .refused(
            &token,
            "/api/v1/applications",
            &json!({"kind": "border_tourism", "traveller": t, "fee_waive": true}),
        )
        .await;
    let fields: Vec<String> = rules(&body).into_iter().map(|(f, _)| f).collect();
    assert_eq!(fields, ["fee_waive", "traveller.surname"], "{body}");
    unchanged(&app).await;

    // The other JSON routes: each refuses a stray field before doing anything.
    let id = app.application(&token, traveller(2)).await;
    let admin = app.token("root", "admin", &[]);
    let gate = app.gate();
    for (who, path, body) in [
        (
            &token,
            format!("/api/v1/applications/{id}/accept"),
            json!({"material": []}),
        ),
        (
            &token,
            format!("/api/v1/applications/{id}/reject"),
            json!({"reason": "x", "reasons": "y"}),
        ),
        (
            &token,
            format!("/api/v1/applications/{id}/review"),
            json!({"result": "approved", "note": "n"}),
        ),
        (
            &token,
            "/api/v1/permits/BT-YYG-2026-000001/revoke".to_string(),
            json!({"reason": "x", "why": "y"}),
        ),
        (
            &gate,
            "/api/v1/checkpoint/scans".to_string(),
            json!({"code": "x", "lane": "H1", "direction": "exit", "dir": "exit"}),
        ),
        (
            &gate,
            "/api/v1/checkpoint/crossings".to_string(),
            json!({"crossings": [], "device": "d"}),
        ),
    ] {
        let problem = app.refused(who, &path, &body).await;
        assert!(
            rules(&problem).iter().any(|(_, r)| r == "unknown_field"),
            "{path}: {problem}"
        );
    }
    let res = app
        .client
        .put(app.url("/api/v1/calendar/2026-12-24"))
        .bearer_auth(&admin)
        .json(&json!({"kind": "holiday", "name": "x", "confirmed": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let problem: Value = res.json().await.unwrap();
    assert_eq!(
        rules(&problem),
        [("confirmed".to_string(), "unknown_field".to_string())]
    );

    let record: Value = app
        .get(&token, &format!("/api/v1/applications/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(record["status"], "submitted", "nothing moved: {record}");
    assert_eq!(app.count("crossings"), 0);
}

#[actix_web::test]
async fn an_array_where_an_object_belongs_is_refused() {
    let app = TestApp::spawn().await;
    let token = app.window();
    // Read by position, this was a traveller named 张伟 with a valid ID, stored.
    let by_position = json!([
        "张伟",
        "ZHANG WEI",
        "CHN",
        "M",
        "1990-03-07",
        "cn_resident_id",
        cn_id("19900307", 1),
        "+8613800000000",
        null
    ]);
    let body = app
        .refused(
            &token,
            "/api/v1/applications",
            &json!({"kind": "border_tourism", "traveller": by_position}),
        )
        .await;
    assert_eq!(rules(&body), [("traveller".to_string(), "type".to_string())], "{body}");
    assert!(
        body["errors"][0]["message"].as_str().unwrap().contains("an object"),
        "{body}"
    );

    let gate = app.gate();
    let body = app
        .refused(
            &gate,
            "/api/v1/checkpoint/crossings",
            &json!({"crossings": [["c-1", "code", "H1", "exit", "2026-11-26T10:00:00Z", "admit", "ok", null]]}),
        )
        .await;
    assert_eq!(rules(&body)[0].0, "crossings[0]", "{body}");
    unchanged(&app).await;
    assert_eq!(app.count("crossings"), 0);
}

#[actix_web::test]
async fn text_is_bounded_and_free_of_control_characters_on_every_route() {
    let app = TestApp::spawn().await;
    let officer = app.token("window", "officer", &["passport", "border_tourism"]);
    let supervisor = app.token("wang", "supervisor", &["passport"]);
    let id = uploaded_passport(&app, &officer, &supervisor).await;
    let review = format!("/api/v1/applications/{id}/review");

    // An approval's reason was stored whatever it held: a NUL was a 500 on PostgreSQL.
    let body = app
        .refused(&officer, &review, &json!({"result": "approved", "reason": "ok\u{0}"}))
        .await;
    assert_eq!(
        rules(&body),
        [("reason".to_string(), "printable".to_string())],
        "{body}"
    );
    let body = app
        .refused(
            &officer,
            &review,
            &json!({"result": "approved", "reason": "好".repeat(501)}),
        )
        .await;
    assert_eq!(
        rules(&body),
        [("reason".to_string(), "max_length".to_string())],
        "{body}"
    );
    // Longer than any field takes is refused at the door, whatever the field.
    let res = app
        .post_json(
            &officer,
            &review,
            &json!({"result": "approved", "reason": "a".repeat(1001)}),
        )
        .await;
    assert_eq!(res.status(), 422);
    let record: Value = app
        .get(&officer, &format!("/api/v1/applications/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(record["status"], "uploaded", "nothing moved: {record}");

    // Everywhere else too, named by path: an escape sequence in a lane, a NUL in a device id.
    let gate = app.gate();
    let body = app
        .refused(
            &gate,
            "/api/v1/checkpoint/scans",
            &json!({"code": "BT-YYG-2026-000001", "lane": "H1\u{1b}[2J", "direction": "exit"}),
        )
        .await;
    assert_eq!(rules(&body), [("lane".to_string(), "printable".to_string())], "{body}");
    let body = app.refused(&gate,
            "/api/v1/checkpoint/crossings",
            &json!({"crossings": [{"client_id": "c\u{0}1", "code": "x", "lane": "H1", "direction": "exit", "at": "2026-11-26T10:00:00Z", "verdict": "admit", "reason": "ok"}]})).await;
    assert_eq!(
        rules(&body)[0],
        ("crossings[0].client_id".to_string(), "printable".to_string()),
        "{body}"
    );
    assert_eq!(app.count("crossings"), 0);

    // A reason within the rules, with a line break as a textarea sends, is taken.
    let res = app
        .post_json(
            &officer,
            &review,
            &json!({"result": "approved", "reason": "材料齐全\n审核通过"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["reason"], "材料齐全\n审核通过");
}

/// Logs in on the pages and returns (cookie header, the scan page's CSRF token).
async fn checkpoint_session(app: &TestApp) -> (String, String) {
    let (gate, pw) = app.officer("gate", "checkpoint", &[]);
    let jar = app.page_login(&gate, &pw, "/checkpoint").await;
    let res = app
        .client
        .get(app.url("/checkpoint"))
        .header(COOKIE, jar.header())
        .send()
        .await
        .unwrap();
    let page = res.text().await.unwrap();
    (jar.header(), hidden(&page, "csrf"))
}

#[actix_web::test]
async fn the_scan_pages_upload_follows_the_api_body_rules() {
    let app = TestApp::spawn().await;
    let (cookie, csrf) = checkpoint_session(&app).await;
    let post = |body: Vec<u8>, ct: &'static str| {
        app.client
            .post(app.url("/checkpoint/upload"))
            .header(COOKIE, cookie.clone())
            .header("X-CSRF-Token", csrf.clone())
            .header("content-type", ct)
            .body(body)
            .send()
    };
    let problem = |res: reqwest::Response, status: u16| async move {
        assert_eq!(res.status(), status);
        assert_eq!(res.headers()["content-type"], "application/problem+json");
        res.json::<Value>().await.unwrap()
    };

    // Over the body limit (the API's, not actix's 2 MB): 413.
    let crossing = json!({"client_id": "c-1", "code": "x", "lane": "H1", "direction": "exit", "at": "2026-11-26T10:00:00Z", "verdict": "admit", "reason": "ok"});
    let big = json!({"crossings": vec![crossing.clone(); 2_000]})
        .to_string()
        .into_bytes();
    assert!(big.len() > 200_000);
    problem(post(big, "application/json").await.unwrap(), 413).await;
    // Not JSON by its content type: 415, not 400.
    problem(post(b"{}".to_vec(), "text/plain").await.unwrap(), 415).await;
    // Malformed: 400 as problem+json.
    let body = problem(
        post(b"{\"crossings\": [".to_vec(), "application/json").await.unwrap(),
        400,
    )
    .await;
    assert_eq!(body["type"], "/problems/malformed-json");
    // A wrong field is named.
    let mut wrong = crossing.clone();
    wrong["at"] = json!("yesterday");
    let body = problem(
        post(
            json!({"crossings": [wrong]}).to_string().into_bytes(),
            "application/json",
        )
        .await
        .unwrap(),
        422,
    )
    .await;
    assert_eq!(rules(&body)[0].0, "crossings[0].at", "{body}");
    let body = problem(
        post(
            json!({"crossings": [], "extra": 1}).to_string().into_bytes(),
            "application/json",
        )
        .await
        .unwrap(),
        422,
    )
    .await;
    assert_eq!(rules(&body), [("extra".to_string(), "unknown_field".to_string())]);
    assert_eq!(app.count("crossings"), 0);
}

#[actix_web::test]
async fn every_json_route_documents_its_body_answers() {
    let app = TestApp::spawn().await;
    let doc: Value = app.public_json("/api/openapi.json").await;
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if op["requestBody"]["content"].get("application/json").is_none() {
                continue;
            }
            checked += 1;
            for status in ["400", "413", "415", "422"] {
                assert!(
                    op["responses"].get(status).is_some(),
                    "{method} {path} does not document {status}"
                );
            }
        }
    }
    assert!(checked >= 9, "{checked}");
}

/// A query string the handler cannot read is a 400 problem naming the parameter, not actix's
/// text/plain "Query deserialize error".
#[actix_web::test]
async fn a_malformed_query_parameter_is_a_problem_naming_it() {
    let app = TestApp::spawn().await;
    let token = app.token("gate", "checkpoint", &[]);
    for (path, parameter, rule) in [
        ("/api/v1/checkpoint/lanes?window_minutes=soon", "window_minutes", "type"),
        ("/api/v1/calendar?year=2147483648", "year", "type"),
        ("/api/v1/calendar?year=false&year=false", "year", "duplicate"),
        ("/api/v1/calendar/2026-10-01?confirm=maybe", "confirm", "type"),
    ] {
        let method = if path.starts_with("/api/v1/calendar/") {
            reqwest::Method::DELETE
        } else {
            reqwest::Method::GET
        };
        let res = app
            .client
            .request(method, app.url(path))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400, "{path}");
        assert_eq!(res.headers()["content-type"], "application/problem+json", "{path}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["type"], "/problems/bad-query-parameter", "{path}");
        assert_eq!(body["errors"][0]["field"], parameter, "{path}");
        assert_eq!(body["errors"][0]["rule"], rule, "{path}");
    }
}

/// A form the page cannot read (wrong content type, over the limit) is a problem document too.
#[actix_web::test]
async fn an_unreadable_form_is_a_problem() {
    let app = TestApp::spawn().await;
    let res = app
        .client
        .post(app.url("/login"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 415);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["type"], "/problems/unsupported-media-type");
    assert!(body["detail"].as_str().unwrap().contains("x-www-form-urlencoded"));
    let res = app
        .client
        .post(app.url("/progress"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("number={}", "9".repeat(80 * 1024)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
}

/// A documented path asked with a method it does not have is 405 with `Allow` (what the
/// document lists for it), not a 404 as if the path did not exist; an unknown path stays 404.
#[actix_web::test]
async fn a_method_the_path_does_not_have_is_405_with_allow() {
    let app = TestApp::spawn().await;
    let token = app.token("window", "officer", &["border_tourism"]);
    for (method, path, allow) in [
        ("TRACE", "/api/v1/keys", "GET"),
        ("DELETE", "/api/v1/keys", "GET"),
        ("PATCH", "/api/v1/calendar/2026-10-01", "PUT, DELETE"),
        ("GET", "/api/v1/checkpoint/scans", "POST"),
        ("PUT", "/login", "GET, POST"),
    ] {
        let res = app
            .client
            .request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), app.url(path))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 405, "{method} {path}");
        assert_eq!(res.headers()["allow"], allow, "{method} {path}");
        assert_eq!(res.headers()["content-type"], "application/problem+json");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["type"], "/problems/method-not-allowed");
    }
    let res = app
        .client
        .delete(app.url("/api/v1/no-such-thing"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    // GET routes do not answer HEAD, and the answer says so.
    let res = app.client.head(app.url("/api/v1/keys")).send().await.unwrap();
    assert_eq!(res.status(), 405);
    assert_eq!(res.headers()["allow"], "GET");
    // A method HTTP does not define is not implemented anywhere: 501, as before.
    let res = app
        .client
        .request(reqwest::Method::from_bytes(b"BREW").unwrap(), app.url("/api/v1/keys"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 501);
}
