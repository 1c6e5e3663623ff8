//! Freight clearance for staff and the public: free slots, the waiting area (check-in,
//! walk-ups, calls, queues), supervisors' slot changes and strike lifts, and the live board.

use actix_web::{HttpResponse, get, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

use super::Reply;
use crate::http::State;
use crate::http::error::Problem;
use crate::http::extract::{ApiActor, JsonBody};
use crate::service::bookings::{BookingOut, SlotChangeIn, SlotChangeOut, SlotOut, SlotQuery};
use crate::service::yard::{Board, CallIn, CheckInIn, Queue, StruckDriver, WalkUpIn, staff_view};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(slots)
        .service(check_in)
        .service(walk_up)
        .service(call)
        .service(queues)
        .service(change_slot)
        .service(struck)
        .service(lift)
        .service(board);
}

#[utoipa::path(
    tag = "freight",
    params(SlotQuery),
    responses(
        (status = 200, description = "Bookable hours of one lane type from the earliest bookable to the horizon, with capacity (open lanes × 3600 ÷ mean check seconds) and free places", body = Vec<SlotOut>),
        (status = 422, description = "Unknown port or direction", body = Problem),
    )
)]
#[get("/api/v1/slots")]
pub async fn slots(state: State, q: web::Query<SlotQuery>) -> Reply {
    Ok(HttpResponse::Ok().json(state.ctx.slots("zh".into(), q.into_inner()).await?))
}

#[utoipa::path(
    tag = "freight",
    request_body = CheckInIn,
    responses(
        (status = 200, description = "Checked in: the vehicle is in its lane type's queue", body = BookingOut),
        (status = 404, description = "No active booking for this code or plate", body = Problem),
        (status = 409, description = "Already checked in or called", body = Problem),
        (status = 422, description = "Too early or too late for the slot", body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/api/v1/yard/check-ins")]
pub async fn check_in(state: State, actor: ApiActor, body: JsonBody<CheckInIn>) -> Reply {
    let b = state.ctx.check_in(actor.0, body.0).await?;
    Ok(HttpResponse::Ok().json(staff_view(&b)))
}

#[utoipa::path(
    tag = "freight",
    request_body = WalkUpIn,
    responses(
        (status = 201, description = "A walk-up vehicle placed in the next free slot and queued", body = BookingOut),
        (status = 409, description = "No free place within the horizon", body = Problem),
        (status = 422, description = "Invalid plate, port, direction or weight; or the plate has an active booking", body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/api/v1/yard/walk-ups")]
pub async fn walk_up(state: State, actor: ApiActor, body: JsonBody<WalkUpIn>) -> Reply {
    let b = state.ctx.walk_up(actor.0, body.0).await?;
    Ok(HttpResponse::Created().json(staff_view(&b)))
}

#[utoipa::path(
    tag = "freight",
    request_body = CallIn,
    responses(
        (status = 200, description = "Called to the border with a report-by time; the driver is mailed", body = BookingOut),
        (status = 404, description = "Nobody (or not that booking) is waiting in this queue", body = Problem),
        (status = 422, description = "Unknown port or direction", body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/api/v1/yard/calls")]
pub async fn call(state: State, actor: ApiActor, body: JsonBody<CallIn>) -> Reply {
    let b = state.ctx.call(actor.0, body.0).await?;
    Ok(HttpResponse::Ok().json(staff_view(&b)))
}

#[utoipa::path(
    tag = "freight",
    params(("port" = String, Path, description = "The port's code, e.g. YYG")),
    responses((status = 200, description = "The live queues of the port: waiting in call order, called with their report-by times", body = Vec<Queue>)),
    security(("bearer" = []))
)]
#[get("/api/v1/yard/{port}/queues")]
pub async fn queues(state: State, actor: ApiActor, port: web::Path<String>) -> Reply {
    Ok(HttpResponse::Ok().json(state.ctx.queues(actor.0, port.into_inner()).await?))
}

#[utoipa::path(
    tag = "freight",
    request_body = SlotChangeIn,
    responses(
        (status = 200, description = "The slot's new capacity; bookings beyond it (latest first, not yet checked in) withdrawn and mailed", body = SlotChangeOut),
        (status = 422, description = "Unknown port or direction, not a whole hour, capacity out of range, no reason given", body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/api/v1/slots/changes")]
pub async fn change_slot(state: State, actor: ApiActor, body: JsonBody<SlotChangeIn>) -> Reply {
    Ok(HttpResponse::Ok().json(state.ctx.change_slot(actor.0, body.0).await?))
}

#[utoipa::path(
    tag = "freight",
    responses((status = 200, description = "Drivers with unlifted no-show strikes", body = Vec<StruckDriver>)),
    security(("bearer" = []))
)]
#[get("/api/v1/drivers/struck")]
pub async fn struck(state: State, actor: ApiActor) -> Reply {
    Ok(HttpResponse::Ok().json(state.ctx.struck_drivers(actor.0).await?))
}

#[utoipa::path(
    tag = "freight",
    params(("id" = String, Path, description = "The driver's id")),
    responses((status = 204, description = "Strikes lifted: the driver may book again")),
    security(("bearer" = []))
)]
#[post("/api/v1/drivers/{id}/strikes/lift")]
pub async fn lift(state: State, actor: ApiActor, id: web::Path<String>) -> Reply {
    state.ctx.lift_strikes(actor.0, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(
    tag = "freight",
    params(("port" = String, Path, description = "The port's code, e.g. YYG")),
    responses((status = 200, description = "The public board: vehicles waiting and expected wait per lane type, the last plates called (masked)", body = Board))
)]
#[get("/api/v1/board/{port}")]
pub async fn board(state: State, port: web::Path<String>) -> Reply {
    Ok(HttpResponse::Ok().json(state.ctx.board(port.into_inner()).await?))
}
