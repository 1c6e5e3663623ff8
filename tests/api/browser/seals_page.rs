//! The supervisor's seals register in a real browser (issue 13): a seal entered for the permit
//! cards and handed to the window officer, a refused grant answered beside its form, the print
//! of a card recorded as the seal's use with its holder; axe-clean, and whole on a phone.

use fantoccini::Locator;
use serde_json::json;

use super::{Browser, axe, click, js_text, scrolls_only_down, select, text_of, type_into, until, viewport};
use crate::support::{TestApp, expect_json};

#[actix_web::test]
async fn a_seal_is_entered_granted_and_its_use_on_a_card_shown() {
    let app = TestApp::spawn().await;
    let (boss, boss_pw) = app.officer("boss", "supervisor", &[]);
    let (clerk, _) = app.officer("clerk", "officer", &["border_tourism"]);
    let Some(c) = Browser::start("seals_page", (1200, 900), &[]).await else {
        return;
    };
    c.open_as(&app, &boss, &boss_pw, "/supervisor/seals").await;
    assert!(text_of(&c, "unregistered").await.contains("尚未登记"));
    select(&c, "kind", "seal").await;
    type_into(&c, "name", "友谊关出入境办证点业务专用章").await;
    type_into(&c, "reference", "yyg-01").await;
    select(&c, "applies_to", "permit").await;
    click(&c, Locator::Css("form[action='/supervisor/seals'] button[type=submit]")).await;
    until(&c, "document.querySelector('p.ok[role=status]')").await;
    assert!(text_of(&c, "seals").await.contains("YYG-01"));

    // Handed to someone who is no window officer: refused, said on the page.
    let holder = "document.querySelector('input[name=holder]').id";
    let holder_id = js_text(&c, holder).await;
    type_into(&c, &holder_id, "nobody").await;
    click(&c, Locator::Css("form[action$='/grant'] button[type=submit]")).await;
    until(&c, "document.querySelector('p.notice[role=alert]')").await;
    let said = js_text(&c, "document.querySelector('p.notice[role=alert]').textContent").await;
    assert!(said.contains("本所在岗民警"), "{said}");
    // The refused username is shown again in its field: replaced.
    js_text(&c, "document.querySelector('input[name=holder]').value = ''").await;
    let holder_id = js_text(&c, holder).await;
    type_into(&c, &holder_id, &clerk).await;
    click(&c, Locator::Css("form[action$='/grant'] button[type=submit]")).await;
    until(&c, "document.querySelector('#seals .holder')").await;

    // A card printed at the window: the use listed with the clerk as holder.
    let boss_token = app.token_for(&boss);
    let clerk_token = app.token_for(&clerk);
    let batch = json!({"first_serial": 1, "last_serial": 5, "received_from": "x"});
    expect_json(
        app.post_json(&boss_token, "/api/v1/stock/batches", &batch).await,
        201,
        "blanks",
    )
    .await;
    let permit = app.issued_permit(&clerk_token).await;
    let number = permit["number"].as_str().expect("number");
    let prints = format!("/api/v1/permits/{number}/prints");
    expect_json(app.post_json(&clerk_token, &prints, &json!({})).await, 201, "print").await;
    c.goto(&app.url("/supervisor/seals")).await.expect("register");
    let uses = text_of(&c, "uses").await;
    assert!(uses.contains(number) && uses.contains("通行证证卡"), "{uses}");
    assert_eq!(axe(&c, "seals register").await, Vec::<String>::new(), "WCAG 2.1 A/AA");

    viewport(&c, 390, 844).await;
    assert!(scrolls_only_down(&c).await, "the seals register fits a phone's width");
    assert_eq!(
        axe(&c, "seals register (phone)").await,
        Vec::<String>::new(),
        "WCAG 2.1 A/AA"
    );
}
