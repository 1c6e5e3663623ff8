//! Time to render one permit PDF (font subset, QR, Code128, layout, deflate), beside a baseline
//! in the same run: building the two barcodes' module grids alone. Also: the same permit with
//! its portrait, and normalising an uploaded photo (once per upload, never per print).
//!   cargo bench --bench print

use borderdesk::domain::permit::PermitKind;
use borderdesk::domain::seal::{SealInput, sign};
use borderdesk::print::{PermitPrint, codes, permit_pdf};
use chrono::NaiveDate;
use criterion::{Criterion, criterion_group, criterion_main};
use ed25519_dalek::SigningKey;

fn model() -> PermitPrint {
    let from = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap_or_default();
    let until = NaiveDate::from_ymd_opt(2027, 2, 25).unwrap_or_default();
    let code = sign(
        &SigningKey::from_bytes(&[7; 32]),
        &SealInput {
            kind: PermitKind::BorderTourism,
            number: "BT-YYG-2026-000123",
            holder: "NGUYỄN THỊ ÁNH",
            nationality: "CHN",
            valid_from: from,
            valid_until: until,
            entries: 1,
        },
    );
    PermitPrint {
        title_zh: "边境旅游通行证".into(),
        title_vi: "Giấy thông hành du lịch biên giới".into(),
        title_en: "Border Tourism Pass".into(),
        number: "BT-YYG-2026-000123".into(),
        application_number: "YYG202611260123".into(),
        name_zh: Some("阮氏英".into()),
        name_latin: "NGUYỄN THỊ ÁNH".into(),
        nationality: "CHN".into(),
        sex: borderdesk::domain::traveller::Sex::F,
        birth_date: NaiveDate::from_ymd_opt(1990, 3, 7).unwrap_or_default(),
        id_number: "450102199003071234".into(),
        valid_from: from,
        valid_until: until,
        entries_allowed: 1,
        office_zh: "友谊关口岸出入境一站式办证点".into(),
        office_en: "Youyiguan (Friendship Pass) one-window permit office".into(),
        issued_at: "2026-11-26 10:15 UTC+08:00".into(),
        code,
        enterprise: None,
        plates: Vec::new(),
        banner: None,
        photo: None,
        media: borderdesk::domain::policy::PermitMedia::A6,
    }
}

fn bench(c: &mut Criterion) {
    let m = model();
    // Parse the font once, as the service does at its first print.
    let _ = permit_pdf(&m);
    let mut g = c.benchmark_group("print");
    g.bench_function("baseline: QR + Code128 grids", |b| {
        b.iter(|| {
            (
                codes::qr(&m.code).map(|q| q.1),
                codes::code128(&m.number).map(|v| v.len()),
            )
        })
    });
    g.bench_function("permit PDF", |b| b.iter(|| permit_pdf(&m).map(|p| p.len())));
    // A 12-megapixel phone photo, as uploaded.
    let camera = image::RgbImage::from_fn(4000, 3000, |x, y| image::Rgb([(x % 251) as u8, (y % 241) as u8, 200]));
    let mut upload = Vec::new();
    let _ = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut upload, 90).encode_image(&camera);
    let Ok(portrait) = borderdesk::service::portraits::normalise(&upload) else {
        return;
    };
    let with_photo = PermitPrint {
        photo: Some(borderdesk::print::permit::Photo {
            jpeg: portrait.jpeg,
            width: portrait.width,
            height: portrait.height,
        }),
        ..m.clone()
    };
    g.bench_function("permit PDF with portrait", |b| {
        b.iter(|| permit_pdf(&with_photo).map(|p| p.len()))
    });
    g.sample_size(10);
    g.bench_function("normalise a 12 MP upload", |b| {
        b.iter(|| borderdesk::service::portraits::normalise(&upload).map(|p| p.jpeg.len()))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
