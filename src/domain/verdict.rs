//! The checkpoint's decision on a permit: admit or reject, with a reason code and a message in
//! Chinese and English. Pure, so the rules are tested here and the scan path stays a lookup.
//!
//! A trip is an exit followed by the return entry. `entries_allowed` counts trips (0 = any
//! number): a single-entry pass admits one exit and the entry that follows, then is used up.
//!
//! Overstay: a pass that expired while its holder was abroad (last crossing an exit) does not
//! refuse the holder's return. The entry is admitted with reason `ok` and the warning
//! `overstay`, which is recorded with the crossing for follow-up. Reason `ok` rather than a new
//! admit reason because devices read `reason == "ok"` as admit; the warning is an added field.
//! An exit on an expired pass, or an entry with no exit on record, is still `expired`.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::permit::PermitStatus;

/// Reason codes are a contract with checkpoint devices: never rename one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    Ok,
    Malformed,
    BadSignature,
    UnknownKey,
    KeyNotAllowed,
    UnknownPermit,
    NotYetValid,
    Expired,
    Revoked,
    Suspended,
    Pending,
    Used,
    WrongDirection,
    /// Offline only: a bare permit number (Code128 or typed) cannot be checked without the
    /// hall; the signed QR can.
    UnverifiableOffline,
    /// Online only: the permit kept changing under the scan (other lanes or devices moving it in
    /// the same instant) and no decision could be taken on a settled state: scan again.
    Contended,
    /// A freight lane: the vehicle has no booking called to this lane, or the booking differs
    /// (plate, direction, lane type, status); the message names what differs.
    BookingMismatch,
}

impl Reason {
    pub const ALL: [Reason; 16] = [
        Reason::Ok,
        Reason::Malformed,
        Reason::BadSignature,
        Reason::UnknownKey,
        Reason::KeyNotAllowed,
        Reason::UnknownPermit,
        Reason::NotYetValid,
        Reason::Expired,
        Reason::Revoked,
        Reason::Suspended,
        Reason::Pending,
        Reason::Used,
        Reason::WrongDirection,
        Reason::UnverifiableOffline,
        Reason::Contended,
        Reason::BookingMismatch,
    ];

    /// A stored reason code (crossings keep the code, pages show its words).
    pub fn parse(s: &str) -> Option<Reason> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Ok => "ok",
            Reason::Malformed => "malformed",
            Reason::BadSignature => "bad_signature",
            Reason::UnknownKey => "unknown_key",
            Reason::KeyNotAllowed => "key_not_allowed",
            Reason::UnknownPermit => "unknown_permit",
            Reason::NotYetValid => "not_yet_valid",
            Reason::Expired => "expired",
            Reason::Revoked => "revoked",
            Reason::Suspended => "suspended",
            Reason::Pending => "pending",
            Reason::Used => "used",
            Reason::WrongDirection => "wrong_direction",
            Reason::UnverifiableOffline => "unverifiable_offline",
            Reason::Contended => "contended",
            Reason::BookingMismatch => "booking_mismatch",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Exit,
    Entry,
}

impl Direction {
    pub const ALL: [Direction; 2] = [Direction::Exit, Direction::Entry];

    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Exit => "exit",
            Direction::Entry => "entry",
        }
    }

    pub fn parse(s: &str) -> Option<Direction> {
        match s {
            "exit" => Some(Direction::Exit),
            "entry" => Some(Direction::Entry),
            _ => None,
        }
    }
}

/// Something an admitted crossing leaves to follow up. Like reason codes, never renamed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Warning {
    /// The pass expired while its holder was abroad: admitted home, the overstay to be recorded.
    Overstay,
}

impl Warning {
    pub fn as_str(self) -> &'static str {
        match self {
            Warning::Overstay => "overstay",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Verdict {
    pub admit: bool,
    pub reason: Reason,
    pub message_zh: &'static str,
    pub message_en: &'static str,
    /// Only on an admit.
    pub warning: Option<Warning>,
}

pub fn reject(reason: Reason) -> Verdict {
    let (message_zh, message_en) = match reason {
        Reason::Ok => ("准予通行", "admit"),
        Reason::Malformed => ("无法识别的条码", "not a permit code"),
        Reason::BadSignature => (
            "签名无效，证件可能被篡改",
            "signature invalid: the code was altered or forged",
        ),
        Reason::UnknownKey => ("签发密钥未知", "signed by an unknown key"),
        Reason::KeyNotAllowed => ("该密钥无权签发此类证件", "key not allowed to sign this kind of permit"),
        Reason::UnknownPermit => ("查无此证", "no such permit"),
        Reason::NotYetValid => ("通行证尚未生效", "permit not yet valid"),
        Reason::Expired => ("通行证已过期", "permit expired"),
        Reason::Revoked => ("通行证已吊销", "permit revoked"),
        Reason::Suspended => ("补交材料逾期，通行证已中止", "permit suspended: materials overdue"),
        Reason::Pending => ("材料或照片待补，通行证未生效", "materials/portrait pending"),
        Reason::Used => ("通行证次数已用完", "permit used up"),
        Reason::WrongDirection => ("出入境方向不符", "wrong direction for this permit's last crossing"),
        Reason::UnverifiableOffline => (
            "离线无法核验证件号码，请扫描二维码",
            "a permit number cannot be verified offline: scan the QR code",
        ),
        Reason::Contended => (
            "证件正在别处同时核验，请重新扫描",
            "the permit was being checked elsewhere at the same moment: scan again",
        ),
        Reason::BookingMismatch => ("预约不符", "booking mismatch"),
    };
    Verdict {
        admit: false,
        reason,
        message_zh,
        message_en,
        warning: None,
    }
}

pub fn admit() -> Verdict {
    Verdict {
        admit: true,
        reason: Reason::Ok,
        message_zh: "准予通行",
        message_en: "admit",
        warning: None,
    }
}

/// A freight lane's refusal: the booking differs, and the words say how.
pub fn booking_mismatch(message_zh: &'static str, message_en: &'static str) -> Verdict {
    Verdict {
        admit: false,
        reason: Reason::BookingMismatch,
        message_zh,
        message_en,
        warning: None,
    }
}

/// The return of a holder whose pass expired while abroad.
pub fn overstay() -> Verdict {
    Verdict {
        admit: true,
        reason: Reason::Ok,
        message_zh: "准予入境：通行证已在境外期间过期，逾期滞留须登记",
        message_en: "admit home: the pass expired while abroad (overstay, to be recorded)",
        warning: Some(Warning::Overstay),
    }
}

/// Clock drift a checkpoint device is allowed at the edges of a validity window.
pub const CLOCK_SKEW: Duration = Duration::minutes(5);

/// Decides on a permit from its effective status (see `permit::effective_status`) and validity.
pub fn decide(status: PermitStatus, valid_from: DateTime<Utc>, now: DateTime<Utc>) -> Verdict {
    match status {
        PermitStatus::Revoked => reject(Reason::Revoked),
        PermitStatus::Expired => reject(Reason::Expired),
        PermitStatus::Used => reject(Reason::Used),
        PermitStatus::Suspended => reject(Reason::Suspended),
        PermitStatus::Pending => reject(Reason::Pending),
        PermitStatus::Issued if now + CLOCK_SKEW < valid_from => reject(Reason::NotYetValid),
        PermitStatus::Issued => admit(),
    }
}

/// What admitting a crossing changes on the permit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// An exit starts a trip: one more entry used.
    StartTrip,
    /// The return entry ends the trip; `used_up` when it was the last trip allowed.
    EndTrip { used_up: bool },
}

impl Effect {
    /// The permit's trip state after the effect, from its entries used before: entries used,
    /// last direction, stored status.
    pub fn after(self, entries_used: i32) -> (i32, Direction, PermitStatus) {
        match self {
            Effect::StartTrip => (entries_used + 1, Direction::Exit, PermitStatus::Issued),
            Effect::EndTrip { used_up: true } => (entries_used, Direction::Entry, PermitStatus::Used),
            Effect::EndTrip { used_up: false } => (entries_used, Direction::Entry, PermitStatus::Issued),
        }
    }

    /// The step of the crossing that has this effect: the permit's movement count after it.
    pub fn step(self, entries_used: i32) -> i32 {
        let (used, direction, _) = self.after(entries_used);
        moves(used, Some(direction))
    }
}

/// A permit's trip state as one number, its movements: each admitted exit and each return entry
/// counts one, so an odd count means the holder is out. Exits after exits are refused, so the
/// count after an admitted crossing is always the count before it plus one: the crossing's
/// `step`, which the database holds unique per permit (one admit per movement).
pub fn moves(entries_used: i32, last_direction: Option<Direction>) -> i32 {
    let used = entries_used.max(0).saturating_mul(2);
    match last_direction {
        Some(Direction::Exit) => used.saturating_sub(1).max(1),
        _ => used,
    }
}

/// The trip state after `moves` movements: entries used and the last direction (`moves`'s inverse).
pub fn trip_state(moves: i32) -> (i32, Option<Direction>) {
    match moves {
        m if m <= 0 => (0, None),
        m if m % 2 == 1 => (m / 2 + 1, Some(Direction::Exit)),
        m => (m / 2, Some(Direction::Entry)),
    }
}

/// The trip state a permit is in: its row's (the state written with its last allowed trip, or
/// before trips were recorded as steps) or its highest crossing step, whichever is further on.
pub fn current_trips(
    entries_used: i32,
    last_direction: Option<Direction>,
    max_step: Option<i32>,
) -> (i32, Option<Direction>) {
    match max_step {
        Some(step) if step > moves(entries_used, last_direction) => trip_state(step),
        _ => (entries_used, last_direction),
    }
}

/// The facts of a permit a crossing decision needs.
#[derive(Debug, Clone, Copy)]
pub struct Facts {
    pub status: PermitStatus,
    pub valid_from: DateTime<Utc>,
    pub entries_allowed: i32,
    pub entries_used: i32,
    pub last_direction: Option<Direction>,
}

/// Decides a crossing in `direction`, and what admitting it changes.
pub fn crossing(f: &Facts, direction: Direction, now: DateTime<Utc>) -> (Verdict, Option<Effect>) {
    let used_up = f.entries_allowed > 0 && f.entries_used >= f.entries_allowed;
    if f.status == PermitStatus::Expired && direction == Direction::Entry && f.last_direction == Some(Direction::Exit) {
        return (overstay(), Some(Effect::EndTrip { used_up }));
    }
    let v = decide(f.status, f.valid_from, now);
    if !v.admit {
        return (v, None);
    }
    let trips_left = f.entries_allowed == 0 || f.entries_used < f.entries_allowed;
    match direction {
        Direction::Exit if f.last_direction == Some(Direction::Exit) => (reject(Reason::WrongDirection), None),
        Direction::Exit if !trips_left => (reject(Reason::Used), None),
        Direction::Exit => (v, Some(Effect::StartTrip)),
        Direction::Entry if f.last_direction != Some(Direction::Exit) => (reject(Reason::WrongDirection), None),
        Direction::Entry => (v, Some(Effect::EndTrip { used_up })),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_effect_gives_the_trip_state_after_it() {
        assert_eq!(Effect::StartTrip.after(2), (3, Direction::Exit, PermitStatus::Issued));
        assert_eq!(
            Effect::EndTrip { used_up: false }.after(3),
            (3, Direction::Entry, PermitStatus::Issued)
        );
        assert_eq!(
            Effect::EndTrip { used_up: true }.after(1),
            (1, Direction::Entry, PermitStatus::Used)
        );
    }

    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_trip_state_is_a_count_of_movements() {
        let states = [
            (0, (0, None)),
            (1, (1, Some(Direction::Exit))),
            (2, (1, Some(Direction::Entry))),
            (3, (2, Some(Direction::Exit))),
            (4, (2, Some(Direction::Entry))),
        ];
        for (m, (used, last)) in states {
            assert_eq!(trip_state(m), (used, last), "movements {m}");
            assert_eq!(moves(used, last), m, "state {used} {last:?}");
        }
        // Each admitted effect is one movement more, so its step follows the state before it.
        for used in 0..4 {
            for last in [None, Some(Direction::Entry)] {
                assert_eq!(Effect::StartTrip.step(used), moves(used, last) + 1);
            }
            for used_up in [false, true] {
                assert_eq!(
                    Effect::EndTrip { used_up }.step(used + 1),
                    moves(used + 1, Some(Direction::Exit)) + 1
                );
            }
        }
    }

    #[test]
    fn the_row_or_the_highest_step_whichever_is_further() {
        assert_eq!(
            current_trips(1, Some(Direction::Entry), None),
            (1, Some(Direction::Entry))
        );
        assert_eq!(
            current_trips(1, Some(Direction::Entry), Some(2)),
            (1, Some(Direction::Entry))
        );
        assert_eq!(
            current_trips(1, Some(Direction::Entry), Some(3)),
            (2, Some(Direction::Exit))
        );
        assert_eq!(current_trips(0, None, Some(1)), (1, Some(Direction::Exit)));
        // A used-up pass's row is written with its last trip: an older step does not undo it.
        assert_eq!(
            current_trips(3, Some(Direction::Entry), Some(5)),
            (3, Some(Direction::Entry))
        );
        // Odd stored values (a used count with no direction) are read as their count, not a panic.
        assert_eq!(
            current_trips(-1, Some(Direction::Exit), None),
            (-1, Some(Direction::Exit))
        );
        assert_eq!(moves(i32::MAX, None), i32::MAX);
    }

    fn t() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 2, 0, 0).unwrap()
    }

    #[test]
    fn every_reason_code_parses_back() {
        for r in Reason::ALL {
            assert_eq!(Reason::parse(r.as_str()), Some(r));
        }
        assert_eq!(Reason::parse("nonsense"), None);
    }

    #[test]
    fn each_status_has_its_reason() {
        assert!(decide(PermitStatus::Issued, t(), t()).admit);
        for (status, reason) in [
            (PermitStatus::Pending, Reason::Pending),
            (PermitStatus::Suspended, Reason::Suspended),
            (PermitStatus::Revoked, Reason::Revoked),
            (PermitStatus::Expired, Reason::Expired),
            (PermitStatus::Used, Reason::Used),
        ] {
            let v = decide(status, t(), t());
            assert!(!v.admit);
            assert_eq!(v.reason, reason);
        }
        assert_eq!(
            decide(PermitStatus::Pending, t(), t()).message_en,
            "materials/portrait pending"
        );
    }

    #[test]
    fn not_yet_valid_beyond_the_skew() {
        assert!(decide(PermitStatus::Issued, t(), t() - Duration::minutes(4)).admit);
        assert_eq!(
            decide(PermitStatus::Issued, t(), t() - Duration::minutes(6)).reason,
            Reason::NotYetValid
        );
    }

    #[test]
    fn a_single_entry_pass_makes_one_trip() {
        let mut f = Facts {
            status: PermitStatus::Issued,
            valid_from: t(),
            entries_allowed: 1,
            entries_used: 0,
            last_direction: None,
        };
        assert_eq!(
            crossing(&f, Direction::Entry, t()).0.reason,
            Reason::WrongDirection,
            "no exit yet"
        );
        let (v, e) = crossing(&f, Direction::Exit, t());
        assert!(v.admit);
        assert_eq!(e, Some(Effect::StartTrip));
        f.entries_used = 1;
        f.last_direction = Some(Direction::Exit);
        assert_eq!(
            crossing(&f, Direction::Exit, t()).0.reason,
            Reason::WrongDirection,
            "exit twice"
        );
        assert_eq!(
            crossing(&f, Direction::Entry, t()).1,
            Some(Effect::EndTrip { used_up: true })
        );
        f.last_direction = Some(Direction::Entry);
        assert_eq!(crossing(&f, Direction::Exit, t()).0.reason, Reason::Used);
    }

    #[test]
    fn multiple_entry_passes_keep_going() {
        let f = Facts {
            status: PermitStatus::Issued,
            valid_from: t(),
            entries_allowed: 0,
            entries_used: 40,
            last_direction: Some(Direction::Entry),
        };
        assert_eq!(crossing(&f, Direction::Exit, t()), (admit(), Some(Effect::StartTrip)));
        let f = Facts {
            last_direction: Some(Direction::Exit),
            ..f
        };
        assert_eq!(
            crossing(&f, Direction::Entry, t()).1,
            Some(Effect::EndTrip { used_up: false })
        );
    }

    /// Validity is per China date: a pass whose last day is 30 Nov 2026 is good until 23:59:59
    /// that day (+08:00), and from 00:00:00 on 1 Dec its holder abroad overstays.
    #[test]
    fn a_pass_expiring_abroad_admits_the_return_with_an_overstay_warning() {
        use crate::domain::permit::{effective_status, validity};
        let china = |mo: u32, d: u32, h: u32, m: u32, s: u32| {
            crate::domain::OFFICE_TZ
                .with_ymd_and_hms(2026, mo, d, h, m, s)
                .unwrap()
                .with_timezone(&Utc)
        };
        let issued = china(11, 1, 9, 0, 0);
        let (from, until) = validity(issued, 1).unwrap();
        assert_eq!(until, china(11, 30, 23, 59, 59), "last day 30 Nov");
        let at = |now: DateTime<Utc>, last: Option<Direction>| Facts {
            status: effective_status(PermitStatus::Issued, until, &[], now),
            valid_from: from,
            entries_allowed: 1,
            entries_used: 1,
            last_direction: last,
        };
        let before = china(11, 30, 23, 59, 59);
        let after = china(12, 1, 0, 0, 0);
        let out = Some(Direction::Exit);
        // 23:59:59 on the last day: an ordinary return.
        let (v, e) = crossing(&at(before, out), Direction::Entry, before);
        assert_eq!((v.admit, v.reason, v.warning), (true, Reason::Ok, None));
        assert_eq!(e, Some(Effect::EndTrip { used_up: true }));
        // 00:00:00 the day after: still home, with the overstay to record, and the trip ends.
        let (v, e) = crossing(&at(after, out), Direction::Entry, after);
        assert_eq!(
            (v.admit, v.reason, v.warning),
            (true, Reason::Ok, Some(Warning::Overstay))
        );
        assert_eq!(e, Some(Effect::EndTrip { used_up: true }));
        // Leaving on an expired pass, or coming back with no exit on record, is refused.
        let fresh = Facts {
            entries_used: 0,
            ..at(after, None)
        };
        assert_eq!(crossing(&fresh, Direction::Exit, after).0.reason, Reason::Expired);
        assert_eq!(crossing(&fresh, Direction::Entry, after).0.reason, Reason::Expired);
        assert_eq!(
            crossing(&at(after, Some(Direction::Entry)), Direction::Entry, after)
                .0
                .reason,
            Reason::Expired
        );
        // Revoked while abroad stays a rejection.
        let revoked = Facts {
            status: PermitStatus::Revoked,
            ..at(after, out)
        };
        assert_eq!(crossing(&revoked, Direction::Entry, after).0.reason, Reason::Revoked);
    }

    #[test]
    fn reason_codes_are_stable() {
        let json = serde_json::to_string(&[Reason::Ok, Reason::BadSignature, Reason::WrongDirection]).unwrap();
        assert_eq!(json, r#"["ok","bad_signature","wrong_direction"]"#);
        assert_eq!(Reason::KeyNotAllowed.as_str(), "key_not_allowed");
        assert_eq!(Reason::UnverifiableOffline.as_str(), "unverifiable_offline");
        assert_eq!(serde_json::to_string(&Warning::Overstay).unwrap(), r#""overstay""#);
    }
}
