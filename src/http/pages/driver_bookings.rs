//! The driver's booking page on the phone: free slots for a direction and cargo, booking,
//! the driver's bookings with their slip, one free move and cancelling.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::Deserialize;
use utoipa_actix_web::service_config::ServiceConfig;

use super::drivers::DriverPage;
use super::{Page, PageError, html};
use crate::domain::DomainError;
use crate::domain::freight::{CargoCategory, SlotOffer};
use crate::domain::validation::FieldError;
use crate::domain::verdict::Direction;
use crate::error::Error;
use crate::http::{AppState, State};
use crate::service::bookings::{BookingIn, BookingOut, MoveIn};
use crate::views::driver_bookings::{BookingValues, DriverBookingsPage, texts};
use crate::views::drivers::{Problems, VehicleLine};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(bookings)
        .service(book)
        .service(slip)
        .service(move_to)
        .service(cancel);
}

#[derive(Deserialize)]
pub struct LaneQuery {
    direction: Option<String>,
    cargo: Option<String>,
}

/// What a refusal shows: messages by field, and the free slots a full one offers.
struct Refusal {
    status: StatusCode,
    problems: Vec<FieldError>,
    offers: Vec<SlotOffer>,
}

fn refusal(e: Error) -> Result<Refusal, PageError> {
    let line = |status, message: String, offers| Refusal {
        status,
        problems: vec![FieldError {
            field: "booking".into(),
            rule: "refused".into(),
            message,
        }],
        offers,
    };
    match e {
        Error::Domain(DomainError::Validation(errs)) => Ok(Refusal {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            problems: errs.0,
            offers: Vec::new(),
        }),
        Error::Domain(DomainError::Full { message, offers }) => Ok(line(StatusCode::CONFLICT, message, offers)),
        Error::Domain(DomainError::Conflict { message, .. }) => Ok(line(StatusCode::CONFLICT, message, Vec::new())),
        Error::Domain(DomainError::TooMany { message, .. }) => {
            Ok(line(StatusCode::TOO_MANY_REQUESTS, message, Vec::new()))
        }
        other => Err(other.into()),
    }
}

async fn page(
    state: &AppState,
    driver: &DriverPage,
    status: StatusCode,
    values: BookingValues,
    notice: Option<String>,
    refused: Option<Refusal>,
) -> Page {
    let lane =
        Direction::parse(&values.direction).zip(CargoCategory::parse(&values.cargo).map(CargoCategory::lane_type));
    let data = state.ctx.booking_page(driver.driver.clone(), lane).await?;
    let lang = driver.driver.lang;
    let (status, problems, offers) = match refused {
        Some(r) => (r.status, r.problems, r.offers),
        None => (status, Vec::new(), Vec::new()),
    };
    Ok(html(
        status,
        &DriverBookingsPage {
            f: driver.frame("/driver/bookings"),
            b: texts(lang),
            complete: data.complete,
            vehicles: data.vehicles.iter().map(|v| VehicleLine::new(v, lang)).collect(),
            cargo: CargoCategory::ALL,
            slots: data.slots,
            move_slots: data.move_slots,
            mine: data.mine.iter().map(|b| BookingOut::of(b, lang.code())).collect(),
            values,
            problems: Problems(problems),
            notice,
            offers,
            grace: state.ctx.policy.freight.grace_minutes,
        },
    ))
}

#[utoipa::path(tag = "pages", params(("direction" = Option<String>, Query, description = "exit or entry"), ("cargo" = Option<String>, Query, description = "The cargo category: its lane's free slots are listed")), responses((status = 200, description = "The driver's bookings and the booking form, in the driver's language", content_type = "text/html")))]
#[get("/driver/bookings")]
pub async fn bookings(state: State, driver: DriverPage, q: web::Query<LaneQuery>) -> Page {
    let q = q.into_inner();
    let values = BookingValues {
        direction: q.direction.unwrap_or_default(),
        cargo: q.cargo.unwrap_or_default(),
        ..BookingValues::default()
    };
    page(&state, &driver, StatusCode::OK, values, None, None).await
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct BookForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    direction: String,
    #[serde(default)]
    cargo: String,
    #[serde(default)]
    vehicle_id: String,
    #[serde(default)]
    starts_at: String,
    #[serde(default)]
    cargo_weight_kg: String,
    #[serde(default)]
    customs_ref: String,
}

#[utoipa::path(tag = "pages", responses((status = 200, description = "Booked: the page again with the booking", content_type = "text/html"), (status = 409, description = "Full: the page with the free slots offered", content_type = "text/html"), (status = 422, description = "The form again with what to correct, in the driver's language", content_type = "text/html"), (status = 429, description = "Too many booking changes", content_type = "text/html")))]
#[post("/driver/bookings")]
pub async fn book(state: State, req: HttpRequest, driver: DriverPage, form: web::Form<BookForm>) -> Page {
    if let Some(stale) = driver.stale_form(&form.csrf) {
        return Ok(stale);
    }
    let f = form.into_inner();
    let values = BookingValues {
        direction: f.direction.clone(),
        cargo: f.cargo.clone(),
        vehicle_id: f.vehicle_id.clone(),
        weight: f.cargo_weight_kg.clone(),
        customs_ref: f.customs_ref.clone(),
    };
    let input = BookingIn {
        vehicle_id: f.vehicle_id,
        port: state
            .ctx
            .policy
            .freight
            .ports
            .first()
            .map(|p| p.code.clone())
            .unwrap_or_default(),
        direction: f.direction,
        starts_at: f.starts_at,
        cargo_category: CargoCategory::parse(&f.cargo).unwrap_or(CargoCategory::General),
        // Not a number is refused like a number out of range.
        cargo_weight_kg: f.cargo_weight_kg.trim().parse().unwrap_or(-1),
        customs_ref: Some(f.customs_ref),
    };
    let who = (driver.driver.id.clone(), driver.driver.lang.code().to_string());
    let b = texts(driver.driver.lang);
    match state.ctx.book(who, state.client(&req), input).await {
        Ok(_) => {
            page(
                &state,
                &driver,
                StatusCode::OK,
                BookingValues::default(),
                Some(b.booked.into()),
                None,
            )
            .await
        }
        Err(e) => {
            let r = refusal(e)?;
            page(&state, &driver, StatusCode::OK, values, None, Some(r)).await
        }
    }
}

#[utoipa::path(tag = "pages", params(("id" = String, Path, description = "The booking's id")), responses((status = 200, description = "The booking slip (PDF)", content_type = "application/pdf")))]
#[get("/driver/bookings/{id}/slip")]
pub async fn slip(state: State, driver: DriverPage, id: web::Path<String>) -> Result<HttpResponse, PageError> {
    let doc = state
        .ctx
        .my_booking_slip(driver.driver.id.clone(), id.into_inner())
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("application/pdf")
        .insert_header(("Content-Disposition", format!("inline; filename=\"{}\"", doc.filename)))
        .insert_header(("Cache-Control", "no-store"))
        .body(doc.pdf))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct MoveForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    starts_at: String,
}

#[utoipa::path(tag = "pages", params(("id" = String, Path, description = "The booking's id")), responses((status = 200, description = "Moved, or the page with why not", content_type = "text/html")))]
#[post("/driver/bookings/{id}/move")]
pub async fn move_to(
    state: State,
    req: HttpRequest,
    driver: DriverPage,
    id: web::Path<String>,
    form: web::Form<MoveForm>,
) -> Page {
    if let Some(stale) = driver.stale_form(&form.csrf) {
        return Ok(stale);
    }
    let who = (driver.driver.id.clone(), driver.driver.lang.code().to_string());
    let input = MoveIn {
        starts_at: form.starts_at.clone(),
    };
    let outcome = state
        .ctx
        .move_booking(who, state.client(&req), id.into_inner(), input)
        .await;
    after(&state, &driver, outcome.map(|_| texts(driver.driver.lang).moved)).await
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct CancelForm {
    #[serde(default)]
    csrf: String,
}

#[utoipa::path(tag = "pages", params(("id" = String, Path, description = "The booking's id")), responses((status = 200, description = "Cancelled, or the page with why not", content_type = "text/html")))]
#[post("/driver/bookings/{id}/cancel")]
pub async fn cancel(
    state: State,
    req: HttpRequest,
    driver: DriverPage,
    id: web::Path<String>,
    form: web::Form<CancelForm>,
) -> Page {
    if let Some(stale) = driver.stale_form(&form.csrf) {
        return Ok(stale);
    }
    let who = (driver.driver.id.clone(), driver.driver.lang.code().to_string());
    let outcome = state.ctx.cancel_booking(who, state.client(&req), id.into_inner()).await;
    after(&state, &driver, outcome.map(|_| texts(driver.driver.lang).cancelled)).await
}

async fn after(state: &AppState, driver: &DriverPage, outcome: Result<&'static str, Error>) -> Page {
    match outcome {
        Ok(done) => {
            page(
                state,
                driver,
                StatusCode::OK,
                BookingValues::default(),
                Some(done.into()),
                None,
            )
            .await
        }
        // Another driver's booking is answered as a missing one, by the page's error.
        Err(Error::Domain(DomainError::NotFound { .. })) => Err(PageError::NotFound),
        Err(e) => {
            let r = refusal(e)?;
            page(state, driver, StatusCode::OK, BookingValues::default(), None, Some(r)).await
        }
    }
}
