//! The calendar's editor (admins): holidays and worked weekend days by year.

use actix_web::http::StatusCode;
use actix_web::{get, post, web};
use chrono::Datelike;
use serde::Deserialize;
use utoipa_actix_web::service_config::ServiceConfig;

use super::{Page, PageError, PageSession, html};
use crate::domain::DomainError;
use crate::domain::validation::FieldError;
use crate::error::Error;
use crate::http::{AppState, State};
use crate::views::*;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(calendar).service(calendar_set).service(calendar_remove);
}

/// The year a posted date falls in, to show that year again; none (this year) if it is not a date.
fn year_of(date: &str) -> Option<i32> {
    chrono::NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d")
        .ok()
        .map(|d| d.year())
}

#[derive(Deserialize)]
pub struct YearQuery {
    year: Option<i32>,
}

async fn calendar_page(
    state: &AppState,
    session: &PageSession,
    year: Option<i32>,
    errors: Vec<FieldError>,
    notice: Option<String>,
    form: CalendarFormValues,
) -> Result<CalendarPage, PageError> {
    let view = state.ctx.calendar_for_editing(session.actor.clone(), year).await?;
    Ok(CalendarPage {
        nav: session.nav(),
        year: view.year,
        view,
        errors,
        notice,
        form,
    })
}

#[utoipa::path(tag = "pages", params(("year" = Option<i32>, Query)), responses((status = 200, description = "The calendar's exceptions for a year", content_type = "text/html")))]
#[get("/admin/calendar")]
pub async fn calendar(state: State, session: PageSession, q: web::Query<YearQuery>) -> Page {
    Ok(html(
        StatusCode::OK,
        &calendar_page(
            &state,
            &session,
            q.year,
            Vec::new(),
            None,
            CalendarFormValues::default(),
        )
        .await?,
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct CalendarForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    name: String,
    /// The "确认替换" checkbox, present only when a save would replace an existing day.
    #[serde(default)]
    confirm: Option<String>,
}

#[utoipa::path(tag = "pages", responses((status = 200, description = "Saved; the year redisplayed", content_type = "text/html"), (status = 422, description = "Refused, or a day would be replaced: the form redisplayed with the reason (and a confirmation box)", content_type = "text/html")))]
#[post("/admin/calendar")]
pub async fn calendar_set(state: State, session: PageSession, form: web::Form<CalendarForm>) -> Page {
    session.check_csrf(&form.csrf)?;
    let form = form.into_inner();
    let (d, k, n) = (form.date.clone(), form.kind.clone(), form.name.clone());
    let saved = state
        .ctx
        .set_calendar_day(session.actor.clone(), d, Some(k), Some(n), form.confirm.is_some())
        .await;
    let year = saved.as_ref().map_or(year_of(&form.date), |e| Some(e.date.year()));
    let outcome = saved.map(|e| {
        format!(
            "已保存 saved: {}（{}）{}：{}",
            e.date,
            crate::domain::calendar::weekday_zh(e.date),
            e.kind.zh(),
            e.name
        )
    });
    let sent = CalendarFormValues {
        date: form.date,
        kind: form.kind,
        name: form.name,
        pending_remove: None,
    };
    after_edit(&state, &session, year, outcome, sent).await
}

#[utoipa::path(tag = "pages", responses((status = 200, description = "Removed; the year redisplayed", content_type = "text/html"), (status = 422, description = "A published day: the page asks to confirm", content_type = "text/html")))]
#[post("/admin/calendar/remove")]
pub async fn calendar_remove(state: State, session: PageSession, form: web::Form<CalendarForm>) -> Page {
    session.check_csrf(&form.csrf)?;
    let form = form.into_inner();
    let outcome = state
        .ctx
        .remove_calendar_day(session.actor.clone(), form.date.clone(), form.confirm.is_some())
        .await
        .map(|()| format!("已删除 removed: {}", form.date));
    // A published day is removed only once confirmed: the page asks, naming it.
    let sent = CalendarFormValues {
        pending_remove: Some(form.date.clone()),
        ..CalendarFormValues::default()
    };
    after_edit(&state, &session, year_of(&form.date), outcome, sent).await
}

/// After an edit: the year again, saying what was done, or (422) with what was wrong and the
/// form as it was sent.
async fn after_edit(
    state: &AppState,
    session: &PageSession,
    year: Option<i32>,
    outcome: Result<String, Error>,
    sent: CalendarFormValues,
) -> Page {
    let (status, errors, notice, form) = match outcome {
        Ok(done) => (StatusCode::OK, Vec::new(), Some(done), CalendarFormValues::default()),
        Err(Error::Domain(DomainError::Validation(errs))) => (StatusCode::UNPROCESSABLE_ENTITY, errs.0, None, sent),
        Err(e) => return Err(e.into()),
    };
    Ok(html(
        status,
        &calendar_page(state, session, year, errors, notice, form).await?,
    ))
}
