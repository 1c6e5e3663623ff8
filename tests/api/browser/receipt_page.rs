//! The receipt and the lookup lock in a real browser: the window prints a receipt with the
//! lookup code, the applicant's phone finds the application with it, wrong tries lock it, the
//! application page says until when, and the window unlocks it.

use fantoccini::{Client, Locator};

use super::{Browser, axe, click, js, js_text, type_into, until};
use crate::support::{TestApp, cn_id, traveller};

async fn look_up(c: &Client, app: &TestApp, number: &str, last4: &str, code: &str) -> String {
    c.goto(&app.url("/progress?lang=en")).await.unwrap();
    for (id, text) in [("number", number), ("last4", last4), ("code", code)] {
        type_into(c, id, text).await;
    }
    click(c, Locator::Css("form[action='/progress'] button")).await;
    until(
        c,
        "document.getElementById('result') || document.getElementById('progress-message')",
    )
    .await;
    js_text(c, "document.querySelector('main, body').innerText").await
}

#[actix_web::test]
async fn the_window_prints_the_receipt_and_lifts_a_lock() {
    let app = TestApp::spawn().await;
    let (user, password) = app.officer("li", "officer", &["border_tourism"]);
    let token = app.token("api", "officer", &["border_tourism"]);
    let id = app.application(&token, traveller(1)).await;
    let last4 = cn_id("19900307", 3)[14..].to_string();

    let Some(c) = Browser::start("receipt_page", (1280, 900), &[]).await else {
        return;
    };
    c.open_as(&app, &user, &password, &format!("/desk/applications/{id}"))
        .await;
    assert_eq!(axe(&c, "application without a receipt").await, Vec::<String>::new());
    click(&c, Locator::Css("form[action$='/receipt'] button")).await;
    until(&c, "document.getElementById('lookup-code')").await;
    assert_eq!(axe(&c, "receipt").await, Vec::<String>::new(), "WCAG 2.1 A/AA");
    let code = js_text(&c, "document.getElementById('lookup-code').innerText.trim()").await;
    let number = js_text(&c, "document.getElementById('receipt-number').innerText.trim()").await;
    // Printed, the receipt is the receipt: no navigation, no buttons.
    assert_eq!(
        js(
            &c,
            "[...document.styleSheets].some(s => [...s.cssRules].some(r => r.media && r.media.mediaText === 'print'))"
        )
        .await,
        true
    );

    let text = look_up(&c, &app, &number, &last4, &code).await;
    assert!(text.contains("Issued") || text.contains("Submitted"), "{text}");
    for _ in 0..5 {
        look_up(&c, &app, &number, "0000", &code).await;
    }
    let text = look_up(&c, &app, &number, &last4, &code).await;
    assert!(text.contains("No application matches"), "{text}");

    c.goto(&app.url(&format!("/desk/applications/{id}"))).await.unwrap();
    until(&c, "document.getElementById('lookup-locked')").await;
    assert_eq!(axe(&c, "application with a locked lookup").await, Vec::<String>::new());
    click(&c, Locator::Css("form[action$='/unlock'] button")).await;
    until(
        &c,
        "document.getElementById('lookup') && !document.getElementById('lookup-locked')",
    )
    .await;
    let text = look_up(&c, &app, &number, &last4, &code).await;
    assert!(!text.contains("No application matches"), "{text}");
    c.c.clone().close().await.unwrap();
}
