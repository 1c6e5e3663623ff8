//! A driver's own bookings: book a slot for one of their vehicles, see, move (once) and cancel
//! it, and download its slip. Another driver's booking answers exactly like a missing one.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

use super::Reply;
use super::drivers::DriverBearer;
use crate::http::State;
use crate::http::error::Problem;
use crate::http::extract::JsonBody;
use crate::service::bookings::{BookingIn, BookingOut, MoveIn};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(create)
        .service(one)
        .service(slip)
        .service(move_to)
        .service(cancel);
}

fn who(d: &DriverBearer) -> (String, String) {
    (d.0.id.clone(), d.0.lang.code().to_string())
}

#[utoipa::path(
    tag = "drivers",
    responses((status = 200, description = "The driver's latest bookings, newest first, in the driver's language", body = Vec<BookingOut>)),
    security(("bearer" = []))
)]
#[get("/api/v1/driver/bookings")]
pub async fn list(state: State, driver: DriverBearer) -> Reply {
    let lang = driver.0.lang.code();
    let rows = state.ctx.my_bookings(driver.0.id.clone()).await?;
    Ok(HttpResponse::Ok().json(rows.iter().map(|b| BookingOut::of(b, lang)).collect::<Vec<_>>()))
}

#[utoipa::path(
    tag = "drivers",
    request_body = BookingIn,
    responses(
        (status = 201, description = "Booked; the confirmation mail with the slip (PDF) is queued", body = BookingOut),
        (status = 409, description = "The slot is full: `next_free` offers the next slots with places", body = Problem),
        (status = 422, description = "Profile incomplete, unknown vehicle, a slot in the past, too soon or beyond the horizon, a second active booking (driver or plate), restricted after no-shows, bad weight or customs reference: each by field and rule, in the driver's language", body = Problem),
        (status = 429, description = "Too many booking changes from this driver or address", body = Problem, headers(("Retry-After" = u32, description = "Seconds to wait"))),
    ),
    security(("bearer" = []))
)]
#[post("/api/v1/driver/bookings")]
pub async fn create(state: State, req: HttpRequest, driver: DriverBearer, body: JsonBody<BookingIn>) -> Reply {
    let lang = driver.0.lang.code();
    let b = state.ctx.book(who(&driver), state.client(&req), body.0).await?;
    Ok(HttpResponse::Created().json(BookingOut::of(&b, lang)))
}

#[utoipa::path(
    tag = "drivers",
    params(("id" = String, Path, description = "The booking's id")),
    responses((status = 200, description = "The booking", body = BookingOut)),
    security(("bearer" = []))
)]
#[get("/api/v1/driver/bookings/{id}")]
pub async fn one(state: State, driver: DriverBearer, id: web::Path<String>) -> Reply {
    let lang = driver.0.lang.code();
    let b = state.ctx.my_booking(driver.0.id.clone(), id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(BookingOut::of(&b, lang)))
}

#[utoipa::path(
    tag = "drivers",
    params(("id" = String, Path, description = "The booking's id")),
    responses((status = 200, description = "The booking slip: Code128 of the number and the signed 2D code", content_type = "application/pdf")),
    security(("bearer" = []))
)]
#[get("/api/v1/driver/bookings/{id}/slip")]
pub async fn slip(state: State, driver: DriverBearer, id: web::Path<String>) -> Reply {
    let doc = state.ctx.my_booking_slip(driver.0.id.clone(), id.into_inner()).await?;
    Ok(super::pdf(doc))
}

#[utoipa::path(
    tag = "drivers",
    params(("id" = String, Path, description = "The booking's id")),
    request_body = MoveIn,
    responses(
        (status = 200, description = "Moved to the new hour (once); the old place released", body = BookingOut),
        (status = 409, description = "Checked in already, or the new slot is full (`next_free` offered)", body = Problem),
        (status = 422, description = "Already moved once, the same slot, in the past or beyond the horizon", body = Problem),
        (status = 429, description = "Too many booking changes", body = Problem, headers(("Retry-After" = u32, description = "Seconds to wait"))),
    ),
    security(("bearer" = []))
)]
#[post("/api/v1/driver/bookings/{id}/move")]
pub async fn move_to(
    state: State,
    req: HttpRequest,
    driver: DriverBearer,
    id: web::Path<String>,
    body: JsonBody<MoveIn>,
) -> Reply {
    let lang = driver.0.lang.code();
    let b = state
        .ctx
        .move_booking(who(&driver), state.client(&req), id.into_inner(), body.0)
        .await?;
    Ok(HttpResponse::Ok().json(BookingOut::of(&b, lang)))
}

#[utoipa::path(
    tag = "drivers",
    params(("id" = String, Path, description = "The booking's id")),
    responses(
        (status = 200, description = "Cancelled; the place goes back to the slot", body = BookingOut),
        (status = 409, description = "No longer active (cleared, cancelled, a no-show)", body = Problem),
        (status = 429, description = "Too many booking changes", body = Problem, headers(("Retry-After" = u32, description = "Seconds to wait"))),
    ),
    security(("bearer" = []))
)]
#[post("/api/v1/driver/bookings/{id}/cancel")]
pub async fn cancel(state: State, req: HttpRequest, driver: DriverBearer, id: web::Path<String>) -> Reply {
    let lang = driver.0.lang.code();
    let b = state
        .ctx
        .cancel_booking(who(&driver), state.client(&req), id.into_inner())
        .await?;
    Ok(HttpResponse::Ok().json(BookingOut::of(&b, lang)))
}
