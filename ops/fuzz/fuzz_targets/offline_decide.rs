//! Feeds arbitrary scanned text to the whole offline decision of a handheld (signature, key
//! rules, the bundle's permit list, dates, direction, noting its own crossing): it must answer,
//! never panic.
#![no_main]

use std::sync::OnceLock;

use borderdesk::domain::offline::{Listed, Standing, TrustBundle, TrustedKey, Verifier};
use borderdesk::domain::permit::PermitKind;
use borderdesk::domain::verdict::Direction;
use libfuzzer_sys::fuzz_target;

fn bundle() -> TrustBundle {
    use base64::Engine;
    let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]).verifying_key();
    let at = chrono::DateTime::from_timestamp(1_790_000_000, 0).unwrap_or_default();
    let day = at.date_naive();
    TrustBundle {
        version: 1,
        since: None,
        issued_at: at,
        keys: vec![TrustedKey {
            kid: borderdesk::domain::seal::key_id_hex(borderdesk::domain::seal::key_id(&key)),
            public_key: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key.as_bytes()),
            kinds: PermitKind::ALL.to_vec(),
            not_before: at,
            not_after: at + chrono::Duration::days(365),
        }],
        permits: [Standing::Revoked, Standing::Used, Standing::Pending, Standing::Out]
            .into_iter()
            .enumerate()
            .map(|(i, standing)| Listed {
                number: format!("BT-YYG-2026-{i:06}"),
                standing,
                due: None,
                until: day,
            })
            .collect(),
    }
}

fuzz_target!(|data: &[u8]| {
    static AT: OnceLock<chrono::DateTime<chrono::Utc>> = OnceLock::new();
    let Ok(mut v) = Verifier::new(bundle()) else { return };
    let now = *AT.get_or_init(|| chrono::DateTime::from_timestamp(1_790_003_600, 0).unwrap_or_default());
    let text = String::from_utf8_lossy(data);
    for code in [text.to_string(), format!("{}{}", borderdesk::domain::seal::PREFIX, text)] {
        for direction in [Direction::Exit, Direction::Entry] {
            let out = v.decide(&code, direction, now);
            v.note(&out, direction);
        }
    }
});
