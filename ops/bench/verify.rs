//! Offline verification of a permit's signed code (what a handheld does with no link to the
//! hall), beside a baseline in the same run: Base45-decoding the same text alone. "decide" is
//! the whole offline decision from a Verifier holding 100,000 listed permits.
//!   cargo bench --bench verify

use base64::Engine;
use borderdesk::domain::offline::{Listed, Standing, TrustBundle, TrustedKey, Verifier};
use borderdesk::domain::permit::PermitKind;
use borderdesk::domain::seal::{PREFIX, SealInput, key_id, key_id_hex, sign, verify};
use borderdesk::domain::verdict::Direction;
use chrono::{NaiveDate, TimeZone, Utc};
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
            number: "BT-YYG-2026-000124",
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
    let at = Utc.with_ymd_and_hms(2026, 11, 26, 2, 0, 0).single().unwrap_or_default();
    let standings = [Standing::Revoked, Standing::Used, Standing::Out, Standing::Pending];
    let bundle = TrustBundle {
        version: 100_000,
        since: None,
        issued_at: at,
        keys: vec![TrustedKey {
            kid: key_id_hex(id),
            public_key: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(public.as_bytes()),
            kinds: PermitKind::ALL.to_vec(),
            not_before: at,
            not_after: at + chrono::Duration::days(1826),
        }],
        permits: (0..100_000)
            .map(|i| Listed {
                number: format!("BT-YYG-2026-{:06}", i * 2 + 1),
                standing: standings[i % 4],
                due: Some(day(12, 1)),
                until: day(12, 31),
            })
            .collect(),
        booking_lanes: Vec::new(),
    };
    let verifier = match Verifier::new(bundle) {
        Ok(v) => v,
        Err(e) => panic!("{e}"),
    };
    g.bench_function("decide (100,000 listed)", |b| {
        b.iter(|| verifier.decide(&code, Direction::Exit, at).verdict.admit)
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
