//! Who may do what: roles, per-kind grants, and the one function that decides.

use serde::{Deserialize, Serialize};

use super::DomainError;
use super::permit::PermitKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Officer,
    Supervisor,
    Checkpoint,
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Officer, Role::Supervisor, Role::Checkpoint, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Officer => "officer",
            Role::Supervisor => "supervisor",
            Role::Checkpoint => "checkpoint",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// The authenticated officer or device behind a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub grants: Vec<PermitKind>,
    pub office: String,
}

impl Actor {
    pub fn has_grant(&self, kind: PermitKind) -> bool {
        self.grants.contains(&kind)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Take an application at the window.
    CreateApplication(PermitKind),
    /// Issue (approve and produce) a permit.
    IssuePermit(PermitKind),
    /// Print a permit document.
    PrintPermit(PermitKind),
    /// Look a permit or application up.
    View,
    /// Revoke a permit in force.
    RevokePermit,
    /// System integration: hand applications to external systems and take their results.
    Integrate,
    /// Supervision: SLA and workload views.
    Supervise,
    /// Scan permits at a checkpoint lane.
    Scan,
    /// See a holder's portrait: the window, supervisors and the checkpoint, nobody else.
    ViewPortrait,
    /// Edit the working-day calendar (holidays and make-up working days).
    EditCalendar,
}

/// Decides whether `actor` may take `action`; the reason names what is missing.
pub fn authorize(actor: &Actor, action: Action) -> Result<(), DomainError> {
    let window_staff = matches!(actor.role, Role::Officer | Role::Supervisor);
    let allowed = match action {
        Action::CreateApplication(kind) | Action::IssuePermit(kind) | Action::PrintPermit(kind) => {
            if !window_staff {
                false
            } else if !actor.has_grant(kind) {
                return Err(DomainError::Forbidden(format!(
                    "未获授权办理{0}业务 / not authorised for {0}",
                    kind.as_str()
                )));
            } else {
                true
            }
        }
        Action::View => true,
        Action::RevokePermit => actor.role == Role::Supervisor,
        Action::Integrate | Action::Supervise => matches!(actor.role, Role::Supervisor | Role::Admin),
        Action::Scan => actor.role == Role::Checkpoint,
        Action::ViewPortrait => matches!(actor.role, Role::Officer | Role::Supervisor | Role::Checkpoint),
        Action::EditCalendar => actor.role == Role::Admin,
    };
    if allowed {
        Ok(())
    } else {
        Err(DomainError::Forbidden(format!(
            "角色{0}无权执行此操作 / role {0} may not do this",
            actor.role.as_str()
        )))
    }
}

/// Grants are stored as a comma-separated list; unknown names are dropped, not trusted.
pub fn parse_grants(s: &str) -> Vec<PermitKind> {
    s.split(',').filter_map(|g| PermitKind::parse(g.trim())).collect()
}

pub fn format_grants(grants: &[PermitKind]) -> String {
    grants.iter().map(|g| g.as_str()).collect::<Vec<_>>().join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role, grants: &[PermitKind]) -> Actor {
        Actor {
            id: "a".into(),
            username: "u".into(),
            display_name: "U".into(),
            role,
            grants: grants.to_vec(),
            office: "YYG".into(),
        }
    }

    #[test]
    fn issuing_needs_window_role_and_grant() {
        let t = PermitKind::BorderTourism;
        assert!(authorize(&actor(Role::Officer, &[t]), Action::IssuePermit(t)).is_ok());
        assert!(
            authorize(
                &actor(Role::Officer, &[PermitKind::BorderTrade]),
                Action::IssuePermit(t)
            )
            .is_err()
        );
        assert!(authorize(&actor(Role::Checkpoint, &[t]), Action::IssuePermit(t)).is_err());
        assert!(authorize(&actor(Role::Admin, &[t]), Action::CreateApplication(t)).is_err());
    }

    #[test]
    fn only_supervisors_revoke() {
        assert!(authorize(&actor(Role::Supervisor, &[]), Action::RevokePermit).is_ok());
        assert!(authorize(&actor(Role::Officer, &PermitKind::ALL), Action::RevokePermit).is_err());
    }

    /// The authorisation matrix as SECURITY.md shows it, computed from `authorize` itself.
    fn matrix() -> String {
        let k = PermitKind::BorderTrade;
        let rows: [(&str, Action); 10] = [
            ("受理申请 Take an application", Action::CreateApplication(k)),
            ("批准、签发 Approve and issue a permit", Action::IssuePermit(k)),
            ("打印证件 Print a permit", Action::PrintPermit(k)),
            ("查看申请和证件 View applications and permits", Action::View),
            ("吊销证件 Revoke a permit", Action::RevokePermit),
            ("对接审核系统 Export batches, record review results", Action::Integrate),
            ("时限监控 SLA and approvals view", Action::Supervise),
            ("查验 Scan at a checkpoint lane", Action::Scan),
            ("查看照片 See a holder's portrait", Action::ViewPortrait),
            ("工作日历 Edit the working-day calendar", Action::EditCalendar),
        ];
        let mut out = String::from("| action |");
        for r in Role::ALL {
            out += &format!(" {} |", r.as_str());
        }
        out += "\n|---|";
        out += &"---|".repeat(Role::ALL.len());
        for (name, action) in rows {
            out += &format!("\n| {name} |");
            for role in Role::ALL {
                let with = authorize(&actor(role, &PermitKind::ALL), action).is_ok();
                let without = authorize(&actor(role, &[]), action).is_ok();
                out += match (with, without) {
                    (_, true) => " yes |",
                    (true, false) => " with the kind's grant |",
                    (false, _) => " — |",
                };
            }
        }
        out + "\n"
    }

    #[test]
    fn security_md_shows_the_matrix_authorize_enforces() {
        let doc = include_str!("../../SECURITY.md");
        let expected = matrix();
        assert!(
            doc.contains(&expected),
            "SECURITY.md's authorisation matrix differs from domain::auth; it should read:\n{expected}"
        );
    }

    #[test]
    fn only_admins_edit_the_calendar() {
        for role in Role::ALL {
            let ok = authorize(&actor(role, &PermitKind::ALL), Action::EditCalendar).is_ok();
            assert_eq!(ok, role == Role::Admin, "{role:?}");
        }
    }

    #[test]
    fn grants_round_trip_and_ignore_unknown() {
        let g = parse_grants("border_tourism, passport,bogus");
        assert_eq!(g, vec![PermitKind::BorderTourism, PermitKind::Passport]);
        assert_eq!(format_grants(&g), "border_tourism,passport");
    }
}
