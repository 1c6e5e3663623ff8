//! Which step may follow which: the application state machine per workflow, and the rules on
//! who takes a step (four eyes) and when (materials, 容缺).

use chrono::{DateTime, NaiveDate, Utc};

use super::DomainError;
use super::calendar::{Calendar, OfficeHours};
use super::permit::ApplicationStatus as S;
use super::policy::{KindPolicy, Workflow};
use super::validation::FieldErrors;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Accept,
    Approve,
    Issue,
    Collect,
    Upload,
    /// A review result from the external system (passports): approved or not.
    Review(bool),
    Reject,
    Withdraw,
}

impl Step {
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Accept => "accept",
            Step::Approve => "approve",
            Step::Issue => "issue",
            Step::Collect => "collect",
            Step::Upload => "upload",
            Step::Review(_) => "review",
            Step::Reject => "reject",
            Step::Withdraw => "withdraw",
        }
    }
}

/// The state after `step`, or a conflict naming the current state.
pub fn next(workflow: Workflow, from: S, step: Step) -> Result<S, DomainError> {
    use Workflow::*;
    let to = match (workflow, from, step) {
        (OnTheSpot, S::Submitted, Step::Issue) => Some(S::Issued),
        (Approval, S::Submitted, Step::Accept) => Some(S::Accepted),
        (Approval, S::Accepted, Step::Approve) => Some(S::Approved),
        (Approval, S::Approved, Step::Issue) => Some(S::Issued),
        (ExternalReview, S::Submitted, Step::Accept) => Some(S::Accepted),
        (ExternalReview, S::Accepted, Step::Upload) => Some(S::Uploaded),
        (ExternalReview, S::Uploaded, Step::Review(true)) => Some(S::Approved),
        (ExternalReview, S::Uploaded, Step::Review(false)) => Some(S::Rejected),
        (OnTheSpot | Approval, S::Issued, Step::Collect) => Some(S::Collected),
        (_, S::Submitted, Step::Reject) => Some(S::Rejected),
        (_, S::Submitted, Step::Withdraw) => Some(S::Withdrawn),
        (Approval | ExternalReview, S::Accepted, Step::Reject) => Some(S::Rejected),
        (Approval | ExternalReview, S::Accepted, Step::Withdraw) => Some(S::Withdrawn),
        (Approval, S::Approved, Step::Reject) => Some(S::Rejected),
        _ => None,
    };
    to.ok_or_else(|| DomainError::Conflict {
        message: format!(
            "当前状态为{0}，不能执行{1} / the application is {0}; {1} is not allowed from there",
            from.as_str(),
            step.as_str()
        ),
        current_state: from.as_str().to_string(),
    })
}

/// An item missing at acceptance and when it is due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deferred {
    pub item: String,
    pub due: NaiveDate,
}

/// Checks the materials presented at acceptance against the kind's checklist. Every missing
/// item that may not be deferred is an error (all reported at once); the others get due dates
/// counted in working days.
pub fn check_acceptance(
    policy: &KindPolicy,
    provided: &[String],
    now: DateTime<Utc>,
    calendar: &Calendar,
    hours: &OfficeHours,
) -> Result<Vec<Deferred>, FieldErrors> {
    let mut errs = FieldErrors::new();
    for p in provided {
        if policy.material(p).is_none() {
            errs.add(
                "materials",
                "known_item",
                format!("未知材料{p:?} / {p:?} is not on this kind's checklist"),
            );
        }
    }
    let mut deferred = Vec::new();
    for item in &policy.materials {
        if provided.contains(&item.code) {
            continue;
        }
        if item.deferrable {
            deferred.push(Deferred {
                item: item.code.clone(),
                due: calendar.due_date(now, item.supply_days, hours),
            });
        } else {
            errs.add(
                format!("materials.{}", item.code),
                "required_at_acceptance",
                format!(
                    "{}为必备材料，不能容缺 / {} is required at acceptance and cannot be supplied later",
                    item.name_zh, item.name_en
                ),
            );
        }
    }
    errs.finish(deferred)
}

/// Approval rules beyond the state: four eyes, and 制证先行 only where policy allows it.
pub fn check_approval(
    policy: &KindPolicy,
    approver: &str,
    accepted_by: Option<&str>,
    outstanding: usize,
) -> Result<(), DomainError> {
    if policy.four_eyes && accepted_by == Some(approver) {
        return Err(DomainError::Forbidden(
            "受理人不能审批本人受理的申请 / the officer who accepted an application may not approve it".into(),
        ));
    }
    if outstanding > 0 && !policy.print_before_complete {
        return Err(DomainError::Conflict {
            message: format!("尚缺{outstanding}项材料 / {outstanding} item(s) still missing"),
            current_state: S::Accepted.as_str().into(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::permit::PermitKind;
    use crate::domain::policy::{DEFAULT_POLICY, Policy};
    use chrono::TimeZone;

    fn trade() -> KindPolicy {
        Policy::from_json(DEFAULT_POLICY)
            .unwrap()
            .kind(PermitKind::BorderTrade)
            .unwrap()
            .clone()
    }

    #[test]
    fn every_transition_allowed_and_refused() {
        let steps = [
            Step::Accept,
            Step::Approve,
            Step::Issue,
            Step::Collect,
            Step::Upload,
            Step::Review(true),
            Step::Review(false),
            Step::Reject,
            Step::Withdraw,
        ];
        let allowed = |w: Workflow| -> Vec<(S, Step, S)> {
            let mut v = Vec::new();
            for from in S::ALL {
                for step in steps {
                    if let Ok(to) = next(w, from, step) {
                        v.push((from, step, to));
                    }
                }
            }
            v
        };
        assert_eq!(
            allowed(Workflow::Approval),
            vec![
                (S::Submitted, Step::Accept, S::Accepted),
                (S::Submitted, Step::Reject, S::Rejected),
                (S::Submitted, Step::Withdraw, S::Withdrawn),
                (S::Accepted, Step::Approve, S::Approved),
                (S::Accepted, Step::Reject, S::Rejected),
                (S::Accepted, Step::Withdraw, S::Withdrawn),
                (S::Approved, Step::Issue, S::Issued),
                (S::Approved, Step::Reject, S::Rejected),
                (S::Issued, Step::Collect, S::Collected),
            ]
        );
        assert_eq!(
            allowed(Workflow::ExternalReview),
            vec![
                (S::Submitted, Step::Accept, S::Accepted),
                (S::Submitted, Step::Reject, S::Rejected),
                (S::Submitted, Step::Withdraw, S::Withdrawn),
                (S::Accepted, Step::Upload, S::Uploaded),
                (S::Accepted, Step::Reject, S::Rejected),
                (S::Accepted, Step::Withdraw, S::Withdrawn),
                (S::Uploaded, Step::Review(true), S::Approved),
                (S::Uploaded, Step::Review(false), S::Rejected),
            ]
        );
        assert_eq!(allowed(Workflow::OnTheSpot).len(), 4);
        let refused = next(Workflow::Approval, S::Submitted, Step::Approve).unwrap_err();
        assert!(matches!(refused, DomainError::Conflict { current_state, .. } if current_state == "submitted"));
    }

    #[test]
    fn acceptance_defers_eligible_items_and_refuses_the_rest() {
        let now = crate::domain::OFFICE_TZ
            .with_ymd_and_hms(2026, 2, 13, 10, 0, 0)
            .unwrap()
            .with_timezone(&Utc);
        let cal = Calendar::new([]);
        let hours = OfficeHours::default();
        let all: Vec<String> = trade().materials.iter().map(|m| m.code.clone()).collect();
        assert_eq!(check_acceptance(&trade(), &all, now, &cal, &hours).unwrap(), vec![]);

        let some = vec![
            "application_form".to_string(),
            "resident_id".to_string(),
            "trade_proof".to_string(),
        ];
        let deferred = check_acceptance(&trade(), &some, now, &cal, &hours).unwrap();
        let items: Vec<&str> = deferred.iter().map(|d| d.item.as_str()).collect();
        assert_eq!(items, ["vehicle_licence", "portrait"]);
        assert_eq!(deferred[1].due, NaiveDate::from_ymd_opt(2026, 2, 18).unwrap()); // 3 working days after Fri 13 Feb

        let errs = check_acceptance(&trade(), &["bogus".to_string()], now, &cal, &hours).unwrap_err();
        assert!(errs.has("materials.application_form") && errs.has("materials.resident_id") && errs.has("materials"));
    }

    #[test]
    fn four_eyes_and_print_before_complete() {
        let t = trade();
        assert!(matches!(
            check_approval(&t, "a", Some("a"), 0),
            Err(DomainError::Forbidden(_))
        ));
        assert!(check_approval(&t, "b", Some("a"), 2).is_ok());
        let mut strict = t.clone();
        strict.print_before_complete = false;
        assert!(matches!(
            check_approval(&strict, "b", Some("a"), 1),
            Err(DomainError::Conflict { .. })
        ));
    }
}
