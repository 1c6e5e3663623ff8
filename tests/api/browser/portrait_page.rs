//! The ID photo at the window in a real browser (issue 13): a photo uploaded from the
//! application page is shown with its quality lines and crop box, the box is nudged with a
//! button and dragged with the pointer (each time the lines are measured again), and saved; the
//! stored photo is the box; the page passes axe-core and fits a phone.

use fantoccini::Locator;
use fantoccini::actions::{InputSource, MOUSE_BUTTON_LEFT, MouseActions, PointerAction};

use super::{Browser, axe, click, js_text, scrolls_only_down, select, until, viewport};
use crate::support::{TestApp, traveller};

#[actix_web::test]
async fn a_photo_is_checked_nudged_dragged_and_saved_from_the_pages() {
    let app = TestApp::spawn().await;
    let (clerk, pw) = app.officer("clerk", "officer", &["border_tourism"]);
    let id = app.application(&app.token_for(&clerk), traveller(8)).await;
    let dir = tempfile::tempdir().expect("dir");
    let photo = dir.path().join("sitting.png");
    std::fs::write(&photo, crate::support::sitting([250, 250, 250], false)).expect("photo file");
    let Some(c) = Browser::start("portrait_page", (1200, 900), &[]).await else {
        return;
    };

    // Uploaded from the application page: the photo page with four lines, all passing.
    c.open_as(&app, &clerk, &pw, &format!("/desk/applications/{id}")).await;
    let input = c.find(Locator::Id("photo")).await.expect("file input");
    input
        .send_keys(photo.to_str().expect("path"))
        .await
        .expect("file chosen");
    click(
        &c,
        Locator::Css(&format!("form[action='/desk/applications/{id}/portrait'] button")),
    )
    .await;
    until(&c, "document.querySelectorAll('#quality li').length === 4").await;
    let lines = js_text(&c, "document.getElementById('quality').innerText").await;
    assert_eq!(lines.matches("合格").count(), 4, "{lines}");
    assert!(lines.contains("背景") && lines.contains("Sharpness"), "{lines}");
    until(&c, "document.getElementById('picture').naturalWidth === 1500").await;
    assert_eq!(axe(&c, "photo page").await, Vec::<String>::new(), "WCAG 2.1 A/AA");
    let x = || js_text(&c, "document.getElementById('crop-box').dataset.x");
    assert_eq!(x().await, "406", "the centred box");

    // One nudge to the left: the box moves a twentieth of its height and is measured again.
    click(&c, Locator::Css("button[name=nudge][value=left]")).await;
    until(&c, "document.getElementById('crop-box').dataset.x === '356'").await;
    assert_eq!(
        js_text(&c, "String(document.querySelectorAll('#quality li').length)").await,
        "4"
    );

    // Dragged 60 screen pixels to the left: the picture is drawn 420 pixels wide for 1500, so
    // about 214 picture pixels; letting go measures the new box.
    let box_el = c.find(Locator::Id("crop-box")).await.expect("box");
    let drag = MouseActions::new("mouse".into())
        .then(PointerAction::MoveToElement {
            element: box_el,
            duration: None,
            x: 0.0,
            y: 0.0,
        })
        .then(PointerAction::Down {
            button: MOUSE_BUTTON_LEFT,
        })
        .then(PointerAction::MoveBy {
            duration: Some(std::time::Duration::from_millis(200)),
            x: -60.0,
            y: 0.0,
        })
        .then(PointerAction::Up {
            button: MOUSE_BUTTON_LEFT,
        });
    c.perform_actions(drag).await.expect("drag");
    until(&c, "Number(document.getElementById('crop-box').dataset.x) < 356").await;
    let dragged: u32 = x().await.parse().expect("x");
    assert!((120..=160).contains(&dragged), "dragged to {dragged}");

    // On a phone's screen the page scrolls only down.
    viewport(&c, 390, 844).await;
    assert!(scrolls_only_down(&c).await, "the photo page fits a phone's width");
    assert_eq!(
        axe(&c, "photo page (phone)").await,
        Vec::<String>::new(),
        "WCAG 2.1 A/AA"
    );
    viewport(&c, 1200, 900).await;

    // Saved: back on the application page with the photo, which is the box dragged to.
    click(&c, Locator::Id("save-photo")).await;
    until(&c, &format!("location.pathname === '/desk/applications/{id}'")).await;
    until(&c, "document.querySelector('img[src$=\"/portrait\"]') && document.querySelector('img[src$=\"/portrait\"]').naturalWidth === 330").await;
    assert_eq!(app.count("portraits"), 1);
    assert_eq!(app.count("portrait_drafts"), 0);
    let trail = app.audit("application", &id);
    let crop = trail
        .iter()
        .find(|r| r.action == "application.portrait_crop")
        .and_then(|r| r.after_json.clone())
        .expect("the crop audited");
    assert!(crop.contains(&format!("\"x\":{dragged}")), "{crop}");

    // The free photo sheet printed from the application page (here in the same tab): a PDF,
    // recorded beside the photo itself as a free service.
    assert_eq!(app.count("free_services"), 1, "the photo");
    select(&c, "sheet-size", "35x45").await;
    js_text(
        &c,
        "document.querySelector(\"form[action$='/photo-sheet']\").removeAttribute('target') || ''",
    )
    .await;
    click(&c, Locator::Css("form[action$='/photo-sheet'] button[type=submit]")).await;
    until(&c, "document.contentType === 'application/pdf'").await;
    assert_eq!(app.count("free_services"), 2, "the photo and the sheet");
}
