//! Permits and applications: kinds, states, numbering, validity and the lifecycle rules.

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};

use super::{DomainError, OFFICE_TZ, local};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PermitKind {
    BorderTourism,
    BorderTrade,
    Passport,
}

impl PermitKind {
    pub const ALL: [PermitKind; 3] = [PermitKind::BorderTourism, PermitKind::BorderTrade, PermitKind::Passport];

    pub fn as_str(self) -> &'static str {
        match self {
            PermitKind::BorderTourism => "border_tourism",
            PermitKind::BorderTrade => "border_trade",
            PermitKind::Passport => "passport",
        }
    }

    pub fn parse(s: &str) -> Option<PermitKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// One byte in the signed code; never renumber.
    pub fn code(self) -> u8 {
        match self {
            PermitKind::BorderTourism => 1,
            PermitKind::BorderTrade => 2,
            PermitKind::Passport => 3,
        }
    }

    pub fn from_code(code: u8) -> Option<PermitKind> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }
}

/// Stored permit states. `Expired` is never stored: it follows from the validity and the clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PermitStatus {
    Issued,
    /// 容缺: printed before every item (or the portrait) was supplied; not valid for crossing.
    Pending,
    /// An outstanding item is past its due date.
    Suspended,
    Used,
    Expired,
    Revoked,
}

impl PermitStatus {
    pub const ALL: [PermitStatus; 6] = [
        PermitStatus::Issued,
        PermitStatus::Pending,
        PermitStatus::Suspended,
        PermitStatus::Used,
        PermitStatus::Expired,
        PermitStatus::Revoked,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PermitStatus::Issued => "issued",
            PermitStatus::Pending => "pending",
            PermitStatus::Suspended => "suspended",
            PermitStatus::Used => "used",
            PermitStatus::Expired => "expired",
            PermitStatus::Revoked => "revoked",
        }
    }

    pub fn parse(s: &str) -> Option<PermitStatus> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationStatus {
    Submitted,
    /// 受理: materials checked (some may be deferred); the SLA clock runs.
    Accepted,
    Approved,
    Issued,
    /// Handed over to the holder.
    Collected,
    /// Handed to the external review system (passports).
    Uploaded,
    Rejected,
    Withdrawn,
}

impl ApplicationStatus {
    pub const ALL: [ApplicationStatus; 8] = [
        ApplicationStatus::Submitted,
        ApplicationStatus::Accepted,
        ApplicationStatus::Approved,
        ApplicationStatus::Issued,
        ApplicationStatus::Collected,
        ApplicationStatus::Uploaded,
        ApplicationStatus::Rejected,
        ApplicationStatus::Withdrawn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ApplicationStatus::Submitted => "submitted",
            ApplicationStatus::Accepted => "accepted",
            ApplicationStatus::Approved => "approved",
            ApplicationStatus::Issued => "issued",
            ApplicationStatus::Collected => "collected",
            ApplicationStatus::Uploaded => "uploaded",
            ApplicationStatus::Rejected => "rejected",
            ApplicationStatus::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<ApplicationStatus> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Whether the application still waits for a decision (and so counts against its SLA).
    pub fn is_open(self) -> bool {
        matches!(
            self,
            ApplicationStatus::Submitted | ApplicationStatus::Accepted | ApplicationStatus::Uploaded
        )
    }
}

/// A serial series: one gapless counter per kind, office and (local) year, e.g. `BT-YYG-2026`.
pub fn series(prefix: &str, office: &str, at: DateTime<Utc>) -> String {
    format!("{prefix}-{office}-{}", local(at).year())
}

/// An office's application numbers of one (local) day: one gapless counter each.
pub fn application_series(office: &str, at: DateTime<Utc>) -> String {
    format!("APP-{office}-{}", local(at).format("%Y%m%d"))
}

/// An application's number, e.g. `YYG202611260001`: office, local day, the day's serial.
pub fn application_number(office: &str, at: DateTime<Utc>, serial: i64) -> String {
    format!("{office}{}{serial:04}", local(at).format("%Y%m%d"))
}

/// Human-readable permit number, e.g. `BT-YYG-2026-000123`: kind, office, year, serial.
pub fn permit_number(series: &str, serial: i64) -> String {
    format!("{series}-{serial:06}")
}

/// Validity of a permit issued at `issued_at`: from that moment until the end of the local day
/// before the same date `months` later (3 months from 26 Nov = to 25 Feb, 23:59:59 +08:00).
pub fn validity(issued_at: DateTime<Utc>, months: u32) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let last_day: NaiveDate = local(issued_at)
        .date_naive()
        .checked_add_months(Months::new(months))?
        .checked_sub_days(Days::new(1))?;
    let end = last_day
        .and_time(NaiveTime::from_hms_opt(23, 59, 59)?)
        .and_local_timezone(OFFICE_TZ)
        .single()?;
    Some((issued_at, end.with_timezone(&Utc)))
}

/// The status a holder, officer or checkpoint sees now. Only issued/used/revoked are stored:
/// an issued permit past its validity is expired; one whose application still misses items is
/// pending, or suspended once any of them is past its due date (the end of that local day).
pub fn effective_status(
    stored: PermitStatus,
    valid_until: DateTime<Utc>,
    outstanding_due: &[NaiveDate],
    now: DateTime<Utc>,
) -> PermitStatus {
    match stored {
        PermitStatus::Issued if now > valid_until => PermitStatus::Expired,
        PermitStatus::Issued if outstanding_due.iter().any(|due| local(now).date_naive() > *due) => {
            PermitStatus::Suspended
        }
        PermitStatus::Issued if !outstanding_due.is_empty() => PermitStatus::Pending,
        other => other,
    }
}

/// Revocation is for permits still in force (pending and suspended ones included), and needs a
/// reason.
pub fn check_revoke(current: PermitStatus, reason: Option<&str>) -> Result<String, DomainError> {
    if !matches!(
        current,
        PermitStatus::Issued | PermitStatus::Pending | PermitStatus::Suspended
    ) {
        return Err(DomainError::Conflict {
            message: format!(
                "只能吊销有效的通行证，当前状态为{0} / only an issued permit can be revoked; it is {0}",
                current.as_str()
            ),
            current_state: current.as_str().to_string(),
        });
    }
    let reason = reason.map(str::trim).unwrap_or("");
    let mut errs = super::validation::FieldErrors::new();
    if reason.is_empty() {
        errs.add("reason", "required", "吊销须注明原因 / a reason is required");
    } else if reason.chars().any(|c| c.is_control() && c != '\n') {
        errs.add(
            "reason",
            "printable",
            "不能包含控制字符 / control characters are not allowed",
        );
    } else if reason.chars().count() > 500 {
        errs.add("reason", "max_length", "原因最多500字 / at most 500 characters");
    }
    errs.finish(reason.to_string()).map_err(DomainError::Validation)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        OFFICE_TZ
            .with_ymd_and_hms(y, m, d, h, 0, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn three_months_ends_the_day_before() {
        let (from, until) = validity(at(2026, 11, 26, 10), 3).unwrap();
        assert_eq!(from, at(2026, 11, 26, 10));
        assert_eq!(local(until).to_rfc3339(), "2027-02-25T23:59:59+08:00");
    }

    #[test]
    fn month_end_is_clamped() {
        // 30 Nov + 3 months is 28 Feb (clamped), so the last valid day is 27 Feb.
        let (_, until) = validity(at(2026, 11, 30, 9), 3).unwrap();
        assert_eq!(local(until).date_naive(), NaiveDate::from_ymd_opt(2027, 2, 27).unwrap());
    }

    #[test]
    fn series_uses_the_local_year() {
        // 31 Dec 2026 20:00 UTC is already 1 Jan 2027 in China.
        let t = Utc.with_ymd_and_hms(2026, 12, 31, 20, 0, 0).unwrap();
        assert_eq!(series("BT", "YYG", t), "BT-YYG-2027");
        assert_eq!(permit_number("BT-YYG-2027", 42), "BT-YYG-2027-000042");
    }

    #[test]
    fn expiry_is_derived_from_the_clock() {
        let (_, until) = validity(at(2026, 11, 26, 10), 3).unwrap();
        assert_eq!(
            effective_status(PermitStatus::Issued, until, &[], until),
            PermitStatus::Issued
        );
        let later = until + chrono::Duration::seconds(1);
        assert_eq!(
            effective_status(PermitStatus::Issued, until, &[], later),
            PermitStatus::Expired
        );
        assert_eq!(
            effective_status(PermitStatus::Revoked, until, &[], later),
            PermitStatus::Revoked
        );
    }

    #[test]
    fn revoke_needs_a_permit_in_force_and_a_reason() {
        assert!(matches!(
            check_revoke(PermitStatus::Revoked, Some("x")),
            Err(DomainError::Conflict { .. })
        ));
        assert!(matches!(
            check_revoke(PermitStatus::Expired, Some("x")),
            Err(DomainError::Conflict { .. })
        ));
        assert!(matches!(
            check_revoke(PermitStatus::Issued, Some("  ")),
            Err(DomainError::Validation(_))
        ));
        assert_eq!(check_revoke(PermitStatus::Issued, Some(" lost ")).unwrap(), "lost");
    }

    #[test]
    fn outstanding_items_make_a_permit_pending_then_suspended() {
        let (from, until) = validity(at(2026, 11, 26, 10), 12).unwrap();
        let due = NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();
        assert_eq!(
            effective_status(PermitStatus::Issued, until, &[due], from),
            PermitStatus::Pending
        );
        assert_eq!(
            effective_status(PermitStatus::Issued, until, &[due], at(2026, 12, 3, 23)),
            PermitStatus::Pending
        );
        assert_eq!(
            effective_status(PermitStatus::Issued, until, &[due], at(2026, 12, 4, 0)),
            PermitStatus::Suspended
        );
        assert_eq!(
            effective_status(PermitStatus::Revoked, until, &[due], from),
            PermitStatus::Revoked
        );
    }

    #[test]
    fn kind_codes_round_trip() {
        for k in PermitKind::ALL {
            assert_eq!(PermitKind::from_code(k.code()), Some(k));
            assert_eq!(PermitKind::parse(k.as_str()), Some(k));
        }
    }
}
