//! Offline verification of a permit's signed code (what a handheld does with no link to the
//! hall), beside a baseline in the same run: Base45-decoding the same text alone.
//!   cargo bench --bench verify

use borderdesk::domain::permit::PermitKind;
use borderdesk::domain::seal::{PREFIX, SealInput, key_id, sign, verify};
use chrono::NaiveDate;
use criterion::{Criterion, criterion_group, criterion_main};
use ed25519_dalek::SigningKey;

fn bench(c: &mut Criterion) {
    let key = SigningKey::from_bytes(&[7; 32]);
    let public = key.verifying_key();
    let id = key_id(&public);
    let day = |m, d| NaiveDate::from_ymd_opt(2026, m, d).unwrap_or_default();
    let code = sign(
        &key,
        &SealInput {
            kind: PermitKind::BorderTourism,
            number: "BT-YYG-2026-000123",
            holder: "NGUYỄN THỊ ÁNH",
            nationality: "CHN",
            valid_from: day(11, 26),
            valid_until: day(12, 31),
            entries: 1,
        },
    );
    let body = code.strip_prefix(PREFIX).unwrap_or_default().to_string();
    let mut g = c.benchmark_group("offline");
    g.bench_function("baseline: Base45 decode", |b| {
        b.iter(|| base45::decode(&body).map(|v| v.len()))
    });
    g.bench_function("verify code", |b| {
        b.iter(|| verify(&code, |k| (k == id).then_some(public)).map(|p| p.entries))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
