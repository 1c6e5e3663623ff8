//! The working-day calendar as stored: seeded from the published years in `fixtures/calendar`,
//! edited by admins (audited), loaded for every SLA computation.

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use diesel::prelude::*;

use crate::db::models::CalendarDayRow;
use crate::db::schema::{audit_log, calendar_days};
use crate::db::{DbConnection, audit, ts, write_tx};
use crate::domain::DomainError;
use crate::domain::auth::{Action, Actor, authorize};
use crate::domain::calendar::{
    self as cal, Calendar, DayKind, DayView, Exception, PublishedYear, SetProblem, YearView,
};
use crate::domain::validation::FieldErrors;
use crate::error::{Error, Result};

/// The State Council schedules shipped with the project.
pub const PUBLISHED: [&str; 2] = [
    include_str!("../../fixtures/calendar/2025.json"),
    include_str!("../../fixtures/calendar/2026.json"),
];

/// The audit action that records a published year loaded; written in the same transaction as
/// its days, so it is the record of which years are published (and no longer provisional).
const SEED_ACTION: &str = "calendar.seed";

/// Years whose State Council schedule has been loaded.
pub fn published_years(conn: &mut DbConnection) -> Result<BTreeSet<i32>> {
    let ids: Vec<String> = audit_log::table
        .filter(audit_log::action.eq(SEED_ACTION))
        .select(audit_log::entity_id)
        .load(conn)?;
    Ok(ids.iter().filter_map(|y| y.parse().ok()).collect())
}

/// This year and next, those of them still provisional: start-up warns about each.
pub fn provisional_years(conn: &mut DbConnection, now: DateTime<Utc>) -> Result<Vec<i32>> {
    let this = crate::domain::local(now).year();
    let published = published_years(conn)?;
    Ok([this, this + 1]
        .into_iter()
        .filter(|y| !published.contains(y))
        .collect())
}

/// Loads each shipped year not loaded before. Days an admin stored in it while it was
/// provisional are kept; the published days fill the other dates. Once loaded, the database
/// is the source of truth (a loaded year, perhaps edited since, is never loaded again).
pub fn seed(conn: &mut DbConnection, now: DateTime<Utc>) -> Result<Vec<i32>> {
    let mut seeded = Vec::new();
    for text in PUBLISHED {
        let year: PublishedYear =
            serde_json::from_str(text).map_err(|e| Error::Internal(format!("calendar fixture: {e}")))?;
        write_tx(conn, |c| {
            if published_years(c)?.contains(&year.year) {
                return Ok(());
            }
            for e in &year.days {
                let present: i64 = calendar_days::table.find(e.date).count().get_result(c)?;
                if present > 0 {
                    continue;
                }
                let row = CalendarDayRow {
                    day: e.date,
                    kind: e.kind,
                    name: e.name.clone(),
                    updated_at: ts(now),
                    updated_by: None,
                };
                diesel::insert_into(calendar_days::table).values(&row).execute(c)?;
            }
            let after = serde_json::json!({"year": year.year, "source": year.source, "days": year.days.len()});
            audit::entry(now, None, SEED_ACTION, "calendar", &year.year.to_string())
                .after(&after)
                .write(c)?;
            seeded.push(year.year);
            Ok(())
        })?;
    }
    Ok(seeded)
}

pub fn load(conn: &mut DbConnection) -> Result<Calendar> {
    let rows: Vec<(NaiveDate, DayKind)> = calendar_days::table
        .select((calendar_days::day, calendar_days::kind))
        .load(conn)?;
    let published = published_years(conn)?;
    Ok(Calendar::with_published(rows, published))
}

fn stored(conn: &mut DbConnection, first: NaiveDate, last: NaiveDate) -> Result<Vec<Exception>> {
    let rows: Vec<CalendarDayRow> = calendar_days::table
        .filter(calendar_days::day.between(first, last))
        .order(calendar_days::day.asc())
        .select(CalendarDayRow::as_select())
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| Exception {
            date: r.day,
            kind: r.kind,
            name: r.name,
        })
        .collect())
}

/// What the calendar holds for one date, if anything.
fn stored_day(c: &mut DbConnection, date: NaiveDate) -> Result<Option<CalendarDayRow>> {
    Ok(calendar_days::table
        .find(date)
        .select(CalendarDayRow::as_select())
        .first(c)
        .optional()?)
}

/// A year's exceptions to Monday–Friday, computed ones included while it is provisional.
pub fn year(conn: &mut DbConnection, year: i32) -> Result<YearView> {
    let (Some(first), Some(last)) = (
        NaiveDate::from_ymd_opt(year, 1, 1),
        NaiveDate::from_ymd_opt(year, 12, 31),
    ) else {
        return Ok(cal::year_view(year, false, Vec::new()));
    };
    let provisional = !published_years(conn)?.contains(&year);
    Ok(cal::year_view(year, provisional, stored(conn, first, last)?))
}

fn admin_only(actor: &Actor) -> Result<()> {
    Ok(authorize(actor, Action::EditCalendar)?)
}

/// Sets (adds or replaces) the exception for one day. A make-up working day on Monday–Friday
/// and a holiday on a holiday are refused; replacing what the calendar already says about the
/// date (published, computed or edited) needs `confirm`.
pub fn set_day(
    conn: &mut DbConnection,
    now: DateTime<Utc>,
    actor: &Actor,
    day: &str,
    kind: Option<&str>,
    name: Option<&str>,
    confirm: bool,
) -> Result<Exception> {
    admin_only(actor)?;
    let mut errs = FieldErrors::new();
    let date = NaiveDate::parse_from_str(day.trim(), "%Y-%m-%d").ok();
    if date.is_none() {
        errs.add("date", "date", "日期格式应为YYYY-MM-DD / a date as YYYY-MM-DD");
    }
    let kind = kind.and_then(DayKind::parse);
    if kind.is_none() {
        errs.add(
            "kind",
            "one_of",
            "应为holiday（放假）或workday（调休上班） / holiday or workday",
        );
    }
    let name = crate::domain::validation::clean(name).unwrap_or_default();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        errs.add(
            "name",
            "required",
            "请填写名称，最多100字 / a name of at most 100 characters is required",
        );
    }
    if let Some(d) = date
        && !(2000..=2100).contains(&d.year())
    {
        errs.add("date", "range", "年份应在2000至2100之间 / a year from 2000 to 2100");
    }
    let (Some(date), Some(kind)) = (date, kind) else {
        return Err(errs.into());
    };
    if !errs.is_empty() {
        return Err(errs.into());
    }
    let row = CalendarDayRow {
        day: date,
        kind,
        name: name.clone(),
        updated_at: ts(now),
        updated_by: Some(actor.id.clone()),
    };
    write_tx(conn, |c| {
        let before = stored_day(c, date)?;
        let current = match &before {
            Some(b) => Some(DayView {
                date,
                kind: b.kind,
                name: b.name.clone(),
                computed: false,
            }),
            None => year(c, date.year())?.days.into_iter().find(|d| d.date == date),
        };
        if let Some(problem) = cal::check_set(date, kind, current.as_ref(), confirm) {
            return Err(set_problem(date, problem).into());
        }
        if before.is_some() {
            diesel::update(calendar_days::table.find(date))
                .set((
                    calendar_days::kind.eq(&row.kind),
                    calendar_days::name.eq(&row.name),
                    calendar_days::updated_at.eq(row.updated_at),
                    calendar_days::updated_by.eq(&row.updated_by),
                ))
                .execute(c)?;
        } else {
            diesel::insert_into(calendar_days::table).values(&row).execute(c)?;
        }
        audit::entry(now, Some(&actor.id), "calendar.set", "calendar_day", &date.to_string())
            .before_if(before.as_ref())
            .after(&row)
            .write(c)
    })?;
    Ok(Exception {
        date,
        kind,
        name: row.name,
    })
}

fn set_problem(date: NaiveDate, problem: SetProblem) -> FieldErrors {
    let mut errs = FieldErrors::new();
    let weekday = cal::weekday_zh(date);
    match problem {
        SetProblem::WorkdayOnWeekday => errs.add(
            "kind",
            "workday_on_weekday",
            format!(
                "{date}是{weekday}，本来就是工作日；调休上班只能设在星期六或星期日 / a make-up working day must be a Saturday or Sunday"
            ),
        ),
        SetProblem::AlreadyHoliday { name } => errs.add(
            "date",
            "already_holiday",
            format!("{date}（{weekday}）已是放假日：{name} / already a holiday: {name}"),
        ),
        SetProblem::Replaces { kind, name } => errs.add(
            "confirm",
            "confirm_replace",
            format!(
                "{date}（{weekday}）已安排为{}：{name}。确需替换请勾选“确认替换”后再保存 / already a {}: {name}; confirm to replace it",
                kind.zh(),
                kind.en()
            ),
        ),
    }
    errs
}

/// Removes one day's exception: it falls back to the Monday–Friday default (or, in a
/// provisional year, to the computed day). A day as published (never edited since it was
/// loaded) is removed only with `confirm`.
pub fn remove_day(conn: &mut DbConnection, now: DateTime<Utc>, actor: &Actor, day: &str, confirm: bool) -> Result<()> {
    admin_only(actor)?;
    let date = NaiveDate::parse_from_str(day.trim(), "%Y-%m-%d").map_err(|_| {
        let mut errs = FieldErrors::new();
        errs.add("date", "date", "日期格式应为YYYY-MM-DD / a date as YYYY-MM-DD");
        Error::from(errs)
    })?;
    write_tx(conn, |c| {
        let before = stored_day(c, date)?;
        let Some(before) = before else {
            return Err(DomainError::NotFound {
                what: "calendar exception",
            }
            .into());
        };
        if before.updated_by.is_none() && !confirm {
            let mut errs = FieldErrors::new();
            let kind = before.kind.zh();
            errs.add(
                "confirm",
                "confirm_remove",
                format!(
                    "{date}（{}）{kind}：{} 是已公布的安排。确需删除请确认 / published by the State Council; confirm to remove it",
                    cal::weekday_zh(date),
                    before.name
                ),
            );
            return Err(errs.into());
        }
        diesel::delete(calendar_days::table.find(date)).execute(c)?;
        audit::entry(
            now,
            Some(&actor.id),
            "calendar.remove",
            "calendar_day",
            &date.to_string(),
        )
        .before(&before)
        .write(c)
    })
}

impl super::Ctx {
    /// A year's exceptions to Monday–Friday (this year when none is given), for whoever plans
    /// by the calendar.
    pub async fn calendar_year(&self, actor: Actor, wanted: Option<i32>) -> Result<YearView> {
        authorize(&actor, Action::ReadCalendar)?;
        self.tx(move |c, _, now| year(c, wanted.unwrap_or_else(|| crate::domain::local(now).year())))
            .await
    }

    /// The same year for the calendar's editor (2000–2100).
    pub async fn calendar_for_editing(&self, actor: Actor, wanted: Option<i32>) -> Result<YearView> {
        authorize(&actor, Action::EditCalendar)?;
        self.tx(move |c, _, now| {
            year(
                c,
                wanted
                    .unwrap_or_else(|| crate::domain::local(now).year())
                    .clamp(2000, 2100),
            )
        })
        .await
    }

    /// Declares a date a holiday or a worked weekend day (`confirm` to replace what is there).
    pub async fn set_calendar_day(
        &self,
        actor: Actor,
        date: String,
        kind: Option<String>,
        name: Option<String>,
        confirm: bool,
    ) -> Result<Exception> {
        self.tx(move |c, _, now| set_day(c, now, &actor, &date, kind.as_deref(), name.as_deref(), confirm))
            .await
    }

    /// Puts a date back to the Monday–Friday default (`confirm` for a published day).
    pub async fn remove_calendar_day(&self, actor: Actor, date: String, confirm: bool) -> Result<()> {
        self.tx(move |c, _, now| remove_day(c, now, &actor, &date, confirm))
            .await
    }
}
