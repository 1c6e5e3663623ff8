//! A Vietnamese driver on a phone (390×844): signs in with the mailed code in Tiếng Việt, adds
//! a vehicle and sees it listed, with no script on the pages.

use fantoccini::Locator;

use super::{Browser, axe, click, js, select, type_into, until};
use crate::support::TestApp;

#[actix_web::test]
async fn a_vietnamese_driver_signs_in_on_a_phone_and_adds_a_vehicle() {
    let app = TestApp::spawn().await;
    let Some(c) = Browser::start("driver_pages", (390, 844), &[]).await else {
        return;
    };
    c.goto(&app.url("/driver")).await.unwrap();
    click(&c, Locator::Css("a[href=\"/driver?lang=vi\"]")).await;
    until(&c, "document.documentElement.lang === 'vi'").await;
    assert_eq!(
        js(&c, "document.querySelector('h1').textContent").await,
        "Đăng nhập tài xế"
    );
    assert_eq!(js(&c, "document.scripts.length").await, 0, "no script needed");
    assert_eq!(axe(&c, "driver sign-in").await, Vec::<String>::new());
    type_into(&c, "email", "thu.pham@example.vn").await;
    click(&c, Locator::Id("send-code")).await;
    until(&c, "location.pathname === '/driver/code'").await;
    let code = app.driver_code("thu.pham@example.vn");
    type_into(&c, "code", &code).await;
    click(&c, Locator::Id("sign-in")).await;
    until(&c, "location.pathname === '/driver/home'").await;
    assert_eq!(
        js(&c, "document.documentElement.lang").await,
        "vi",
        "the language stays"
    );
    assert_eq!(js(&c, "!!document.getElementById('bookings')").await, true);

    c.goto(&app.url("/driver/vehicles")).await.unwrap();
    type_into(&c, "plate", "12c12345").await;
    select(&c, "vehicle_type", "refrigerated").await;
    click(&c, Locator::Id("add-vehicle")).await;
    until(&c, "!!document.getElementById('vehicle-list')").await;
    let list = js(&c, "document.getElementById('vehicle-list').innerText").await;
    let list = list.as_str().unwrap();
    assert!(list.contains("12C-123.45") && list.contains("Xe đông lạnh"), "{list}");
    // Nothing wider than the phone.
    assert_eq!(
        js(&c, "document.documentElement.scrollWidth <= window.innerWidth").await,
        true
    );
    assert_eq!(axe(&c, "driver vehicles").await, Vec::<String>::new());
    c.c.clone().close().await.unwrap();
}
