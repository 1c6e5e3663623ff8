//! Supervisors' view: what awaits their approval, open applications against their working-day
//! deadlines (overdue first), permits printed with items outstanding and those items' due dates
//! (until the last arrives or the permit is suspended), and the share decided on time per kind
//! and week.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Days, FixedOffset, NaiveDate, Utc};
use diesel::prelude::*;
use serde::Serialize;

use crate::db::models::{ApplicationRow, MaterialRow, PermitRow, TravellerRow};
use crate::db::schema::{application_materials, applications, permits, travellers};
use crate::db::{DbConnection, ts, utc};
use crate::domain::auth::{Action, Actor, authorize};
use crate::domain::local;
use crate::domain::permit::{self, ApplicationStatus, PermitKind, PermitStatus};
use crate::domain::policy::{Policy, Workflow};
use crate::error::Result;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OpenItem {
    pub id: String,
    pub number: Option<String>,
    pub kind: PermitKind,
    pub status: ApplicationStatus,
    pub office: String,
    pub holder: String,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub due_at: Option<DateTime<FixedOffset>>,
    pub overdue: bool,
    /// The deadline was counted on a provisional calendar year (statutory holidays computed,
    /// the State Council schedule not loaded).
    pub due_provisional: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WeekShare {
    pub kind: PermitKind,
    /// Monday of the week (China time).
    pub week: NaiveDate,
    pub decided: u32,
    pub on_time: u32,
    /// on_time / decided.
    pub share: f64,
}

/// An item a pending permit still waits for.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PendingItem {
    pub item: String,
    pub due_date: Option<NaiveDate>,
}

/// A permit printed before every item arrived (容缺): not valid until they do.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PendingPermit {
    pub number: String,
    pub application_id: String,
    pub kind: PermitKind,
    pub office: String,
    pub holder: String,
    /// Outstanding items, earliest due first.
    pub items: Vec<PendingItem>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SlaView {
    /// Accepted applications whose kind needs an approval, oldest deadline first.
    pub awaiting_approval: Vec<OpenItem>,
    pub open: Vec<OpenItem>,
    /// Permits pending their outstanding items, the earliest due first.
    pub pending_permits: Vec<PendingPermit>,
    pub weekly: Vec<WeekShare>,
    /// This year and next, those whose holiday schedule is not loaded yet.
    pub provisional_years: Vec<i32>,
}

/// Permits whose effective status is pending (stored as issued, items outstanding, none
/// overdue): suspended, expired and revoked ones have left the supervisors' watch.
fn pending_permits(conn: &mut DbConnection, now: DateTime<Utc>, office: &str) -> Result<Vec<PendingPermit>> {
    let missing: Vec<MaterialRow> = application_materials::table
        .filter(application_materials::provided.eq(false))
        .select(MaterialRow::as_select())
        .load(conn)?;
    if missing.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<&String> = missing.iter().map(|m| &m.application_id).collect();
    let rows: Vec<(PermitRow, TravellerRow)> = permits::table
        .inner_join(travellers::table)
        .filter(permits::application_id.eq_any(&ids))
        .filter(permits::office.eq(office))
        .filter(permits::status.eq(PermitStatus::Issued))
        .limit(1000)
        .select((PermitRow::as_select(), TravellerRow::as_select()))
        .load(conn)?;
    let mut out: Vec<PendingPermit> = rows
        .into_iter()
        .filter_map(|(p, t)| {
            let mut items: Vec<&MaterialRow> = missing
                .iter()
                .filter(|m| m.application_id == p.application_id)
                .collect();
            items.sort_by_key(|m| m.due_date);
            let due: Vec<NaiveDate> = items.iter().map(|m| m.due_date.unwrap_or(NaiveDate::MIN)).collect();
            (permit::effective_status(p.status, utc(p.valid_until), &due, now) == PermitStatus::Pending).then(|| {
                PendingPermit {
                    items: items
                        .iter()
                        .map(|m| PendingItem {
                            item: m.item.clone(),
                            due_date: m.due_date,
                        })
                        .collect(),
                    number: p.number,
                    application_id: p.application_id,
                    kind: p.kind,
                    office: p.office,
                    holder: t.name_latin,
                }
            })
        })
        .collect();
    out.sort_by_key(|p| p.items.first().and_then(|i| i.due_date));
    Ok(out)
}

pub fn view(
    conn: &mut DbConnection,
    now: DateTime<Utc>,
    actor: &Actor,
    policy: &Policy,
    weeks: u64,
) -> Result<SlaView> {
    // The supervisor's own office: its applications, permits and weekly shares only.
    authorize(actor, Action::Supervise)?;
    let open_states = [
        ApplicationStatus::Submitted,
        ApplicationStatus::Accepted,
        ApplicationStatus::Uploaded,
    ];
    let rows: Vec<(ApplicationRow, TravellerRow)> = applications::table
        .inner_join(travellers::table)
        .filter(applications::office.eq(&actor.office))
        .filter(applications::status.eq_any(open_states))
        .order(applications::created_at.asc())
        .limit(1000)
        .select((ApplicationRow::as_select(), TravellerRow::as_select()))
        .load(conn)?;
    let published = super::calendar::published_years(conn)?;
    let mut open: Vec<OpenItem> = rows
        .into_iter()
        .map(|(a, t)| OpenItem {
            due_provisional: a.due_at.is_some_and(|d| !published.contains(&local(utc(d)).year())),
            overdue: a.due_at.is_some_and(|d| now > utc(d)),
            due_at: a.due_at.map(|d| local(utc(d)).fixed_offset()),
            id: a.id,
            number: a.number,
            kind: a.kind,
            status: a.status,
            office: a.office,
            holder: t.name_latin,
        })
        .collect();
    // Overdue first, then by deadline; applications not yet accepted (no deadline) last.
    open.sort_by_key(|o| (!o.overdue, o.due_at.is_none(), o.due_at));
    let needs_approval = |kind: PermitKind| policy.kind(kind).is_some_and(|k| k.workflow == Workflow::Approval);
    let awaiting_approval = open
        .iter()
        .filter(|o| o.status == ApplicationStatus::Accepted && needs_approval(o.kind))
        .cloned()
        .collect();
    let pending_permits = pending_permits(conn, now, &actor.office)?;

    let since = now - chrono::Duration::days(i64::try_from(weeks * 7).unwrap_or(56));
    let decided: Vec<(PermitKind, chrono::NaiveDateTime, chrono::NaiveDateTime)> = applications::table
        .filter(applications::office.eq(&actor.office))
        .filter(applications::decided_at.ge(ts(since)))
        .filter(applications::due_at.is_not_null())
        .select((
            applications::kind,
            applications::decided_at.assume_not_null(),
            applications::due_at.assume_not_null(),
        ))
        .load(conn)?;
    let mut weekly: BTreeMap<(PermitKind, NaiveDate), (u32, u32)> = BTreeMap::new();
    for (kind, decided_at, due_at) in decided {
        let day = local(utc(decided_at)).date_naive();
        let monday = day
            .checked_sub_days(Days::new(u64::from(day.weekday().num_days_from_monday())))
            .unwrap_or(day);
        let e = weekly.entry((kind, monday)).or_default();
        e.0 += 1;
        if decided_at <= due_at {
            e.1 += 1;
        }
    }
    let weekly = weekly
        .into_iter()
        .map(|((kind, week), (decided, on_time))| WeekShare {
            kind,
            week,
            decided,
            on_time,
            share: f64::from(on_time) / f64::from(decided.max(1)),
        })
        .collect();
    let provisional_years = super::calendar::provisional_years(conn, now)?;
    Ok(SlaView {
        awaiting_approval,
        open,
        pending_permits,
        weekly,
        provisional_years,
    })
}

/// When the application waiting longest for a decision (taken, or accepted and not yet approved
/// or issued) was taken, if any: the operators' alert that the windows' queue is stuck.
pub fn oldest_unreviewed(c: &mut DbConnection) -> Result<Option<DateTime<Utc>>> {
    // One ordered probe of (status, created_at) per status: a minimum over both statuses at once
    // was planned as a walk of every application in creation order.
    let mut oldest: Option<chrono::NaiveDateTime> = None;
    for status in [ApplicationStatus::Submitted, ApplicationStatus::Accepted] {
        let first: Option<chrono::NaiveDateTime> = applications::table
            .filter(applications::status.eq(status))
            .order(applications::created_at)
            .select(applications::created_at)
            .first(c)
            .optional()?;
        oldest = oldest.into_iter().chain(first).min();
    }
    Ok(oldest.map(utc))
}

impl super::Ctx {
    /// See [`oldest_unreviewed`] (for `/metrics`).
    pub async fn oldest_unreviewed(&self) -> Result<Option<DateTime<Utc>>> {
        self.db.run(oldest_unreviewed).await
    }

    /// The supervisor's view of the office over the last eight weeks.
    pub async fn sla(&self, actor: Actor) -> Result<SlaView> {
        self.tx(move |c, ctx, now| view(c, now, &actor, &ctx.policy, 8)).await
    }
}
