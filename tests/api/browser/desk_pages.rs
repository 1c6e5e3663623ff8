//! The officers' and supervisors' pages and the public progress page in a real browser: each
//! role lands where its work is, the accepting officer is not offered Approve, the desk form
//! fills birth date and sex from the ID and shows the chosen kind's fields, the progress page
//! follows the browser's language, and axe-core finds no WCAG 2.1 A/AA violation on the main
//! pages; the application, permit and notice pages do not scroll sideways at 320 px.

use fantoccini::{Client, Locator, key::Key};
use serde_json::json;

use super::{Browser, axe, click, click_when_shown, js, js_text, select, type_into, until, viewport};
use crate::support::{DEFERRING_PORTRAIT, TestApp, cn_id, traveller};

/// Opens `path` and holds it at zero axe-core violations.
async fn no_violations(c: &Client, app: &TestApp, path: &str, name: &str) {
    c.goto(&app.url(path)).await.expect("page");
    assert_eq!(axe(c, name).await, Vec::<String>::new(), "{name}: WCAG 2.1 A/AA");
}

/// At 320 px wide the page scrolls only down (WCAG 1.4.10 reflow).
async fn reflows(c: &Client, app: &TestApp, path: &str) {
    c.goto(&app.url(path)).await.expect("page");
    let widths = js(
        c,
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]",
    )
    .await;
    assert!(
        widths[0].as_u64() <= widths[1].as_u64(),
        "{path} scrolls sideways at 320 px: {widths}"
    );
}

async fn log_out(c: &Client) {
    click(c, Locator::Css("header form button")).await;
    // A script cannot wait across a page load; the driver waits for the next page's element.
    c.wait().for_element(Locator::Id("password")).await.expect("login page");
}

fn password(user: &str) -> String {
    format!("pw-{user}-0123456789")
}

#[actix_web::test]
async fn roles_land_on_their_work_approve_follows_four_eyes_and_pages_pass_axe() {
    let app = TestApp::spawn().await;
    let li = app.token("li", "officer", &["border_trade", "border_tourism"]);
    app.officer("wang", "supervisor", &["border_trade"]);
    app.officer("root", "admin", &[]);
    app.officer("gate", "checkpoint", &[]);
    // A trade pass accepted by li without the portrait (容缺): pending items, a notice.
    let body = app
        .take(
            &li,
            &json!({"kind": "border_trade", "traveller": traveller(1), "validity_option": "multi_1y"}),
        )
        .await;
    let id = body["id"].as_str().unwrap().to_string();
    let number = body["number"].as_str().unwrap().to_string();
    app.accept(&li, &id, &DEFERRING_PORTRAIT).await;
    // A tourism application with its photo, to be issued on the spot.
    let tourist = app.application(&li, traveller(2)).await;
    app.portrait(&li, &tourist).await;

    let Some(c) = Browser::start("desk_pages", (1280, 800), &[]).await else {
        return;
    };
    c.goto(&app.url("/login")).await.unwrap();
    assert_eq!(axe(&c, "login").await, Vec::<String>::new(), "login: WCAG 2.1 A/AA");

    // The officer lands on the desk, its first field focused.
    c.login(&app, "li", &password("li")).await;
    assert_eq!(js(&c, "location.pathname").await, "/desk");
    assert_eq!(js(&c, "document.activeElement.id").await, "kind");
    assert_eq!(axe(&c, "desk").await, Vec::<String>::new(), "desk: WCAG 2.1 A/AA");
    // Only the chosen kind's fields are shown.
    let shown = "!document.getElementById('credit_code').closest('[data-kinds]').hidden";
    select(&c, "kind", "border_trade").await;
    until(&c, shown).await;
    select(&c, "kind", "border_tourism").await;
    until(&c, &format!("!({shown})")).await;
    // Typing a resident ID number fills birth date and sex.
    type_into(&c, "id_number", &cn_id("19851224", 122)).await;
    until(
        &c,
        "document.getElementById('birth_date').value === '1985-12-24' && document.getElementById('sex').value === 'F'",
    )
    .await;
    // A mistake: focus lands on the first bad field, named by its label in the summary.
    type_into(&c, "id_number", &format!("9{}", char::from(Key::Enter))).await;
    c.wait().for_element(Locator::Id("error-summary")).await.unwrap();
    assert_eq!(js(&c, "document.activeElement.id").await, "id_number");
    assert_eq!(axe(&c, "desk with errors").await, Vec::<String>::new());

    // The accepting officer is not offered Approve, and is told why.
    let path = format!("/desk/applications/{id}");
    no_violations(&c, &app, &path, "application").await;
    let approve = "document.querySelector('input[name=step][value=approve]')";
    assert_eq!(js(&c, &format!("!!{approve}")).await, false);
    let text = js(&c, "document.body.innerText").await;
    assert!(text.as_str().unwrap().contains("may not approve"), "{text}");
    no_violations(&c, &app, &format!("{path}/notice"), "notice").await;

    // With a photo, "Issue now" is still in view without scrolling.
    c.goto(&app.url(&format!("/desk/applications/{tourist}")))
        .await
        .unwrap();
    let bottom = js(
        &c,
        "[...document.querySelectorAll('#actions button')].find(b => b.textContent.includes('Issue now')).getBoundingClientRect().bottom <= window.innerHeight",
    )
    .await;
    assert_eq!(bottom, true, "Issue now below the fold");
    log_out(&c).await;

    // The supervisor lands on approvals and deadlines, and may approve.
    c.login(&app, "wang", &password("wang")).await;
    assert_eq!(js(&c, "location.pathname").await, "/supervisor/sla");
    assert_eq!(axe(&c, "sla").await, Vec::<String>::new(), "sla: WCAG 2.1 A/AA");
    let queue = js(&c, "document.querySelector('section').innerText").await;
    assert!(queue.as_str().unwrap().contains(&number), "approval queue: {queue}");
    c.goto(&app.url(&path)).await.unwrap();
    click(&c, Locator::Css("input[name=step][value=approve] + button")).await;
    click_when_shown(&c, Locator::XPath("//button[contains(., 'Issue and print')]")).await;
    c.wait().for_element(Locator::Css("a[href$='/pdf']")).await.unwrap();
    let permit_path = js_text(&c, "location.pathname").await;
    assert_eq!(axe(&c, "permit").await, Vec::<String>::new(), "permit: WCAG 2.1 A/AA");
    // The pending pass stays on the supervisors' view.
    c.goto(&app.url("/supervisor/sla")).await.unwrap();
    let permit_number = permit_path.rsplit('/').next().unwrap();
    assert_eq!(
        js(
            &c,
            &format!("document.querySelector('a[href=\"{permit_path}\"]') !== null")
        )
        .await,
        true,
        "{permit_number} on the supervisors' view"
    );

    // 320 px: no sideways scrolling.
    viewport(&c, 320, 640).await;
    for p in [path.clone(), format!("{path}/notice"), permit_path.clone()] {
        reflows(&c, &app, &p).await;
    }
    viewport(&c, 1280, 800).await;
    log_out(&c).await;

    c.login(&app, "root", &password("root")).await;
    assert_eq!(js(&c, "location.pathname").await, "/admin/calendar");
    log_out(&c).await;
    c.login(&app, "gate", &password("gate")).await;
    assert_eq!(js(&c, "location.pathname").await, "/checkpoint");
    c.c.clone().close().await.unwrap();
}

#[actix_web::test]
async fn the_progress_page_speaks_the_phones_language_and_shows_the_result_first() {
    let app = TestApp::spawn().await;
    let li = app.token("li", "officer", &["border_tourism"]);
    let permit = app.issued_permit(&li).await;
    let number = permit["number"].as_str().unwrap().to_string();
    let last4 = cn_id("19900307", 3)[14..].to_string();
    let code = app.receipt(&li, permit["application_id"].as_str().unwrap()).await;

    let flags = ["--lang=vi-VN".to_string(), "--accept-lang=vi-VN,vi".to_string()];
    let Some(c) = Browser::start("progress_language", (390, 844), &flags).await else {
        return;
    };
    c.goto(&app.url("/progress")).await.unwrap();
    assert_eq!(js(&c, "document.documentElement.lang").await, "vi");
    assert_eq!(
        js(&c, "document.querySelector('h1').textContent").await,
        "Tra cứu tiến độ hồ sơ"
    );
    assert_eq!(
        js(&c, "document.querySelector('a[href=\"/login\"]') === null").await,
        true,
        "no staff login link on the public page"
    );
    assert_eq!(
        axe(&c, "progress").await,
        Vec::<String>::new(),
        "progress: WCAG 2.1 A/AA"
    );
    type_into(&c, "number", &number).await;
    type_into(&c, "last4", &last4).await;
    type_into(&c, "code", &format!("{code}{}", char::from(Key::Enter))).await;
    c.wait().for_element(Locator::Id("result")).await.unwrap();
    // The result is on the first screen of the phone, in Vietnamese.
    assert_eq!(
        js(
            &c,
            "document.getElementById('result').getBoundingClientRect().top < window.innerHeight / 2"
        )
        .await,
        true
    );
    let text = js(&c, "document.getElementById('result').innerText").await;
    assert!(text.as_str().unwrap().contains("Đã cấp"), "{text}");
    assert_eq!(axe(&c, "progress result").await, Vec::<String>::new());
    // The reader picks English: it stays English.
    click(&c, Locator::Css("a[href=\"/progress?lang=en\"]")).await;
    c.wait().for_element(Locator::Css("html[lang=en]")).await.unwrap();
    c.goto(&app.url("/progress")).await.unwrap();
    assert_eq!(js(&c, "document.documentElement.lang").await, "en");
    c.c.clone().close().await.unwrap();
}
