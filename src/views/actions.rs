//! Which workflow buttons an application page offers: decided by the same rules the service
//! applies (the workflow's transitions, role and per-kind grants, four eyes), so a page never
//! offers a step that would then be refused.

use crate::domain::auth::{ActionOn, Actor, authorize, on};
use crate::domain::permit::{ApplicationStatus, PermitKind};
use crate::domain::policy::KindPolicy;
use crate::domain::workflow::{self, Step};

/// What the application needs to decide the offer.
pub struct Facts<'a> {
    pub kind: PermitKind,
    /// The application's office: another office's application is offered nothing.
    pub office: &'a str,
    pub status: ApplicationStatus,
    /// The officer who accepted it (four eyes).
    pub accepted_by: Option<&'a str>,
    /// Materials not yet supplied.
    pub outstanding: usize,
    /// Sent back to the queue (e.g. an item arrived).
    pub attention: bool,
}

/// The steps offered on the page.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Offer {
    pub accept: bool,
    /// Issue straight from a submitted application (on the spot).
    pub issue_now: bool,
    pub approve: bool,
    /// Issue an approved application.
    pub issue_approved: bool,
    pub review: bool,
    pub collect: bool,
    pub acknowledge: bool,
    pub reject: bool,
    pub withdraw: bool,
    /// Record a deferred item, take the portrait.
    pub supply: bool,
    /// Why no approval is offered although the application waits for one (four eyes,
    /// items missing), so the officer knows who acts next.
    pub approval_note: Option<String>,
}

impl Offer {
    pub fn any_step(&self) -> bool {
        self.accept
            || self.issue_now
            || self.approve
            || self.issue_approved
            || self.review
            || self.collect
            || self.acknowledge
            || self.reject
            || self.withdraw
    }
}

/// The service's rule for each step: the transition exists and the actor holds the action.
fn may(actor: &Actor, kp: &KindPolicy, f: &Facts, step: Step, action: ActionOn) -> bool {
    workflow::next(kp.workflow, f.status, step).is_ok() && authorize(actor, action(f.kind, f.office)).is_ok()
}

pub fn offer(actor: &Actor, kp: Option<&KindPolicy>, f: &Facts) -> Offer {
    let Some(kp) = kp else {
        return Offer::default();
    };
    let handles = authorize(actor, on::handle(f.kind, f.office)).is_ok();
    let issue = may(actor, kp, f, Step::Issue, on::issue);
    let approval_step = may(actor, kp, f, Step::Approve, on::issue);
    let approval_rules = workflow::check_approval(kp, &actor.id, f.accepted_by, f.outstanding);
    let approval_note = match (&approval_rules, workflow::next(kp.workflow, f.status, Step::Approve)) {
        (Err(e), Ok(_)) => Some(e.to_string()),
        _ => None,
    };
    let closed = matches!(f.status, ApplicationStatus::Rejected | ApplicationStatus::Withdrawn);
    Offer {
        accept: may(actor, kp, f, Step::Accept, on::handle),
        issue_now: issue && f.status == ApplicationStatus::Submitted,
        approve: approval_step && approval_rules.is_ok(),
        issue_approved: issue && f.status == ApplicationStatus::Approved,
        // Either result is the same action; one form records both.
        review: may(actor, kp, f, Step::Review(true), on::handle),
        collect: may(actor, kp, f, Step::Collect, on::print),
        acknowledge: f.attention && handles,
        reject: may(actor, kp, f, Step::Reject, on::issue),
        withdraw: may(actor, kp, f, Step::Withdraw, on::handle),
        supply: handles && !closed,
        approval_note,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::auth::Role;
    use crate::domain::policy::{DEFAULT_POLICY, Policy};

    fn actor(id: &str, role: Role, grants: &[PermitKind]) -> Actor {
        Actor {
            id: id.into(),
            username: id.into(),
            display_name: id.into(),
            role,
            grants: grants.to_vec(),
            office: "YYG".into(),
        }
    }

    fn facts(kind: PermitKind, status: ApplicationStatus) -> Facts<'static> {
        Facts {
            kind,
            office: "YYG",
            status,
            accepted_by: Some("li"),
            outstanding: 0,
            attention: false,
        }
    }

    #[test]
    fn the_accepting_officer_is_not_offered_approve_but_another_is() {
        let policy = Policy::from_json(DEFAULT_POLICY).unwrap();
        let trade = PermitKind::BorderTrade;
        let kp = policy.kind(trade);
        let f = facts(trade, ApplicationStatus::Accepted);
        let li = offer(&actor("li", Role::Officer, &[trade]), kp, &f);
        assert!(!li.approve);
        assert!(
            li.approval_note
                .as_deref()
                .is_some_and(|n| n.contains("may not approve"))
        );
        assert!(li.reject && li.withdraw && !li.accept);
        let wang = offer(&actor("wang", Role::Supervisor, &[trade]), kp, &f);
        assert!(wang.approve && wang.approval_note.is_none());
        // Without the kind's grant nothing is offered, not even to a supervisor.
        let other = offer(&actor("zhao", Role::Supervisor, &[PermitKind::BorderTourism]), kp, &f);
        assert!(!other.any_step() && !other.supply);
        // An admin or checkpoint account is offered nothing.
        assert!(!offer(&actor("root", Role::Admin, &[trade]), kp, &f).any_step());
        // Nor is a supervisor of another office, grant or not.
        let elsewhere = Facts {
            office: "PXH",
            ..facts(trade, ApplicationStatus::Accepted)
        };
        let wang_elsewhere = offer(&actor("wang", Role::Supervisor, &[trade]), kp, &elsewhere);
        assert!(!wang_elsewhere.any_step() && !wang_elsewhere.supply);
    }

    #[test]
    fn steps_follow_the_workflow() {
        let policy = Policy::from_json(DEFAULT_POLICY).unwrap();
        let tourism = PermitKind::BorderTourism;
        let officer = actor("li", Role::Officer, &PermitKind::ALL);
        let o = offer(
            &officer,
            policy.kind(tourism),
            &facts(tourism, ApplicationStatus::Submitted),
        );
        assert!(o.issue_now && !o.accept && !o.approve && o.reject && o.withdraw);
        let o = offer(
            &officer,
            policy.kind(tourism),
            &facts(tourism, ApplicationStatus::Issued),
        );
        assert!(o.collect && !o.reject && !o.issue_now);
        let trade = PermitKind::BorderTrade;
        let o = offer(
            &officer,
            policy.kind(trade),
            &facts(trade, ApplicationStatus::Submitted),
        );
        assert!(o.accept && !o.issue_now);
        let o = offer(&officer, policy.kind(trade), &facts(trade, ApplicationStatus::Approved));
        assert!(o.issue_approved && o.reject && !o.withdraw);
        let passport = PermitKind::Passport;
        let o = offer(
            &officer,
            policy.kind(passport),
            &facts(passport, ApplicationStatus::Uploaded),
        );
        assert!(o.review && !o.reject);
        let o = offer(
            &officer,
            policy.kind(passport),
            &facts(passport, ApplicationStatus::Withdrawn),
        );
        assert!(!o.any_step() && !o.supply);
    }
}
