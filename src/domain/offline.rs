//! Verification with no link to the hall: a signed trust bundle (keys and the kinds each may
//! sign, revoked and blocked permits, the bundle's time) and the decision a handheld makes from
//! it. The verifier shows how old its data is and never trusts a clock earlier than the bundle.

use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use ed25519_dalek::{Signature, VerifyingKey};
use serde::{Deserialize, Serialize};

use super::local;
use super::permit::PermitKind;
use super::seal::{self, SealError, key_id_hex};
use super::verdict::{Reason, Verdict, reject};

/// Past this age a verifier warns that its data may miss recent revocations.
pub const STALE_AFTER: Duration = Duration::hours(24);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TrustedKey {
    pub kid: String,
    /// Raw Ed25519 public key, base64url without padding.
    pub public_key: String,
    /// The permit kinds this key may sign.
    pub kinds: Vec<PermitKind>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Blocked {
    pub number: String,
    /// used, pending or suspended.
    pub reason: Reason,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TrustBundle {
    #[schema(value_type = String, format = DateTime)]
    pub issued_at: DateTime<Utc>,
    pub keys: Vec<TrustedKey>,
    /// Revoked permits still inside their validity.
    pub revoked: Vec<String>,
    /// Permits not to admit for another reason (used up, materials pending or overdue).
    pub blocked: Vec<Blocked>,
}

/// A bundle as served: the payload text exactly as signed, its signature and signing key.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SignedBundle {
    pub payload: String,
    pub signature: String,
    pub key_id: String,
}

fn decode_key(b64: &str) -> Option<VerifyingKey> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(b64).ok()?;
    VerifyingKey::from_bytes(&raw.try_into().ok()?).ok()
}

/// Checks a bundle's signature against the device's anchors (public keys installed with the
/// device, from `GET /api/v1/keys`), then parses it.
pub fn open(signed: &SignedBundle, anchors: &[TrustedKey]) -> Result<TrustBundle, &'static str> {
    let anchor = anchors
        .iter()
        .find(|a| a.kid == signed.key_id)
        .ok_or("bundle signed by a key this device does not trust")?;
    let key = decode_key(&anchor.public_key).ok_or("anchor key is not an Ed25519 key")?;
    let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(&signed.signature)
        .map_err(|_| "signature is not base64url")?;
    let sig = Signature::from_slice(&sig).map_err(|_| "signature has the wrong length")?;
    key.verify_strict(signed.payload.as_bytes(), &sig)
        .map_err(|_| "bundle signature does not verify")?;
    serde_json::from_str(&signed.payload).map_err(|_| "bundle payload is not a trust bundle")
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OfflineVerdict {
    pub verdict: Verdict,
    pub number: Option<String>,
    pub holder: Option<String>,
    /// How old the bundle is at the time used.
    pub bundle_age_minutes: i64,
    pub stale: bool,
    /// The time the decision used: the device clock, unless it is earlier than the bundle.
    pub clock: DateTime<Utc>,
}

/// Decides on a scanned code from the bundle alone. Only the signed 2D code can be checked
/// offline: a bare Code128 number needs the hall's database.
pub fn decide(bundle: &TrustBundle, code: &str, device_now: DateTime<Utc>) -> OfflineVerdict {
    let now = device_now.max(bundle.issued_at);
    let age = now - bundle.issued_at;
    let out = |verdict: Verdict, number: Option<String>, holder: Option<String>| OfflineVerdict {
        verdict,
        number,
        holder,
        bundle_age_minutes: age.num_minutes(),
        stale: age > STALE_AFTER,
        clock: now,
    };
    let keys: Vec<(String, VerifyingKey, &Vec<PermitKind>)> = bundle
        .keys
        .iter()
        .filter_map(|k| decode_key(&k.public_key).map(|v| (k.kid.clone(), v, &k.kinds)))
        .collect();
    let body = match seal::verify(code, |id| {
        keys.iter()
            .find(|(kid, _, _)| *kid == key_id_hex(id))
            .map(|(_, v, _)| *v)
    }) {
        Ok(b) => b,
        Err(SealError::Malformed) => return out(reject(Reason::Malformed), None, None),
        Err(SealError::UnknownKey) => return out(reject(Reason::UnknownKey), None, None),
        Err(SealError::BadSignature) => return out(reject(Reason::BadSignature), None, None),
    };
    let (number, holder) = (Some(body.number.clone()), Some(body.holder.clone()));
    let allowed = keys
        .iter()
        .find(|(kid, _, _)| *kid == key_id_hex(body.key_id))
        .is_some_and(|(_, _, kinds)| PermitKind::from_code(body.kind).is_some_and(|k| kinds.contains(&k)));
    if !allowed {
        return out(reject(Reason::KeyNotAllowed), number, holder);
    }
    if bundle.revoked.contains(&body.number) {
        return out(reject(Reason::Revoked), number, holder);
    }
    if let Some(b) = bundle.blocked.iter().find(|b| b.number == body.number) {
        return out(reject(b.reason), number, holder);
    }
    let today = local(now).date_naive();
    match (
        seal::days_to_date(body.valid_from),
        seal::days_to_date(body.valid_until),
    ) {
        (Some(from), _) if today < from => out(reject(Reason::NotYetValid), number, holder),
        (_, Some(until)) if today > until => out(reject(Reason::Expired), number, holder),
        (Some(_), Some(_)) => out(
            Verdict {
                admit: true,
                reason: Reason::Ok,
                message_zh: "准予通行（离线核验）",
                message_en: "admit (verified offline)",
            },
            number,
            holder,
        ),
        _ => out(reject(Reason::Malformed), number, holder),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::seal::{SealInput, key_id, sign};
    use chrono::{NaiveDate, TimeZone};
    use ed25519_dalek::{Signer, SigningKey};

    fn key() -> SigningKey {
        SigningKey::from_bytes(&[5; 32])
    }

    fn trusted(k: &SigningKey, kinds: Vec<PermitKind>) -> TrustedKey {
        TrustedKey {
            kid: key_id_hex(key_id(&k.verifying_key())),
            public_key: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(k.verifying_key().as_bytes()),
            kinds,
        }
    }

    fn code(number: &str, kind: PermitKind) -> String {
        sign(
            &key(),
            &SealInput {
                kind,
                number,
                holder: "ZHANG WEI",
                nationality: "CHN",
                valid_from: NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
                valid_until: NaiveDate::from_ymd_opt(2027, 1, 31).unwrap(),
                entries: 1,
            },
        )
    }

    fn bundle(at: DateTime<Utc>) -> TrustBundle {
        TrustBundle {
            issued_at: at,
            keys: vec![trusted(&key(), vec![PermitKind::BorderTourism])],
            revoked: vec!["BT-YYG-2026-000002".into()],
            blocked: vec![Blocked {
                number: "BT-YYG-2026-000003".into(),
                reason: Reason::Pending,
            }],
        }
    }

    fn t(m: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, m, d, h, 0, 0).unwrap()
    }

    #[test]
    fn decides_from_the_bundle_alone() {
        let b = bundle(t(11, 26, 0));
        assert!(
            decide(&b, &code("BT-YYG-2026-000001", PermitKind::BorderTourism), t(11, 26, 3))
                .verdict
                .admit
        );
        assert_eq!(
            decide(&b, &code("BT-YYG-2026-000002", PermitKind::BorderTourism), t(11, 26, 3))
                .verdict
                .reason,
            Reason::Revoked
        );
        assert_eq!(
            decide(&b, &code("BT-YYG-2026-000003", PermitKind::BorderTourism), t(11, 26, 3))
                .verdict
                .reason,
            Reason::Pending
        );
        assert_eq!(
            decide(&b, &code("TR-YYG-2026-000001", PermitKind::BorderTrade), t(11, 26, 3))
                .verdict
                .reason,
            Reason::KeyNotAllowed
        );
        assert_eq!(
            decide(&b, "BT-YYG-2026-000001", t(11, 26, 3)).verdict.reason,
            Reason::Malformed,
            "a bare number needs the hall"
        );
        let stranger = sign(
            &SigningKey::from_bytes(&[6; 32]),
            &SealInput {
                kind: PermitKind::BorderTourism,
                number: "X",
                holder: "X",
                nationality: "CHN",
                valid_from: NaiveDate::MIN,
                valid_until: NaiveDate::MAX,
                entries: 1,
            },
        );
        assert_eq!(decide(&b, &stranger, t(11, 26, 3)).verdict.reason, Reason::UnknownKey);
        assert_eq!(
            decide(
                &b,
                &code("BT-YYG-2026-000001", PermitKind::BorderTourism),
                t(12, 31, 3) + Duration::days(40)
            )
            .verdict
            .reason,
            Reason::Expired
        );
    }

    #[test]
    fn shows_its_age_and_distrusts_an_early_clock() {
        let b = bundle(t(11, 26, 0));
        let fresh = decide(&b, &code("BT-YYG-2026-000001", PermitKind::BorderTourism), t(11, 26, 6));
        assert_eq!((fresh.bundle_age_minutes, fresh.stale), (360, false));
        let old = decide(&b, &code("BT-YYG-2026-000001", PermitKind::BorderTourism), t(11, 28, 6));
        assert!(old.stale);
        // A device clock set back before the bundle (to pass off an expired permit) is not used.
        let early = decide(&b, &code("BT-YYG-2026-000001", PermitKind::BorderTourism), t(10, 1, 0));
        assert_eq!(early.clock, b.issued_at);
    }

    #[test]
    fn a_bundle_opens_only_under_an_anchor() {
        let b = bundle(t(11, 26, 0));
        let payload = serde_json::to_string(&b).unwrap();
        let signature =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key().sign(payload.as_bytes()).to_bytes());
        let signed = SignedBundle {
            payload: payload.clone(),
            signature,
            key_id: trusted(&key(), vec![]).kid,
        };
        let anchors = vec![trusted(&key(), vec![])];
        assert_eq!(open(&signed, &anchors).unwrap(), b);
        assert!(open(&signed, &[]).is_err());
        let tampered = SignedBundle {
            payload: payload.replace("000002", "000009"),
            ..signed.clone()
        };
        assert_eq!(
            open(&tampered, &anchors).unwrap_err(),
            "bundle signature does not verify"
        );
    }
}
