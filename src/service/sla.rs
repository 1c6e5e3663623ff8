//! Supervisors' SLA view: open applications against their working-day deadlines, overdue first,
//! and the share decided on time per kind and week.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Days, FixedOffset, NaiveDate, Utc};
use diesel::prelude::*;
use serde::Serialize;

use crate::db::models::{ApplicationRow, TravellerRow};
use crate::db::schema::{applications, travellers};
use crate::db::{DbConnection, ts, utc};
use crate::domain::auth::{Action, Actor, authorize};
use crate::domain::local;
use crate::domain::permit::ApplicationStatus;
use crate::error::Result;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OpenItem {
    pub id: String,
    pub number: Option<String>,
    pub kind: String,
    pub status: String,
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
    pub kind: String,
    /// Monday of the week (China time).
    pub week: NaiveDate,
    pub decided: u32,
    pub on_time: u32,
    /// on_time / decided.
    pub share: f64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SlaView {
    pub open: Vec<OpenItem>,
    pub weekly: Vec<WeekShare>,
    /// This year and next, those whose holiday schedule is not loaded yet.
    pub provisional_years: Vec<i32>,
}

pub fn view(conn: &mut DbConnection, now: DateTime<Utc>, actor: &Actor, weeks: u64) -> Result<SlaView> {
    authorize(actor, Action::Supervise)?;
    let open_states = [
        ApplicationStatus::Submitted,
        ApplicationStatus::Accepted,
        ApplicationStatus::Uploaded,
    ]
    .map(|s| s.as_str());
    let rows: Vec<(ApplicationRow, TravellerRow)> = applications::table
        .inner_join(travellers::table)
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

    let since = now - chrono::Duration::days(i64::try_from(weeks * 7).unwrap_or(56));
    let decided: Vec<(String, chrono::NaiveDateTime, chrono::NaiveDateTime)> = applications::table
        .filter(applications::decided_at.ge(ts(since)))
        .filter(applications::due_at.is_not_null())
        .select((
            applications::kind,
            applications::decided_at.assume_not_null(),
            applications::due_at.assume_not_null(),
        ))
        .load(conn)?;
    let mut weekly: BTreeMap<(String, NaiveDate), (u32, u32)> = BTreeMap::new();
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
        open,
        weekly,
        provisional_years,
    })
}
