//! The working-day calendar that deadlines count by: read by every planner, edited by admins.

use actix_web::{HttpResponse, delete, get, put, web};
use serde::{Deserialize, Serialize};
use utoipa_actix_web::service_config::ServiceConfig;

use super::Reply;
use crate::http::State;
use crate::http::error::Problem;
use crate::http::extract::{ApiActor, JsonBody};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(calendar_year)
        .service(calendar_set)
        .service(calendar_remove);
}

#[derive(Debug, Deserialize)]
pub struct YearQuery {
    year: Option<i32>,
}

#[utoipa::path(
    tag = "calendar",
    params(("year" = Option<i32>, Query, description = "Year (default: this year)")),
    responses((status = 200, description = "The year's exceptions to Monday–Friday; `provisional` while its State Council schedule is not loaded (statutory holidays computed, no make-up working days)", body = crate::domain::calendar::YearView)),
    security(("bearer" = []))
)]
#[get("/api/v1/calendar")]
pub async fn calendar_year(state: State, actor: ApiActor, q: web::Query<YearQuery>) -> Reply {
    Ok(HttpResponse::Ok().json(state.ctx.calendar_year(actor.0, q.year).await?))
}

#[derive(Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct CalendarDay {
    /// holiday or workday (a weekend day worked, 调休).
    #[schema(required = true, nullable = false, pattern = "^(holiday|workday)$")]
    pub kind: Option<String>,
    #[schema(required = true, nullable = false, max_length = 100)]
    pub name: Option<String>,
    /// true to replace what the calendar already says about the date (a published, computed
    /// or edited day); without it such a change is refused naming the day it would replace.
    pub confirm: Option<bool>,
}

#[utoipa::path(
    tag = "calendar",
    params(("date" = chrono::NaiveDate, Path, description = "YYYY-MM-DD, 2000 to 2100")), request_body = CalendarDay,
    responses((status = 200, body = crate::domain::calendar::Exception)),
    security(("bearer" = []))
)]
#[put("/api/v1/calendar/{date}")]
pub async fn calendar_set(
    state: State,
    actor: ApiActor,
    date: web::Path<String>,
    body: JsonBody<CalendarDay>,
) -> Reply {
    let CalendarDay { kind, name, confirm } = body.0;
    let out = state
        .ctx
        .set_calendar_day(actor.0, date.into_inner(), kind, name, confirm.unwrap_or(false))
        .await?;
    Ok(HttpResponse::Ok().json(out))
}

#[derive(Debug, Deserialize)]
pub struct ConfirmQuery {
    confirm: Option<bool>,
}

#[utoipa::path(
    tag = "calendar",
    params(("date" = chrono::NaiveDate, Path, description = "YYYY-MM-DD, 2000 to 2100"), ("confirm" = Option<bool>, Query, description = "true to remove a day as published")),
    responses((status = 204, description = "Back to the Monday–Friday default"), (status = 422, description = "A published day, without confirm=true", body = Problem)),
    security(("bearer" = []))
)]
#[delete("/api/v1/calendar/{date}")]
pub async fn calendar_remove(
    state: State,
    actor: ApiActor,
    date: web::Path<String>,
    q: web::Query<ConfirmQuery>,
) -> Reply {
    let confirm = q.confirm.unwrap_or(false);
    state
        .ctx
        .remove_calendar_day(actor.0, date.into_inner(), confirm)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
