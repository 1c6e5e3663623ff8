//! Verification with no link to the hall: a signed trust bundle (keys with their validity and
//! the kinds each may sign, the permits a verifier must not take at face value, the bundle's
//! version and time), deltas since a version merged into what the device holds, and the decision
//! a handheld makes from it. The verifier shows how old its data is and never trusts a clock
//! earlier than the bundle.

use std::collections::HashMap;

use base64::Engine;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use ed25519_dalek::{Signature, VerifyingKey};
use serde::{Deserialize, Serialize};

use super::local;
use super::permit::PermitKind;
use super::seal::{self, SealBody, SealError};
use super::verdict::{Direction, Reason, Verdict, Warning, reject};

/// Past this age a verifier warns that its data may miss recent revocations.
pub const STALE_AFTER: Duration = Duration::hours(24);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TrustedKey {
    pub kid: String,
    /// Raw Ed25519 public key, base64url without padding.
    pub public_key: String,
    /// The permit kinds this key may sign.
    pub kinds: Vec<PermitKind>,
    #[schema(value_type = String, format = DateTime)]
    pub not_before: DateTime<Utc>,
    /// No permit signed by this key is valid past this time.
    #[schema(value_type = String, format = DateTime)]
    pub not_after: DateTime<Utc>,
}

/// A key installed on the device that bundles must be signed with (from `GET /api/v1/keys`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Anchor {
    pub kid: String,
    pub public_key: String,
}

/// What a verifier must know of a permit beyond its signed code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    Revoked,
    /// A single-entry pass whose trip is over.
    Used,
    /// Materials (容缺) outstanding; suspended once `due` has passed.
    Pending,
    /// Materials overdue.
    Suspended,
    /// Exited and not yet back: a second exit is the wrong direction.
    Out,
    /// Nothing to hold against it any more (sent in deltas, to undo an earlier standing).
    Clear,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Listed {
    pub number: String,
    pub standing: Standing,
    /// For `pending`: the earliest due date of the outstanding items (China date).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<NaiveDate>,
    /// The permit's last day (China date): after it the verifier may forget the entry.
    pub until: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TrustBundle {
    /// Changes up to this version are in the bundle (or in what the device held before it).
    pub version: i64,
    /// A delta: only permits changed after this version, `clear` included. Absent: a full
    /// bundle that replaces what the device holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<i64>,
    #[schema(value_type = String, format = DateTime)]
    pub issued_at: DateTime<Utc>,
    /// Every key whose permits may still be in force (always whole, also in a delta).
    pub keys: Vec<TrustedKey>,
    pub permits: Vec<Listed>,
    /// Freight lanes where a vehicle needs a booking called to the lane (always whole, also in
    /// a delta). A device cannot know a booking's state offline, so there it answers
    /// `unverifiable_offline` and says why, rather than admit on the pass alone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub booking_lanes: Vec<String>,
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

/// Checks a bundle's signature against the device's anchors, then parses it.
pub fn open(signed: &SignedBundle, anchors: &[Anchor]) -> Result<TrustBundle, &'static str> {
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
    /// Trips the code allows (0 = any number), when the code could be read.
    pub entries: Option<u8>,
    /// The permit's last day, when the code could be read.
    pub valid_until: Option<NaiveDate>,
    /// How old the bundle is at the time used.
    pub bundle_age_minutes: i64,
    pub stale: bool,
    /// The time the decision used: the device clock, unless it is earlier than the bundle.
    pub clock: DateTime<Utc>,
}

struct Key {
    public: VerifyingKey,
    kinds: Vec<PermitKind>,
    last_day: NaiveDate,
}

/// What a device holds: the merged bundle, indexed for decisions (keys decoded once, permits
/// by number).
pub struct Verifier {
    version: i64,
    issued_at: DateTime<Utc>,
    trusted: Vec<TrustedKey>,
    keys: HashMap<[u8; 4], Key>,
    listed: HashMap<String, Listed>,
    booking_lanes: Vec<String>,
}

impl Verifier {
    /// Starts from a full bundle.
    pub fn new(full: TrustBundle) -> Result<Verifier, &'static str> {
        if full.since.is_some() {
            return Err("a delta cannot start a device's trust data: fetch a full bundle");
        }
        let mut v = Verifier {
            version: 0,
            issued_at: full.issued_at,
            trusted: Vec::new(),
            keys: HashMap::new(),
            listed: HashMap::new(),
            booking_lanes: Vec::new(),
        };
        v.take(full);
        Ok(v)
    }

    /// Merges a newer bundle: a full one replaces everything (whatever its version: the hall's
    /// database may have been restored), a delta must start at or before the version held
    /// (states are current states, so overlap is harmless; a gap is not). An older bundle
    /// changes nothing.
    pub fn apply(&mut self, next: TrustBundle) -> Result<(), &'static str> {
        if next.issued_at < self.issued_at || (next.since.is_some() && next.version < self.version) {
            return Ok(());
        }
        match next.since {
            None => self.listed.clear(),
            Some(since) if since > self.version => {
                return Err("delta starts after the version held: fetch with since=<held version>");
            }
            Some(_) => {}
        }
        self.take(next);
        Ok(())
    }

    fn take(&mut self, b: TrustBundle) {
        self.version = b.version;
        self.issued_at = b.issued_at;
        self.keys = b
            .keys
            .iter()
            .filter_map(|k| {
                let id: [u8; 4] = hex::decode(&k.kid).ok()?.try_into().ok()?;
                Some((
                    id,
                    Key {
                        public: decode_key(&k.public_key)?,
                        kinds: k.kinds.clone(),
                        last_day: local(k.not_after).date_naive(),
                    },
                ))
            })
            .collect();
        self.trusted = b.keys;
        self.booking_lanes = b.booking_lanes;
        for l in b.permits {
            if l.standing == Standing::Clear {
                self.listed.remove(&l.number);
            } else {
                self.listed.insert(l.number.clone(), l);
            }
        }
    }

    pub fn version(&self) -> i64 {
        self.version
    }

    pub fn issued_at(&self) -> DateTime<Utc> {
        self.issued_at
    }

    /// The merged state as a full bundle (to keep on the device), without entries past their
    /// last day.
    pub fn snapshot(&self, today: NaiveDate) -> TrustBundle {
        let mut permits: Vec<Listed> = self.listed.values().filter(|l| l.until >= today).cloned().collect();
        permits.sort_by(|a, b| a.number.cmp(&b.number));
        TrustBundle {
            version: self.version,
            since: None,
            issued_at: self.issued_at,
            keys: self.trusted.clone(),
            permits,
            booking_lanes: self.booking_lanes.clone(),
        }
    }

    pub fn standing(&self, number: &str) -> Option<Standing> {
        self.listed.get(number).map(|l| l.standing)
    }

    /// The signed body, and whether its key was allowed to sign it.
    fn read(&self, code: &str) -> Result<(SealBody, bool), Reason> {
        if looks_like_number(code) {
            return Err(Reason::UnverifiableOffline);
        }
        let body = match seal::verify(code, |id| self.keys.get(&id).map(|k| k.public)) {
            Ok(b) => b,
            Err(SealError::Malformed) => return Err(Reason::Malformed),
            Err(SealError::UnknownKey) => return Err(Reason::UnknownKey),
            Err(SealError::BadSignature) => return Err(Reason::BadSignature),
        };
        // The key must be allowed this kind, and no permit may outlive its key.
        let allowed = self.keys.get(&body.key_id).is_some_and(|k| {
            PermitKind::from_code(body.kind).is_some_and(|kind| k.kinds.contains(&kind))
                && seal::days_to_date(body.valid_until).is_some_and(|until| until <= k.last_day)
        });
        Ok((body, allowed))
    }

    /// Decides at a lane: as [`Verifier::decide`], except that at a freight lane needing a
    /// booking nothing is admitted offline (the code is still read, to show whose it is).
    pub fn decide_at(&self, code: &str, lane: &str, direction: Direction, device_now: DateTime<Utc>) -> OfflineVerdict {
        let mut v = self.decide(code, direction, device_now);
        if self.booking_lanes.iter().any(|l| l == lane) {
            v.verdict = Verdict {
                admit: false,
                reason: Reason::UnverifiableOffline,
                message_zh: "离线无法核验通关预约：货运通道请联网查验或让车辆到候检区",
                message_en: "a booking cannot be checked offline: check online, or send the vehicle to the waiting area",
                warning: None,
            };
        }
        v
    }

    /// Decides on a scanned code for a crossing in `direction`. Only the signed 2D code can be
    /// checked offline: a bare Code128 number needs the hall's database.
    pub fn decide(&self, code: &str, direction: Direction, device_now: DateTime<Utc>) -> OfflineVerdict {
        let now = device_now.max(self.issued_at);
        let age = now - self.issued_at;
        let mut out = OfflineVerdict {
            verdict: reject(Reason::Malformed),
            number: None,
            holder: None,
            entries: None,
            valid_until: None,
            bundle_age_minutes: age.num_minutes(),
            stale: age > STALE_AFTER,
            clock: now,
        };
        match self.read(code) {
            Err(reason) => out.verdict = reject(reason),
            Ok((body, allowed)) => {
                out.verdict = if allowed {
                    self.rules(&body, direction, local(now).date_naive())
                } else {
                    reject(Reason::KeyNotAllowed)
                };
                out.number = Some(body.number);
                out.holder = Some(body.holder);
                out.entries = Some(body.entries);
                out.valid_until = seal::days_to_date(body.valid_until);
            }
        }
        out
    }

    /// The checks after the signature, in the order the hall applies them online.
    fn rules(&self, body: &SealBody, direction: Direction, today: NaiveDate) -> Verdict {
        let listed = self.listed.get(&body.number);
        let standing = listed.map(|l| l.standing);
        let (Some(from), Some(until)) = (
            seal::days_to_date(body.valid_from),
            seal::days_to_date(body.valid_until),
        ) else {
            return reject(Reason::Malformed);
        };
        // A return on a pass that expired abroad is admitted with the overstay warning, as the
        // hall does. Offline the exit may not be known (it can have left the bundle), and an
        // entry is never refused here for want of a recorded exit, so no exit is required.
        let overstay = today > until && direction == Direction::Entry;
        match standing {
            Some(Standing::Revoked) => return reject(Reason::Revoked),
            Some(Standing::Used) if overstay => return reject(Reason::Used),
            _ if overstay => {
                return Verdict {
                    admit: true,
                    reason: Reason::Ok,
                    message_zh: "准予入境（离线核验）：通行证已过期，逾期滞留须登记",
                    message_en: "admit home (verified offline): the pass has expired (overstay, to be recorded)",
                    warning: Some(Warning::Overstay),
                };
            }
            _ if today > until => return reject(Reason::Expired),
            Some(Standing::Used) => return reject(Reason::Used),
            Some(Standing::Suspended) => return reject(Reason::Suspended),
            Some(Standing::Pending) => {
                let overdue = listed.and_then(|l| l.due).is_none_or(|due| today > due);
                return reject(if overdue { Reason::Suspended } else { Reason::Pending });
            }
            _ if today < from => return reject(Reason::NotYetValid),
            _ => {}
        }
        // A second exit is refused. An entry is not refused for want of a recorded exit: the
        // exit may have happened at another lane after this bundle, and refusing a citizen's
        // return on stale data strands them; the upload puts the crossing on record.
        if direction == Direction::Exit && standing == Some(Standing::Out) {
            return reject(Reason::WrongDirection);
        }
        Verdict {
            admit: true,
            reason: Reason::Ok,
            message_zh: "准予通行（离线核验）",
            message_en: "admit (verified offline)",
            warning: None,
        }
    }

    /// Records this device's own admitted crossing, so its next decisions know of it before
    /// the hall does.
    pub fn note(&mut self, v: &OfflineVerdict, direction: Direction) {
        // The entry lasts as long as the permit: a snapshot forgets it after the last day.
        let (true, Some(number), Some(entries), Some(until)) = (v.verdict.admit, &v.number, v.entries, v.valid_until)
        else {
            return;
        };
        let standing = match direction {
            Direction::Exit => Standing::Out,
            Direction::Entry if entries == 1 => Standing::Used,
            Direction::Entry => Standing::Clear,
        };
        if standing == Standing::Clear {
            self.listed.remove(number);
        } else {
            self.listed.insert(
                number.clone(),
                Listed {
                    number: number.clone(),
                    standing,
                    due: None,
                    until,
                },
            );
        }
    }
}

/// A permit number as printed (e.g. `BT-YYG-2026-000123`), typed or read from the Code128:
/// something the hall knows, but that carries nothing to verify here.
fn looks_like_number(code: &str) -> bool {
    let parts: Vec<&str> = code.trim().split('-').collect();
    let letters = |p: &str| !p.is_empty() && p.len() <= 8 && p.bytes().all(|b| b.is_ascii_alphanumeric());
    let digits = |p: &str, min: usize| p.len() >= min && p.len() <= 12 && p.bytes().all(|b| b.is_ascii_digit());
    matches!(parts.as_slice(), [kind, office, year, serial]
        if letters(kind) && letters(office) && digits(year, 4) && year.len() == 4 && digits(serial, 1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::seal::{SealInput, key_id, key_id_hex, sign};
    use chrono::TimeZone;
    use ed25519_dalek::{Signer, SigningKey};

    fn key() -> SigningKey {
        SigningKey::from_bytes(&[5; 32])
    }

    fn t(m: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, m, d, h, 0, 0).unwrap()
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn trusted(k: &SigningKey, kinds: Vec<PermitKind>) -> TrustedKey {
        TrustedKey {
            kid: key_id_hex(key_id(&k.verifying_key())),
            public_key: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(k.verifying_key().as_bytes()),
            kinds,
            not_before: t(1, 1, 0),
            not_after: Utc.with_ymd_and_hms(2028, 1, 1, 0, 0, 0).unwrap(),
        }
    }

    fn code_until(number: &str, kind: PermitKind, until: NaiveDate, entries: u32) -> String {
        sign(
            &key(),
            &SealInput {
                kind,
                number,
                holder: "ZHANG WEI",
                nationality: "CHN",
                valid_from: day(2026, 11, 1),
                valid_until: until,
                entries,
            },
        )
    }

    fn code(number: &str) -> String {
        code_until(number, PermitKind::BorderTourism, day(2027, 1, 31), 1)
    }

    fn listed(number: &str, standing: Standing, due: Option<NaiveDate>) -> Listed {
        Listed {
            number: number.into(),
            standing,
            due,
            until: day(2027, 1, 31),
        }
    }

    fn full(at: DateTime<Utc>) -> TrustBundle {
        TrustBundle {
            version: 10,
            since: None,
            issued_at: at,
            keys: vec![trusted(&key(), vec![PermitKind::BorderTourism])],
            permits: vec![
                listed("BT-YYG-2026-000002", Standing::Revoked, None),
                listed("BT-YYG-2026-000003", Standing::Pending, Some(day(2026, 11, 28))),
                listed("BT-YYG-2026-000004", Standing::Used, None),
                listed("BT-YYG-2026-000005", Standing::Out, None),
            ],
            booking_lanes: vec!["F-OUT-1".into()],
        }
    }

    fn reason(v: &Verifier, number: &str, direction: Direction, at: DateTime<Utc>) -> Reason {
        v.decide(&code(number), direction, at).verdict.reason
    }

    #[test]
    fn a_freight_lane_needing_bookings_admits_nothing_offline_and_says_why() {
        let v = Verifier::new(full(t(11, 26, 0))).unwrap();
        let at = t(11, 26, 1);
        let good = code("BT-YYG-2026-000001");
        assert_eq!(
            v.decide_at(&good, "YYG-C1", Direction::Exit, at).verdict.reason,
            Reason::Ok
        );
        let freight = v.decide_at(&good, "F-OUT-1", Direction::Exit, at);
        assert_eq!(freight.verdict.reason, Reason::UnverifiableOffline);
        assert!(!freight.verdict.admit && freight.verdict.message_en.contains("booking"));
        assert_eq!(
            freight.number.as_deref(),
            Some("BT-YYG-2026-000001"),
            "still shows whose code it is"
        );
        assert_eq!(
            v.snapshot(day(2026, 11, 26)).booking_lanes,
            ["F-OUT-1"],
            "kept on the device"
        );
    }

    #[test]
    fn decides_from_the_bundle_alone() {
        let v = Verifier::new(full(t(11, 26, 0))).unwrap();
        let at = t(11, 26, 3);
        let exit = Direction::Exit;
        assert!(v.decide(&code("BT-YYG-2026-000001"), exit, at).verdict.admit);
        assert_eq!(reason(&v, "BT-YYG-2026-000002", exit, at), Reason::Revoked);
        assert_eq!(reason(&v, "BT-YYG-2026-000003", exit, at), Reason::Pending);
        // Past the due date the same entry means suspended, by the device's own (trusted) date.
        assert_eq!(reason(&v, "BT-YYG-2026-000003", exit, t(11, 29, 3)), Reason::Suspended);
        assert_eq!(reason(&v, "BT-YYG-2026-000004", Direction::Entry, at), Reason::Used);
        assert_eq!(reason(&v, "BT-YYG-2026-000005", exit, at), Reason::WrongDirection);
        assert!(
            v.decide(&code("BT-YYG-2026-000005"), Direction::Entry, at)
                .verdict
                .admit
        );
        assert_eq!(
            v.decide(
                &code_until("TR-YYG-2026-000001", PermitKind::BorderTrade, day(2027, 1, 31), 0),
                exit,
                at
            )
            .verdict
            .reason,
            Reason::KeyNotAllowed
        );
        assert_eq!(
            v.decide("BT-YYG-2026-000001", exit, at).verdict.reason,
            Reason::UnverifiableOffline,
            "a bare number needs the hall"
        );
        assert_eq!(
            v.decide("bt-yyg-2026-000001 ", exit, at).verdict.reason,
            Reason::UnverifiableOffline,
            "typed in lower case"
        );
        assert_eq!(v.decide("not-a-permit", exit, at).verdict.reason, Reason::Malformed);
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
        assert_eq!(v.decide(&stranger, exit, at).verdict.reason, Reason::UnknownKey);
        assert_eq!(
            reason(&v, "BT-YYG-2026-000001", exit, t(12, 31, 3) + Duration::days(40)),
            Reason::Expired
        );
        assert_eq!(
            reason(&v, "BT-YYG-2026-000001", exit, t(10, 1, 0)),
            Reason::Ok,
            "clock held at the bundle"
        );
    }

    #[test]
    fn a_code_valid_past_its_keys_end_is_refused() {
        let mut b = full(t(11, 26, 0));
        b.keys[0].not_after = Utc.with_ymd_and_hms(2027, 1, 15, 0, 0, 0).unwrap();
        let v = Verifier::new(b).unwrap();
        let late = code_until("BT-YYG-2026-000009", PermitKind::BorderTourism, day(2027, 1, 31), 1);
        let inside = code_until("BT-YYG-2026-000009", PermitKind::BorderTourism, day(2027, 1, 15), 1);
        assert_eq!(
            v.decide(&late, Direction::Exit, t(11, 26, 3)).verdict.reason,
            Reason::KeyNotAllowed
        );
        assert!(v.decide(&inside, Direction::Exit, t(11, 26, 3)).verdict.admit);
    }

    #[test]
    fn deltas_merge_in_order_and_gaps_are_refused() {
        let mut v = Verifier::new(full(t(11, 26, 0))).unwrap();
        let delta = TrustBundle {
            version: 14,
            since: Some(10),
            issued_at: t(11, 26, 2),
            keys: full(t(11, 26, 0)).keys,
            permits: vec![
                // Materials supplied, and back home: nothing held against them any more.
                listed("BT-YYG-2026-000003", Standing::Clear, None),
                listed("BT-YYG-2026-000005", Standing::Clear, None),
                listed("BT-YYG-2026-000001", Standing::Revoked, None),
            ],
            booking_lanes: vec!["F-OUT-1".into()],
        };
        assert!(
            Verifier::new(delta.clone()).is_err(),
            "a device starts from a full bundle"
        );
        let gap = TrustBundle {
            since: Some(12),
            version: 20,
            ..delta.clone()
        };
        assert!(v.apply(gap).is_err(), "versions 11 and 12 would be missed");
        assert_eq!(v.version(), 10, "a refused delta changes nothing");
        v.apply(delta.clone()).unwrap();
        assert_eq!(v.version(), 14);
        let at = t(11, 26, 3);
        assert_eq!(reason(&v, "BT-YYG-2026-000001", Direction::Exit, at), Reason::Revoked);
        assert_eq!(reason(&v, "BT-YYG-2026-000003", Direction::Exit, at), Reason::Ok);
        assert_eq!(reason(&v, "BT-YYG-2026-000005", Direction::Exit, at), Reason::Ok);
        assert_eq!(
            reason(&v, "BT-YYG-2026-000002", Direction::Exit, at),
            Reason::Revoked,
            "kept"
        );
        // An older bundle arriving late changes nothing.
        v.apply(full(t(11, 26, 0))).unwrap();
        assert_eq!(v.version(), 14);
        assert_eq!(reason(&v, "BT-YYG-2026-000001", Direction::Exit, at), Reason::Revoked);
        // The snapshot holds the merged state and forgets what has expired.
        let snap = v.snapshot(day(2026, 11, 26));
        assert_eq!((snap.version, snap.since), (14, None));
        assert_eq!(snap.permits.len(), 3);
        assert!(v.snapshot(day(2027, 2, 1)).permits.is_empty());
    }

    #[test]
    fn the_device_remembers_its_own_crossings() {
        let mut v = Verifier::new(full(t(11, 26, 0))).unwrap();
        let at = t(11, 26, 3);
        let n = "BT-YYG-2026-000001";
        let out = v.decide(&code(n), Direction::Exit, at);
        assert!(out.verdict.admit);
        v.note(&out, Direction::Exit);
        assert_eq!(reason(&v, n, Direction::Exit, at), Reason::WrongDirection);
        let back = v.decide(&code(n), Direction::Entry, at);
        v.note(&back, Direction::Entry);
        assert_eq!(v.standing(n), Some(Standing::Used), "a single-entry pass is used up");
        assert_eq!(reason(&v, n, Direction::Exit, at), Reason::Used);
        // Kept while the pass could still be shown, forgotten after its last day (31 Jan 2027).
        let kept = |today| v.snapshot(today).permits.iter().any(|l| l.number == n);
        assert!(kept(day(2027, 1, 31)) && !kept(day(2027, 2, 1)));
        // A rejected scan changes nothing.
        let refused = v.decide(&code("BT-YYG-2026-000002"), Direction::Exit, at);
        v.note(&refused, Direction::Exit);
        assert_eq!(v.standing("BT-YYG-2026-000002"), Some(Standing::Revoked));
    }

    /// The code's last day is 31 Jan 2027 (China date): from 00:00:00 on 1 Feb, +08:00, a return
    /// is admitted with the overstay warning, an exit is refused as expired.
    #[test]
    fn an_entry_on_a_pass_expired_abroad_is_admitted_with_a_warning() {
        let china = |d: u32, h: u32, m: u32, s: u32| {
            crate::domain::OFFICE_TZ
                .with_ymd_and_hms(2027, 2, d, h, m, s)
                .unwrap()
                .with_timezone(&Utc)
        };
        let last_second = china(1, 0, 0, 0) - Duration::seconds(1);
        let mut v = Verifier::new(full(t(11, 26, 0))).unwrap();
        let n = "BT-YYG-2026-000005"; // listed as out
        let home = v.decide(&code(n), Direction::Entry, last_second).verdict;
        assert_eq!((home.admit, home.warning), (true, None));
        let late = v.decide(&code(n), Direction::Entry, china(1, 0, 0, 0));
        assert_eq!(
            (late.verdict.admit, late.verdict.reason, late.verdict.warning),
            (true, Reason::Ok, Some(Warning::Overstay))
        );
        // Not listed as out (the exit left the bundle, or was at a lane offline): admitted too.
        let unlisted = v.decide(&code("BT-YYG-2026-000001"), Direction::Entry, china(1, 0, 0, 0));
        assert_eq!(unlisted.verdict.warning, Some(Warning::Overstay));
        assert_eq!(
            reason(&v, "BT-YYG-2026-000001", Direction::Exit, china(1, 0, 0, 0)),
            Reason::Expired
        );
        assert_eq!(
            reason(&v, "BT-YYG-2026-000002", Direction::Entry, china(1, 0, 0, 0)),
            Reason::Revoked
        );
        assert_eq!(
            reason(&v, "BT-YYG-2026-000004", Direction::Entry, china(1, 0, 0, 0)),
            Reason::Used
        );
        // The return is noted like any other: the single-entry pass is used up.
        v.note(&late, Direction::Entry);
        assert_eq!(v.standing(n), Some(Standing::Used));
    }

    #[test]
    fn shows_its_age_and_distrusts_an_early_clock() {
        let v = Verifier::new(full(t(11, 26, 0))).unwrap();
        let fresh = v.decide(&code("BT-YYG-2026-000001"), Direction::Exit, t(11, 26, 6));
        assert_eq!((fresh.bundle_age_minutes, fresh.stale), (360, false));
        let old = v.decide(&code("BT-YYG-2026-000001"), Direction::Exit, t(11, 28, 6));
        assert!(old.stale);
        // A device clock set back before the bundle (to pass off an expired permit) is not used.
        let early = v.decide(&code("BT-YYG-2026-000001"), Direction::Exit, t(10, 1, 0));
        assert_eq!(early.clock, t(11, 26, 0));
    }

    #[test]
    fn a_bundle_opens_only_under_an_anchor() {
        let b = full(t(11, 26, 0));
        let payload = serde_json::to_string(&b).unwrap();
        let signature =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key().sign(payload.as_bytes()).to_bytes());
        let kid = trusted(&key(), vec![]).kid;
        let signed = SignedBundle {
            payload: payload.clone(),
            signature,
            key_id: kid.clone(),
        };
        let anchors = vec![Anchor {
            kid,
            public_key: trusted(&key(), vec![]).public_key,
        }];
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
