//! The admin calendar page in a real browser at a phone's narrowest width (320 px): no sideways
//! scrolling, every remove button named with its date, errors tied to their fields, and the
//! confirmation asked before a published day is replaced.

use fantoccini::{Client, Locator};
use serde_json::{Value, json};

use super::{Browser, axe, click, js, js_text, until};
use crate::support::{ALL_TRADE_ITEMS, TestApp, china, trade, traveller};

async fn fill(c: &Client, date: &str, kind: &str, name: &str) {
    // A date input takes its value from script reliably in every locale; typing does not.
    js(
        c,
        &format!(
            "(document.getElementById('date').value = '{date}', document.getElementById('kind').value = '{kind}', document.getElementById('name').value = '{name}')"
        ),
    )
    .await;
}

async fn submit(c: &Client) {
    click(c, Locator::Css("form[action='/admin/calendar'] button[type=submit]")).await;
}

fn no_sideways_scroll() -> &'static str {
    "document.documentElement.scrollWidth <= window.innerWidth"
}

#[actix_web::test]
async fn the_calendar_page_works_at_320px_and_asks_before_replacing_a_published_day() {
    let app = TestApp::spawn().await;
    let (user, password) = app.officer("root", "admin", &[]);
    let (boss, boss_password) = app.officer("wang", "supervisor", &["border_trade"]);
    // Accepted after closing on the last day of 2026: due in 2027, a provisional year.
    let officer = app.token("li", "officer", &["border_trade"]);
    app.clock.set(china(2026, 12, 31, 18, 0));
    let body = trade(traveller(7), json!(["12C-123.45"]));
    let id = app.accepted(&officer, &body, &ALL_TRADE_ITEMS).await;
    let Some(c) = Browser::start("calendar_page", (320, 700), &[]).await else {
        return;
    };
    c.open_as(&app, &user, &password, "/admin/calendar?year=2026").await;
    until(&c, "document.querySelector('.days')").await;
    assert_eq!(
        js(&c, no_sideways_scroll()).await,
        Value::Bool(true),
        "sideways scroll at 320 px"
    );
    assert_eq!(axe(&c, "calendar").await, Vec::<String>::new(), "WCAG 2.1 A/AA");
    // Every remove button says which day it removes.
    let names = js(
        &c,
        "[...document.querySelectorAll('.days button')].map((b) => b.textContent.replace(/\\s+/g, ' ').trim())",
    )
    .await;
    let names: Vec<String> = serde_json::from_value(names).unwrap();
    assert_eq!(names.len(), 39, "the published 2026 days");
    assert!(
        names.iter().any(|n| n.contains("2026-02-14") && n.contains("星期六")),
        "{names:?}"
    );
    let distinct: std::collections::BTreeSet<&String> = names.iter().collect();
    assert_eq!(distinct.len(), names.len(), "no two buttons share a name");

    // A make-up working day on a Friday is refused, the error tied to the kind field.
    fill(&c, "2026-11-27", "workday", "调休").await;
    submit(&c).await;
    until(&c, "document.getElementById('kind-error')").await;
    assert_eq!(
        js(&c, "document.getElementById('kind').getAttribute('aria-describedby')").await,
        "kind-error"
    );
    assert_eq!(
        js(&c, "document.getElementById('name').value").await,
        "调休",
        "kept what was typed"
    );
    assert_eq!(js(&c, no_sideways_scroll()).await, Value::Bool(true));
    assert_eq!(axe(&c, "calendar with errors").await, Vec::<String>::new());

    // A holiday over the published make-up Saturday asks first, and says what it replaces.
    fill(&c, "2026-02-14", "holiday", "春节").await;
    submit(&c).await;
    until(&c, "document.getElementById('confirm')").await;
    let why = js(&c, "document.getElementById('confirm-error').textContent").await;
    assert!(why.as_str().unwrap().contains("调休上班"), "{why}");
    assert!(
        js_text(&c, "document.querySelector('.days').textContent.replace(/\\s+/g, '')")
            .await
            .contains("2026-02-14（星期六）调休上班"),
        "the day still listed as published"
    );
    assert_eq!(axe(&c, "calendar asking to confirm").await, Vec::<String>::new());
    click(&c, Locator::Id("confirm")).await;
    submit(&c).await;
    until(
        &c,
        "document.querySelector('.ok') && !document.getElementById('confirm')",
    )
    .await;
    assert!(
        js_text(&c, "document.querySelector('.days').textContent.replace(/\\s+/g, '')")
            .await
            .contains("2026-02-14（星期六）放假"),
        "replaced after confirming"
    );

    // Removing a day as published asks first, in the alert at the top.
    click(
        &c,
        Locator::Css("form[action='/admin/calendar/remove'] input[value='2026-10-10'] ~ button"),
    )
    .await;
    until(&c, "document.getElementById('confirm-remove')").await;
    assert!(
        js_text(&c, "document.getElementById('remove-question').textContent")
            .await
            .contains("2026-10-10（星期六）调休上班")
    );
    assert_eq!(js(&c, no_sideways_scroll()).await, Value::Bool(true));
    assert_eq!(
        axe(&c, "calendar asking to confirm a removal").await,
        Vec::<String>::new()
    );
    click(&c, Locator::Id("confirm-remove")).await;
    until(
        &c,
        "document.querySelector('.ok') && !document.getElementById('confirm-remove')",
    )
    .await;
    assert!(
        !js_text(&c, "document.querySelector('.days').textContent")
            .await
            .contains("2026-10-10")
    );

    // A provisional year says so, and offers no remove button for computed days.
    c.goto(&app.url("/admin/calendar?year=2027")).await.unwrap();
    until(&c, "document.getElementById('provisional')").await;
    assert_eq!(js(&c, "document.querySelectorAll('.days button').length").await, 0);
    assert_eq!(js(&c, no_sideways_scroll()).await, Value::Bool(true));
    assert_eq!(axe(&c, "provisional calendar").await, Vec::<String>::new());

    // The SLA page (the supervisor's: it lists people) says which deadlines were counted on
    // the provisional year.
    c.login(&app, &boss, &boss_password).await;
    c.goto(&app.url("/supervisor/sla")).await.unwrap();
    until(&c, "document.getElementById('provisional')").await;
    let row = js(
        &c,
        &format!("document.querySelector('a[href=\"/desk/applications/{id}\"]').closest('tr').textContent"),
    )
    .await;
    assert!(row.as_str().unwrap().contains("2027-01-05 17:30 暂定"), "{row}");
}
