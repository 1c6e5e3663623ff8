//! Portrait uploads from a hostile sender (issue 9): image bombs, cut-off files.

use borderdesk::clock::Clock;
use serde_json::Value;

use crate::support::{TestApp, traveller};

fn jpeg(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 90]));
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85)
        .encode_image(&img)
        .expect("jpeg");
    out
}

/// A JPEG whose frame header claims 10000×10000: the lenient decoder allocated all of it
/// (300 MB) and painted the missing pixels grey.
fn jpeg_bomb() -> Vec<u8> {
    let mut bomb = jpeg(320, 400);
    let sof = bomb.windows(2).position(|m| m == [0xFF, 0xC0]).expect("SOF0");
    bomb[sof + 5..sof + 7].copy_from_slice(&10_000u16.to_be_bytes());
    bomb[sof + 7..sof + 9].copy_from_slice(&10_000u16.to_be_bytes());
    bomb
}

/// A real PNG of 10000×10000 blank pixels (8-bit RGB, or 16-bit RGBA: 800 MB decoded), a few
/// hundred KB on the wire, written row by row so the test itself never holds the pixels.
fn png_bomb(sixteen_bit: bool) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, 10_000, 10_000);
        if sixteen_bit {
            enc.set_color(png::ColorType::Rgba);
            enc.set_depth(png::BitDepth::Sixteen);
        } else {
            enc.set_color(png::ColorType::Rgb);
            enc.set_depth(png::BitDepth::Eight);
        }
        enc.set_compression(png::Compression::Fast);
        let mut writer = enc.write_header().expect("header");
        let mut stream = writer.stream_writer().expect("stream");
        let row = vec![0u8; if sixteen_bit { 80_000 } else { 30_000 }];
        for _ in 0..10_000 {
            std::io::Write::write_all(&mut stream, &row).expect("row");
        }
        stream.finish().expect("finish");
    }
    out
}

/// The process's resident set now and its peak since the last reset (kB); the test app runs in
/// this process.
fn memory_kb(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("memory field")
}

#[actix_web::test]
async fn image_bombs_four_at_once_are_refused_within_bounded_memory() {
    // Made before the first request: writing them takes seconds, longer than the server keeps
    // an idle connection open, and a pooled connection it closed would fail the upload.
    let bombs = [
        ("image/png", png_bomb(false)),
        ("image/png", png_bomb(true)),
        ("image/jpeg", jpeg_bomb()),
        ("image/png", png_bomb(false)),
    ];
    let app = TestApp::spawn().await;
    let officer = app.window();
    let id = app.application(&officer, traveller(3)).await;
    let url = app.url(&format!("/api/v1/applications/{id}/portrait"));
    // Within the upload limit (12 MB): what stops them must be their declared size.
    assert!(
        bombs.iter().all(|(_, b)| b.len() < 12_000_000),
        "within the upload limit"
    );
    // Peak measured from here: writing 5 to clear_refs resets VmHWM to the current RSS.
    std::fs::write("/proc/self/clear_refs", "5").expect("reset peak");
    let baseline = memory_kb("VmRSS:");
    let sends = bombs.iter().map(|(ctype, body)| {
        app.client
            .put(&url)
            .bearer_auth(&officer)
            .header("Content-Type", *ctype)
            .body(body.clone())
            .send()
    });
    let mut answers = Vec::new();
    for res in futures::future::join_all(sends).await {
        let res = res.expect("answered");
        let status = res.status().as_u16();
        let retry_after = res.headers().contains_key("retry-after");
        answers.push((status, retry_after, res.text().await.expect("body")));
    }
    let peak = memory_kb("VmHWM:");
    // The old code reached 810 MB for one 8-bit bomb and 2.9 GB for four; the bodies themselves
    // are a few MB each. Other tests share the process, hence a generous bound.
    let grew_mb = peak.saturating_sub(baseline) / 1024;
    assert!(grew_mb < 200, "peak {grew_mb} MB above the baseline");
    for (status, retry_after, body) in answers {
        // Refused by size, or (when every slot is busy) told to come back: never decoded.
        assert!(status == 422 || status == 503, "{status}");
        if status == 422 {
            let problem: Value = serde_json::from_str(&body).expect("problem");
            assert_eq!(problem["errors"][0]["field"], "photo", "{problem}");
            assert_eq!(problem["errors"][0]["rule"], "max_pixels", "{problem}");
        } else {
            assert!(retry_after);
        }
    }
    assert_eq!(app.count("portraits"), 0);
}

#[actix_web::test]
async fn a_cut_off_jpeg_is_refused_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let officer = app.window();
    let id = app.application(&officer, traveller(4)).await;
    let url = app.url(&format!("/api/v1/applications/{id}/portrait"));
    let whole = jpeg(600, 800);
    for cut in [700, whole.len() / 2] {
        let res = app
            .client
            .put(&url)
            .bearer_auth(&officer)
            .header("Content-Type", "image/jpeg")
            .body(whole[..cut].to_vec())
            .send()
            .await
            .expect("answered");
        assert_eq!(res.status(), 422, "cut at {cut}");
        let problem: Value = res.json().await.expect("problem");
        assert_eq!(problem["errors"][0]["rule"], "image", "{problem}");
    }
    assert_eq!(app.count("portraits"), 0);
    let res = app
        .client
        .put(&url)
        .bearer_auth(&officer)
        .header("Content-Type", "image/jpeg")
        .body(whole)
        .send()
        .await
        .expect("answered");
    assert_eq!(res.status(), 204, "the whole photo is taken");
    assert_eq!(app.count("portraits"), 1);
}

/// The quality lines' verdicts by check, from a draft's JSON.
fn verdicts(draft: &Value) -> Vec<(String, String)> {
    draft["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .map(|l| {
            (
                l["check"].as_str().unwrap_or("").to_string(),
                l["verdict"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// Issue 13: a photo is checked (background, exposure, sharpness, size) and its crop adjusted
/// before it is saved; the saved photo is exactly the box; refused input changes nothing.
#[actix_web::test]
async fn a_photo_is_checked_its_box_moved_and_the_box_saved() {
    let app = TestApp::spawn().await;
    let officer = app.window();
    let id = app.application(&officer, traveller(6)).await;
    let draft_url = app.url(&format!("/api/v1/applications/{id}/portrait/draft"));
    let put = |body: Vec<u8>| {
        app.client
            .put(&draft_url)
            .bearer_auth(&officer)
            .header("Content-Type", "image/png")
            .body(body)
            .send()
    };

    // A grey wall and a shaking hand: warned on those two lines only, and nothing is saved yet.
    let res = put(crate::support::sitting([120, 125, 130], true))
        .await
        .expect("answered");
    assert_eq!(res.status(), 200);
    let draft: Value = res.json().await.expect("draft");
    assert_eq!(
        verdicts(&draft),
        [
            ("background".into(), "warn".into()),
            ("exposure".into(), "pass".into()),
            ("sharpness".into(), "warn".into()),
            ("size".into(), "pass".into())
        ]
    );
    assert_eq!(app.count("portraits"), 0);

    // Taken again against the white wall, held still: every line passes.
    let res = put(crate::support::sitting([250, 250, 250], false))
        .await
        .expect("answered");
    assert_eq!(res.status(), 200);
    let draft: Value = res.json().await.expect("draft");
    assert!(verdicts(&draft).iter().all(|(_, v)| v == "pass"), "{draft}");
    assert_eq!(
        (draft["width"].as_u64(), draft["height"].as_u64()),
        (Some(1500), Some(1000))
    );
    // The centred box: full height, 33 wide to 48 high.
    assert_eq!(draft["crop"], serde_json::json!({"x": 406, "y": 0, "height": 1000}));
    assert_eq!(app.count("portrait_drafts"), 1, "the retake replaced the first");

    // Nudged left (the head is left of the middle), then made closer.
    let res = app
        .get(
            &officer,
            &format!("/api/v1/applications/{id}/portrait/draft?x=406&y=0&height=1000&nudge=left"),
        )
        .await;
    assert_eq!(res.status(), 200);
    let moved: Value = res.json().await.expect("draft");
    assert_eq!(moved["crop"], serde_json::json!({"x": 356, "y": 0, "height": 1000}));
    let res = app
        .get(
            &officer,
            &format!("/api/v1/applications/{id}/portrait/draft?x=356&y=0&height=1000&nudge=closer"),
        )
        .await;
    let closer: Value = res.json().await.expect("draft");
    assert_eq!(closer["crop"]["height"], 900);
    // A box off the picture or half a box is refused naming the field.
    for (query, field) in [
        ("x=900&y=0&height=1000", "crop.x"),
        ("x=0&y=200&height=1000", "crop.y"),
        ("x=0&y=0&height=20", "crop.height"),
        ("x=0", "crop"),
        ("nudge=sideways", "nudge"),
    ] {
        let res = app
            .get(&officer, &format!("/api/v1/applications/{id}/portrait/draft?{query}"))
            .await;
        assert_eq!(res.status(), 422, "{query}");
        let problem: Value = res.json().await.expect("problem");
        assert_eq!(problem["errors"][0]["field"], field, "{query}: {problem}");
    }

    // The working picture as the page draws it.
    let res = app
        .get(&officer, &format!("/api/v1/applications/{id}/portrait/draft/image"))
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "private, no-store");
    let picture = image::load_from_memory(&res.bytes().await.expect("jpeg"))
        .expect("decodes")
        .to_rgb8();
    assert_eq!(picture.dimensions(), (1500, 1000));

    // Saving a box off the picture changes nothing.
    let audit = app.count("audit_log");
    let save = format!("/api/v1/applications/{id}/portrait/draft/save");
    let res = app
        .post_json(&officer, &save, &serde_json::json!({"x": 1400, "y": 0, "height": 1000}))
        .await;
    assert_eq!(res.status(), 422);
    let res = app
        .post_json(
            &officer,
            &save,
            &serde_json::json!({"x": 0, "y": 0, "height": 1000, "zoom": 2}),
        )
        .await;
    assert_eq!(res.status(), 422, "unknown fields refused");
    assert_eq!((app.count("portraits"), app.count("audit_log")), (0, audit));

    // The box saved: the stored photo is that box of the picture at 330×480.
    let res = app
        .post_json(&officer, &save, &serde_json::json!({"x": 356, "y": 50, "height": 900}))
        .await;
    assert_eq!(res.status(), 204);
    assert_eq!((app.count("portraits"), app.count("portrait_drafts")), (1, 0));
    let stored = app
        .get(&officer, &format!("/api/v1/applications/{id}/portrait"))
        .await
        .bytes()
        .await
        .expect("jpeg");
    let stored = image::load_from_memory(&stored).expect("decodes").to_rgb8();
    let expected = image::imageops::resize(
        &*image::imageops::crop_imm(&picture, 356, 50, 619, 900),
        330,
        480,
        image::imageops::FilterType::Triangle,
    );
    let differs: u64 = stored
        .pixels()
        .zip(expected.pixels())
        .map(|(a, b)| a.0.iter().zip(b.0).map(|(x, y)| u64::from(x.abs_diff(y))).sum::<u64>())
        .sum();
    let mean = differs as f64 / (330.0 * 480.0 * 3.0);
    assert!(mean < 6.0, "the stored photo is the box (mean difference {mean:.1})");
    // Another box of the same picture would differ far more.
    let elsewhere = image::imageops::resize(
        &*image::imageops::crop_imm(&picture, 881, 0, 619, 900),
        330,
        480,
        image::imageops::FilterType::Triangle,
    );
    let other: u64 = stored
        .pixels()
        .zip(elsewhere.pixels())
        .map(|(a, b)| a.0.iter().zip(b.0).map(|(x, y)| u64::from(x.abs_diff(y))).sum::<u64>())
        .sum();
    assert!(other as f64 / (330.0 * 480.0 * 3.0) > 20.0);
    // The sitting counted once as a free ID photo; the working picture is gone.
    assert_eq!(app.count("free_services"), 1);
    let res = app
        .get(&officer, &format!("/api/v1/applications/{id}/portrait/draft"))
        .await;
    assert_eq!(res.status(), 404);

    // Refused uploads store nothing (a file claiming 10000×10000 is refused by its header, a
    // cut-off one as unreadable); a checkpoint device may not upload at all.
    let res = put(b"not a photo".to_vec()).await.expect("answered");
    assert_eq!(res.status(), 422);
    for (body, rule) in [(jpeg_bomb(), "max_pixels"), (jpeg(600, 800)[..900].to_vec(), "image")] {
        let res = app
            .client
            .put(&draft_url)
            .bearer_auth(&officer)
            .header("Content-Type", "image/jpeg")
            .body(body)
            .send()
            .await
            .expect("answered");
        assert_eq!(res.status(), 422);
        let problem: Value = res.json().await.expect("problem");
        assert_eq!(problem["errors"][0]["rule"], rule, "{problem}");
    }
    assert_eq!(app.count("portrait_drafts"), 0);
    let gate = app.token("gate", "checkpoint", &[]);
    let res = app
        .client
        .put(&draft_url)
        .bearer_auth(&gate)
        .header("Content-Type", "image/png")
        .body(crate::support::sitting([250, 250, 250], false))
        .send()
        .await
        .expect("answered");
    assert_eq!(res.status(), 403);
    assert_eq!(app.count("portrait_drafts"), 0);
}

/// A working picture nobody saved is deleted once it is older than the draft's two hours (a
/// photo of a person is kept no longer than its use); a fresh one stays.
#[actix_web::test]
async fn working_pictures_left_unsaved_are_swept() {
    let app = TestApp::spawn().await;
    let officer = app.window();
    let put = |id: String| {
        app.client
            .put(app.url(&format!("/api/v1/applications/{id}/portrait/draft")))
            .bearer_auth(&officer)
            .header("Content-Type", "image/png")
            .body(crate::support::sitting([250, 250, 250], false))
            .send()
    };
    let left = app.application(&officer, traveller(7)).await;
    assert_eq!(put(left.clone()).await.expect("answered").status(), 200);
    app.clock
        .set(app.clock.now() + chrono::Duration::minutes(borderdesk::service::portraits::DRAFT_MINUTES - 1));
    let fresh = app.application(&officer, traveller(8)).await;
    assert_eq!(put(fresh.clone()).await.expect("answered").status(), 200);
    assert_eq!(
        app.ctx.sweep_portrait_drafts().await.expect("sweep"),
        0,
        "not yet two hours"
    );
    app.clock.set(app.clock.now() + chrono::Duration::minutes(2));
    assert_eq!(app.ctx.sweep_portrait_drafts().await.expect("sweep"), 1);
    assert_eq!(app.count("portrait_drafts"), 1, "the fresh one stays");
    let swept = app.audit("portrait_draft", "expired");
    assert_eq!(swept.len(), 1);
    assert!(swept[0].after_json.as_deref().unwrap_or("").contains(&left));
    assert_eq!(
        app.ctx.sweep_portrait_drafts().await.expect("sweep"),
        0,
        "nothing twice"
    );
}
