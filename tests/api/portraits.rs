//! Portrait uploads from a hostile sender (issue 9): image bombs, cut-off files.

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
