//! The checkpoint's decision on a permit: admit or reject, with a reason code and a message in
//! Chinese and English. Pure, so the rules are tested here and the scan path stays a lookup.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::permit::PermitStatus;

/// Reason codes are a contract with checkpoint devices: never rename one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    Ok,
    NotYetValid,
    Expired,
    Revoked,
    Suspended,
    Pending,
    Used,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Verdict {
    pub admit: bool,
    pub reason: Reason,
    pub message_zh: &'static str,
    pub message_en: &'static str,
}

fn reject(reason: Reason, message_zh: &'static str, message_en: &'static str) -> Verdict {
    Verdict {
        admit: false,
        reason,
        message_zh,
        message_en,
    }
}

/// Clock drift a checkpoint device is allowed at the edges of a validity window.
pub const CLOCK_SKEW: Duration = Duration::minutes(5);

/// Decides on a permit from its effective status (see `permit::effective_status`) and validity.
pub fn decide(status: PermitStatus, valid_from: DateTime<Utc>, now: DateTime<Utc>) -> Verdict {
    match status {
        PermitStatus::Revoked => reject(Reason::Revoked, "通行证已吊销", "permit revoked"),
        PermitStatus::Expired => reject(Reason::Expired, "通行证已过期", "permit expired"),
        PermitStatus::Used => reject(Reason::Used, "单次通行证已使用", "single-entry permit already used"),
        PermitStatus::Suspended => reject(
            Reason::Suspended,
            "补交材料逾期，通行证已中止",
            "permit suspended: materials overdue",
        ),
        PermitStatus::Pending => reject(
            Reason::Pending,
            "材料或照片待补，通行证未生效",
            "materials/portrait pending",
        ),
        PermitStatus::Issued if now + CLOCK_SKEW < valid_from => {
            reject(Reason::NotYetValid, "通行证尚未生效", "permit not yet valid")
        }
        PermitStatus::Issued => Verdict {
            admit: true,
            reason: Reason::Ok,
            message_zh: "准予通行",
            message_en: "admit",
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn each_status_has_its_reason() {
        let t = Utc.with_ymd_and_hms(2026, 11, 26, 2, 0, 0).unwrap();
        assert!(decide(PermitStatus::Issued, t, t).admit);
        for (status, reason) in [
            (PermitStatus::Pending, Reason::Pending),
            (PermitStatus::Suspended, Reason::Suspended),
            (PermitStatus::Revoked, Reason::Revoked),
            (PermitStatus::Expired, Reason::Expired),
            (PermitStatus::Used, Reason::Used),
        ] {
            let v = decide(status, t, t);
            assert!(!v.admit);
            assert_eq!(v.reason, reason);
        }
        assert_eq!(
            decide(PermitStatus::Pending, t, t).message_en,
            "materials/portrait pending"
        );
    }

    #[test]
    fn not_yet_valid_beyond_the_skew() {
        let from = Utc.with_ymd_and_hms(2026, 11, 26, 2, 0, 0).unwrap();
        assert!(decide(PermitStatus::Issued, from, from - Duration::minutes(4)).admit);
        assert_eq!(
            decide(PermitStatus::Issued, from, from - Duration::minutes(6)).reason,
            Reason::NotYetValid
        );
    }
}
