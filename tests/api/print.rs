//! The printed permit, read back the way a scanner would: rasterised (hayro) at 150 and 300 dpi
//! and decoded (rxing), also after what cameras and pockets do to a card (rotation, blur,
//! creases); the QR's signed payload verified against the published key. Where poppler and zbar
//! are installed they check the text layer and decode a second time.

use base64::Engine;
use borderdesk::domain::seal::{self, SealBody, SealError};
use image::{GrayImage, Luma};
use rxing::BarcodeFormat;
use serde_json::{Value, json};

use crate::support::{TestApp, cn_id};
use crate::tools;

/// Verifies a scanned code against the keys served at /api/v1/keys.
pub fn verify_code(keys: &Value, code: &str) -> Result<SealBody, SealError> {
    let keys: Vec<(String, ed25519_dalek::VerifyingKey)> = keys
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(k["public_key"].as_str().unwrap())
                .unwrap();
            (
                k["kid"].as_str().unwrap().to_string(),
                ed25519_dalek::VerifyingKey::from_bytes(&raw.try_into().unwrap()).unwrap(),
            )
        })
        .collect();
    seal::verify(code, |id| {
        keys.iter()
            .find(|(kid, _)| *kid == seal::key_id_hex(id))
            .map(|(_, k)| *k)
    })
}

/// A permit issued to `traveller`, its application number and its PDF.
async fn printed(app: &TestApp, token: &str, traveller: Value) -> (Value, String, Vec<u8>) {
    let id = app.application(token, traveller).await;
    let application: Value = app
        .get(token, &format!("/api/v1/applications/{id}"))
        .await
        .json()
        .await
        .unwrap();
    let permit: Value = app.issue(token, &id, None).await.json().await.unwrap();
    let number = permit["number"].as_str().unwrap();
    let res = app.get(token, &format!("/api/v1/permits/{number}/pdf")).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    let pdf = res.bytes().await.unwrap().to_vec();
    assert!(pdf.starts_with(b"%PDF-"));
    (permit, application["number"].as_str().unwrap().to_string(), pdf)
}

fn holder(name_zh: &str, name_latin: &str, seq: u32) -> Value {
    json!({
        "name_zh": name_zh, "name_latin": name_latin, "nationality": "CHN", "sex": "F",
        "birth_date": "1990-03-07", "id_type": "cn_resident_id", "id_number": cn_id("19900307", seq)
    })
}

/// A tourism pass issued and printed at Pingxiang's hall, whose office prints on cards
/// (`permit_media: cr80`): the permit and its PDF.
async fn printed_card(app: &TestApp, traveller: Value) -> (Value, Vec<u8>) {
    app.officer_of("PXH", "pxh-li", "officer", &["border_tourism"]);
    let token = app.token_for("pxh-li");
    let (permit, _, pdf) = printed(app, &token, traveller).await;
    (permit, pdf)
}

#[actix_web::test]
async fn printed_codes_decode_and_verify() {
    let app = TestApp::spawn().await;
    let token = app.window();
    let (permit, application_number, pdf) = printed(&app, &token, holder("阮氏英", "Nguyễn Thị Ánh", 24)).await;
    let number = permit["number"].as_str().unwrap();
    let keys: Value = app.public_json("/api/v1/keys").await;

    let mut page_300 = None;
    for dpi in [150.0, 300.0] {
        let page = tools::rasterise(&pdf, dpi);
        assert_eq!(
            tools::decode(&page, BarcodeFormat::CODE_128).as_deref(),
            Some(number),
            "Code128 at {dpi} dpi"
        );
        let qr = tools::decode(&page, BarcodeFormat::QR_CODE).expect("the QR reads");
        assert_eq!(qr, permit["code"].as_str().unwrap(), "QR at {dpi} dpi");
        let body = verify_code(&keys, &qr).expect("QR payload verifies against the published key");
        assert_eq!(body.number, number);
        assert_eq!(body.holder, "NGUYỄN THỊ ÁNH");
        assert_eq!(seal::key_id_hex(body.key_id), permit["key_id"].as_str().unwrap());
        page_300 = Some(page);
    }

    // A second, independent decoder.
    if let Some(symbols) = tools::zbarimg(&page_300.unwrap(), "zbarimg as a second decoder") {
        assert!(
            symbols.iter().any(|s| s == number),
            "zbar reads the Code128: {symbols:?}"
        );
        assert!(
            symbols.iter().any(|s| s == permit["code"].as_str().unwrap()),
            "zbar reads the QR: {symbols:?}"
        );
    }

    // The text layer: both scripts, the full ID number (the guard matches it to the ID card),
    // Vietnamese labels, and the number the progress page asks for.
    if let Some(text) = tools::pdftotext(&pdf, &[], "the PDF text layer check") {
        for expected in [
            "阮氏英",
            "NGUYỄN THỊ ÁNH",
            &cn_id("19900307", 24),
            "Họ tên",
            "Số giấy tờ",
            "Thời hạn hiệu lực",
            "Số hồ sơ",
            &application_number,
        ] {
            assert!(text.contains(expected), "{expected:?} missing from {text}");
        }
    }
    // Off the document the number stays masked.
    let shown = app
        .get(&token, &format!("/api/v1/permits/{number}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(!shown.contains(&cn_id("19900307", 24)), "{shown}");
}

/// A word and its box (xMin, yMin, xMax, yMax; y down from the top).
type Word = (String, [f32; 4]);

/// Words from `pdftotext -bbox`: the page's size, and each word with its box.
fn bbox_words(html: &str) -> ((f32, f32), Vec<Word>) {
    let attr = |tag: &str, name: &str| -> f32 {
        let start = tag.find(&format!("{name}=\"")).expect(name) + name.len() + 2;
        tag[start..start + tag[start..].find('"').unwrap()].parse().unwrap()
    };
    let page_tag = &html[html.find("<page ").expect("a page")..];
    let page = (attr(page_tag, "width"), attr(page_tag, "height"));
    let words = html
        .split("<word ")
        .skip(1)
        .map(|w| {
            let (tag, rest) = w.split_once('>').unwrap();
            let text = rest.split_once("</word>").unwrap().0;
            let text = text.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">");
            (
                text,
                [
                    attr(tag, "xMin"),
                    attr(tag, "yMin"),
                    attr(tag, "xMax"),
                    attr(tag, "yMax"),
                ],
            )
        })
        .collect();
    (page, words)
}

#[actix_web::test]
async fn long_names_are_printed_whole_and_inside_the_card() {
    let app = TestApp::spawn().await;
    let token = app.window();
    let cases = [
        // 40 characters, the field trial's longest Latin name.
        ("阮氏英", "MUHAMMAD ABDURRAHMAN NGUYEN THI HOANG AN"),
        ("阿卜杜热合曼·买买提艾力·阿不都克力木", "ABDURAHMAN"),
        // The longest the form accepts: 32 and 64 characters.
        (
            "爱新觉罗溥仪爱新觉罗溥仪爱新觉罗溥仪爱新觉罗溥仪爱新觉罗溥仪爱新",
            "AISIN GIORO PUYI AISIN GIORO PUYI AISIN GIORO PUYI AISIN GIORO P",
        ),
    ];
    for (i, (zh, latin)) in cases.into_iter().enumerate() {
        assert!(latin.len() >= 10 && zh.chars().count() <= 32 && latin.len() <= 64);
        let (permit, _, pdf) = printed(&app, &token, holder(zh, latin, 30 + 2 * i as u32)).await;
        // The codes still read with the longest names.
        let page = tools::rasterise(&pdf, 150.0);
        assert_eq!(
            tools::decode(&page, BarcodeFormat::CODE_128).as_deref(),
            permit["number"].as_str()
        );
        let Some(html) = tools::pdftotext(&pdf, &["-bbox"], "the text position check") else {
            continue;
        };
        let ((w, h), words) = bbox_words(&html);
        for (word, [x0, y0, x1, y1]) in &words {
            assert!(
                *x0 >= 0.0 && *y0 >= 0.0 && *x1 <= w && *y1 <= h,
                "{word:?} at {x0},{y0}–{x1},{y1} runs off the {w}×{h} card"
            );
        }
        // Every word of the Latin name, and the Chinese name in one or two pieces, in the
        // same region of the card (left of the photo, below the header).
        let in_name_box = |[x0, y0, x1, _]: [f32; 4]| x1 < w * 0.78 && x0 < w * 0.78 && y0 > h * 0.15 && y0 < h * 0.35;
        let name_words: Vec<&String> = words.iter().filter(|(_, b)| in_name_box(*b)).map(|(t, _)| t).collect();
        for part in latin.split(' ') {
            assert!(name_words.iter().any(|t| *t == part), "{part:?} not in {name_words:?}");
        }
        let zh_printed: String = name_words
            .iter()
            .filter(|t| !t.is_ascii())
            .map(|t| t.as_str())
            .collect::<Vec<_>>()
            .concat();
        assert!(zh_printed.contains(zh), "{zh} not whole in {name_words:?}");
    }
}

/// `img` turned by `degrees` about its centre on a canvas large enough to keep every corner
/// (bilinear; white outside). Written here: imageproc would bring nalgebra and more for this.
fn rotate(img: &GrayImage, degrees: f32) -> GrayImage {
    let (w, h) = (img.width() as f32, img.height() as f32);
    let (s, c) = degrees.to_radians().sin_cos();
    let nw = (w * c.abs() + h * s.abs()).ceil() as u32 + 2;
    let nh = (w * s.abs() + h * c.abs()).ceil() as u32 + 2;
    let at = |x: i64, y: i64| -> f32 {
        if x < 0 || y < 0 || x >= img.width() as i64 || y >= img.height() as i64 {
            255.0
        } else {
            f32::from(img.get_pixel(x as u32, y as u32)[0])
        }
    };
    GrayImage::from_fn(nw, nh, |x, y| {
        let (dx, dy) = (x as f32 - nw as f32 / 2.0, y as f32 - nh as f32 / 2.0);
        let sx = c * dx + s * dy + w / 2.0;
        let sy = -s * dx + c * dy + h / 2.0;
        let (x0, y0) = (sx.floor(), sy.floor());
        let (fx, fy) = (sx - x0, sy - y0);
        let (x0, y0) = (x0 as i64, y0 as i64);
        let top = at(x0, y0) * (1.0 - fx) + at(x0 + 1, y0) * fx;
        let bottom = at(x0, y0 + 1) * (1.0 - fx) + at(x0 + 1, y0 + 1) * fx;
        Luma([(top * (1.0 - fy) + bottom * fy).round() as u8])
    })
}

/// A crease `width` px wide along x = `at` (vertical) or y = `at`: the ink cracked and paled
/// across it, a dark line of shadow down its middle.
fn crease(img: &mut GrayImage, at: u32, width: u32, vertical: bool) {
    let (w, h) = img.dimensions();
    for y in 0..h {
        for x in 0..w {
            let d = if vertical { x.abs_diff(at) } else { y.abs_diff(at) };
            if d <= width / 2 {
                let p = img.get_pixel_mut(x, y);
                p[0] = if d == 0 { 40 } else { 255 - (255 - p[0]) / 3 };
            }
        }
    }
}

/// A hard shadow (a hand, a cap's peak) over everything right of x = `from` and below
/// y = `below`: the paper and the ink at 40 % of their light.
fn shadow(img: &GrayImage, from: u32, below: u32) -> GrayImage {
    let mut out = img.clone();
    for (x, y, p) in out.enumerate_pixels_mut() {
        if x >= from && y >= below {
            p[0] = (u16::from(p[0]) * 2 / 5) as u8;
        }
    }
    out
}

/// Ink spread by a pixel right and down, as a cheap printer's toner does.
fn spread(img: &GrayImage) -> GrayImage {
    GrayImage::from_fn(img.width(), img.height(), |x, y| {
        let at = |x: u32, y: u32| img.get_pixel(x, y)[0];
        Luma([at(x, y).min(at(x.saturating_sub(1), y)).min(at(x, y.saturating_sub(1)))])
    })
}

/// Never a wrong read: each code decodes to exactly the number and exactly the signed code, or
/// (where `must` is false) to nothing.
fn reads(img: &GrayImage, (number, c128_must): (&str, bool), (code, qr_must): (&str, bool), what: &str) {
    let c128 = tools::decode(img, BarcodeFormat::CODE_128);
    let qr = tools::decode(img, BarcodeFormat::QR_CODE);
    if c128_must || c128.is_some() {
        assert_eq!(c128.as_deref(), Some(number), "Code128 {what}");
    }
    if qr_must || qr.is_some() {
        assert_eq!(qr.as_deref(), Some(code), "QR {what}");
    }
}

#[actix_web::test]
async fn codes_survive_rotation_blur_creases_and_shadow() {
    let app = TestApp::spawn().await;
    let token = app.window();
    let (permit, _, pdf) = printed(&app, &token, holder("张伟", "ZHANG WEI", 40)).await;
    let number = permit["number"].as_str().unwrap();
    let code = permit["code"].as_str().unwrap();

    for dpi in [150.0, 300.0] {
        let page = tools::rasterise(&pdf, dpi);
        let px = |mm: f32| (mm / 25.4 * dpi).round() as u32;
        let mut creased = page.clone();
        // The card's centre fold, a 3 mm crease down the middle of the QR, one across both codes.
        crease(&mut creased, px(74.0), px(3.0), true);
        crease(&mut creased, px(123.0), px(3.0), true);
        crease(&mut creased, px(81.0), px(3.0), false);
        let blurred = image::imageops::blur(&page, 1.5);
        // (what, image, the Code128 must read, the QR must read)
        let mut cases = vec![
            ("turned 10°", rotate(&page, 10.0), true, true),
            ("turned -15°", rotate(&page, -15.0), true, true),
            ("creased", creased, true, true),
            ("with ink spread 1 px", spread(&page), true, true),
            // Over a quarter of the QR, the shadow's edges through its middle both ways.
            ("in hard shadow", shadow(&page, px(123.0), px(81.0)), true, true),
            (
                "turned 15° and blurred σ 1.5 px",
                rotate(&blurred, 15.0),
                dpi >= 300.0,
                true,
            ),
            // At 150 dpi a 0.30 mm module is 1.8 px: a blur of σ 1.5 px (0.25 mm) smears the
            // narrow spaces away. The same physical blur as σ 1.5 px at 300 dpi is σ 0.75 px.
            ("blurred σ 1.5 px", blurred, dpi >= 300.0, true),
            (
                "blurred σ 1.0 px",
                image::imageops::blur(&page, 1.0),
                dpi >= 300.0,
                true,
            ),
            ("blurred σ 0.75 px", image::imageops::blur(&page, 0.75), true, true),
        ];
        if dpi < 300.0 {
            let soft = image::imageops::blur(&page, 0.75);
            cases.push(("turned 10° and blurred σ 0.75 px", rotate(&soft, 10.0), true, true));
        }
        for (what, img, c128_reads, qr_reads) in cases {
            reads(
                &img,
                (number, c128_reads),
                (code, qr_reads),
                &format!("{what} at {dpi} dpi"),
            );
        }
    }
}

#[actix_web::test]
async fn a_revoked_pass_prints_with_a_banner_in_three_languages() {
    let app = TestApp::spawn().await;
    let officer = app.window();
    let boss = app.boss();
    let permit = app.issued_permit(&officer).await;
    let number = permit["number"].as_str().unwrap();
    let before = app
        .get(&officer, &format!("/api/v1/permits/{number}/pdf"))
        .await
        .bytes()
        .await
        .unwrap();
    let res = app
        .post_json(
            &boss,
            &format!("/api/v1/permits/{number}/revoke"),
            &serde_json::json!({"reason": "lost"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let after = app
        .get(&officer, &format!("/api/v1/permits/{number}/pdf"))
        .await
        .bytes()
        .await
        .unwrap();
    let (Some(before), Some(after)) = (
        crate::tools::pdftotext(&before, &[], "the revoked banner"),
        crate::tools::pdftotext(&after, &[], "the revoked banner"),
    ) else {
        return;
    };
    assert!(!before.contains("NOT VALID"), "{before}");
    for words in ["已吊销", "ĐÃ THU HỒI", "REVOKED", "NOT VALID"] {
        assert!(after.contains(words), "{words} missing: {after}");
    }
}

/// An office printing on its card printer (Pingxiang, `permit_media: cr80` in the policy): the
/// permit is a card's two sides at 85.6 × 54 mm; the front's Code128 and QR read at 150 and
/// 300 dpi and the QR verifies; the back carries the enterprise and plates of a trade pass.
#[actix_web::test]
async fn an_office_with_a_card_printer_prints_both_sides_of_a_card_that_scans() {
    let app = TestApp::spawn().await;
    let (permit, pdf) = printed_card(&app, holder("阮氏英", "Nguyễn Thị Ánh", 32)).await;
    let number = permit["number"].as_str().expect("number");
    assert!(number.contains("-PXH-"), "{number}");
    let doc = hayro::hayro_syntax::Pdf::new(pdf.clone()).expect("a readable PDF");
    assert_eq!(doc.pages().len(), 2, "front and back");
    let keys: Value = app.public_json("/api/v1/keys").await;
    for dpi in [150.0, 300.0] {
        let front = tools::rasterise(&pdf, dpi);
        let (w, h) = front.dimensions();
        let mm = |px: u32| px as f32 * 25.4 / dpi;
        assert!(
            (mm(w) - 85.6).abs() < 0.5 && (mm(h) - 54.0).abs() < 0.5,
            "{w}×{h} at {dpi} dpi"
        );
        assert_eq!(
            tools::decode(&front, BarcodeFormat::CODE_128).as_deref(),
            Some(number),
            "Code128 at {dpi} dpi"
        );
        let qr = tools::decode(&front, BarcodeFormat::QR_CODE).expect("the QR reads");
        assert_eq!(qr, permit["code"].as_str().expect("code"), "QR at {dpi} dpi");
        let body = verify_code(&keys, &qr).expect("verifies against the published key");
        assert_eq!(body.number, number);
    }
    if let Some(text) = tools::pdftotext(&pdf, &[], "the card's text layer") {
        for expected in [
            "阮氏英",
            "NGUYỄN THỊ ÁNH",
            &cn_id("19900307", 32),
            "Cơ quan cấp",
            "Mặt sau",
        ] {
            assert!(text.contains(expected), "{expected:?} missing from {text}");
        }
    }
}

/// The card (Pingxiang's card printer) after what cameras and pockets do, held to what its
/// smaller codes measurably do (the A6 permit's test holds more): never a wrong read; both codes
/// creased, in hard shadow and blurred σ 0.75 px at 150 and 300 dpi; with ink spread the
/// Code128 at both, the QR at 300 dpi; the QR turned 10° and 15°; blurred σ 1.0–1.5 px both
/// codes at 300 dpi only. The Code128's bars are 8 mm tall across 60-odd mm, so a turn of 10°
/// takes a scan line off the bars before it crosses them: a turned card is read by its QR (a hand
/// scanner aims along the bars).
#[actix_web::test]
async fn card_codes_survive_creases_shadow_and_blur_and_the_qr_rotation() {
    let app = TestApp::spawn().await;
    let (permit, pdf) = printed_card(&app, holder("张伟", "ZHANG WEI", 42)).await;
    let number = permit["number"].as_str().unwrap();
    let code = permit["code"].as_str().unwrap();
    for dpi in [150.0, 300.0] {
        let page = tools::rasterise(&pdf, dpi);
        let px = |mm: f32| (mm / 25.4 * dpi).round() as u32;
        let mut creased = page.clone();
        // A crease down the middle of the QR, and one across both codes.
        crease(&mut creased, px(72.6), px(3.0), true);
        crease(&mut creased, px(45.0), px(3.0), false);
        let blurred = image::imageops::blur(&page, 1.5);
        let sharp = dpi >= 300.0;
        // (what, image, the Code128 must read, the QR must read)
        let cases = vec![
            ("turned 10°", rotate(&page, 10.0), false, true),
            ("turned -15°", rotate(&page, -15.0), false, true),
            ("creased", creased, true, true),
            // At 150 dpi a pixel of spread closes up to half of a 0.4 mm module's white:
            // whether the QR still reads depends on its pattern (one CI run's code did not;
            // 40 local runs' codes did).
            ("with ink spread 1 px", spread(&page), true, sharp),
            ("in hard shadow", shadow(&page, px(72.6), px(27.5)), true, true),
            ("turned 15° and blurred σ 1.5 px", rotate(&blurred, 15.0), false, sharp),
            ("blurred σ 1.5 px", blurred, sharp, sharp),
            ("blurred σ 1.0 px", image::imageops::blur(&page, 1.0), sharp, sharp),
            ("blurred σ 0.75 px", image::imageops::blur(&page, 0.75), true, true),
        ];
        for (what, img, c128_reads, qr_reads) in cases {
            reads(
                &img,
                (number, c128_reads),
                (code, qr_reads),
                &format!("{what} at {dpi} dpi"),
            );
        }
    }
}
