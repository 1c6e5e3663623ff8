//! The free services ledger and the savings report: services recorded by hand and by the
//! service itself (a first photo, a permit printed), each valued at the price in force for its
//! office, and a report whose totals equal the records summed here independently.

use serde_json::{Value, json};

use crate::support::{Session, TestApp, expect_json, traveller};

/// The fixture's market prices in fen (fixtures/policy.json), as this test knows them.
fn price(service: &str, office: &str) -> i64 {
    match (service, office) {
        ("id_photo", _) => 2500,
        ("photo_sheet", _) => 1000,
        ("id_copy", "PXH") => 50,
        ("id_copy" | "form_print" | "notice_print", _) => 100,
        ("permit_print", _) => 2000,
        other => panic!("no price for {other:?}"),
    }
}

async fn give(app: &TestApp, token: &str, body: Value) -> reqwest::Response {
    app.post_json(token, "/api/v1/free-services", &body).await
}

#[actix_web::test]
async fn the_savings_report_adds_up_to_the_services_recorded() {
    let app = TestApp::spawn().await;
    let window = app.window();
    let boss = app.boss();
    let mut expected: Vec<(&str, i64)> = Vec::new();

    // By hand at the window.
    for (service, quantity) in [
        ("id_copy", 3),
        ("form_print", 2),
        ("photo_sheet", 1),
        ("notice_print", 4),
    ] {
        let r = expect_json(
            give(&app, &window, json!({"service": service, "quantity": quantity, "recipient_name": "阮文安", "recipient_id_number": "079123456789"})).await,
            201,
            service,
        )
        .await;
        assert_eq!(r["unit_price_fen"], price(service, "YYG"));
        assert_eq!(r["value_fen"], price(service, "YYG") * quantity);
        let recipient = r["recipient"].as_str().unwrap();
        assert!(
            recipient.starts_with("阮文安 ") && recipient.ends_with("6789") && !recipient.contains("079123456789"),
            "a document number is kept masked: {recipient}"
        );
        expected.push((service, quantity));
    }

    // A photo taken for an application records itself once, however many retakes.
    let id = app.application(&window, traveller(3)).await;
    app.portrait(&window, &id).await;
    app.portrait(&window, &id).await;
    expected.push(("id_photo", 1));
    // A copy for that application carries its holder, masked.
    let r = expect_json(
        give(
            &app,
            &window,
            json!({"service": "id_copy", "quantity": 2, "application_id": id}),
        )
        .await,
        201,
        "copy for an application",
    )
    .await;
    let full_id = traveller(3)["id_number"].as_str().unwrap().to_string();
    let recipient = r["recipient"].as_str().unwrap();
    assert!(
        !recipient.contains(&full_id) && recipient.contains(&full_id[full_id.len() - 4..]),
        "{recipient}"
    );
    expected.push(("id_copy", 2));

    // A permit printed on a blank records itself; a reprint for a misprint does not.
    let res = app
        .post_json(
            &boss,
            "/api/v1/stock/batches",
            &json!({"first_serial": 1, "last_serial": 10, "received_from": "x"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let permit = app.issued(&window, &id).await;
    let number = permit["number"].as_str().unwrap();
    let path = format!("/api/v1/permits/{number}/prints");
    assert_eq!(app.post_json(&window, &path, &json!({})).await.status(), 201);
    assert_eq!(
        app.post_json(&window, &path, &json!({"reprint_reason": "misprinted"}))
            .await
            .status(),
        201
    );
    expected.push(("permit_print", 1));
    assert_eq!(
        app.post_json(&window, &path, &json!({"reprint_reason": "damaged"}))
            .await
            .status(),
        201
    );
    expected.push(("permit_print", 1));

    // Refusals name the field and store nothing.
    let before = app.count("free_services");
    for (body, field, rule) in [
        (
            json!({"service": "id_photo", "quantity": 1}),
            "service",
            "recorded_by_itself",
        ),
        (json!({"service": "coffee", "quantity": 1}), "service", "unknown"),
        (json!({"service": "id_copy", "quantity": 0}), "quantity", "range"),
        (json!({"service": "id_copy", "quantity": 501}), "quantity", "range"),
        (
            json!({"service": "id_copy", "quantity": 1, "application_id": "no-such"}),
            "application_id",
            "unknown",
        ),
    ] {
        let problem = app.refused(&window, "/api/v1/free-services", &body).await;
        let rules: Vec<(&str, &str)> = problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["field"].as_str().unwrap(), e["rule"].as_str().unwrap()))
            .collect();
        assert!(rules.contains(&(field, rule)), "{body}: {problem}");
    }
    let gate = app.gate();
    assert_eq!(
        give(&app, &gate, json!({"service": "id_copy", "quantity": 1}))
            .await
            .status(),
        403
    );
    assert_eq!(app.count("free_services"), before);
    assert_eq!(
        app.get(&window, "/api/v1/savings").await.status(),
        403,
        "the report is the supervisor's"
    );

    // The report equals the records, summed here from the prices and quantities.
    let total: i64 = expected.iter().map(|(s, q)| price(s, "YYG") * q).sum();
    let units: i64 = expected.iter().map(|(_, q)| q).sum();
    let report = app.get_json(&boss, "/api/v1/savings").await;
    assert_eq!(report["total"]["saved_fen"], total, "{report}");
    assert_eq!(report["total"]["services"], i64::try_from(expected.len()).unwrap());
    assert_eq!(report["total"]["units"], units);
    for service in ["id_copy", "id_photo", "permit_print"] {
        let want: i64 = expected
            .iter()
            .filter(|(s, _)| *s == service)
            .map(|(s, q)| price(s, "YYG") * q)
            .sum();
        let got = report["by_service"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["key"] == service)
            .unwrap();
        assert_eq!(got["saved_fen"], want, "{service}");
    }
    let by_month: i64 = report["by_period"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["saved_fen"].as_i64().unwrap())
        .sum();
    assert_eq!(by_month, total);
    let by_day = app.get_json(&boss, "/api/v1/savings?period=day").await;
    assert_eq!(by_day["by_period"].as_array().unwrap().len(), 1);
    let problem = expect_json(
        app.get(&boss, "/api/v1/savings?period=fortnight").await,
        422,
        "bad period",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "period");

    // The CSV's lines add up to the same yuan.
    let res = app.get(&boss, "/api/v1/savings.csv").await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let text = res.text().await.unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("period,office,service,service_zh,enterprise,services,units,saved_yuan")
    );
    let csv_fen: i64 = lines
        .map(|l| {
            let yuan = l.rsplit(',').next().unwrap();
            let (w, f) = yuan.split_once('.').unwrap();
            w.parse::<i64>().unwrap() * 100 + f.parse::<i64>().unwrap()
        })
        .sum();
    assert_eq!(csv_fen, total);
}

#[actix_web::test]
async fn each_office_values_a_service_at_its_own_price_and_sees_its_own_savings() {
    let app = TestApp::spawn().await;
    let window = app.window();
    let boss = app.boss();
    app.officer_of("PXH", "pxh", "officer", &["border_tourism"]);
    app.officer_of("PXH", "pxh-boss", "supervisor", &[]);
    let (pxh, pxh_boss) = (app.token_for("pxh"), app.token_for("pxh-boss"));
    let yyg = expect_json(
        give(&app, &window, json!({"service": "id_copy", "quantity": 2})).await,
        201,
        "YYG",
    )
    .await;
    let pxh_copy = expect_json(
        give(&app, &pxh, json!({"service": "id_copy", "quantity": 2})).await,
        201,
        "PXH",
    )
    .await;
    assert_eq!(yyg["value_fen"], 2 * price("id_copy", "YYG"));
    assert_eq!(pxh_copy["value_fen"], 2 * price("id_copy", "PXH"));
    assert!(pxh_copy["price_from"].is_string());
    assert_eq!(app.get_json(&boss, "/api/v1/savings").await["total"]["saved_fen"], 200);
    assert_eq!(
        app.get_json(&pxh_boss, "/api/v1/savings").await["total"]["saved_fen"],
        100
    );
    // Another office's application cannot be named.
    let id = app.application(&window, traveller(5)).await;
    let problem = app
        .refused(
            &pxh,
            "/api/v1/free-services",
            &json!({"service": "id_copy", "quantity": 1, "application_id": id}),
        )
        .await;
    assert_eq!(problem["errors"][0]["field"], "application_id");
}

#[actix_web::test]
async fn the_pages_record_a_service_and_show_the_savings_with_a_chart() {
    let app = TestApp::spawn().await;
    let (clerk, clerk_pw) = app.officer("clerk", "officer", &["border_tourism"]);
    let (boss, boss_pw) = app.officer("boss", "supervisor", &[]);
    let mut w = Session::signed_in(&app, &clerk, &clerk_pw, Some("/desk/free-services")).await;
    let csrf = w.csrf("/desk/free-services").await;
    let (status, page, _, _) = w
        .post(
            "/desk/free-services",
            &[
                ("csrf", &csrf),
                ("service", "id_copy"),
                ("quantity", "x"),
                ("application_id", ""),
                ("recipient_name", ""),
                ("note", ""),
            ],
        )
        .await;
    assert_eq!(status, 422);
    assert!(page.contains("请输入整数") && page.contains("value=\"x\""), "{page}");
    let (status, page, _, _) = w
        .post(
            "/desk/free-services",
            &[
                ("csrf", &csrf),
                ("service", "photo_sheet"),
                ("quantity", "2"),
                ("application_id", ""),
                ("recipient_name", "张三"),
                ("note", ""),
            ],
        )
        .await;
    assert_eq!(status, 200);
    assert!(page.contains("已登记") && page.contains("¥20.00"), "{page}");
    let (status, _, _) = w.get("/supervisor/savings").await;
    assert_ne!(status, 200, "the savings page is the supervisor's");

    let mut s = Session::signed_in(&app, &boss, &boss_pw, Some("/supervisor/savings")).await;
    let (status, page, _) = s.get("/supervisor/savings").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("¥20.00") && page.contains("<svg") && page.contains("证件照冲印"),
        "{page}"
    );
    let (status, page, _) = s.get("/supervisor/savings?year=abc&period=week").await;
    assert_eq!(status, 422);
    assert!(page.contains("年份应为四位数字"), "{page}");
    let res = s.http_get("/api/v1/savings.csv?period=year").await;
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains(",photo_sheet,证件照冲印,"));
}

/// The photo sheet: the application's photo at true size in every cell of a 6-inch sheet, the
/// gutters white for the cut, recorded as a free service; bad choices and a missing photo refused.
#[actix_web::test]
async fn a_photo_sheet_prints_the_photo_at_true_size_and_records_itself() {
    use borderdesk::print::photo_sheet::{Paper, PhotoSize, cells};
    let app = TestApp::spawn().await;
    let window = app.window();
    let id = app.application(&window, traveller(8)).await;
    let path = format!("/api/v1/applications/{id}/photo-sheet");
    let res = app.post_json(&window, &path, &json!({})).await;
    assert_eq!(res.status(), 404, "no photo yet");
    app.portrait(&window, &id).await;
    let before = app.count("free_services");
    let problem = app
        .refused(&window, &path, &json!({"size": "1inch", "paper": "a3"}))
        .await;
    assert_eq!(problem["errors"].as_array().unwrap().len(), 2, "{problem}");
    assert_eq!(app.count("free_services"), before);

    let res = app
        .post_json(&window, &path, &json!({"size": "33x48", "paper": "six_inch"}))
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    let pdf = res.bytes().await.unwrap();
    assert_eq!(app.count("free_services"), before + 1);
    let today = app.get_json(&window, "/api/v1/free-services").await;
    assert!(
        today
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["service"] == "photo_sheet" && r["value_fen"] == 1000)
    );

    // At 72 dpi a point is a pixel: 4×6 inches is 288×432.
    let img = crate::tools::rasterise(&pdf, 72.0);
    assert_eq!((img.width(), img.height()), (288, 432));
    let (w, h) = (33.0 * 72.0 / 25.4, 48.0 * 72.0 / 25.4);
    let at = |x: f32, y: f32| img.get_pixel(x as u32, (432.0 - y) as u32).0[0];
    let placed = cells(PhotoSize::Permit, Paper::SixInch);
    assert_eq!(placed.len(), 4);
    for (x, y) in &placed {
        assert!(at(x + w / 2.0, y + h / 2.0) < 230, "the photo at ({x}, {y})");
        assert!(
            at(x + w / 2.0, y + h - 2.0) < 230,
            "the photo reaches the top of its cell"
        );
    }
    let (x0, y0) = placed[0];
    assert!(
        at(x0 + w + 8.5, y0 + h / 2.0) > 240,
        "the gutter between photos is white"
    );
}
