//! The free services (photos, copies, prints) recorded at the window, and the savings they add
//! up to, as JSON and CSV.

use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;
use utoipa_actix_web::service_config::ServiceConfig;

use super::Reply;
use crate::http::State;
use crate::http::error::Problem;
use crate::http::extract::{ApiActor, JsonBody};
use crate::service::free::{FreeServiceOut, GivenIn, PhotoSheetIn, SavingsOut};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(give)
        .service(today)
        .service(savings)
        .service(savings_csv)
        .service(photo_sheet);
}

#[utoipa::path(
    tag = "free services",
    request_body = GivenIn,
    responses((status = 201, description = "Recorded, valued at the market price in force today", body = FreeServiceOut)),
    security(("bearer" = []))
)]
#[post("/api/v1/free-services")]
pub async fn give(state: State, actor: ApiActor, body: JsonBody<GivenIn>) -> Reply {
    Ok(HttpResponse::Created().json(state.ctx.give_free_service(actor.0, body.0).await?))
}

#[utoipa::path(
    tag = "free services",
    responses((status = 200, description = "The office's free services of today, newest first", body = Vec<FreeServiceOut>)),
    security(("bearer" = []))
)]
#[get("/api/v1/free-services")]
pub async fn today(state: State, actor: ApiActor) -> Reply {
    Ok(HttpResponse::Ok().json(state.ctx.free_services_today(actor.0).await?))
}

#[derive(Debug, Deserialize)]
pub struct SavingsQuery {
    year: Option<i32>,
    period: Option<String>,
}

#[utoipa::path(
    tag = "free services",
    params(
        ("year" = Option<i32>, Query, minimum = 2000, maximum = 2100, description = "The year (default: this year)"),
        ("period" = Option<String>, Query, pattern = "^[ \\t\\r\\n]*(day|week|month|year)?[ \\t\\r\\n]*$", description = "day, week, month (default) or year"),
    ),
    responses((status = 200, body = SavingsOut), (status = 422, description = "The year or period is not one", body = Problem)),
    security(("bearer" = []))
)]
#[get("/api/v1/savings")]
pub async fn savings(state: State, actor: ApiActor, q: web::Query<SavingsQuery>) -> Reply {
    let q = q.into_inner();
    Ok(HttpResponse::Ok().json(state.ctx.savings(actor.0, q.year, q.period).await?))
}

#[utoipa::path(
    tag = "free services",
    params(
        ("year" = Option<i32>, Query, minimum = 2000, maximum = 2100, description = "The year (default: this year)"),
        ("period" = Option<String>, Query, pattern = "^[ \\t\\r\\n]*(day|week|month|year)?[ \\t\\r\\n]*$", description = "day, week, month (default) or year"),
    ),
    responses((status = 200, description = "One line per period, service and enterprise", content_type = "text/csv"), (status = 422, description = "The year or period is not one", body = Problem)),
    security(("bearer" = []))
)]
#[get("/api/v1/savings.csv")]
pub async fn savings_csv(state: State, actor: ApiActor, q: web::Query<SavingsQuery>) -> Reply {
    let q = q.into_inner();
    let (name, bytes) = state.ctx.savings_csv(actor.0, q.year, q.period).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(("Content-Disposition", format!("attachment; filename=\"{name}\"")))
        .insert_header(("Cache-Control", "no-store"))
        .body(bytes))
}

#[utoipa::path(
    tag = "free services",
    params(("id" = String, Path, description = "Application id")),
    request_body = PhotoSheetIn,
    responses((status = 200, description = "The application's photo at true size, as many copies as fit, with cut marks; recorded as a free service", content_type = "application/pdf")),
    security(("bearer" = []))
)]
#[post("/api/v1/applications/{id}/photo-sheet")]
pub async fn photo_sheet(state: State, actor: ApiActor, id: web::Path<String>, body: JsonBody<PhotoSheetIn>) -> Reply {
    Ok(super::pdf(
        state.ctx.photo_sheet(actor.0, id.into_inner(), body.0).await?,
    ))
}
