//! The blank stock in a real browser: the supervisor receives a batch, the officer prints a
//! permit on the next blank and reprints it (the first card voided), the day's reconciliation
//! balances to zero and the drawer's count matches; the savings page shows the print's value with
//! its chart; every page passes axe-core.

use fantoccini::Locator;

use super::{Browser, axe, click, js, js_text, select, text_of, type_into, until, viewport};
use crate::support::TestApp;

#[actix_web::test]
async fn a_batch_received_a_permit_printed_and_reprinted_and_the_day_balances() {
    let app = TestApp::spawn().await;
    let (boss, boss_pw) = app.officer("boss", "supervisor", &[]);
    let (clerk, clerk_pw) = app.officer("clerk", "officer", &["border_tourism"]);
    let permit = app.issued_permit(&app.token_for(&clerk)).await;
    let number = permit["number"].as_str().expect("number").to_string();
    let Some(c) = Browser::start("stock_pages", (1200, 900), &[]).await else {
        return;
    };

    // The supervisor receives 00000501–00000600 on the stock page.
    c.open_as(&app, &boss, &boss_pw, "/desk/stock").await;
    type_into(&c, "first_serial", "501").await;
    type_into(&c, "last_serial", "600").await;
    type_into(&c, "received_from", "广西公安厅出入境管理局").await;
    click(
        &c,
        Locator::Css("form[action='/desk/stock/batches'] button[type=submit]"),
    )
    .await;
    until(&c, "document.querySelector('p.ok[role=status]')").await;
    assert_eq!(text_of(&c, "next-blank").await, "No. 00000501");
    assert_eq!(
        axe(&c, "stock (supervisor)").await,
        Vec::<String>::new(),
        "WCAG 2.1 A/AA"
    );
    click(&c, Locator::Css("header form button")).await;
    c.wait().for_element(Locator::Id("password")).await.expect("login page");

    // The officer prints the permit on the next blank, then reprints it as misprinted.
    c.open_as(&app, &clerk, &clerk_pw, &format!("/desk/permits/{number}"))
        .await;
    click(
        &c,
        Locator::Css(&format!(
            "form[action='/desk/permits/{number}/print'] button[type=submit]"
        )),
    )
    .await;
    until(&c, "document.getElementById('current-blank')").await;
    assert_eq!(text_of(&c, "current-blank").await, "No. 00000501");
    assert!(
        js_text(&c, "document.querySelector('p.ok').textContent")
            .await
            .contains("00000501")
    );
    assert_eq!(
        axe(&c, "permit with its print").await,
        Vec::<String>::new(),
        "WCAG 2.1 A/AA"
    );
    click(&c, Locator::Css("#reprint summary")).await;
    select(&c, "reprint_reason", "misprinted").await;
    type_into(&c, "print-note", "位置偏移").await;
    click(
        &c,
        Locator::Css(&format!(
            "form[action='/desk/permits/{number}/print'] button[type=submit]"
        )),
    )
    .await;
    until(&c, "document.getElementById('prints')").await;
    assert_eq!(text_of(&c, "current-blank").await, "No. 00000502");
    let history = text_of(&c, "prints").await;
    assert!(
        history.contains("No. 00000501") && history.contains("已作废"),
        "{history}"
    );

    // The day: 100 in, 2 printed, 98 left; the replaced card listed apart; the count matches.
    c.goto(&app.url("/desk/stock")).await.expect("stock page");
    let balance = text_of(&c, "balance").await;
    assert!(balance.contains("差额 0"), "{balance}");
    let table = text_of(&c, "reconciliation").await;
    assert!(
        table.contains("00000501–00000502") && table.contains("00000503–00000600"),
        "{table}"
    );
    type_into(&c, "counted", "98").await;
    click(&c, Locator::Css("form[action='/desk/stock/count'] button[type=submit]")).await;
    until(&c, "document.querySelector('p.ok[role=status]')").await;
    let said = js_text(&c, "document.querySelector('p.ok[role=status]').textContent").await;
    assert!(said.contains("与账面一致"), "{said}");
    assert_eq!(axe(&c, "stock (officer)").await, Vec::<String>::new(), "WCAG 2.1 A/AA");

    // The supervisor's savings page: the print (the reprint was the office's misprint, no
    // service to the holder) valued at ¥20, drawn as a chart.
    click(&c, Locator::Css("header form button")).await;
    c.wait().for_element(Locator::Id("password")).await.expect("login page");
    c.open_as(&app, &boss, &boss_pw, "/supervisor/savings").await;
    assert_eq!(text_of(&c, "year-total").await, "¥20.00");
    let bars = js_text(&c, "String(document.querySelectorAll('svg rect').length)").await;
    assert_eq!(bars, "12", "a bar per month");
    let services = text_of(&c, "by-service").await;
    assert!(
        services.contains("证件制作打印") && services.contains("20.00"),
        "{services}"
    );
    assert_eq!(axe(&c, "savings").await, Vec::<String>::new(), "WCAG 2.1 A/AA");

    // On a phone's screen each page scrolls only down (long serials scroll in their table) and
    // stays clean under axe.
    viewport(&c, 390, 844).await;
    for path in [
        "/supervisor/savings",
        "/desk/stock",
        "/desk/free-services",
        &format!("/desk/permits/{number}"),
    ] {
        c.goto(&app.url(path)).await.expect("page");
        let widths = js(&c, "[document.documentElement.scrollWidth, window.innerWidth]").await;
        assert!(
            widths[0].as_u64() <= widths[1].as_u64(),
            "{path} scrolls sideways on a phone: {widths}"
        );
        assert_eq!(
            axe(&c, path).await,
            Vec::<String>::new(),
            "{path} on a phone: WCAG 2.1 A/AA"
        );
    }
}
