//! Blank permit cards: the office's stock and its day's reconciliation, batches received, blanks
//! voided, the drawer counted and a difference explained; a permit printed on the next blank.

use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;
use utoipa_actix_web::service_config::ServiceConfig;

use super::Reply;
use crate::http::State;
use crate::http::error::Problem;
use crate::http::extract::{ApiActor, JsonBody};
use crate::service::stock::{
    BatchIn, BatchOut, BlankOut, CountIn, CountOut, ExplainIn, PrintIn, PrintOut, ReconciliationOut, StockOut, VoidIn,
};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(stock)
        .service(reconciliation)
        .service(receive)
        .service(void_blank)
        .service(count)
        .service(explain)
        .service(print)
        .service(prints);
}

#[derive(Debug, Deserialize)]
pub struct DayQuery {
    day: Option<String>,
}

#[utoipa::path(
    tag = "stock",
    params(("day" = Option<chrono::NaiveDate>, Query, description = "YYYY-MM-DD (default: today)")),
    responses((status = 200, description = "The office's blanks: the day's reconciliation, unused now, the next blank, recent batches, counts with an open difference", body = StockOut), (status = 422, description = "The day is not a date", body = Problem)),
    security(("bearer" = []))
)]
#[get("/api/v1/stock")]
pub async fn stock(state: State, actor: ApiActor, q: web::Query<DayQuery>) -> Reply {
    Ok(HttpResponse::Ok().json(state.ctx.stock(actor.0, q.into_inner().day).await?))
}

#[utoipa::path(
    tag = "stock",
    params(("day" = Option<chrono::NaiveDate>, Query, description = "YYYY-MM-DD (default: today)")),
    responses((status = 200, description = "opening + received − used − voided = closing, with the serials behind each figure", body = ReconciliationOut), (status = 422, description = "The day is not a date", body = Problem)),
    security(("bearer" = []))
)]
#[get("/api/v1/stock/reconciliation")]
pub async fn reconciliation(state: State, actor: ApiActor, q: web::Query<DayQuery>) -> Reply {
    Ok(HttpResponse::Ok().json(state.ctx.stock_reconciliation(actor.0, q.into_inner().day).await?))
}

#[utoipa::path(
    tag = "stock",
    request_body = BatchIn,
    responses((status = 201, body = BatchOut)),
    security(("bearer" = []))
)]
#[post("/api/v1/stock/batches")]
pub async fn receive(state: State, actor: ApiActor, body: JsonBody<BatchIn>) -> Reply {
    Ok(HttpResponse::Created().json(state.ctx.receive_blanks(actor.0, body.0).await?))
}

#[utoipa::path(
    tag = "stock",
    params(("serial" = i64, Path, description = "The blank's serial")),
    request_body = VoidIn,
    responses((status = 200, body = BlankOut), (status = 409, description = "Printed on, or void already", body = Problem)),
    security(("bearer" = []))
)]
#[post("/api/v1/stock/blanks/{serial}/void")]
pub async fn void_blank(state: State, actor: ApiActor, serial: web::Path<i64>, body: JsonBody<VoidIn>) -> Reply {
    Ok(HttpResponse::Ok().json(state.ctx.void_blank(actor.0, serial.into_inner(), body.0).await?))
}

#[utoipa::path(
    tag = "stock",
    request_body = CountIn,
    responses((status = 201, body = CountOut), (status = 409, description = "Counted today already", body = Problem)),
    security(("bearer" = []))
)]
#[post("/api/v1/stock/counts")]
pub async fn count(state: State, actor: ApiActor, body: JsonBody<CountIn>) -> Reply {
    Ok(HttpResponse::Created().json(state.ctx.count_blanks(actor.0, body.0).await?))
}

#[utoipa::path(
    tag = "stock",
    params(("day" = chrono::NaiveDate, Path, description = "The count's day, YYYY-MM-DD")),
    request_body = ExplainIn,
    responses((status = 200, body = CountOut), (status = 409, description = "No difference, or explained already", body = Problem)),
    security(("bearer" = []))
)]
#[post("/api/v1/stock/counts/{day}/explain")]
pub async fn explain(state: State, actor: ApiActor, day: web::Path<String>, body: JsonBody<ExplainIn>) -> Reply {
    Ok(HttpResponse::Ok().json(state.ctx.explain_count(actor.0, day.into_inner(), body.0).await?))
}

#[utoipa::path(
    tag = "permits",
    params(("number" = String, Path, description = "Permit number")),
    request_body = PrintIn,
    responses(
        (status = 201, description = "Printed on the office's next blank (load the card with this serial); a reprint voids the card it replaces", body = PrintOut),
        (status = 409, description = "Printed already (a reprint needs its reason), not in force, or no blank left", body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/api/v1/permits/{number}/prints")]
pub async fn print(state: State, actor: ApiActor, number: web::Path<String>, body: JsonBody<PrintIn>) -> Reply {
    Ok(HttpResponse::Created().json(state.ctx.print_permit(actor.0, number.into_inner(), body.0).await?))
}

#[utoipa::path(
    tag = "permits",
    params(("number" = String, Path, description = "Permit number")),
    responses((status = 200, description = "The permit's prints, newest first", body = Vec<PrintOut>)),
    security(("bearer" = []))
)]
#[get("/api/v1/permits/{number}/prints")]
pub async fn prints(state: State, actor: ApiActor, number: web::Path<String>) -> Reply {
    Ok(HttpResponse::Ok().json(state.ctx.permit_prints(actor.0, number.into_inner()).await?))
}
