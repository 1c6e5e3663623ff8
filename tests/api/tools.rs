//! Reading printed PDFs back: in-process (hayro rasterises, rxing decodes) so that `cargo test`
//! needs nothing but the Rust toolchain; poppler and zbar as a second opinion where installed,
//! required when BORDERDESK_REQUIRE_TOOLS=1 (CI), otherwise skipped with a note on the terminal.

use std::io::Write;
use std::path::Path;
use std::process::Command;

use hayro::hayro_interpret::InterpreterSettings;
use hayro::hayro_syntax::Pdf;
use hayro::vello_cpu::color::palette::css::WHITE;
use hayro::{PixmapSettings, RenderCache, RenderSettings};
use image::GrayImage;
use rxing::BarcodeFormat;

/// The first page of `pdf` as a grey image at `dpi`, white paper, anti-aliased like a print.
pub fn rasterise(pdf: &[u8], dpi: f32) -> GrayImage {
    let pdf = Pdf::new(pdf.to_vec()).expect("a readable PDF");
    let page = pdf.pages().first().expect("one page");
    let scale = dpi / 72.0;
    let pixmap = hayro::render(
        page,
        &RenderCache::new(),
        &InterpreterSettings::default(),
        &RenderSettings::default(),
        &PixmapSettings {
            x_scale: scale,
            y_scale: scale,
            bg_color: WHITE,
        },
    );
    let (w, h) = (u32::from(pixmap.width()), u32::from(pixmap.height()));
    // Opaque on white, so premultiplied and straight RGBA are the same.
    let luma = pixmap
        .data_as_u8_slice()
        .chunks_exact(4)
        .map(|p| ((299 * u32::from(p[0]) + 587 * u32::from(p[1]) + 114 * u32::from(p[2])) / 1000) as u8)
        .collect();
    GrayImage::from_raw(w, h, luma).expect("w × h pixels")
}

/// The text of the one code of `format` found in `img`, or None when none reads.
pub fn decode(img: &GrayImage, format: BarcodeFormat) -> Option<String> {
    rxing::helpers::detect_in_luma(img.as_raw().clone(), img.width(), img.height(), Some(format))
        .ok()
        .map(|r| r.getText().to_string())
}

/// Whether the optional tool `name` may be used: true when installed; when it is missing,
/// a failure if BORDERDESK_REQUIRE_TOOLS=1, else false with a note that `what` was skipped.
pub fn available(name: &str, what: &str) -> bool {
    if Command::new(name).arg("-v").output().is_ok() {
        return true;
    }
    assert!(
        std::env::var("BORDERDESK_REQUIRE_TOOLS").as_deref() != Ok("1"),
        "{name} is required here (BORDERDESK_REQUIRE_TOOLS=1): apt-get install poppler-utils zbar-tools"
    );
    // The harness captures eprintln!; a skip must be seen.
    let _ = std::io::stderr().write_all(format!("skipped: {what} ({name} is not installed)\n").as_bytes());
    false
}

/// `pdftotext` with `args` on `pdf`, when poppler is installed.
pub fn pdftotext(pdf: &[u8], args: &[&str], what: &str) -> Option<String> {
    if !available("pdftotext", what) {
        return None;
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("p.pdf");
    std::fs::write(&path, pdf).expect("written");
    let out = Command::new("pdftotext")
        .args(args)
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `pdfimages -list` on `pdf`, when poppler is installed.
pub fn pdfimages_list(pdf: &[u8], what: &str) -> Option<String> {
    if !available("pdfimages", what) {
        return None;
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("p.pdf");
    std::fs::write(&path, pdf).expect("written");
    let out = Command::new("pdfimages")
        .arg("-list")
        .arg(&path)
        .output()
        .expect("pdfimages runs");
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Every symbol zbarimg reads in `img`, when zbar is installed: a second, independent decoder.
pub fn zbarimg(img: &GrayImage, what: &str) -> Option<Vec<String>> {
    if !available("zbarimg", what) {
        return None;
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("p.png");
    img.save(&path).expect("PNG written");
    Some(zbar_file(&path))
}

fn zbar_file(path: &Path) -> Vec<String> {
    let out = Command::new("zbarimg")
        .args(["--raw", "-q"])
        .arg(path)
        .output()
        .expect("zbarimg runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}
