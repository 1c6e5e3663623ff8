//! Data rules end to end: Vietnamese plates and decomposed Unicode through the API, the
//! provisional calendar of a year whose schedule is not loaded, and the calendar admin's rules.

use serde_json::{Value, json};

use crate::support::{ALL_TRADE_ITEMS, TestApp, china, cn_id, trade};

fn chinese_traveller(seq: u32) -> Value {
    json!({"name_zh": "张伟", "name_latin": "ZHANG WEI", "nationality": "CHN", "sex": "M",
        "birth_date": "1990-03-07", "id_type": "cn_resident_id", "id_number": cn_id("19900307", seq)})
}

fn stored_latin_names(app: &TestApp) -> Vec<String> {
    use diesel::prelude::*;
    app.ctx
        .db
        .run_blocking(|c| {
            Ok(borderdesk::db::schema::travellers::table
                .select(borderdesk::db::schema::travellers::name_latin)
                .load::<String>(c)?)
        })
        .unwrap()
}

#[actix_web::test]
async fn a_decomposed_vietnamese_name_is_taken_and_stored_composed() {
    let app = TestApp::spawn().await;
    let token = app.token("li", "officer", &["border_tourism"]);
    // A Jing (京族) resident of Dongxing with a Vietnamese name, typed in NFD.
    let nfd = "Nguye\u{302}\u{303}n Thi\u{323} A\u{301}nh";
    let res = app
        .post_json(
            &token,
            "/api/v1/applications",
            &json!({"kind": "border_tourism", "traveller": {
                "name_zh": "阮氏英", "name_latin": nfd, "nationality": "CHN", "sex": "F", "birth_date": "1990-03-07",
                "id_type": "cn_resident_id", "id_number": cn_id("19900307", 2)}}),
        )
        .await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    assert_eq!(stored_latin_names(&app), ["NGUYỄN THỊ ÁNH"]);
}

#[actix_web::test]
async fn vietnamese_plates_typed_any_way_are_stored_canonical_and_impossible_ones_refused() {
    let app = TestApp::spawn().await;
    let token = app.token("li", "officer", &["border_trade"]);
    let body = app
        .take(
            &token,
            &trade(chinese_traveller(1), json!(["12c12345", "12C 1234", "桂F 12345"])),
        )
        .await;
    assert_eq!(body["plates"], json!(["12C-123.45", "12C-1234", "桂F12345"]));

    for (plate, rule) in [
        ("12C-000.00", "vn_serial"),
        ("12W-123.45", "vn_series"),
        ("12I12345", "vn_series"),
        ("12C-123", "plate_format"),
    ] {
        let before = app.count("applications");
        let body = app
            .refused(
                &token,
                "/api/v1/applications",
                &trade(chinese_traveller(3), json!([plate])),
            )
            .await;
        let errors = body["errors"].as_array().unwrap();
        assert!(
            errors.iter().any(|e| e["field"] == "plates[0]" && e["rule"] == rule),
            "{plate}: {body}"
        );
        assert_eq!(app.count("applications"), before, "nothing changed");
    }
}

#[actix_web::test]
async fn a_year_without_its_schedule_is_provisional_with_statutory_holidays() {
    let app = TestApp::spawn().await;
    let token = app.token("li", "officer", &["border_trade"]);
    let y27 = app.get_json(&token, "/api/v1/calendar?year=2027").await;
    assert_eq!(y27["provisional"], true);
    let days = y27["days"].as_array().unwrap();
    for date in [
        "2027-01-01",
        "2027-02-05",
        "2027-02-06",
        "2027-02-08",
        "2027-02-09",
        "2027-02-10",
    ] {
        assert!(
            days.iter()
                .any(|d| d["date"] == date && d["kind"] == "holiday" && d["computed"] == true),
            "{date} in {y27}"
        );
    }
    assert!(days.iter().all(|d| d["kind"] == "holiday"), "no make-up days computed");
    let y26 = app.get_json(&token, "/api/v1/calendar?year=2026").await;
    assert_eq!(y26["provisional"], false);
    assert!(y26["days"].as_array().unwrap().iter().all(|d| d["computed"] == false));

    // Start-up warns about the years still provisional: this one is published, next is not.
    let now = china(2026, 11, 29, 10, 0);
    let years = app
        .ctx
        .db
        .run_blocking(move |c| borderdesk::service::calendar::provisional_years(c, now))
        .unwrap();
    assert_eq!(years, [2027]);

    // Accepted on Thu 31 Dec 2026 after closing, one working day: not Fri 1 Jan 2027 (New
    // Year's Day) but from Mon 4 Jan, due Tue 5 Jan.
    app.clock.set(china(2026, 12, 31, 18, 0));
    let id = app
        .take(&token, &trade(chinese_traveller(5), json!(["12C-123.45"])))
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let accepted = app.accept(&token, &id, &ALL_TRADE_ITEMS).await;
    assert_eq!(accepted["due_at"], "2027-01-05T17:30:00+08:00");
}

#[actix_web::test]
async fn the_calendar_refuses_senseless_days_and_asks_before_replacing_a_published_one() {
    let app = TestApp::spawn().await;
    let admin = app.token("root", "admin", &[]);
    let put = |date: &'static str, body: Value| app.put_day(&admin, date, body);
    let refused = |res: reqwest::Response| async move {
        assert_eq!(res.status(), 422);
        let body: Value = res.json().await.unwrap();
        let e = &body["errors"][0];
        (
            e["field"].as_str().unwrap().to_string(),
            e["rule"].as_str().unwrap().to_string(),
        )
    };
    let before = app.count("audit_log");
    // Fri 27 Nov 2026 is a working day already.
    let res = put("2026-11-27", json!({"kind": "workday", "name": "调休"})).await;
    assert_eq!(refused(res).await, ("kind".into(), "workday_on_weekday".into()));
    // 1 Oct 2026 is National Day already.
    let res = put("2026-10-01", json!({"kind": "holiday", "name": "x"})).await;
    assert_eq!(refused(res).await, ("date".into(), "already_holiday".into()));
    // Sat 14 Feb 2026 is a published make-up working day: not replaced without confirmation.
    let res = put("2026-02-14", json!({"kind": "holiday", "name": "春节"})).await;
    assert_eq!(refused(res).await, ("confirm".into(), "confirm_replace".into()));
    assert_eq!(app.count("audit_log"), before, "nothing changed");
    let token = app.token("li", "officer", &[]);
    let y26 = app.get_json(&token, "/api/v1/calendar?year=2026").await;
    assert!(
        y26["days"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["date"] == "2026-02-14" && d["kind"] == "workday")
    );
    // With confirmation it is replaced, and audited with what it was.
    let res = put(
        "2026-02-14",
        json!({"kind": "holiday", "name": "春节", "confirm": true}),
    )
    .await;
    assert_eq!(res.status(), 200);
    let trail = app.audit("calendar_day", "2026-02-14");
    assert_eq!(trail.len(), 1);
    assert!(trail[0].before_json.as_deref().unwrap_or("").contains("workday"));
    // Removing a day as published asks first too; an edited day goes at once.
    let res = app.delete_day(&admin, "2026-10-10").await;
    assert_eq!(refused(res).await, ("confirm".into(), "confirm_remove".into()));
    let res = app.delete_day(&admin, "2026-10-10?confirm=true").await;
    assert_eq!(res.status(), 204);
    assert_eq!(app.delete_day(&admin, "2026-02-14").await.status(), 204);
    // A make-up working day on a weekday of a provisional year is refused as anywhere; a
    // weekend make-up day is fine.
    let res = put("2027-02-10", json!({"kind": "workday", "name": "x"})).await;
    assert_eq!(refused(res).await, ("kind".into(), "workday_on_weekday".into()));
    let res = put("2027-02-20", json!({"kind": "workday", "name": "春节调休上班"})).await;
    assert_eq!(res.status(), 200);
}

#[actix_web::test]
async fn a_fresh_database_opens_without_a_connection_error() {
    // Each test app starts on a new database (a new SQLite file by default): the pool met no
    // error opening its connections, so nothing red was logged.
    let app = TestApp::spawn().await;
    let token = app.token("li", "officer", &["border_tourism"]);
    assert_eq!(app.get(&token, "/api/v1/calendar").await.status(), 200);
    assert_eq!(app.ctx.db.connection_errors(), 0);
}
