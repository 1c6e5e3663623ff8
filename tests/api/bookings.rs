//! Drivers' bookings end to end: booking, the rules a booking must keep, full slots, moves and
//! cancellations, no-shows and strikes, the waiting area and the freight lane, races for the
//! last places (one instance and two), and mail with SMTP down.

use serde_json::{Value, json};

use crate::support::*;

/// 08:00 on a working morning in China: the 10:00 slot is bookable.
fn morning() -> chrono::DateTime<chrono::Utc> {
    china(2026, 12, 1, 8, 0)
}

fn slot(hour: u32) -> String {
    china(2026, 12, 1, hour, 0).to_rfc3339()
}

/// A Vietnamese driver with a complete profile and one truck; `n` makes them distinct.
async fn vn_driver(app: &TestApp, n: u32) -> (Driver, String) {
    let d = app.driver(&format!("tai.xe{n}@example.vn"), "vi").await;
    let res = d
        .put_json(
            "/api/v1/driver/profile",
            &json!({"name_latin": format!("Nguyễn Văn {}", letters(n)), "nationality": "VNM", "id_type": "vn_citizen_id",
                "id_number": format!("0011900{n:05}"), "phone": "+84 912 345 678"}),
        )
        .await;
    expect_json(res, 200, "profile").await;
    let v = d.vehicle(&format!("12C{:05}", 10000 + n), "truck").await;
    let id = v["id"].as_str().unwrap().to_string();
    (d, id)
}

/// A name part from a number: Latin letters only, as names must be.
fn letters(mut n: u32) -> String {
    let mut out = String::new();
    loop {
        out.insert(0, char::from(b'A' + (n % 26) as u8));
        n /= 26;
        if n == 0 {
            return out;
        }
    }
}

fn booking(vehicle: &str, hour: u32) -> Value {
    json!({"vehicle_id": vehicle, "port": "YYG", "direction": "exit", "starts_at": slot(hour),
        "cargo_category": "fresh_produce", "cargo_weight_kg": 21000, "customs_ref": "VN-2026-0001"})
}

fn rule(problem: &Value) -> (String, String) {
    (
        problem["errors"][0]["field"].as_str().unwrap_or("").to_string(),
        problem["errors"][0]["rule"].as_str().unwrap_or("").to_string(),
    )
}

fn free_at(slots: &Value, hour: u32) -> i64 {
    let at = china(2026, 12, 1, hour, 0);
    slots
        .as_array()
        .unwrap()
        .iter()
        .find(|s| chrono::DateTime::parse_from_rfc3339(s["starts_at"].as_str().unwrap()).unwrap() == at)
        .map(|s| s["free"].as_i64().unwrap())
        .unwrap()
}

async fn fresh_slots(app: &TestApp) -> Value {
    app.public_json("/api/v1/slots?port=YYG&direction=exit&lane_type=fresh")
        .await
}

async fn reduce(app: &TestApp, boss: &str, hour: u32, capacity: i64) -> Value {
    let res = app
        .post_json(
            boss,
            "/api/v1/slots/changes",
            &json!({"port": "YYG", "direction": "exit", "lane_type": "fresh", "starts_at": slot(hour),
                "capacity": capacity, "note": "绿色通道检修 / green lane under repair"}),
        )
        .await;
    expect_json(res, 200, "slot change").await
}

#[actix_web::test]
async fn a_driver_books_once_moves_once_and_cancels_and_every_rule_is_named_in_their_language() {
    let app = TestApp::spawn().await;
    app.clock.set(morning());
    let (lan, truck) = vn_driver(&app, 1).await;
    // One fresh-produce exit lane: 3600 ÷ 120 s fallback = 30 an hour.
    assert_eq!(free_at(&fresh_slots(&app).await, 10), 30);

    let res = lan.post_json("/api/v1/driver/bookings", &booking(&truck, 10)).await;
    let b = expect_json(res, 201, "book").await;
    assert_eq!(
        (b["status"].as_str(), b["lane_type"].as_str()),
        (Some("booked"), Some("fresh"))
    );
    assert_eq!(b["status_text"], "Đã đặt chỗ", "in the driver's language");
    assert_eq!(b["plate"], "12C-100.01");
    assert_eq!(free_at(&fresh_slots(&app).await, 10), 29);
    let id = b["id"].as_str().unwrap().to_string();

    // The confirmation is queued in Vietnamese with the slip attached.
    let (subject, attachment) = {
        use borderdesk::db::schema::mail_outbox;
        use diesel::prelude::*;
        app.ctx
            .db
            .run_blocking(|c| {
                Ok(mail_outbox::table
                    .filter(mail_outbox::kind.eq("booking.confirmed"))
                    .select((mail_outbox::subject, mail_outbox::attachment_name))
                    .first::<(String, Option<String>)>(c)?)
            })
            .unwrap()
    };
    assert!(subject.starts_with("Đặt chỗ thành công"), "{subject}");
    assert_eq!(attachment, Some(format!("{}.pdf", b["number"].as_str().unwrap())));
    let slip = lan.get(&format!("/api/v1/driver/bookings/{id}/slip")).await;
    assert_eq!(slip.status(), 200);
    assert!(slip.bytes().await.unwrap().starts_with(b"%PDF-"));

    // A second active booking, a past slot, a slot beyond the horizon, half past: refused.
    let second = expect_json(
        lan.post_json("/api/v1/driver/bookings", &booking(&truck, 11)).await,
        422,
        "second",
    )
    .await;
    assert_eq!(rule(&second), ("driver".into(), "one_active_booking".into()));
    assert!(
        second["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("Đã có một lượt"),
        "{second}"
    );
    let (other, other_truck) = vn_driver(&app, 2).await;
    for (when, expected) in [
        (china(2026, 12, 1, 7, 0), "too_soon"),
        (china(2026, 12, 9, 10, 0), "beyond_horizon"),
        (china(2026, 12, 1, 10, 30), "whole_hour"),
    ] {
        let mut body = booking(&other_truck, 10);
        body["starts_at"] = json!(when.to_rfc3339());
        let p = expect_json(other.post_json("/api/v1/driver/bookings", &body).await, 422, expected).await;
        assert_eq!(rule(&p), ("starts_at".into(), expected.into()));
    }
    // Someone else's vehicle is not theirs to book; someone else's booking is not found.
    let p = expect_json(
        other.post_json("/api/v1/driver/bookings", &booking(&truck, 10)).await,
        422,
        "vehicle",
    )
    .await;
    assert_eq!(rule(&p), ("vehicle_id".into(), "unknown".into()));
    assert_eq!(other.get(&format!("/api/v1/driver/bookings/{id}")).await.status(), 404);
    assert_eq!(
        other
            .post_json(&format!("/api/v1/driver/bookings/{id}/cancel"), &json!({}))
            .await
            .status(),
        404
    );

    // Moved once, not twice.
    let moved = lan
        .post_json(
            &format!("/api/v1/driver/bookings/{id}/move"),
            &json!({"starts_at": slot(12)}),
        )
        .await;
    let moved = expect_json(moved, 200, "move").await;
    assert_eq!(moved["may_move"], false);
    assert_eq!(free_at(&fresh_slots(&app).await, 10), 30, "the old place is released");
    assert_eq!(free_at(&fresh_slots(&app).await, 12), 29);
    let again = lan
        .post_json(
            &format!("/api/v1/driver/bookings/{id}/move"),
            &json!({"starts_at": slot(13)}),
        )
        .await;
    assert_eq!(
        rule(&expect_json(again, 422, "second move").await),
        ("starts_at".into(), "moved_once".into())
    );

    let cancelled = expect_json(
        lan.post_json(&format!("/api/v1/driver/bookings/{id}/cancel"), &json!({}))
            .await,
        200,
        "cancel",
    )
    .await;
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(free_at(&fresh_slots(&app).await, 12), 30);
    let list = lan.get_json("/api/v1/driver/bookings").await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    // After the cancellation the driver may book again.
    expect_json(
        lan.post_json("/api/v1/driver/bookings", &booking(&truck, 11)).await,
        201,
        "rebook",
    )
    .await;
}

#[actix_web::test]
async fn a_full_slot_offers_the_next_free_ones_and_a_closed_slot_withdraws_the_latest_bookings() {
    let app = TestApp::spawn().await;
    app.clock.set(morning());
    let boss = app.boss();
    let (a, truck_a) = vn_driver(&app, 1).await;
    let (b, truck_b) = vn_driver(&app, 2).await;
    let changed = reduce(&app, &boss, 10, 1).await;
    assert_eq!(
        (
            changed["slot"]["capacity"].as_i64(),
            changed["bumped"].as_array().map(Vec::len)
        ),
        (Some(1), Some(0))
    );
    expect_json(
        a.post_json("/api/v1/driver/bookings", &booking(&truck_a, 10)).await,
        201,
        "a",
    )
    .await;
    let full = expect_json(
        b.post_json("/api/v1/driver/bookings", &booking(&truck_b, 10)).await,
        409,
        "full",
    )
    .await;
    assert_eq!(full["type"], "/problems/slot-full");
    let offers = full["next_free"].as_array().unwrap();
    assert!(!offers.is_empty() && offers.len() <= 3, "{full}");
    assert_eq!(offers[0]["label"], "2026-12-01 11:00");
    assert!(full["detail"].as_str().unwrap().contains("hết chỗ"), "{full}");

    // B takes 10:00 on a second try a minute later? No: it stays full. B books 11:00.
    let b_booked = expect_json(
        b.post_json("/api/v1/driver/bookings", &booking(&truck_b, 11)).await,
        201,
        "b",
    )
    .await;
    // The 11:00 slot closes: B's booking is withdrawn and B is told.
    let closed = reduce(&app, &boss, 11, 0).await;
    assert_eq!(closed["bumped"], json!([b_booked["number"]]));
    let b_now = b
        .get_json(&format!("/api/v1/driver/bookings/{}", b_booked["id"].as_str().unwrap()))
        .await;
    assert_eq!(b_now["status"], "bumped");
    let outbox = app.ctx.outbox_view(app_supervisor(&app)).await.unwrap();
    assert!(
        outbox
            .latest
            .iter()
            .any(|m| m.subject.starts_with("Khung giờ đặt chỗ bị hủy"))
    );
    // A closed slot takes nobody.
    let p = expect_json(
        b.post_json("/api/v1/driver/bookings", &booking(&truck_b, 11)).await,
        409,
        "closed",
    )
    .await;
    assert_eq!(p["type"], "/problems/slot-full");
}

/// The supervisor as an actor, for reading the outbox view directly.
fn app_supervisor(app: &TestApp) -> borderdesk::domain::auth::Actor {
    app.officer("boss2", "supervisor", &[]);
    borderdesk::domain::auth::Actor {
        id: "boss2".into(),
        username: "boss2".into(),
        display_name: "boss2".into(),
        role: borderdesk::domain::auth::Role::Supervisor,
        grants: Vec::new(),
        office: "YYG".into(),
    }
}

#[actix_web::test]
async fn a_booked_vehicle_is_checked_in_called_and_admitted_and_a_no_show_counts_a_strike() {
    let app = TestApp::spawn().await;
    app.clock.set(morning());
    let gate = app.gate();
    let boss = app.boss();
    let (lan, truck) = vn_driver(&app, 1).await;
    let b = expect_json(
        lan.post_json("/api/v1/driver/bookings", &booking(&truck, 10)).await,
        201,
        "book",
    )
    .await;
    let number = b["number"].as_str().unwrap();

    // Too early to check in at 08:00 for 10:00.
    let early = expect_json(
        app.post_json(&gate, "/api/v1/yard/check-ins", &json!({"code": "12C 10001"}))
            .await,
        422,
        "early",
    )
    .await;
    assert_eq!(early["errors"][0]["rule"], "too_early");
    app.clock.set(china(2026, 12, 1, 9, 45));
    let checked = expect_json(
        app.post_json(&gate, "/api/v1/yard/check-ins", &json!({"code": "12c-100.01"}))
            .await,
        200,
        "check in",
    )
    .await;
    assert_eq!(checked["status"], "waiting");
    let called = expect_json(
        app.post_json(
            &gate,
            "/api/v1/yard/calls",
            &json!({"port": "YYG", "direction": "exit", "lane_type": "fresh"}),
        )
        .await,
        200,
        "call",
    )
    .await;
    assert_eq!(called["number"], number);
    let res = app
        .post_json(
            &gate,
            "/api/v1/checkpoint/scans",
            &json!({"code": number, "lane": "F-OUT-G", "direction": "exit"}),
        )
        .await;
    let v = expect_json(res, 200, "scan").await;
    assert_eq!(
        (v["verdict"].as_str(), v["booking"]["status"].as_str()),
        (Some("admit"), Some("cleared")),
        "{v}"
    );
    let mine = lan
        .get_json(&format!("/api/v1/driver/bookings/{}", b["id"].as_str().unwrap()))
        .await;
    assert_eq!(mine["status"], "cleared");

    // Two no-shows restrict booking; the supervisor lifts it.
    let noshow = |hour: u32| {
        let (lan, truck) = (&lan, truck.clone());
        async move {
            let b = expect_json(
                lan.post_json("/api/v1/driver/bookings", &booking(&truck, hour)).await,
                201,
                "book",
            )
            .await;
            b["id"].as_str().unwrap().to_string()
        }
    };
    let first = noshow(11).await;
    app.clock.set(china(2026, 12, 1, 12, 31));
    app.ctx.sweep().await.unwrap();
    assert_eq!(
        lan.get_json(&format!("/api/v1/driver/bookings/{first}")).await["status"],
        "no_show"
    );
    let second = noshow(14).await;
    app.clock.set(china(2026, 12, 1, 15, 31));
    let swept = app.ctx.sweep().await.unwrap();
    assert_eq!(swept.no_shows, 1);
    assert_eq!(
        lan.get_json(&format!("/api/v1/driver/bookings/{second}")).await["status"],
        "no_show"
    );
    let refused = expect_json(
        lan.post_json("/api/v1/driver/bookings", &booking(&truck, 17)).await,
        422,
        "restricted",
    )
    .await;
    assert_eq!(rule(&refused), ("driver".into(), "restricted".into()));
    let struck = app.get_json(&boss, "/api/v1/drivers/struck").await;
    assert_eq!(struck[0]["strikes"], 2);
    assert!(
        !struck.to_string().contains("001190000001"),
        "no identity numbers: {struck}"
    );
    let res = app
        .post_json(&boss, &format!("/api/v1/drivers/{}/strikes/lift", lan.id), &json!({}))
        .await;
    assert_eq!(res.status(), 204);
    expect_json(
        lan.post_json("/api/v1/driver/bookings", &booking(&truck, 17)).await,
        201,
        "after the lift",
    )
    .await;
}

#[actix_web::test]
async fn a_called_vehicle_that_does_not_report_in_time_goes_to_the_back_of_the_queue() {
    let app = TestApp::spawn().await;
    app.clock.set(china(2026, 12, 1, 10, 0));
    let gate = app.gate();
    for plate in ["12C-111.11", "12C-222.22"] {
        let res = app
            .post_json(
                &gate,
                "/api/v1/yard/walk-ups",
                &json!({"plate": plate, "port": "YYG", "direction": "exit",
                "cargo_category": "general", "cargo_weight_kg": 1000}),
            )
            .await;
        expect_json(res, 201, "walk-up").await;
        app.clock.set(china(2026, 12, 1, 10, 1));
    }
    let call = json!({"port": "YYG", "direction": "exit", "lane_type": "general"});
    let first = expect_json(app.post_json(&gate, "/api/v1/yard/calls", &call).await, 200, "call").await;
    assert_eq!(first["plate"], "12C-111.11");
    app.clock.set(china(2026, 12, 1, 10, 22));
    let queues = app.get_json(&gate, "/api/v1/yard/YYG/queues").await;
    let q = queues
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["direction"] == "exit" && q["lane_type"] == "general")
        .unwrap();
    let order: Vec<&str> = q["queue"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["plate"].as_str().unwrap())
        .collect();
    assert_eq!(order, ["12C-222.22", "12C-111.11"], "late: to the back");
    assert!(q["called"].as_array().unwrap().is_empty());
}

#[actix_web::test]
async fn booking_changes_are_rate_limited_per_driver() {
    let app = TestApp::spawn_with(|s| s.driver_bookings_per_minute = 2).await;
    app.clock.set(morning());
    let (lan, truck) = vn_driver(&app, 1).await;
    let b = expect_json(
        lan.post_json("/api/v1/driver/bookings", &booking(&truck, 10)).await,
        201,
        "book",
    )
    .await;
    let id = b["id"].as_str().unwrap();
    expect_json(
        lan.post_json(&format!("/api/v1/driver/bookings/{id}/cancel"), &json!({}))
            .await,
        200,
        "cancel",
    )
    .await;
    let res = lan.post_json("/api/v1/driver/bookings", &booking(&truck, 10)).await;
    assert_eq!(res.status(), 429);
    assert!(res.headers().get("retry-after").is_some());
    let p: Value = res.json().await.unwrap();
    assert_eq!(rule(&p), ("driver".into(), "rate_limited".into()));
}

/// Several hundred requests for the last ten places: exactly ten bookings, each by a different
/// driver, and the slot's count agrees with the bookings.
async fn race(apps: &[&TestApp], drivers: u32, tries: u32) {
    let first = apps[0];
    let boss = first.boss();
    reduce(first, &boss, 10, 10).await;
    let mut people = Vec::new();
    for n in 0..drivers {
        people.push(vn_driver(first, n).await);
    }
    let mut requests = Vec::new();
    for (i, (d, truck)) in people.iter().enumerate() {
        for t in 0..tries {
            // Spread the requests over the instances: each driver's token works on every one.
            let app = apps[(i + t as usize) % apps.len()];
            let body = booking(truck, 10);
            let url = app.url("/api/v1/driver/bookings");
            let token = d.token.clone();
            requests.push(async move {
                reqwest::Client::new()
                    .post(url)
                    .bearer_auth(token)
                    .json(&body)
                    .send()
                    .await
                    .expect("request")
                    .status()
                    .as_u16()
            });
        }
    }
    let statuses = futures::future::join_all(requests).await;
    let created = statuses.iter().filter(|s| **s == 201).count();
    let unexpected: Vec<&u16> = statuses.iter().filter(|s| ![201, 409, 422].contains(*s)).collect();
    assert!(
        unexpected.is_empty(),
        "only booked, full or one-active answers: {unexpected:?}"
    );
    assert_eq!(created, 10, "exactly the capacity");
    assert_eq!(free_at(&fresh_slots(first).await, 10), 0);
    let mut holders = 0;
    for (d, _) in &people {
        let list = d.get_json("/api/v1/driver/bookings").await;
        let active = list
            .as_array()
            .unwrap()
            .iter()
            .filter(|b| b["status"] == "booked")
            .count();
        assert!(active <= 1, "one active booking per driver");
        holders += active;
    }
    assert_eq!(holders, 10);
}

#[actix_web::test]
async fn hundreds_racing_for_ten_places_get_exactly_ten_bookings() {
    let app = TestApp::spawn_with(|s| {
        s.driver_codes_per_client = 1000;
        s.driver_bookings_per_minute = 1000;
    })
    .await;
    app.clock.set(morning());
    race(&[&app], 40, 8).await;
}

#[actix_web::test]
async fn two_instances_on_one_database_never_overbook() {
    let tweak = |s: &mut borderdesk::config::Settings| {
        s.driver_codes_per_client = 1000;
        s.driver_bookings_per_minute = 1000;
    };
    let app = TestApp::spawn_with(tweak).await;
    app.clock.set(morning());
    let other = app.twin(tweak).await;
    race(&[&app, &other], 40, 8).await;
}

/// With the relay down, bookings still succeed; once it is back every confirmation arrives,
/// each once (a real SMTP receiver on loopback, stopped and restarted).
#[actix_web::test]
async fn with_smtp_down_bookings_succeed_and_their_mail_arrives_once_it_is_back() {
    let Some(script) = crate::mail::smtp_script() else {
        return;
    };
    let port = crate::mail::free_port();
    let inbox = tempfile::tempdir().expect("inbox");
    let receiver = crate::mail::Receiver::start(&script, port, inbox.path());
    let app = TestApp::spawn_with(|s| {
        s.mail_poll_seconds = 0;
        s.mail = Some(format!("smtp://127.0.0.1:{port}?tls=none"));
    })
    .await;
    app.clock.set(morning());
    let subjects = || {
        let mut out: Vec<String> = std::fs::read_dir(inbox.path())
            .unwrap()
            .filter_map(|e| {
                let raw = std::fs::read(e.ok()?.path()).ok()?;
                let parsed = mailparse::parse_mail(&raw).ok()?;
                use mailparse::MailHeaderMap;
                parsed.headers.get_first_value("Subject")
            })
            .filter(|s| s.starts_with("Đặt chỗ thành công"))
            .collect();
        out.sort();
        out
    };
    let (a, truck_a) = vn_driver(&app, 1).await;
    let first = expect_json(
        a.post_json("/api/v1/driver/bookings", &booking(&truck_a, 10)).await,
        201,
        "a",
    )
    .await;
    app.ctx.deliver_due("w").await.unwrap();
    assert_eq!(subjects().len(), 1);

    receiver.stop();
    let (b, truck_b) = vn_driver(&app, 2).await;
    let (c, truck_c) = vn_driver(&app, 3).await;
    let second = expect_json(
        b.post_json("/api/v1/driver/bookings", &booking(&truck_b, 10)).await,
        201,
        "b",
    )
    .await;
    let third = expect_json(
        c.post_json("/api/v1/driver/bookings", &booking(&truck_c, 11)).await,
        201,
        "c",
    )
    .await;
    let down = app.ctx.deliver_due("w").await.unwrap();
    assert_eq!(down.sent, 0);
    assert!(down.failed >= 2, "{down:?}");

    let receiver = crate::mail::Receiver::start(&script, port, inbox.path());
    app.clock.set(china(2026, 12, 1, 8, 1));
    let back = app.ctx.deliver_due("w").await.unwrap();
    assert_eq!(back.failed, 0);
    assert_eq!(app.ctx.deliver_due("w").await.unwrap().sent, 0, "nothing sent twice");
    let numbers: Vec<String> = [&first, &second, &third]
        .iter()
        .map(|b| format!("Đặt chỗ thành công {}", b["number"].as_str().unwrap()))
        .collect();
    let mut expected = numbers.clone();
    expected.sort();
    assert_eq!(subjects(), expected);
    receiver.stop();
}

/// A Chinese driver crosses on a border-trade pass: booked with the pass, admitted at the freight
/// lane by the pass's own code (the trip counted on the pass), and refused a new booking once the
/// pass is revoked.
#[actix_web::test]
async fn a_chinese_driver_books_on_the_trade_pass_and_the_pass_is_checked_again_at_booking() {
    let app = TestApp::spawn().await;
    app.clock.set(morning());
    let li = app.token("li", "officer", &["border_trade"]);
    let wang = app.token("wang", "supervisor", &["border_trade"]);
    let gate = app.gate();
    let holder = traveller(1);
    let body = json!({"kind": "border_trade", "traveller": holder, "plates": ["桂F12345"]});
    let permit = app.issued_after_approval((&li, &wang), &body, &ALL_TRADE_ITEMS).await;
    let pass = permit["number"].as_str().unwrap();
    let wei = app.driver("wei@example.cn", "zh").await;
    let res = wei
        .put_json(
            "/api/v1/driver/profile",
            &json!({"name_zh": "张伟", "name_latin": "ZHANG WEI", "nationality": "CHN",
            "id_type": "cn_resident_id", "id_number": holder["id_number"], "trade_pass": pass}),
        )
        .await;
    expect_json(res, 200, "profile with the pass").await;
    let truck = wei.vehicle("桂F12345", "tractor").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut general = booking(&truck, 10);
    general["cargo_category"] = json!("machinery");
    let b = expect_json(wei.post_json("/api/v1/driver/bookings", &general).await, 201, "book").await;
    assert_eq!(
        (b["trade_pass"].as_str(), b["lane_type"].as_str()),
        (Some(pass), Some("general"))
    );

    app.clock.set(china(2026, 12, 1, 9, 40));
    expect_json(
        app.post_json(&gate, "/api/v1/yard/check-ins", &json!({"code": b["number"]}))
            .await,
        200,
        "check in",
    )
    .await;
    let call = json!({"port": "YYG", "direction": "exit", "lane_type": "general"});
    expect_json(app.post_json(&gate, "/api/v1/yard/calls", &call).await, 200, "call").await;
    let res = app
        .post_json(
            &gate,
            "/api/v1/checkpoint/scans",
            &json!({"code": permit["code"], "lane": "F-OUT-2", "direction": "exit"}),
        )
        .await;
    let v = expect_json(res, 200, "scan").await;
    assert_eq!(
        (v["verdict"].as_str(), v["booking"]["number"].as_str()),
        (Some("admit"), b["number"].as_str()),
        "{v}"
    );
    assert_eq!(
        app.permit(&li, pass).await["entries_used"],
        1,
        "the trip is on the pass"
    );

    app.revoke(&wang, pass, "测试吊销 / revoked for the test").await;
    let refused = expect_json(
        wei.post_json("/api/v1/driver/bookings", &booking(&truck, 12)).await,
        422,
        "revoked pass",
    )
    .await;
    assert_eq!(rule(&refused), ("trade_pass".into(), "not_in_force".into()));
}
