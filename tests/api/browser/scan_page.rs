//! The scan page as checkpoint staff use it: the scan field empty and focused after every
//! verdict (the next keyboard-wedge scan goes to whatever has focus), each verdict stamped with
//! the code's tail and the time, ageing and then cleared; a QR read through the camera (a fake
//! one fed a Y4M file); the verdict card whole on a 390×844 phone; axe-core at zero violations.

use fantoccini::{Client, Locator, key::Key};
use serde_json::{Value, json};

use super::{Browser, axe, click, js, until};
use crate::support::{ALL_TRADE_ITEMS, TestApp, trade, traveller};

/// Types a code as a keyboard-wedge scanner does: into whatever has focus, then Enter.
async fn wedge(c: &Client, code: &str) {
    c.active_element()
        .await
        .expect("a focused element")
        .send_keys(&format!("{code}{}", char::from(Key::Enter)))
        .await
        .expect("typing");
}

fn tail(code: &str) -> String {
    let chars: Vec<char> = code.chars().collect();
    let t: String = chars[chars.len().saturating_sub(6)..].iter().collect();
    if chars.len() > 6 { format!("…{t}") } else { t }
}

/// Waits for the verdict of `code` (its tail in the stamp) and returns the card's text.
async fn verdict_for(c: &Client, code: &str) -> String {
    until(
        c,
        &format!(
            "(document.querySelector('#verdict .stamp .mono') || {{}}).textContent === {}",
            json!(tail(code))
        ),
    )
    .await;
    js(c, "document.querySelector('#verdict').innerText")
        .await
        .as_str()
        .unwrap_or_default()
        .to_string()
}

async fn focused_and_empty(c: &Client) -> bool {
    js(
        c,
        "document.activeElement && document.activeElement.id === 'code' && document.activeElement.value === ''",
    )
    .await
        == json!(true)
}

#[actix_web::test]
async fn after_each_verdict_the_field_is_focused_and_empty_and_the_verdict_is_stamped_then_cleared() {
    let app = TestApp::spawn_with(|s| s.verdict_clear_seconds = 3).await;
    let officer = app.window();
    let (user, password) = app.officer("lane2", "checkpoint", &[]);
    let a = app.issued_permit(&officer).await;
    let b = app.issued_permit(&officer).await;
    let Some(c) = Browser::start("scan_page_focus", (1024, 900), &[]).await else {
        return;
    };
    c.open_as(&app, &user, &password, "/checkpoint?lane=YYG-C2").await;
    let live = js(
        &c,
        "[document.getElementById('verdict').getAttribute('role'), document.getElementById('verdict').getAttribute('aria-live')]",
    )
    .await;
    assert_eq!(live, json!(["status", "polite"]), "the verdict is announced");
    assert!(focused_and_empty(&c).await, "focused on arrival");

    let cases = [
        (a["code"].as_str().unwrap().to_string(), "放行 ADMIT"),
        (a["number"].as_str().unwrap().to_string(), "拒绝 REJECT"),
        (b["number"].as_str().unwrap().to_string(), "放行 ADMIT"),
        ("NOT A PERMIT".to_string(), "拒绝 REJECT"),
    ];
    for (i, (code, word)) in cases.iter().enumerate() {
        // No click, no finding the field: the scanner types into what has focus.
        wedge(&c, code).await;
        let shown = verdict_for(&c, code).await;
        assert!(shown.contains(word), "scan {i}: {shown}");
        assert!(
            focused_and_empty(&c).await,
            "scan {i}: the field is ready for the next scan"
        );
        let time = js(&c, "document.querySelector('#verdict .stamp time').textContent").await;
        assert!(
            time.as_str()
                .is_some_and(|t| t.len() == 8 && t.as_bytes()[2] == b':' && t.as_bytes()[5] == b':'),
            "HH:MM:SS, got {time}"
        );
        assert!(shown.contains("s ago"), "scan {i}: {shown}");
        assert_eq!(
            js(
                &c,
                "document.querySelector('#verdict .ago').getAttribute('aria-hidden')"
            )
            .await,
            "true",
            "the ticking age is not announced again and again"
        );
    }
    // The page stayed where it was (no reload), and the hall recorded every scan.
    assert_eq!(
        js(&c, "document.querySelectorAll('#recent tbody tr').length").await,
        json!(4)
    );
    // With BORDERDESK_VERDICT_CLEAR_SECONDS=3 the verdict greys, then is cleared.
    until(&c, "document.querySelector('#verdict .card.aged')").await;
    until(
        &c,
        "document.querySelector('#verdict .idle') && !document.querySelector('#verdict .card')",
    )
    .await;
    assert!(focused_and_empty(&c).await);
    c.c.clone().close().await.unwrap();
    assert_eq!(app.count("crossings"), 4);
}

/// A Y4M video (4:2:0) of white frames with `code` as a QR in the middle: what Chromium's fake
/// camera plays in a loop.
fn qr_video(code: &str, path: &std::path::Path) {
    let qr = qrcode::QrCode::new(code.as_bytes()).expect("fits a QR code");
    let (w, h, scale) = (640usize, 480usize, 5usize);
    let modules = qr.width();
    let colors = qr.to_colors();
    let side = modules * scale;
    assert!(side + 8 * scale <= h, "the QR fits the frame with its quiet zone");
    let (x0, y0) = ((w - side) / 2, (h - side) / 2);
    let mut luma = vec![235u8; w * h];
    for (i, color) in colors.iter().enumerate() {
        if *color == qrcode::Color::Dark {
            let (mx, my) = (i % modules, i / modules);
            for y in 0..scale {
                let row = (y0 + my * scale + y) * w;
                luma[row + x0 + mx * scale..row + x0 + (mx + 1) * scale].fill(16);
            }
        }
    }
    let chroma = vec![128u8; (w / 2) * (h / 2)];
    let mut out = format!("YUV4MPEG2 W{w} H{h} F10:1 Ip A1:1 C420jpeg\n").into_bytes();
    for _ in 0..3 {
        out.extend_from_slice(b"FRAME\n");
        out.extend_from_slice(&luma);
        out.extend_from_slice(&chroma);
        out.extend_from_slice(&chroma);
    }
    std::fs::write(path, out).expect("video written");
}

#[actix_web::test]
async fn a_qr_shown_to_the_camera_is_scanned_like_a_typed_code() {
    let app = TestApp::spawn().await;
    let officer = app.window();
    let (user, password) = app.officer("lane3", "checkpoint", &[]);
    let permit = app.issued_permit(&officer).await;
    let code = permit["code"].as_str().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let video = dir.path().join("qr.y4m");
    qr_video(&code, &video);
    let flags = [
        "--use-fake-device-for-media-stream".to_string(),
        "--use-fake-ui-for-media-stream".into(),
        format!("--use-file-for-fake-video-capture={}", video.display()),
    ];
    let Some(c) = Browser::start("scan_page_camera", (390, 844), &flags).await else {
        return;
    };
    c.open_as(&app, &user, &password, "/checkpoint?lane=YYG-C3").await;
    until(&c, "!document.getElementById('camera-open').hidden").await;
    assert_eq!(
        js(&c, "typeof window.jsQR").await,
        "undefined",
        "the decoder is loaded only when the camera is used"
    );
    click(&c, Locator::Id("camera-open")).await;
    let shown = verdict_for(&c, &code).await;
    assert!(shown.contains("放行 ADMIT") && shown.contains("ZHANG WEI"), "{shown}");
    assert!(focused_and_empty(&c).await, "back to the field after a camera scan");
    assert_eq!(
        js(&c, "document.getElementById('camera-view').hidden").await,
        json!(true),
        "the camera is closed once it has read a code"
    );
    let decoder = js(&c, "document.getElementById('scan-form').dataset.decoder").await;
    if js(&c, "'BarcodeDetector' in window").await == json!(false) {
        // Desktop Linux Chromium has none: the bundled jsQR read the code.
        assert_eq!(decoder, "jsQR");
        assert_eq!(js(&c, "typeof window.jsQR").await, "function");
    } else {
        assert!(decoder == "jsQR" || decoder == "BarcodeDetector", "{decoder}");
    }
    c.c.clone().close().await.unwrap();
    let p = app.permit(&officer, permit["number"].as_str().unwrap()).await;
    assert_eq!(p["entries_used"], 1, "recorded by the hall as a scanned exit");
}

/// A trade pass with a 40-letter Latin name (one word: the worst case for wrapping), a portrait
/// and two plates.
async fn trade_pass_with_portrait(app: &TestApp) -> Value {
    let li = app.token("li", "officer", &["border_trade"]);
    let wang = app.token("wang", "supervisor", &["border_trade"]);
    let mut t = traveller(7);
    t["name_latin"] = json!("HUYNHNGUYENTHITHANHHUONGPHAMLEDANGTRANVO");
    assert_eq!(t["name_latin"].as_str().unwrap().len(), 40);
    let id = app.take(&li, &trade(t, json!(["桂F 12345", "12C-123.45"]))).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.portrait(&li, &id).await;
    app.accept(&li, &id, &ALL_TRADE_ITEMS).await;
    app.approve(&wang, &id).await;
    app.issued(&wang, &id).await
}

#[actix_web::test]
async fn the_verdict_card_fits_a_phone_screen_and_the_page_passes_axe() {
    let app = TestApp::spawn().await;
    let permit = trade_pass_with_portrait(&app).await;
    let (user, password) = app.officer("lane4", "checkpoint", &[]);
    let Some(c) = Browser::start("scan_page_phone", (390, 844), &[]).await else {
        return;
    };
    c.open_as(&app, &user, &password, "/checkpoint?lane=YYG-C4").await;
    assert_eq!(
        js(&c, "[window.innerWidth, window.innerHeight]").await,
        json!([390, 844])
    );
    assert_eq!(
        axe(&c, "checkpoint (phone)").await,
        Vec::<String>::new(),
        "WCAG 2.1 A/AA"
    );
    let code = permit["code"].as_str().unwrap();
    wedge(&c, code).await;
    let shown = verdict_for(&c, code).await;
    assert!(shown.contains("HUYNHNGUYENTHITHANHHUONGPHAMLEDANGTRANVO"), "{shown}");
    assert!(shown.contains("桂F12345"), "{shown}");
    until(&c, "document.querySelector('#verdict img.portrait').complete && document.querySelector('#verdict img.portrait').naturalWidth > 0").await;
    // Each part of the card lies inside the viewport, with nothing scrolled and nothing wider
    // than the screen.
    let placed = js(
        &c,
        "['.verdict', '.stamp', 'img.portrait', '.who', '.valid', '.vehicle'].map((s) => {
           const e = document.querySelector('#verdict ' + s);
           if (!e) return s + ': missing';
           const r = e.getBoundingClientRect();
           return r.top >= 0 && r.left >= 0 && r.bottom <= window.innerHeight && r.right <= window.innerWidth
             ? 'ok' : s + ': ' + JSON.stringify([r.left, r.top, r.right, r.bottom]);
         })",
    )
    .await;
    assert_eq!(placed, json!(["ok", "ok", "ok", "ok", "ok", "ok"]));
    assert_eq!(
        js(&c, "[window.scrollX, window.scrollY]").await,
        json!([0, 0]),
        "not scrolled"
    );
    assert_eq!(
        js(&c, "document.documentElement.scrollWidth <= window.innerWidth").await,
        json!(true),
        "no horizontal overflow"
    );
    assert!(focused_and_empty(&c).await);
    assert_eq!(
        axe(&c, "checkpoint with a verdict (phone)").await,
        Vec::<String>::new(),
        "WCAG 2.1 A/AA"
    );
    c.c.clone().close().await.unwrap();
}

/// Offline, a typed permit number is not a rejection: the page says it cannot be verified here
/// and asks for the QR. A return on a pass that has expired is admitted with the overstay
/// warning (an exit on it is refused), and the warning reaches the hall with the upload.
#[actix_web::test]
async fn offline_a_typed_number_asks_for_the_qr_and_an_expired_pass_lets_its_holder_home() {
    let app = TestApp::spawn().await;
    let officer = app.window();
    let (user, password) = app.officer("lane6", "checkpoint", &[]);
    let permit = app.issued_permit(&officer).await;
    let (code, number) = (
        permit["code"].as_str().unwrap().to_string(),
        permit["number"].as_str().unwrap().to_string(),
    );
    let Some(c) = Browser::start("scan_page_offline_rules", (390, 844), &[]).await else {
        return;
    };
    c.open_as(&app, &user, &password, "/checkpoint?lane=YYG-C6").await;
    until(&c, "localStorage.getItem('bd-trust')").await;
    let outage = app.outage().await;

    wedge(&c, &number).await;
    let shown = verdict_for(&c, &number).await;
    assert!(
        shown.contains("CANNOT VERIFY") && shown.contains("scan the QR") && !shown.contains("REJECT"),
        "{shown}"
    );
    assert_eq!(
        js(&c, "document.querySelector('#verdict .verdict').className").await,
        "verdict unverified"
    );
    assert!(focused_and_empty(&c).await);

    // The device's clock 120 days on: the 3-month pass has expired.
    js(
        &c,
        "(() => { const real = Date.now; Date.now = () => real() + 120 * 86400000; return true; })()",
    )
    .await;
    js(&c, "(() => { document.getElementById('direction').value = 'exit'; document.getElementById('code').focus(); return true; })()").await;
    wedge(&c, &code).await;
    let shown = verdict_for(&c, &code).await;
    assert!(shown.contains("REJECT") && shown.contains("expired"), "{shown}");
    js(&c, "(() => { document.getElementById('direction').value = 'entry'; document.getElementById('code').focus(); return true; })()").await;
    wedge(&c, &code).await;
    until(&c, "document.querySelector('#verdict .warning')").await;
    let shown = js(&c, "document.querySelector('#verdict').innerText").await;
    let shown = shown.as_str().unwrap();
    assert!(
        shown.contains("ADMIT") && shown.contains("Overstay") && shown.contains("OFFLINE"),
        "{shown}"
    );
    assert!(focused_and_empty(&c).await);
    let queued = js(&c, "JSON.parse(localStorage.getItem('bd-queue'))").await;
    assert_eq!(
        queued
            .as_array()
            .unwrap()
            .iter()
            .map(|q| (q["reason"].as_str().unwrap(), q["warning"].as_str()))
            .collect::<Vec<_>>(),
        [
            ("unverifiable_offline", None),
            ("expired", None),
            ("ok", Some("overstay"))
        ]
    );

    let app = outage.end().await;
    c.goto(&app.url("/checkpoint?lane=YYG-C6")).await.unwrap();
    until(&c, "JSON.parse(localStorage.getItem('bd-queue') || '[]').length === 0").await;
    c.c.clone().close().await.unwrap();
    let trail = app.audit("permit", &number);
    let overstay: Vec<Value> = trail
        .iter()
        .filter(|r| r.action == "permit.overstay")
        .map(|r| serde_json::from_str(r.after_json.as_deref().unwrap()).unwrap())
        .collect();
    assert_eq!(overstay.len(), 1, "the overstay is on record");
    assert_eq!(
        (&overstay[0]["warning"], &overstay[0]["offline"]),
        (&json!("overstay"), &json!(true))
    );
}
