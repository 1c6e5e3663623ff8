//! The signed 2D code on a permit (a visible digital seal): compact body, Ed25519 signature,
//! Base45 text with a `BD1:` prefix so QR scanners and keyboard-wedge readers pass it unchanged.

use chrono::NaiveDate;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::permit::PermitKind;

pub const PREFIX: &str = "BD1:";
/// The `kind` of a booking's code: outside the permit kinds' codes, so a booking code can never
/// pass for a permit.
pub const BOOKING_KIND: u8 = 0xB1;
const SIGNATURE_LEN: usize = 64;
/// Anything longer than this cannot be one of our codes; refuse before decoding.
pub const MAX_CODE_LEN: usize = 600;

/// What the code asserts. Dates are local (China) calendar dates, inclusive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealBody {
    pub version: u8,
    pub key_id: [u8; 4],
    pub kind: u8,
    pub number: String,
    pub holder: String,
    pub nationality: String,
    /// Days since 1970-01-01.
    pub valid_from: i32,
    pub valid_until: i32,
    pub entries: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("not a borderdesk code")]
    Malformed,
    #[error("signed by an unknown key")]
    UnknownKey,
    #[error("signature does not verify")]
    BadSignature,
}

/// Key ids are the first four bytes of SHA-256 of the public key: short, stable, derivable.
pub fn key_id(key: &VerifyingKey) -> [u8; 4] {
    let digest = Sha256::digest(key.as_bytes());
    [digest[0], digest[1], digest[2], digest[3]]
}

pub fn key_id_hex(id: [u8; 4]) -> String {
    hex::encode(id)
}

fn epoch() -> NaiveDate {
    NaiveDate::default() // 1970-01-01
}

pub fn date_to_days(d: NaiveDate) -> i32 {
    i32::try_from((d - epoch()).num_days()).unwrap_or(i32::MAX)
}

pub fn days_to_date(days: i32) -> Option<NaiveDate> {
    epoch().checked_add_signed(chrono::Duration::days(i64::from(days)))
}

pub struct SealInput<'a> {
    pub kind: PermitKind,
    pub number: &'a str,
    pub holder: &'a str,
    pub nationality: &'a str,
    pub valid_from: NaiveDate,
    pub valid_until: NaiveDate,
    pub entries: u32,
}

/// Signs a permit's facts into the text the 2D code carries.
pub fn sign(key: &SigningKey, input: &SealInput<'_>) -> String {
    // Latin names on permits are at most 64 characters; the code carries at most 39 of them so
    // the QR symbol stays small enough to scan quickly. The permit number is the real key.
    let holder: String = input.holder.chars().take(39).collect();
    let body = SealBody {
        version: 1,
        key_id: key_id(&key.verifying_key()),
        kind: input.kind.code(),
        number: input.number.to_string(),
        holder,
        nationality: input.nationality.to_string(),
        valid_from: date_to_days(input.valid_from),
        valid_until: date_to_days(input.valid_until),
        entries: u8::try_from(input.entries).unwrap_or(u8::MAX),
    };
    // postcard cannot fail on this plain struct into a Vec.
    let mut bytes = postcard::to_allocvec(&body).unwrap_or_default();
    let signature = key.sign(&bytes);
    bytes.extend_from_slice(&signature.to_bytes());
    format!("{PREFIX}{}", base45::encode(&bytes))
}

/// Signs a booking's code: its number, plate and slot date, with the permits' keys.
pub fn sign_booking(key: &SigningKey, number: &str, plate: &str, direction: &str, day: NaiveDate) -> String {
    let body = SealBody {
        version: 1,
        key_id: key_id(&key.verifying_key()),
        kind: BOOKING_KIND,
        number: number.to_string(),
        holder: plate.chars().take(16).collect(),
        nationality: direction.chars().take(5).collect(),
        valid_from: date_to_days(day),
        valid_until: date_to_days(day),
        entries: 1,
    };
    let mut bytes = postcard::to_allocvec(&body).unwrap_or_default();
    let signature = key.sign(&bytes);
    bytes.extend_from_slice(&signature.to_bytes());
    format!("{PREFIX}{}", base45::encode(&bytes))
}

/// Parses and verifies a code. `lookup` finds the public key for a key id.
pub fn verify(code: &str, lookup: impl Fn([u8; 4]) -> Option<VerifyingKey>) -> Result<SealBody, SealError> {
    let body = code.trim().strip_prefix(PREFIX).ok_or(SealError::Malformed)?;
    if body.len() > MAX_CODE_LEN {
        return Err(SealError::Malformed);
    }
    let bytes = base45::decode(body).map_err(|_| SealError::Malformed)?;
    if bytes.len() <= SIGNATURE_LEN {
        return Err(SealError::Malformed);
    }
    let (signed, sig) = bytes.split_at(bytes.len() - SIGNATURE_LEN);
    let (parsed, rest): (SealBody, &[u8]) = postcard::take_from_bytes(signed).map_err(|_| SealError::Malformed)?;
    if !rest.is_empty()
        || parsed.version != 1
        || (PermitKind::from_code(parsed.kind).is_none() && parsed.kind != BOOKING_KIND)
    {
        return Err(SealError::Malformed);
    }
    let key = lookup(parsed.key_id).ok_or(SealError::UnknownKey)?;
    let sig = Signature::from_slice(sig).map_err(|_| SealError::Malformed)?;
    key.verify_strict(signed, &sig).map_err(|_| SealError::BadSignature)?;
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    fn sample(k: &SigningKey) -> String {
        sign(
            k,
            &SealInput {
                kind: PermitKind::BorderTourism,
                number: "BT-YYG-2026-000001",
                holder: "NGUYỄN THỊ ÁNH",
                nationality: "VNM",
                valid_from: NaiveDate::from_ymd_opt(2026, 11, 26).unwrap(),
                valid_until: NaiveDate::from_ymd_opt(2027, 2, 25).unwrap(),
                entries: 1,
            },
        )
    }

    #[test]
    fn round_trips_and_stays_small() {
        let k = key(7);
        let code = sample(&k);
        assert!(code.len() < 260, "code is {} chars", code.len());
        let vk = k.verifying_key();
        let body = verify(&code, |id| (id == key_id(&vk)).then_some(vk)).unwrap();
        assert_eq!(body.number, "BT-YYG-2026-000001");
        assert_eq!(body.holder, "NGUYỄN THỊ ÁNH");
        assert_eq!(days_to_date(body.valid_until), NaiveDate::from_ymd_opt(2027, 2, 25));
    }

    #[test]
    fn other_keys_and_tampering_fail() {
        let code = sample(&key(7));
        let other = key(8).verifying_key();
        assert_eq!(verify(&code, |_| None), Err(SealError::UnknownKey));
        assert_eq!(verify(&code, |_| Some(other)), Err(SealError::BadSignature));
        assert_eq!(verify("garbage", |_| Some(other)), Err(SealError::Malformed));
        assert_eq!(verify("BD1:", |_| Some(other)), Err(SealError::Malformed));
        assert_eq!(
            verify(&code[..code.len() - 5], |_| Some(other)),
            Err(SealError::Malformed)
        );
    }

    #[test]
    fn every_flipped_bit_of_several_payloads_is_refused() {
        let k = key(9);
        let vk = k.verifying_key();
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        let payloads = [
            sample(&k),
            sign(
                &k,
                &SealInput {
                    kind: PermitKind::BorderTrade,
                    number: "TR-PXH-2026-012345",
                    holder: "LI XIAOMEI",
                    nationality: "CHN",
                    valid_from: day(2026, 1, 5),
                    valid_until: day(2027, 1, 4),
                    entries: 0,
                },
            ),
            sign(
                &k,
                &SealInput {
                    kind: PermitKind::BorderTourism,
                    number: "BT-YYG-2027-000001",
                    holder: "A",
                    nationality: "CHN",
                    valid_from: day(2027, 1, 1),
                    valid_until: day(2027, 3, 31),
                    entries: 1,
                },
            ),
        ];
        for code in payloads {
            assert!(verify(&code, |_| Some(vk)).is_ok());
            let raw = base45::decode(code.strip_prefix(PREFIX).unwrap()).unwrap();
            for i in 0..raw.len() * 8 {
                let mut flipped = raw.clone();
                flipped[i / 8] ^= 1 << (i % 8);
                let altered = format!("{PREFIX}{}", base45::encode(&flipped));
                assert!(
                    verify(&altered, |_| Some(vk)).is_err(),
                    "bit {i} of {code} flipped still verified"
                );
            }
        }
    }
}
