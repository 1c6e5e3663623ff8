//! The freight acceptance on real pages: a Vietnamese driver on a phone signs in in Tiếng Việt,
//! fills the profile, adds a truck and books; the confirmation (with its slip) reaches a real
//! SMTP receiver; the waiting-area staff check the truck in and call it; the freight lane's scan
//! admits it; another driver's booking lapses and the supervisor's page shows the strike.

use fantoccini::Locator;
use fantoccini::key::Key;
use serde_json::json;

use super::{Browser, axe, click, js, js_text, select, type_into, until};
use crate::mail::Receiver;
use crate::support::*;

#[actix_web::test]
async fn a_vietnamese_driver_books_on_a_phone_and_is_checked_in_called_and_admitted() {
    let port = crate::mail::free_port();
    let inbox = tempfile::tempdir().expect("inbox");
    let script = crate::mail::smtp_script();
    let receiver = script.as_deref().map(|s| Receiver::start(s, port, inbox.path()));
    let smtp = receiver.is_some();
    let app = TestApp::spawn_with(|s| {
        s.mail_poll_seconds = 0;
        if smtp {
            s.mail = Some(format!("smtp://127.0.0.1:{port}?tls=none"));
        }
    })
    .await;
    app.clock.set(china(2026, 12, 1, 8, 0));
    let Some(phone) = Browser::start("freight_flow_driver", (390, 844), &[]).await else {
        return;
    };

    // Sign in in Tiếng Việt with the mailed code.
    phone.goto(&app.url("/driver?lang=vi")).await.unwrap();
    type_into(&phone, "email", "hoa.tran@example.vn").await;
    click(&phone, Locator::Id("send-code")).await;
    until(&phone, "location.pathname === '/driver/code'").await;
    type_into(&phone, "code", &app.driver_code("hoa.tran@example.vn")).await;
    click(&phone, Locator::Id("sign-in")).await;
    until(&phone, "location.pathname === '/driver/home'").await;

    // Profile: a Vietnamese name with its diacritics, a citizen ID.
    phone.goto(&app.url("/driver/profile")).await.unwrap();
    type_into(&phone, "name_latin", "Trần Thị Hoa").await;
    type_into(&phone, "nationality", "VNM").await;
    select(&phone, "id_type", "vn_citizen_id").await;
    type_into(&phone, "id_number", "001190000777").await;
    click(&phone, Locator::Id("save-profile")).await;
    until(&phone, "location.pathname === '/driver/home'").await;
    assert!(js_text(&phone, "document.getElementById('name-latin').textContent").await == "Trần Thị Hoa");

    phone.goto(&app.url("/driver/vehicles")).await.unwrap();
    type_into(&phone, "plate", "12c 45678").await;
    select(&phone, "vehicle_type", "refrigerated").await;
    click(&phone, Locator::Id("add-vehicle")).await;
    until(&phone, "!!document.getElementById('vehicle-list')").await;

    // Book the green lane at 10:00: choose direction and cargo, then the hour.
    phone.goto(&app.url("/driver/home")).await.unwrap();
    click(&phone, Locator::Css("#bookings a.button")).await;
    until(&phone, "location.pathname === '/driver/bookings'").await;
    assert_eq!(
        js_text(&phone, "document.getElementById('book-title').textContent").await,
        "Đặt khung giờ thông quan"
    );
    select(&phone, "cargo", "fresh_produce").await;
    click(&phone, Locator::Css("form[method=get] button")).await;
    until(&phone, "!!document.getElementById('book')").await;
    let ten = china(2026, 12, 1, 10, 0)
        .with_timezone(&borderdesk::domain::OFFICE_TZ)
        .to_rfc3339();
    select(&phone, "starts_at", &ten).await;
    type_into(&phone, "weight", "21000").await;
    click(&phone, Locator::Css("#book button")).await;
    until(&phone, "!!document.getElementById('booking-notice')").await;
    let notice = js_text(&phone, "document.getElementById('booking-notice').textContent").await;
    assert!(notice.starts_with("Đặt chỗ thành công"), "{notice}");
    let number = js_text(&phone, "document.querySelector('.booking .mono strong').textContent").await;
    assert!(number.starts_with("YYG-"), "{number}");
    assert_eq!(
        js_text(&phone, "document.querySelector('.booking .status').textContent").await,
        "Đã đặt chỗ"
    );
    assert_eq!(
        js(&phone, "document.documentElement.scrollWidth <= window.innerWidth").await,
        true
    );
    assert_eq!(js(&phone, "document.scripts.length").await, 0, "no script needed");
    assert_eq!(axe(&phone, "driver bookings").await, Vec::<String>::new());

    // The confirmation goes out over SMTP, in Vietnamese, with the slip.
    let sent = app.ctx.deliver_due("w").await.expect("deliver");
    assert!(sent.sent >= 2, "the code and the confirmation: {sent:?}");
    if let Some(r) = receiver {
        let mut found = false;
        for entry in std::fs::read_dir(inbox.path()).unwrap() {
            let raw = std::fs::read(entry.unwrap().path()).unwrap();
            let parsed = mailparse::parse_mail(&raw).unwrap();
            use mailparse::MailHeaderMap;
            let subject = parsed.headers.get_first_value("Subject").unwrap_or_default();
            if subject.starts_with("Đặt chỗ thành công") {
                assert!(subject.ends_with(&number), "{subject}");
                let text = String::from_utf8_lossy(&raw);
                assert!(text.contains("application/pdf") && text.contains(&format!("{number}.pdf")));
                found = true;
            }
        }
        assert!(found, "the confirmation reached the SMTP receiver");
        r.stop();
    }

    // Waiting-area staff, on a desk: check the truck in by its plate, then call it.
    app.clock.set(china(2026, 12, 1, 9, 50));
    let (user, password) = app.officer("yard1", "checkpoint", &[]);
    let Some(desk) = Browser::start("freight_flow_staff", (1024, 900), &[]).await else {
        return;
    };
    desk.open_as(&app, &user, &password, "/yard").await;
    assert_eq!(
        js(&desk, "document.activeElement && document.activeElement.id").await,
        "code"
    );
    type_into(&desk, "code", &format!("12C-456.78{}", char::from(Key::Enter))).await;
    until(&desk, "!!document.getElementById('yard-notice')").await;
    assert!(
        js_text(&desk, "document.getElementById('yard-notice').textContent")
            .await
            .contains(&number)
    );
    assert_eq!(
        js(&desk, "document.activeElement && document.activeElement.id").await,
        "code",
        "ready for the next truck"
    );
    click(&desk, Locator::Css("#queue-exit-fresh form button")).await;
    until(
        &desk,
        "(document.getElementById('yard-notice') || {}).textContent.includes('已叫号')",
    )
    .await;
    assert_eq!(
        lan_status(&app, "hoa.tran@example.vn").await,
        "called",
        "the driver sees the call"
    );

    // The green lane's scan admits the called truck by its booking number.
    desk.goto(&app.url("/checkpoint?lane=F-OUT-G")).await.unwrap();
    js(&desk, "(() => { document.getElementById('direction').value = 'exit'; document.getElementById('code').focus(); return true; })()").await;
    desk.active_element()
        .await
        .unwrap()
        .send_keys(&format!("{number}{}", char::from(Key::Enter)))
        .await
        .unwrap();
    until(
        &desk,
        "(document.querySelector('#verdict') || {}).innerText.includes('ADMIT')",
    )
    .await;
    assert_eq!(lan_status(&app, "hoa.tran@example.vn").await, "cleared");

    // Another driver books 11:00 and never comes: at 12:31 it is a no-show with a strike.
    let (other, truck) = {
        let d = app.driver("minh@example.vn", "vi").await;
        let res = d
            .put_json(
                "/api/v1/driver/profile",
                &json!({"name_latin": "Lê Văn Minh", "nationality": "VNM",
                "id_type": "vn_citizen_id", "id_number": "001190000888"}),
            )
            .await;
        expect_json(res, 200, "profile").await;
        let v = d.vehicle("12C-999.88", "truck").await;
        (d, v["id"].as_str().unwrap().to_string())
    };
    let res = other
        .post_json(
            "/api/v1/driver/bookings",
            &json!({"vehicle_id": truck, "port": "YYG", "direction": "exit",
            "starts_at": china(2026, 12, 1, 11, 0).to_rfc3339(), "cargo_category": "general", "cargo_weight_kg": 9000}),
        )
        .await;
    expect_json(res, 201, "the second booking").await;
    app.clock.set(china(2026, 12, 1, 12, 31));
    let (boss, boss_password) = app.officer("boss-yard", "supervisor", &[]);
    desk.login(&app, &boss, &boss_password).await;
    // The waiting area's page sweeps lapsed bookings as it shows the queues.
    desk.goto(&app.url("/yard")).await.unwrap();
    desk.goto(&app.url("/supervisor/slots")).await.unwrap();
    assert_eq!(axe(&desk, "slots").await, Vec::<String>::new());
    let strikes = js_text(&desk, "document.body.innerText").await;
    assert!(strikes.contains("Lê Văn Minh"), "{strikes}");
    desk.goto(&app.url("/board/YYG")).await.unwrap();
    assert_eq!(axe(&desk, "board").await, Vec::<String>::new());
    assert_eq!(
        js_text(&desk, "document.querySelector('#line-exit-fresh .plates').textContent").await,
        "•••••78"
    );
    let list = other.get_json("/api/v1/driver/bookings").await;
    assert_eq!(list[0]["status"], "no_show");
}

/// The status of a driver's latest booking, as the driver's API shows it.
async fn lan_status(app: &TestApp, email: &str) -> String {
    use borderdesk::db::schema::{bookings, drivers};
    use diesel::prelude::*;
    let email = email.to_string();
    app.ctx
        .db
        .run_blocking(move |c| {
            Ok(bookings::table
                .inner_join(drivers::table.on(bookings::driver_id.eq(drivers::id.nullable())))
                .filter(drivers::email.eq(&email))
                .order(bookings::created_at.desc())
                .select(bookings::status)
                .first::<String>(c)?)
        })
        .unwrap()
}
