//! Freight clearance from the staff side: walk-ups, the queue, calls, the freight lane's booking
//! check at the scan, the public board, and who may do what.

use serde_json::{Value, json};

use crate::support::*;

async fn lane_scan(app: &TestApp, token: &str, code: &str, lane: &str, direction: &str) -> Value {
    let res = app
        .post_json(
            token,
            "/api/v1/checkpoint/scans",
            &json!({"code": code, "lane": lane, "direction": direction}),
        )
        .await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

fn walk_up(plate: &str, cargo: &str) -> Value {
    json!({"plate": plate, "port": "YYG", "direction": "exit", "cargo_category": cargo, "cargo_weight_kg": 18000})
}

#[actix_web::test]
async fn a_walk_up_is_queued_called_and_admitted_at_its_freight_lane_and_the_board_masks_it() {
    let app = TestApp::spawn().await;
    let gate = app.gate();
    let res = app
        .post_json(&gate, "/api/v1/yard/walk-ups", &walk_up("12C-123.45", "general"))
        .await;
    let booking = expect_json(res, 201, "walk-up").await;
    assert_eq!(booking["status"], "waiting");
    assert_eq!(booking["walk_up"], true);
    let number = booking["number"].as_str().unwrap().to_string();
    assert!(number.starts_with("YYG-"), "{number}");

    // Before the call, the freight lane refuses it and says why; nothing changes.
    let early = lane_scan(&app, &gate, &number, "F-OUT-1", "exit").await;
    assert_eq!(
        (early["verdict"].as_str(), early["reason"].as_str()),
        (Some("reject"), Some("booking_mismatch"))
    );
    assert!(early["message_en"].as_str().unwrap().contains("not called"), "{early}");

    let queues = app.get_json(&gate, "/api/v1/yard/YYG/queues").await;
    let general_exit = queues
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["direction"] == "exit" && q["lane_type"] == "general")
        .unwrap();
    assert_eq!(general_exit["waiting"], 1);
    assert_eq!(general_exit["queue"][0]["number"], number.as_str());

    let called = app
        .post_json(
            &gate,
            "/api/v1/yard/calls",
            &json!({"port": "YYG", "direction": "exit", "lane_type": "general"}),
        )
        .await;
    let called = expect_json(called, 200, "call").await;
    assert_eq!(called["status"], "called");
    assert!(called["report_by"].is_string());

    // The wrong lane type and the wrong direction are refused by name.
    let green = lane_scan(&app, &gate, &number, "F-OUT-G", "exit").await;
    assert!(green["message_en"].as_str().unwrap().contains("lane type"), "{green}");
    let inbound = lane_scan(&app, &gate, &number, "F-IN-1", "entry").await;
    assert!(
        inbound["message_en"].as_str().unwrap().contains("direction"),
        "{inbound}"
    );

    let admitted = lane_scan(&app, &gate, &number, "F-OUT-1", "exit").await;
    assert_eq!(admitted["verdict"], "admit", "{admitted}");
    assert_eq!(admitted["booking"]["status"], "cleared");
    assert_eq!(admitted["vehicle"]["plates"], json!(["12C-123.45"]));
    let again = lane_scan(&app, &gate, &number, "F-OUT-1", "exit").await;
    assert_eq!(again["reason"], "booking_mismatch");
    assert!(
        again["message_en"].as_str().unwrap().contains("no longer active"),
        "{again}"
    );

    let board = app.public_json("/api/v1/board/YYG").await;
    let text = board.to_string();
    assert!(!text.contains("12C-123.45") && !text.contains(&number), "{text}");
    let line = board["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["direction"] == "exit" && l["lane_type"] == "general")
        .unwrap();
    assert_eq!(line["last_called"], json!(["•••••45"]));
    assert_eq!(line["waiting"], 0);
}

#[actix_web::test]
async fn a_pass_at_a_freight_lane_without_a_called_booking_is_refused_and_its_trip_not_counted() {
    let app = TestApp::spawn().await;
    let li = app.token("li", "officer", &["border_trade"]);
    let wang = app.token("wang", "supervisor", &["border_trade"]);
    let gate = app.gate();
    let body = json!({"kind": "border_trade", "traveller": traveller(1), "plates": ["桂F12345"]});
    let permit = app.issued_after_approval((&li, &wang), &body, &ALL_TRADE_ITEMS).await;
    let code = permit["code"].as_str().unwrap();
    let v = lane_scan(&app, &gate, code, "F-OUT-1", "exit").await;
    assert_eq!(v["reason"], "booking_mismatch", "{v}");
    assert!(v["message_en"].as_str().unwrap().contains("no booking"), "{v}");
    let number = permit["number"].as_str().unwrap();
    assert_eq!(
        app.permit(&li, number).await["entries_used"],
        0,
        "a refused scan changes nothing"
    );

    // A walk-up on this pass but another truck: the plate is not on the pass.
    let mut other = walk_up("桂F99999", "general");
    other["trade_pass"] = json!(number);
    expect_json(
        app.post_json(&gate, "/api/v1/yard/walk-ups", &other).await,
        201,
        "walk-up",
    )
    .await;
    app.post_json(
        &gate,
        "/api/v1/yard/calls",
        &json!({"port": "YYG", "direction": "exit", "lane_type": "general"}),
    )
    .await;
    let v = lane_scan(&app, &gate, code, "F-OUT-1", "exit").await;
    assert!(v["message_en"].as_str().unwrap().contains("plate"), "{v}");

    // An ordinary (passenger) lane still admits the pass as before.
    let v = lane_scan(&app, &gate, code, "YYG-C1", "exit").await;
    assert_eq!(v["verdict"], "admit", "{v}");
}

#[actix_web::test]
async fn only_waiting_area_staff_check_in_and_call_and_only_supervisors_change_slots() {
    let app = TestApp::spawn().await;
    let window = app.window();
    let gate = app.gate();
    let res = app
        .post_json(&window, "/api/v1/yard/walk-ups", &walk_up("12C-123.45", "general"))
        .await;
    assert_eq!(res.status(), 403);
    let res = app.get(&window, "/api/v1/yard/YYG/queues").await;
    assert_eq!(res.status(), 403);
    let change = json!({"port": "YYG", "direction": "exit", "lane_type": "general",
        "starts_at": "2030-01-01T09:00:00+08:00", "capacity": 0, "note": "lane 2 down"});
    assert_eq!(
        app.post_json(&gate, "/api/v1/slots/changes", &change).await.status(),
        403
    );
    // Bad input is named by field and changes nothing.
    let bad = app
        .refused(
            &gate,
            "/api/v1/yard/walk-ups",
            &json!({"plate": "NOPE", "port": "XXX", "direction": "up",
            "cargo_category": "general", "cargo_weight_kg": -1}),
        )
        .await;
    let fields: Vec<&str> = bad["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    for f in ["plate", "port", "direction", "cargo_weight_kg"] {
        assert!(fields.contains(&f), "{f} in {bad}");
    }
    let queues = app.get_json(&gate, "/api/v1/yard/YYG/queues").await;
    assert!(queues.as_array().unwrap().iter().all(|q| q["waiting"] == 0));
}

#[actix_web::test]
async fn the_trust_bundle_tells_offline_devices_which_lanes_need_a_booking() {
    let app = TestApp::spawn().await;
    let gate = app.gate();
    let bundle = payload(&app.trust(&gate, None).await);
    let lanes: Vec<&str> = bundle["booking_lanes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert!(lanes.contains(&"F-OUT-1") && lanes.contains(&"F-IN-G"), "{lanes:?}");
    assert!(!lanes.contains(&"YYG-C1"), "passenger lanes check passes alone");
}

#[actix_web::test]
async fn the_waiting_area_page_says_what_went_wrong_and_what_was_done() {
    let app = TestApp::spawn().await;
    let (user, password) = app.officer("yard2", "checkpoint", &[]);
    let mut s = Session::signed_in(&app, &user, &password, None).await;
    let csrf = s.csrf("/yard").await;
    let (status, body, _, _) = s
        .post("/yard/check-in", &[("csrf", &csrf), ("code", "12C-999.99")])
        .await;
    assert_eq!(status, 404);
    assert!(
        body.contains("id=\"yard-errors\"") && body.contains("not found: booking"),
        "{body}"
    );
    let (status, body, _, _) = s
        .post(
            "/yard/walk-up",
            &[
                ("csrf", &csrf),
                ("plate", "NOPE"),
                ("direction", "exit"),
                ("cargo_category", "general"),
                ("cargo_weight_kg", "abc"),
            ],
        )
        .await;
    assert_eq!(status, 422);
    assert!(
        body.contains("value=\"NOPE\"") && body.contains("0 to 100000 kg"),
        "the form again with its errors: {body}"
    );
    let (status, body, _, _) = s
        .post(
            "/yard/walk-up",
            &[
                ("csrf", &csrf),
                ("plate", "12c 12345"),
                ("direction", "exit"),
                ("cargo_category", "general"),
                ("cargo_weight_kg", "9000"),
            ],
        )
        .await;
    assert_eq!(status, 200);
    assert!(
        body.contains("id=\"yard-notice\"") && body.contains("12C-123.45"),
        "{body}"
    );
    // A checkpoint account is not offered the supervisors' slot page.
    assert!(!body.contains("href=\"/supervisor/slots\""));
    let (status, _, _) = s.get("/supervisor/slots").await;
    assert_eq!(status, 403);
}
