//! The scan page in a real browser (headless Chromium through chromedriver): online scans go to
//! the hall; with the hall down the page decides from its trust data (a full bundle, then the
//! delta since its version), queues, and uploads the queue once the hall is back.

use super::{Browser, axe, js, text_of, until};
use crate::support::{TestApp, payload, scan as scan_at_lane};
use fantoccini::{Client, Locator, key::Key};

/// Types a code as a keyboard-wedge scanner does: the characters, then Enter.
async fn scan(c: &Client, code: &str) {
    let input = c.find(Locator::Id("code")).await.expect("code input");
    input.clear().await.expect("clear");
    input
        .send_keys(&format!("{code}{}", char::from(Key::Enter)))
        .await
        .expect("typing");
}

fn queue_len() -> &'static str {
    "JSON.parse(localStorage.getItem('bd-queue') || '[]').length"
}

#[actix_web::test]
async fn the_scan_page_verifies_offline_from_its_bundle_and_delta_and_uploads_once() {
    let app = TestApp::spawn().await;
    let officer = app.window();
    let boss = app.boss();
    let gate = app.gate();
    let (user, password) = app.officer("lane5", "checkpoint", &[]);
    let permits = app.issued_permits(&officer, 4).await;
    let code = |i: usize| permits[i]["code"].as_str().unwrap().to_string();
    let number = |i: usize| permits[i]["number"].as_str().unwrap().to_string();

    let Some(c) = Browser::start("scan_offline", (1024, 900), &[]).await else {
        return;
    };
    c.open_as(&app, &user, &password, "/checkpoint?lane=YYG-C5").await;
    // The page takes a full bundle and the keys while the hall answers.
    until(
        &c,
        "localStorage.getItem('bd-trust') && localStorage.getItem('bd-anchors')",
    )
    .await;
    assert_eq!(c.title().await.unwrap(), "查验 Scan · borderdesk");
    assert_eq!(axe(&c, "checkpoint").await, Vec::<String>::new(), "WCAG 2.1 A/AA");
    let v0 = js(&c, "JSON.parse(localStorage.getItem('bd-trust')).version").await;

    // Online: the scan goes to the hall.
    scan(&c, &code(0)).await;
    until(&c, "document.querySelector('.verdict.admit')").await;

    // Meanwhile permit 2 is revoked and permit 3 leaves at another lane; the page takes the delta.
    let n2 = number(2);
    app.revoke(&boss, &n2, "lost").await;
    assert_eq!(scan_at_lane(&app, &gate, &code(3), "exit").await["verdict"], "admit");
    let hall = payload(&app.trust(&gate, None).await);
    let v1 = hall["version"].as_i64().unwrap();
    assert!(v1 > v0.as_i64().unwrap());
    c.goto(&app.url("/checkpoint?lane=YYG-C5")).await.unwrap();
    // The page holds the hall's version once it has merged the delta since its own.
    until(
        &c,
        &format!("JSON.parse(localStorage.getItem('bd-trust')).version >= {v1}"),
    )
    .await;
    let held = js(&c, "JSON.parse(localStorage.getItem('bd-trust')).permits").await;
    assert_eq!(held[&n2]["standing"], "revoked", "{held}");
    assert_eq!(held[number(3)]["standing"], "out", "{held}");

    // The hall goes down.
    let outage = app.outage().await;
    let cases = [
        (code(1), "ADMIT", "verified offline"),
        (code(2), "REJECT", "revoked"),
        (code(3), "REJECT", "wrong direction"),
        // The page remembers its own admitted exit.
        (code(1), "REJECT", "wrong direction"),
        ("not-a-permit".to_string(), "REJECT", "not a permit"),
    ];
    for (i, (scanned, verdict, why)) in cases.iter().enumerate() {
        scan(&c, scanned).await;
        until(&c, &format!("{} === {}", queue_len(), i + 1)).await;
        let shown = text_of(&c, "offline-result").await;
        assert!(
            shown.contains(verdict) && shown.contains(why) && shown.contains("OFFLINE"),
            "case {i}: {shown}"
        );
    }
    assert!(
        text_of(&c, "offline-result").await.contains("bundle v"),
        "the bundle's version and age are shown"
    );

    // The hall is back: the next page load uploads the queue, once.
    let app = outage.end().await;
    c.goto(&app.url("/checkpoint?lane=YYG-C5")).await.unwrap();
    until(&c, &format!("{} === 0", queue_len())).await;
    c.c.clone().close().await.unwrap();
    assert_eq!(
        app.count("crossings"),
        2 + 5,
        "two online scans, five offline, none twice"
    );
    let p1 = app.permit(&officer, &number(1)).await;
    assert_eq!(p1["entries_used"], 1, "the offline exit counts on the permit");
}
