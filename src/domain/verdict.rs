//! The checkpoint's decision on a permit: admit or reject, with a reason code and a message in
//! Chinese and English. Pure, so the rules are tested here and the scan path stays a lookup.
//!
//! A trip is an exit followed by the return entry. `entries_allowed` counts trips (0 = any
//! number): a single-entry pass admits one exit and the entry that follows, then is used up.

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
}

impl Reason {
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Verdict {
    pub admit: bool,
    pub reason: Reason,
    pub message_zh: &'static str,
    pub message_en: &'static str,
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
    };
    Verdict {
        admit: false,
        reason,
        message_zh,
        message_en,
    }
}

fn admit() -> Verdict {
    Verdict {
        admit: true,
        reason: Reason::Ok,
        message_zh: "准予通行",
        message_en: "admit",
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
        Direction::Entry => {
            let used_up = f.entries_allowed > 0 && f.entries_used >= f.entries_allowed;
            (v, Some(Effect::EndTrip { used_up }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 2, 0, 0).unwrap()
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

    #[test]
    fn reason_codes_are_stable() {
        let json = serde_json::to_string(&[Reason::Ok, Reason::BadSignature, Reason::WrongDirection]).unwrap();
        assert_eq!(json, r#"["ok","bad_signature","wrong_direction"]"#);
        assert_eq!(Reason::KeyNotAllowed.as_str(), "key_not_allowed");
    }
}
