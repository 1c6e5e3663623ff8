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

/// What an actor wants to do. Actions on an existing item carry the office the item belongs
/// to: offices are scoped (each keeps its own blank stock and serial series), so window staff
/// and supervisors act on their own office's applications and permits only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action<'a> {
    /// Take an application at the window (it belongs to the taker's office).
    CreateApplication(PermitKind),
    /// Work on an application of `office` at the window: accept, withdraw, hand over, supply an
    /// item, acknowledge, record a review result, upload the portrait.
    HandleApplication { kind: PermitKind, office: &'a str },
    /// Approve, reject, or issue (approve and produce) a permit for an application of `office`.
    IssuePermit { kind: PermitKind, office: &'a str },
    /// Print a permit of `office`.
    PrintPermit { kind: PermitKind, office: &'a str },
    /// Read an application of `office`, its notice of missing items, the office's desk queue.
    ViewApplication { office: &'a str },
    /// Read a permit record of `office` (the checkpoint reads permits only through verdicts).
    ViewPermit { office: &'a str },
    /// Revoke a permit in force.
    RevokePermit { office: &'a str },
    /// System integration: hand the actor's office's applications (identity numbers in full)
    /// to external systems and take their results.
    Integrate,
    /// Supervision: the SLA and workload view of the actor's office.
    Supervise,
    /// Scan permits at a checkpoint lane.
    Scan,
    /// See the portrait of an application or permit of `office` at the window.
    ViewPortrait { office: &'a str },
    /// See the holder's photo a scan verdict links to: what the guard compares the face with.
    VerdictPhoto,
    /// Read the working-day calendar (no personal data).
    ReadCalendar,
    /// Edit the working-day calendar (holidays and make-up working days).
    EditCalendar,
    /// The freight waiting area: check vehicles in, book walk-ups, call them to the border.
    Yard,
    /// Close or reduce a clearance slot (a lane down) and lift drivers' no-show restrictions.
    ManageSlots,
    /// The blank stock of `office`: its day's reconciliation, the drawer counted.
    ViewStock { office: &'a str },
    /// Receive batches of blanks for `office`, void an unused blank, explain a count's difference
    /// (the supervisor's approval the stock rules ask for).
    ManageStock { office: &'a str },
    /// Record a free service given at a window of `office` (copies, prints, a photo sheet).
    RecordFreeService { office: &'a str },
    /// Keep the register of `office`'s seals and certificates: enter, grant to a holder,
    /// withdraw, retire, and read who held which and each use (授权登记).
    ManageSeals { office: &'a str },
}

impl<'a> Action<'a> {
    /// The office an item acted on belongs to, and what the item is called when it is
    /// reported missing: an item of another office answers exactly as one that does not
    /// exist, so a refusal does not confirm it is there.
    fn scope(self) -> Option<(&'static str, &'a str)> {
        match self {
            Action::HandleApplication { office, .. }
            | Action::IssuePermit { office, .. }
            | Action::ViewApplication { office } => Some(("application", office)),
            Action::PrintPermit { office, .. } | Action::ViewPermit { office } | Action::RevokePermit { office } => {
                Some(("permit", office))
            }
            Action::ViewPortrait { office } => Some(("portrait", office)),
            Action::ViewStock { office } | Action::ManageStock { office } => Some(("blank", office)),
            Action::RecordFreeService { office } => Some(("free service", office)),
            Action::ManageSeals { office } => Some(("seal", office)),
            Action::CreateApplication(_)
            | Action::Integrate
            | Action::Supervise
            | Action::Scan
            | Action::VerdictPhoto
            | Action::ReadCalendar
            | Action::EditCalendar
            | Action::Yard
            | Action::ManageSlots => None,
        }
    }

    /// The per-kind grant the action needs, if any.
    fn kind(self) -> Option<PermitKind> {
        match self {
            Action::CreateApplication(kind)
            | Action::HandleApplication { kind, .. }
            | Action::IssuePermit { kind, .. }
            | Action::PrintPermit { kind, .. } => Some(kind),
            _ => None,
        }
    }
}

/// An action on an existing item, made from its kind and office once it is loaded.
pub type ActionOn = for<'a> fn(PermitKind, &'a str) -> Action<'a>;

/// The `ActionOn`s the services and pages use.
pub mod on {
    use super::{Action, PermitKind};

    pub fn handle(kind: PermitKind, office: &str) -> Action<'_> {
        Action::HandleApplication { kind, office }
    }

    pub fn issue(kind: PermitKind, office: &str) -> Action<'_> {
        Action::IssuePermit { kind, office }
    }

    pub fn print(kind: PermitKind, office: &str) -> Action<'_> {
        Action::PrintPermit { kind, office }
    }

    pub fn view_application(_: PermitKind, office: &str) -> Action<'_> {
        Action::ViewApplication { office }
    }

    pub fn view_permit(_: PermitKind, office: &str) -> Action<'_> {
        Action::ViewPermit { office }
    }
}

/// Whether the role may take the action on some item at all.
fn role_may(role: Role, action: Action<'_>) -> bool {
    let window_staff = matches!(role, Role::Officer | Role::Supervisor);
    match action {
        Action::CreateApplication(_)
        | Action::HandleApplication { .. }
        | Action::IssuePermit { .. }
        | Action::PrintPermit { .. }
        | Action::ViewApplication { .. }
        | Action::ViewPermit { .. }
        | Action::ViewPortrait { .. } => window_staff,
        Action::RevokePermit { .. } | Action::Integrate | Action::Supervise => role == Role::Supervisor,
        Action::Scan | Action::VerdictPhoto => role == Role::Checkpoint,
        Action::ReadCalendar => true,
        Action::EditCalendar => role == Role::Admin,
        Action::Yard => matches!(role, Role::Checkpoint | Role::Supervisor),
        Action::ManageSlots => role == Role::Supervisor,
        Action::ViewStock { .. } => window_staff,
        Action::ManageStock { .. } => role == Role::Supervisor,
        Action::RecordFreeService { .. } => window_staff,
        Action::ManageSeals { .. } => role == Role::Supervisor,
    }
}

/// Decides whether `actor` may take `action`. In this order, so that an answer tells the actor
/// nothing they may not know: the role (403), then the item's office (404, as if the item did
/// not exist), then the grant for the kind (403 naming the kind).
pub fn authorize(actor: &Actor, action: Action<'_>) -> Result<(), DomainError> {
    authorize_role(actor, action)?;
    if let Some((what, office)) = action.scope()
        && office != actor.office
    {
        return Err(DomainError::NotFound { what });
    }
    if let Some(kind) = action.kind()
        && !actor.has_grant(kind)
    {
        return Err(DomainError::Forbidden(format!(
            "未获授权办理{0}业务 / not authorised for {0}",
            kind.as_str()
        )));
    }
    Ok(())
}

/// The role part of `authorize` alone: checked before an item is looked up, so that a role
/// refused outright gets the same 403 whether the item exists or not (the office and the
/// grant are decided once the item is loaded).
pub fn authorize_role(actor: &Actor, action: Action<'_>) -> Result<(), DomainError> {
    if role_may(actor.role, action) {
        Ok(())
    } else {
        Err(DomainError::Forbidden(format!(
            "角色{0}无权执行此操作 / role {0} may not do this",
            actor.role.as_str()
        )))
    }
}

/// Whether a page may offer `action` to `actor`: the same decision as [`authorize`], so a page
/// never offers what the service would refuse.
pub fn may(actor: &Actor, action: Action<'_>) -> bool {
    authorize(actor, action).is_ok()
}

/// The work a signed-in user's pages lead to, from [`authorize`]: the header's links.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Menu {
    /// The desk: some kind the user may take at their office.
    pub take: bool,
    pub supervise: bool,
    pub edit_calendar: bool,
    pub scan: bool,
    /// The freight waiting area.
    pub yard: bool,
    /// Freight slots and drivers' strikes.
    pub slots: bool,
    /// The office's blank stock.
    pub stock: bool,
    /// Recording the free services given at the window.
    pub free: bool,
    /// The register of seals and certificates.
    pub seals: bool,
}

impl Menu {
    pub fn of(actor: &Actor) -> Menu {
        Menu {
            take: PermitKind::ALL
                .into_iter()
                .any(|k| may(actor, Action::CreateApplication(k))),
            supervise: may(actor, Action::Supervise),
            edit_calendar: may(actor, Action::EditCalendar),
            scan: may(actor, Action::Scan),
            yard: may(actor, Action::Yard),
            slots: may(actor, Action::ManageSlots),
            stock: may(actor, Action::ViewStock { office: &actor.office }),
            free: may(actor, Action::RecordFreeService { office: &actor.office }),
            seals: may(actor, Action::ManageSeals { office: &actor.office }),
        }
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

    const OWN: &str = "YYG";
    const OTHER: &str = "PXH";

    fn actor(role: Role, grants: &[PermitKind]) -> Actor {
        Actor {
            id: "a".into(),
            username: "u".into(),
            display_name: "U".into(),
            role,
            grants: grants.to_vec(),
            office: OWN.into(),
        }
    }

    fn not_found(r: Result<(), DomainError>) -> bool {
        matches!(r, Err(DomainError::NotFound { .. }))
    }

    fn forbidden(r: Result<(), DomainError>) -> bool {
        matches!(r, Err(DomainError::Forbidden(_)))
    }

    #[test]
    fn issuing_needs_window_role_and_grant() {
        let t = PermitKind::BorderTourism;
        let issue = Action::IssuePermit { kind: t, office: OWN };
        assert!(authorize(&actor(Role::Officer, &[t]), issue).is_ok());
        assert!(forbidden(authorize(
            &actor(Role::Officer, &[PermitKind::BorderTrade]),
            issue
        )));
        assert!(forbidden(authorize(&actor(Role::Checkpoint, &[t]), issue)));
        assert!(forbidden(authorize(
            &actor(Role::Admin, &[t]),
            Action::CreateApplication(t)
        )));
    }

    #[test]
    fn only_supervisors_revoke_and_only_their_offices_permits() {
        let sup = actor(Role::Supervisor, &[]);
        assert!(authorize(&sup, Action::RevokePermit { office: OWN }).is_ok());
        assert!(not_found(authorize(&sup, Action::RevokePermit { office: OTHER })));
        let officer = actor(Role::Officer, &PermitKind::ALL);
        assert!(forbidden(authorize(&officer, Action::RevokePermit { office: OWN })));
    }

    #[test]
    fn another_offices_items_are_answered_as_missing_before_the_grant_is_named() {
        let t = PermitKind::BorderTrade;
        // Without the grant either: naming the kind would confirm the item exists.
        let officer = actor(Role::Officer, &[PermitKind::BorderTourism]);
        for action in [
            Action::HandleApplication { kind: t, office: OTHER },
            Action::IssuePermit { kind: t, office: OTHER },
            Action::PrintPermit { kind: t, office: OTHER },
            Action::ViewApplication { office: OTHER },
            Action::ViewPermit { office: OTHER },
            Action::ViewPortrait { office: OTHER },
        ] {
            assert!(not_found(authorize(&officer, action)), "{action:?}");
            assert!(authorize_role(&officer, action).is_ok(), "{action:?}");
        }
        assert!(forbidden(authorize(
            &officer,
            Action::IssuePermit { kind: t, office: OWN }
        )));
        assert!(authorize(&officer, Action::ViewApplication { office: OWN }).is_ok());
    }

    #[test]
    fn admins_and_the_checkpoint_read_no_application_or_permit_records() {
        for role in [Role::Admin, Role::Checkpoint] {
            let a = actor(role, &PermitKind::ALL);
            for action in [
                Action::ViewApplication { office: OWN },
                Action::ViewPermit { office: OWN },
                Action::ViewPortrait { office: OWN },
                Action::Supervise,
                Action::Integrate,
            ] {
                // Refused for the role before any office is compared: the same answer for
                // every item, there or not.
                assert!(forbidden(authorize_role(&a, action)), "{role:?} {action:?}");
                assert!(forbidden(authorize(&a, action)), "{role:?} {action:?}");
            }
        }
        assert!(authorize(&actor(Role::Checkpoint, &[]), Action::VerdictPhoto).is_ok());
        assert!(forbidden(authorize(&actor(Role::Officer, &[]), Action::VerdictPhoto)));
        for role in Role::ALL {
            assert!(authorize(&actor(role, &[]), Action::ReadCalendar).is_ok());
        }
    }

    /// The authorisation matrix as SECURITY.md shows it, computed from `authorize` itself: each
    /// cell from an actor of office YYG with every grant and with none, on an item of YYG and of
    /// PXH.
    fn matrix() -> String {
        let k = PermitKind::BorderTrade;
        let rows: [(&str, ActionOn); 20] = [
            ("受理申请 Take an application", |kind, _| {
                Action::CreateApplication(kind)
            }),
            ("办理申请 Accept, withdraw, hand over, supply items, photo", on::handle),
            ("批准、签发 Approve and issue a permit", on::issue),
            ("打印证件 Print a permit", on::print),
            (
                "查看申请、告知书、待办 View applications, notices, the desk queue",
                on::view_application,
            ),
            ("查看证件 View permit records", on::view_permit),
            ("吊销证件 Revoke a permit", |_, office| Action::RevokePermit {
                office,
            }),
            (
                "对接审核系统 Export the office's applications for review, acknowledge",
                |_, _| Action::Integrate,
            ),
            ("时限监控 The office's SLA and approvals view", |_, _| {
                Action::Supervise
            }),
            ("查验 Scan at a checkpoint lane", |_, _| Action::Scan),
            ("查看照片 See a holder's portrait", |_, office| {
                Action::ViewPortrait { office }
            }),
            ("查验结果照片 See the photo a scan verdict shows", |_, _| {
                Action::VerdictPhoto
            }),
            ("查看工作日历 Read the working-day calendar", |_, _| {
                Action::ReadCalendar
            }),
            ("工作日历 Edit the working-day calendar", |_, _| {
                Action::EditCalendar
            }),
            (
                "候检区 Check in, book walk-ups, call vehicles to the border",
                |_, _| Action::Yard,
            ),
            (
                "通关时段 Close or reduce a slot, lift no-show restrictions",
                |_, _| Action::ManageSlots,
            ),
            (
                "空白证卡 The blank stock's reconciliation, count the drawer",
                |_, office| Action::ViewStock { office },
            ),
            (
                "证卡管理 Receive blanks, void a blank, explain a count's difference",
                |_, office| Action::ManageStock { office },
            ),
            ("免费服务 Record a free photo, copy or print given", |_, office| {
                Action::RecordFreeService { office }
            }),
            (
                "印章与证书 The seals and certificates register: grant, withdraw, uses",
                |_, office| Action::ManageSeals { office },
            ),
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
                let with = actor(role, &PermitKind::ALL);
                let without = actor(role, &[]);
                let own = authorize(&with, action(k, OWN)).is_ok();
                let other = authorize(&with, action(k, OTHER)).is_ok();
                let ungranted = authorize(&without, action(k, OWN)).is_ok();
                out += match (own, other, ungranted) {
                    (false, _, _) => " — |",
                    (true, true, true) => " yes |",
                    (true, false, true) => " own office |",
                    (true, true, false) => " with the kind's grant |",
                    (true, false, false) => " own office, with the kind's grant |",
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
    fn each_roles_menu_offers_its_own_work_only() {
        let all = PermitKind::ALL;
        let menu = |role, grants: &[PermitKind]| Menu::of(&actor(role, grants));
        let (t, f) = (true, false);
        let m = |take, supervise, edit_calendar, scan, yard, slots, stock| Menu {
            take,
            supervise,
            edit_calendar,
            scan,
            yard,
            slots,
            stock,
            // The window's free services go with its blank stock.
            free: stock,
            // The seals register is the supervisor's, as the approvals are.
            seals: supervise,
        };
        assert_eq!(menu(Role::Officer, &all), m(t, f, f, f, f, f, t));
        // An officer without a grant has nothing to take at the desk, but counts the drawer.
        assert_eq!(menu(Role::Officer, &[]), m(f, f, f, f, f, f, t));
        assert_eq!(menu(Role::Supervisor, &all), m(t, t, f, f, t, t, t));
        assert_eq!(menu(Role::Admin, &all), m(f, f, t, f, f, f, f));
        assert_eq!(menu(Role::Checkpoint, &all), m(f, f, f, t, t, f, f));
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
