//! The border-trade pass within one working day: accept (容缺), approve with four eyes, issue,
//! print, collect; deadlines on the working-day calendar; pending and suspended permits.

use borderdesk::clock::Clock;
use serde_json::{Value, json};

use crate::support::{ALL_TRADE_ITEMS, TestApp, china, error_fields, expect_json, trade, traveller};

pub(crate) const ALL_ITEMS: [&str; 5] = ALL_TRADE_ITEMS;

pub(crate) async fn trade_application(app: &TestApp, token: &str) -> String {
    let mut body = trade(traveller(1), json!(["桂F 12345", "12C-123.45"]));
    // Tests here take several applications for one traveller: confirmed, not warned.
    body["confirm_duplicate"] = json!(true);
    let body = app.take(token, &body).await;
    assert_eq!(body["plates"], json!(["桂F12345", "12C-123.45"]));
    assert!(body["number"].as_str().unwrap().starts_with("YYG"));
    body["id"].as_str().unwrap().to_string()
}

/// The verdict a gate would give the permit now, read from the database.
fn verdict_now(app: &TestApp, number: &str) -> borderdesk::domain::verdict::Verdict {
    let number = number.to_string();
    let record = app
        .ctx
        .db
        .run_blocking(move |c| borderdesk::service::permits::get_permit(c, &number))
        .unwrap();
    record.verdict(app.clock.now())
}

#[actix_web::test]
async fn accept_approve_issue_print_collect_with_four_eyes() {
    let app = TestApp::spawn().await;
    // Tue 29 Sep 2026, 10:00: the decision is due one working day later, Wed 30 Sep at closing.
    app.clock.set(china(2026, 9, 29, 10, 0));
    let accepting = app.token("li", "officer", &["border_trade"]);
    let approving = app.token("wang", "supervisor", &["border_trade"]);
    let id = trade_application(&app, &accepting).await;

    let res = app.step(&accepting, &id, "approve", &json!({})).await;
    assert_eq!(res.status(), 409, "approve before accept");
    assert_eq!(res.json::<Value>().await.unwrap()["current_state"], "submitted");

    let res = app
        .step(&accepting, &id, "accept", &json!({"materials": ALL_ITEMS}))
        .await;
    assert_eq!(res.status(), 200);
    let accepted: Value = res.json().await.unwrap();
    assert_eq!(accepted["status"], "accepted");
    assert_eq!(accepted["due_at"], "2026-09-30T17:30:00+08:00");

    let res = app.step(&accepting, &id, "approve", &json!({})).await;
    assert_eq!(res.status(), 403, "the accepting officer may not approve (four eyes)");
    assert!(
        res.json::<Value>().await.unwrap()["detail"]
            .as_str()
            .unwrap()
            .contains("accepted")
    );
    let res = app.step(&approving, &id, "approve", &json!({})).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "approved");

    let res = app.issue(&approving, &id, Some("trade-1")).await;
    assert_eq!(res.status(), 201);
    let permit: Value = res.json().await.unwrap();
    assert!(permit["number"].as_str().unwrap().starts_with("TR-YYG-2026-"));
    assert_eq!(permit["status"], "issued");
    assert_eq!(permit["entries_allowed"], 0, "one year, multiple entries by default");
    assert_eq!(permit["valid_until"], "2027-09-28T23:59:59+08:00");
    assert_eq!(permit["enterprise_name"], "凭祥市友谊边贸有限公司");
    assert_eq!(permit["plates"], json!(["桂F12345", "12C-123.45"]));

    let number = permit["number"].as_str().unwrap();
    let pdf = app.permit_pdf(&approving, number).await;
    if let Some(text) = crate::tools::pdftotext(&pdf, &[], "the trade pass text check") {
        assert!(
            text.contains("凭祥市友谊边贸有限公司") && text.contains("桂F12345") && text.contains("多次"),
            "{text}"
        );
    }

    let res = app.step(&accepting, &id, "collect", &json!({})).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "collected");
    assert_eq!(app.step(&accepting, &id, "collect", &json!({})).await.status(), 409);
}

#[actix_web::test]
async fn deadlines_land_on_working_days_across_golden_week() {
    let app = TestApp::spawn().await;
    let token = app.token("li", "officer", &["border_trade"]);
    // Wed 30 Sep 2026 after closing: counts from Thu 8 Oct (1–7 Oct off); due Fri 9 Oct.
    app.clock.set(china(2026, 9, 30, 18, 0));
    let id = trade_application(&app, &token).await;
    let res = app.step(&token, &id, "accept", &json!({"materials": ALL_ITEMS})).await;
    assert_eq!(
        res.json::<Value>().await.unwrap()["due_at"],
        "2026-10-09T17:30:00+08:00"
    );

    // Fri 9 Oct in office hours: the next working day is the make-up Saturday, 10 Oct.
    app.clock.set(china(2026, 10, 9, 9, 0));
    let id = trade_application(&app, &token).await;
    let res = app.step(&token, &id, "accept", &json!({"materials": ALL_ITEMS})).await;
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["due_at"], "2026-10-10T17:30:00+08:00");
    assert_eq!(body["overdue"], false);
    app.clock.set(china(2026, 10, 10, 17, 31));
    let body = app.get_json(&token, &format!("/api/v1/applications/{id}")).await;
    assert_eq!(body["overdue"], true);
}

#[actix_web::test]
async fn an_admin_edits_the_calendar_and_deadlines_follow() {
    let app = TestApp::spawn().await;
    // Before the morning the deadline is counted from, so the trail's times run forward whatever
    // the real date is (on 30 Nov 2026 after 10:00 in China they did not).
    app.clock.set(china(2026, 11, 30, 9, 0));
    let token = app.token("li", "officer", &["border_trade"]);
    let admin = app.token("root", "admin", &[]);
    let res = app
        .put_day(&token, "2026-12-01", json!({"kind": "holiday", "name": "x"}))
        .await;
    assert_eq!(res.status(), 403);
    let res = app
        .put_day(&admin, "2026-13-01", json!({"kind": "day off", "name": ""}))
        .await;
    assert_eq!(res.status(), 422);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["errors"].as_array().unwrap().len(), 3, "{body}");
    let closed = json!({"kind": "holiday", "name": "边境口岸临时闭关 port closed"});
    assert_eq!(app.put_day(&admin, "2026-12-01", closed).await.status(), 200);

    // Mon 30 Nov 10:00 + 1 working day: Tue 1 Dec is now a holiday, so Wed 2 Dec.
    app.clock.set(china(2026, 11, 30, 10, 0));
    let id = trade_application(&app, &token).await;
    let res = app.step(&token, &id, "accept", &json!({"materials": ALL_ITEMS})).await;
    assert_eq!(
        res.json::<Value>().await.unwrap()["due_at"],
        "2026-12-02T17:30:00+08:00"
    );

    let days = app.get_json(&token, "/api/v1/calendar?year=2026").await;
    assert_eq!(days["provisional"], false);
    assert!(
        days["days"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["date"] == "2026-12-01" && d["kind"] == "holiday")
    );
    assert!(
        days["days"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["date"] == "2026-02-14" && d["kind"] == "workday"),
        "published schedule seeded"
    );
    let res = app.delete_day(&admin, "2026-12-01").await;
    assert_eq!(res.status(), 204);
    let trail = app.audit("calendar_day", "2026-12-01");
    assert_eq!(
        trail.iter().map(|r| r.action.as_str()).collect::<Vec<_>>(),
        ["calendar.set", "calendar.remove"]
    );
}

#[actix_web::test]
async fn bad_trade_input_is_refused_whole_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let token = app.token("li", "officer", &["border_trade"]);
    let res = app
        .post_json(
            &token,
            "/api/v1/applications",
            &json!({"kind": "border_trade", "traveller": traveller(1),
                "enterprise": {"name": "", "credit_code": "91350100M000100Y44"},
                "plates": ["桂A1234", "12C-000.00"], "validity_option": "forever"}),
        )
        .await;
    let body = expect_json(res, 422, "bad trade input").await;
    assert_eq!(
        error_fields(&body),
        [
            "enterprise.name",
            "enterprise.credit_code",
            "plates[0]",
            "plates[1]",
            "validity_option"
        ],
        "{body}"
    );
    assert_eq!(body["errors"][1]["rule"], "check_character");
    assert_eq!(app.count("applications"), 0);

    // A missing item that cannot be deferred blocks acceptance, naming each one.
    let id = trade_application(&app, &token).await;
    let res = app
        .step(&token, &id, "accept", &json!({"materials": ["trade_proof"]}))
        .await;
    let body = expect_json(res, 422, "accept without the items that cannot wait").await;
    assert_eq!(
        error_fields(&body),
        ["materials.application_form", "materials.resident_id"]
    );
    let after = app.get_json(&token, &format!("/api/v1/applications/{id}")).await;
    assert_eq!(after["status"], "submitted");
    assert_eq!(app.count("application_materials"), 0);

    let res = app.step(&token, &id, "reject", &json!({"reason": " "})).await;
    assert_eq!(res.status(), 422);
    let res = app.step(&token, &id, "withdraw", &json!({})).await;
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "withdrawn");
    let res = app.step(&token, &id, "accept", &json!({"materials": ALL_ITEMS})).await;
    assert_eq!(res.status(), 409);
}

#[actix_web::test]
async fn deferred_items_print_pending_then_activate_or_suspend() {
    let app = TestApp::spawn().await;
    // Fri 13 Nov 2026, 10:00.
    app.clock.set(china(2026, 11, 13, 10, 0));
    let officer = app.token("li", "officer", &["border_trade"]);
    let boss = app.token("wang", "supervisor", &["border_trade"]);
    let id = trade_application(&app, &officer).await;
    let res = app
        .step(
            &officer,
            &id,
            "accept",
            &json!({"materials": ["application_form", "resident_id", "trade_proof"]}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    let missing: Vec<(&str, &str)> = body["materials"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["provided"] == false)
        .map(|m| (m["item"].as_str().unwrap(), m["due_date"].as_str().unwrap()))
        .collect();
    // Five working days for the licence (Fri 20 Nov), three for the portrait (Wed 18 Nov).
    assert_eq!(missing, [("vehicle_licence", "2026-11-20"), ("portrait", "2026-11-18")]);

    let notice = app.get(&officer, &format!("/api/v1/applications/{id}/notice")).await;
    assert_eq!(notice.status(), 200);
    assert_eq!(notice.headers()["content-type"], "application/pdf");

    assert_eq!(app.step(&boss, &id, "approve", &json!({})).await.status(), 200);
    let permit = app.issued(&boss, &id).await;
    assert_eq!(permit["status"], "pending");
    let number = permit["number"].as_str().unwrap().to_string();
    let verdict = verdict_now(&app, &number);
    assert!(!verdict.admit);
    assert_eq!(verdict.message_en, "materials/portrait pending");
    assert_eq!(
        app.get(&officer, &format!("/api/v1/permits/{number}/pdf"))
            .await
            .status(),
        200,
        "printed while pending"
    );

    // Supplying an item puts the application back in the queue; the last one activates the permit.
    let res = app.step(&officer, &id, "materials/portrait/supply", &json!({})).await;
    let body: Value = res.json().await.unwrap();
    assert!(body["attention"].as_str().unwrap().contains("portrait"));
    assert_eq!(
        app.step(&officer, &id, "materials/portrait/supply", &json!({}))
            .await
            .status(),
        409
    );
    assert_eq!(
        app.step(&officer, &id, "materials/nothing/supply", &json!({}))
            .await
            .status(),
        404
    );
    let p = app.permit(&officer, &number).await;
    assert_eq!(p["status"], "pending");

    // Past the licence's due date (Fri 20 Nov) the permit is suspended...
    app.clock.set(china(2026, 11, 21, 9, 0));
    let p = app.permit(&officer, &number).await;
    assert_eq!(p["status"], "suspended");
    // ...and supplying it late brings it into force.
    app.step(&officer, &id, "materials/vehicle_licence/supply", &json!({}))
        .await;
    let p = app.permit(&officer, &number).await;
    assert_eq!(p["status"], "issued");
    assert!(verdict_now(&app, &number).admit);
    let body = app.get_json(&officer, &format!("/api/v1/applications/{id}")).await;
    assert!(body["attention"].as_str().unwrap().contains("all materials supplied"));
    let body: Value = app
        .step(&officer, &id, "acknowledge", &json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert!(body["attention"].is_null());
}
