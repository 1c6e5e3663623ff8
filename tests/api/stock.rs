//! Blank permit cards as controlled stock: batches received by serial range, each print on the
//! next blank, reprints voiding the card they replace, voids, the day's reconciliation and the
//! drawer's count; through the API and the pages, with races between two windows.

use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::support::{Session, TestApp, error_fields, expect_json};

async fn receive(app: &TestApp, token: &str, first: i64, last: i64) -> Value {
    let res = app
        .post_json(
            token,
            "/api/v1/stock/batches",
            &json!({"first_serial": first, "last_serial": last, "received_from": "广西公安厅出入境管理局"}),
        )
        .await;
    expect_json(res, 201, &format!("receive blanks {first}–{last}")).await
}

async fn print(app: &TestApp, token: &str, number: &str, body: Value) -> reqwest::Response {
    app.post_json(token, &format!("/api/v1/permits/{number}/prints"), &body)
        .await
}

fn rule_of<'a>(problem: &'a Value, field: &str) -> Option<&'a str> {
    problem["errors"]
        .as_array()?
        .iter()
        .find(|e| e["field"] == field)
        .and_then(|e| e["rule"].as_str())
}

#[actix_web::test]
async fn blanks_are_received_printed_on_reprinted_voided_and_the_day_balances() {
    let app = TestApp::spawn().await;
    let window = app.window();
    let boss = app.boss();

    // Receiving is the supervisor's; a refusal stores nothing.
    let res = app
        .post_json(
            &window,
            "/api/v1/stock/batches",
            &json!({"first_serial": 1, "last_serial": 10, "received_from": "x"}),
        )
        .await;
    assert_eq!(res.status(), 403);
    assert_eq!(app.count("blanks"), 0);

    let batch = receive(&app, &boss, 101, 150).await;
    assert_eq!(batch["count"], 50);
    assert_eq!(app.count("blanks"), 50);

    // Bad ranges: each names its field and rule, and nothing is stored.
    let audited = app.count("audit_log");
    for (body, field, rule) in [
        (
            json!({"first_serial": 150, "last_serial": 160, "received_from": "x"}),
            "first_serial",
            "overlap",
        ),
        (
            json!({"first_serial": 90, "last_serial": 101, "received_from": "x"}),
            "first_serial",
            "overlap",
        ),
        (
            json!({"first_serial": 200, "last_serial": 199, "received_from": "x"}),
            "last_serial",
            "order",
        ),
        (
            json!({"first_serial": 0, "last_serial": 5, "received_from": "x"}),
            "first_serial",
            "range",
        ),
        (
            json!({"first_serial": 1000, "last_serial": 6000, "received_from": "x"}),
            "last_serial",
            "batch_size",
        ),
        (
            json!({"first_serial": 300, "last_serial": 310, "received_from": "  "}),
            "received_from",
            "required",
        ),
    ] {
        let problem = app.refused(&boss, "/api/v1/stock/batches", &body).await;
        assert_eq!(rule_of(&problem, field), Some(rule), "{body}: {problem}");
    }
    let problem = app
        .refused(
            &boss,
            "/api/v1/stock/batches",
            &json!({"first_serial": 300, "last_serial": 310, "received_from": "x", "count": 11}),
        )
        .await;
    assert!(error_fields(&problem).contains(&"count"), "{problem}");
    assert_eq!(app.count("blanks"), 50);
    assert_eq!(app.count("audit_log"), audited);

    // The first print takes the lowest serial; printing again needs a reprint's reason.
    let permit = app.issued_permit(&window).await;
    let number = permit["number"].as_str().unwrap();
    let first = expect_json(print(&app, &window, number, json!({})).await, 201, "print").await;
    assert_eq!(first["blank_serial"], 101);
    assert_eq!(first["blank"], "00000101");
    let again = print(&app, &window, number, json!({})).await;
    assert_eq!(again.status(), 409);
    let problem = app
        .refused(
            &window,
            &format!("/api/v1/permits/{number}/prints"),
            &json!({"reprint_reason": "spoiled"}),
        )
        .await;
    assert_eq!(rule_of(&problem, "reprint_reason"), Some("not_for_reprint"));
    let problem = app
        .refused(
            &window,
            &format!("/api/v1/permits/{number}/prints"),
            &json!({"reprint_reason": "coffee"}),
        )
        .await;
    assert_eq!(rule_of(&problem, "reprint_reason"), Some("unknown"));
    let reprint = expect_json(
        print(
            &app,
            &window,
            number,
            json!({"reprint_reason": "damaged", "note": "卡面划伤"}),
        )
        .await,
        201,
        "reprint",
    )
    .await;
    assert_eq!(reprint["blank_serial"], 102);
    assert_eq!(reprint["replaces"], first["id"]);
    let prints = app.get_json(&window, &format!("/api/v1/permits/{number}/prints")).await;
    let prints = prints.as_array().unwrap();
    assert_eq!(prints.len(), 2);
    assert_eq!(
        prints
            .iter()
            .filter(|p| p["replaced"] == true)
            .map(|p| p["blank_serial"].clone())
            .collect::<Vec<_>>(),
        vec![json!(101)]
    );

    // The replaced card is void; a printed or void blank cannot be voided again.
    let void = |serial: i64, token: String, body: Value| {
        let app = &app;
        async move {
            app.post_json(&token, &format!("/api/v1/stock/blanks/{serial}/void"), &body)
                .await
        }
    };
    assert_eq!(
        void(101, boss.clone(), json!({"reason": "spoiled"})).await.status(),
        409
    );
    assert_eq!(
        void(102, boss.clone(), json!({"reason": "spoiled"})).await.status(),
        409
    );
    assert_eq!(
        void(103, window.clone(), json!({"reason": "spoiled"})).await.status(),
        403
    );
    assert_eq!(
        void(99_999, boss.clone(), json!({"reason": "spoiled"})).await.status(),
        404
    );
    let problem = expect_json(
        void(103, boss.clone(), json!({"reason": ""})).await,
        422,
        "void without reason",
    )
    .await;
    assert_eq!(rule_of(&problem, "reason"), Some("unknown"));
    let voided = expect_json(
        void(103, boss.clone(), json!({"reason": "spoiled", "note": "卡纸"})).await,
        200,
        "void 103",
    )
    .await;
    assert_eq!(voided["status"], "void");
    assert_eq!(
        void(103, boss.clone(), json!({"reason": "spoiled"})).await.status(),
        409
    );

    // The next print skips the void blank.
    let second = app.issued_permit(&window).await;
    let third = expect_json(
        print(&app, &window, second["number"].as_str().unwrap(), json!({})).await,
        201,
        "print",
    )
    .await;
    assert_eq!(third["blank_serial"], 104);

    // The day: 50 in, 3 printed, 1 voided unprinted, 46 left; the reprinted card listed apart.
    let r = app.get_json(&window, "/api/v1/stock/reconciliation").await;
    assert_eq!(
        r["figures"],
        json!({"opening": 0, "received": 50, "used": 3, "voided": 1, "closing": 46}),
        "{r}"
    );
    assert_eq!(r["difference"], 0);
    assert_eq!(r["received_serials"], "00000101–00000150");
    assert_eq!(r["used_serials"], "00000101–00000102, 00000104");
    assert_eq!(r["voided_serials"], "00000103");
    assert_eq!(r["replaced_serials"], "00000101");
    assert_eq!(r["closing_serials"], "00000105–00000150");
    let stock = app.get_json(&window, "/api/v1/stock").await;
    assert_eq!(stock["unused_now"], 46);
    assert_eq!(stock["next_blank"], "00000105");
    let problem = expect_json(
        app.get(&window, "/api/v1/stock/reconciliation?day=2026-13-01").await,
        422,
        "bad day",
    )
    .await;
    assert_eq!(rule_of(&problem, "day"), Some("format"));

    // A count that matches closes the day; a second count the same day is refused.
    let count = expect_json(
        app.post_json(&window, "/api/v1/stock/counts", &json!({"counted": 46}))
            .await,
        201,
        "count",
    )
    .await;
    assert_eq!(
        (count["difference"].clone(), count["open"].clone()),
        (json!(0), json!(false))
    );
    assert_eq!(
        app.post_json(&window, "/api/v1/stock/counts", &json!({"counted": 46}))
            .await
            .status(),
        409
    );

    // A revoked permit is not printed; every change left its audit row.
    app.revoke(&boss, second["number"].as_str().unwrap(), "test").await;
    assert_eq!(
        print(
            &app,
            &window,
            second["number"].as_str().unwrap(),
            json!({"reprint_reason": "damaged"})
        )
        .await
        .status(),
        409
    );
    let actions: Vec<String> = app.audit("permit", number).into_iter().map(|a| a.action).collect();
    assert!(
        actions.contains(&"permit.print".to_string()) && actions.contains(&"permit.reprint".to_string()),
        "{actions:?}"
    );
    assert_eq!(app.audit("blank", "103").len(), 1);
    assert_eq!(app.audit("blank_batch", batch["id"].as_str().unwrap()).len(), 1);
}

#[actix_web::test]
async fn an_office_without_blanks_cannot_print_and_another_offices_blank_is_missing() {
    let app = TestApp::spawn().await;
    let boss = app.boss();
    receive(&app, &boss, 1, 5).await;
    app.officer_of("PXH", "pxh", "officer", &["border_tourism"]);
    app.officer_of("PXH", "pxh-boss", "supervisor", &[]);
    let (pxh, pxh_boss) = (app.token_for("pxh"), app.token_for("pxh-boss"));
    let permit = app.issued_permit(&pxh).await;
    let res = print(&app, &pxh, permit["number"].as_str().unwrap(), json!({})).await;
    let problem = expect_json(res, 409, "no blank at PXH").await;
    assert!(
        problem["detail"].as_str().unwrap().contains("no blank left"),
        "{problem}"
    );
    assert_eq!(app.count("permit_prints"), 0);
    // YYG's blank answers PXH's supervisor as if it did not exist.
    let res = app
        .post_json(&pxh_boss, "/api/v1/stock/blanks/1/void", &json!({"reason": "spoiled"}))
        .await;
    assert_eq!(res.status(), 404);
    // And each office's page counts its own blanks only.
    assert_eq!(app.get_json(&pxh, "/api/v1/stock").await["unused_now"], 0);
}

#[actix_web::test]
async fn a_count_that_differs_is_flagged_until_a_supervisor_explains_it() {
    let app = TestApp::spawn().await;
    let window = app.window();
    let boss = app.boss();
    receive(&app, &boss, 1, 10).await;
    let count = expect_json(
        app.post_json(&window, "/api/v1/stock/counts", &json!({"counted": 9}))
            .await,
        201,
        "count",
    )
    .await;
    assert_eq!(
        (count["difference"].clone(), count["open"].clone()),
        (json!(-1), json!(true))
    );
    let day = count["day"].as_str().unwrap().to_string();
    let open = app.get_json(&boss, "/api/v1/stock").await["open_differences"].clone();
    assert_eq!(open.as_array().unwrap().len(), 1);

    let path = format!("/api/v1/stock/counts/{day}/explain");
    assert_eq!(
        app.post_json(&window, &path, &json!({"explanation": "x"}))
            .await
            .status(),
        403
    );
    let problem = app.refused(&boss, &path, &json!({"explanation": " "})).await;
    assert_eq!(rule_of(&problem, "explanation"), Some("required"));
    let problem = app
        .refused(&window, "/api/v1/stock/counts", &json!({"counted": -1}))
        .await;
    assert_eq!(rule_of(&problem, "counted"), Some("range"));
    let explained = expect_json(
        app.post_json(&boss, &path, &json!({"explanation": "一张夹在打印机里，已取出作废"}))
            .await,
        200,
        "explain",
    )
    .await;
    assert_eq!(explained["open"], false);
    assert!(
        app.get_json(&boss, "/api/v1/stock").await["open_differences"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        app.post_json(&boss, &path, &json!({"explanation": "again"}))
            .await
            .status(),
        409
    );
    let missing = app
        .post_json(
            &boss,
            "/api/v1/stock/counts/2020-01-01/explain",
            &json!({"explanation": "x"}),
        )
        .await;
    assert_eq!(missing.status(), 404);
}

/// Two windows printing at once: every print takes a blank of its own, and the blanks taken are
/// exactly the lowest ones (no gap, no reuse); one permit printed twice at once prints once.
#[actix_web::test]
async fn two_windows_printing_at_once_take_distinct_blanks_without_gaps() {
    let app = TestApp::spawn().await;
    let boss = app.boss();
    let window = app.window();
    let other = app.token("window-2", "officer", &["border_tourism"]);
    receive(&app, &boss, 1, 40).await;
    let permits = app.issued_permits(&window, 12).await;
    let answers = join_all(permits.iter().enumerate().map(|(i, p)| {
        let token = if i % 2 == 0 { &window } else { &other };
        print(&app, token, p["number"].as_str().unwrap(), json!({}))
    }))
    .await;
    let mut serials = Vec::new();
    for res in answers {
        serials.push(
            expect_json(res, 201, "print at once").await["blank_serial"]
                .as_i64()
                .unwrap(),
        );
    }
    serials.sort_unstable();
    assert_eq!(serials, (1..=12).collect::<Vec<i64>>());

    let permit = app.issued_permit(&window).await;
    let number = permit["number"].as_str().unwrap();
    let answers =
        join_all((0..8).map(|i| print(&app, if i % 2 == 0 { &window } else { &other }, number, json!({})))).await;
    let statuses: Vec<u16> = answers.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 201 || *s == 409), "{statuses:?}");
    // The losers gave their blank back: 13 used, the next is 14.
    assert_eq!(app.get_json(&window, "/api/v1/stock").await["next_blank"], "00000014");
    assert_eq!(app.count("permit_prints"), 13);
}

#[actix_web::test]
async fn the_pages_receive_print_reprint_and_balance_the_day() {
    let app = TestApp::spawn().await;
    let (boss, boss_pw) = app.officer("boss", "supervisor", &[]);
    let (clerk, clerk_pw) = app.officer("clerk", "officer", &["border_tourism"]);
    let clerk_token = app.token_for(&clerk);

    let mut s = Session::signed_in(&app, &boss, &boss_pw, Some("/desk/stock")).await;
    let (status, page, _) = s.get("/desk/stock").await;
    assert_eq!(status, 200);
    assert!(page.contains("没有空白证卡") && page.contains("入库"), "{page}");
    let csrf = s.csrf("/desk/stock").await;
    let (status, page, _, _) = s
        .post(
            "/desk/stock/batches",
            &[
                ("csrf", &csrf),
                ("first_serial", "abc"),
                ("last_serial", "20"),
                ("received_from", "省厅"),
            ],
        )
        .await;
    assert_eq!(status, 422);
    assert!(
        page.contains("请输入整数") && page.contains("value=\"abc\""),
        "the form again, as typed"
    );
    let (status, page, _, _) = s
        .post(
            "/desk/stock/batches",
            &[
                ("csrf", &csrf),
                ("first_serial", "1"),
                ("last_serial", "20"),
                ("received_from", "省厅"),
            ],
        )
        .await;
    assert_eq!(status, 200);
    assert!(page.contains("已入库 20 张") && page.contains("No. 00000001"), "{page}");

    // The officer prints a permit on the next blank from its page, then reprints it.
    let permit = app.issued_permit(&clerk_token).await;
    let number = permit["number"].as_str().unwrap();
    let mut w = Session::signed_in(&app, &clerk, &clerk_pw, Some("/desk")).await;
    let path = format!("/desk/permits/{number}");
    let (_, page, _) = w.get(&path).await;
    assert!(page.contains("打印到下一张空白证卡"), "{page}");
    assert!(
        !page.contains("/desk/stock/batches"),
        "the officer is not offered receiving"
    );
    let csrf = w.csrf(&path).await;
    let (status, page, _, _) = w.post(&format!("{path}/print"), &[("csrf", &csrf), ("note", "")]).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("请放入证卡 No. 00000001") && page.contains("重印"),
        "{page}"
    );
    let (status, page, _, _) = w
        .post(
            &format!("{path}/print"),
            &[("csrf", &csrf), ("reprint_reason", "misprinted"), ("note", "")],
        )
        .await;
    assert_eq!(status, 200);
    assert!(page.contains("No. 00000002") && page.contains("已作废"), "{page}");
    let (status, page, _, _) = w.post(&format!("{path}/print"), &[("csrf", &csrf), ("note", "")]).await;
    assert_eq!(status, 409);
    assert!(page.contains("already"), "{page}");

    // The supervisor voids a printed card: refused on the page, in words.
    let csrf = s.csrf("/desk/stock").await;
    let (status, page, _, _) = s
        .post(
            "/desk/stock/void",
            &[("csrf", &csrf), ("serial", "2"), ("reason", "spoiled"), ("note", "")],
        )
        .await;
    assert_eq!(status, 409);
    assert!(page.contains("reprinting its permit"), "{page}");

    // The officer counts the drawer: 18 as the records say; the day balances.
    let (_, page, _) = w.get("/desk/stock").await;
    assert!(page.contains("差额 0") && page.contains("00000003–00000020"), "{page}");
    let csrf = w.csrf("/desk/stock").await;
    let (status, page, _, _) = w.post("/desk/stock/count", &[("csrf", &csrf), ("counted", "18")]).await;
    assert_eq!(status, 200);
    assert!(page.contains("与账面一致"), "{page}");
}
