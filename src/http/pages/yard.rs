//! The freight pages for staff: the waiting area (check-in, walk-ups, calls), supervisors'
//! slot changes and strike lifts; and the public board.

use actix_web::http::StatusCode;
use actix_web::{get, post, web};
use serde::Deserialize;
use utoipa_actix_web::service_config::ServiceConfig;

use super::{Page, PageError, PageSession, html};
use crate::domain::DomainError;
use crate::domain::freight::{CargoCategory, LaneType};
use crate::domain::validation::FieldError;
use crate::error::Error;
use crate::http::{AppState, State};
use crate::service::bookings::SlotChangeIn;
use crate::service::yard::{CallIn, CheckInIn, WalkUpIn};
use crate::views::freight::{BoardPage, SlotsPage, WalkUpValues, YardPage};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(yard)
        .service(yard_check_in)
        .service(yard_walk_up)
        .service(yard_call)
        .service(slots)
        .service(slots_change)
        .service(slots_lift)
        .service(board);
}

/// Seconds between the board's updates (board.js): fresh enough for a queue that moves a vehicle every
/// few seconds per lane, light enough for a screen left on all day.
const BOARD_REFRESH_SECONDS: u32 = 15;

/// The port the office's freight pages are for: the policy's first.
fn port_of(state: &AppState) -> (String, String) {
    state
        .ctx
        .policy
        .freight
        .ports
        .first()
        .map(|p| (p.code.clone(), p.name_zh.clone()))
        .unwrap_or_default()
}

/// A refusal as the page shows it: field errors beside their fields, anything else as one
/// message under `field`.
fn shown(e: Error, field: &str) -> Result<(StatusCode, Vec<FieldError>), PageError> {
    let line = |status, message: String| {
        let refused = FieldError {
            field: field.into(),
            rule: "refused".into(),
            message,
        };
        Ok((status, vec![refused]))
    };
    match e {
        Error::Domain(DomainError::Validation(errs)) => Ok((StatusCode::UNPROCESSABLE_ENTITY, errs.0)),
        Error::Domain(DomainError::NotFound { what }) => {
            line(StatusCode::NOT_FOUND, format!("未找到 / not found: {what}"))
        }
        Error::Domain(DomainError::Conflict { message, .. } | DomainError::Full { message, .. }) => {
            line(StatusCode::CONFLICT, message)
        }
        other => Err(other.into()),
    }
}

async fn yard_page(
    state: &AppState,
    session: &PageSession,
    status: StatusCode,
    notice: Option<String>,
    errors: Vec<FieldError>,
    walk_up: WalkUpValues,
) -> Page {
    let (port, port_name) = port_of(state);
    let queues = state.ctx.queues(session.actor.clone(), port.clone()).await?;
    Ok(html(
        status,
        &YardPage {
            nav: session.nav(),
            port,
            port_name,
            queues,
            notice,
            errors,
            walk_up,
            cargo: CargoCategory::ALL,
        },
    ))
}

async fn after(state: &AppState, session: &PageSession, outcome: Result<String, Error>, walk_up: WalkUpValues) -> Page {
    match outcome {
        Ok(done) => {
            yard_page(
                state,
                session,
                StatusCode::OK,
                Some(done),
                Vec::new(),
                WalkUpValues::default(),
            )
            .await
        }
        Err(e) => {
            let (status, errors) = shown(e, "code")?;
            yard_page(state, session, status, None, errors, walk_up).await
        }
    }
}

#[utoipa::path(tag = "pages", responses((status = 200, description = "The waiting area: check-in, the queues per lane type with their called vehicles, walk-ups", content_type = "text/html"), (status = 403, content_type = "text/html")))]
#[get("/yard")]
pub async fn yard(state: State, session: PageSession) -> Page {
    yard_page(
        &state,
        &session,
        StatusCode::OK,
        None,
        Vec::new(),
        WalkUpValues::default(),
    )
    .await
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct CheckInForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
}

#[utoipa::path(tag = "pages", responses((status = 200, description = "Checked in; the queues again", content_type = "text/html"), (status = 404, description = "No active booking for the code or plate", content_type = "text/html"), (status = 409, description = "Already checked in", content_type = "text/html"), (status = 422, description = "Too early or too late for the slot", content_type = "text/html")))]
#[post("/yard/check-in")]
pub async fn yard_check_in(state: State, session: PageSession, form: web::Form<CheckInForm>) -> Page {
    session.check_csrf(&form.csrf)?;
    let outcome = state
        .ctx
        .check_in(
            session.actor.clone(),
            CheckInIn {
                code: form.code.clone(),
            },
        )
        .await
        .map(|b| {
            format!(
                "已签到 checked in: {} {}（{}）",
                b.plate,
                b.number,
                b.lane_type.words().zh
            )
        });
    after(&state, &session, outcome, WalkUpValues::default()).await
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct WalkUpForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    plate: String,
    #[serde(default)]
    trailer_plate: String,
    #[serde(default)]
    direction: String,
    #[serde(default)]
    cargo_category: String,
    #[serde(default)]
    cargo_weight_kg: String,
    #[serde(default)]
    trade_pass: String,
}

#[utoipa::path(tag = "pages", responses((status = 200, description = "Queued in the next free slot; the queues again", content_type = "text/html"), (status = 409, description = "No free place", content_type = "text/html"), (status = 422, description = "The form again with what to correct", content_type = "text/html")))]
#[post("/yard/walk-up")]
pub async fn yard_walk_up(state: State, session: PageSession, form: web::Form<WalkUpForm>) -> Page {
    session.check_csrf(&form.csrf)?;
    let f = form.into_inner();
    let sent = WalkUpValues {
        plate: f.plate.clone(),
        trailer_plate: f.trailer_plate.clone(),
        direction: f.direction.clone(),
        cargo_category: f.cargo_category.clone(),
        weight: f.cargo_weight_kg.clone(),
        trade_pass: f.trade_pass.clone(),
    };
    // A weight that is not a number is the same refusal as one out of range.
    let input = WalkUpIn {
        plate: f.plate,
        trailer_plate: Some(f.trailer_plate),
        port: port_of(&state).0,
        direction: f.direction,
        cargo_category: CargoCategory::parse(&f.cargo_category).unwrap_or(CargoCategory::General),
        cargo_weight_kg: f.cargo_weight_kg.trim().parse().unwrap_or(-1),
        trade_pass: Some(f.trade_pass),
    };
    let outcome = state.ctx.walk_up(session.actor.clone(), input).await.map(|b| {
        format!(
            "已排队 queued: {} {}，时段 slot {}",
            b.plate,
            b.number,
            crate::domain::freight::slot_label(crate::db::utc(b.starts_at))
        )
    });
    after(&state, &session, outcome, sent).await
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct CallForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    direction: String,
    #[serde(default)]
    lane_type: String,
}

#[utoipa::path(tag = "pages", responses((status = 200, description = "Called; the queues again", content_type = "text/html"), (status = 404, description = "Nobody waiting in that queue", content_type = "text/html")))]
#[post("/yard/call")]
pub async fn yard_call(state: State, session: PageSession, form: web::Form<CallForm>) -> Page {
    session.check_csrf(&form.csrf)?;
    let Some(lane_type) = LaneType::parse(&form.lane_type) else {
        return Err(PageError::NotFound);
    };
    let input = CallIn {
        port: port_of(&state).0,
        direction: form.direction.clone(),
        lane_type,
        booking_id: None,
    };
    let outcome = state.ctx.call(session.actor.clone(), input).await.map(|b| {
        let by = b
            .report_by
            .map(|t| crate::domain::local(crate::db::utc(t)).format("%H:%M").to_string());
        format!(
            "已叫号 called: {}，请于 {} 前到达 report by",
            b.plate,
            by.unwrap_or_default()
        )
    });
    after(&state, &session, outcome, WalkUpValues::default()).await
}

async fn slots_page(
    state: &AppState,
    session: &PageSession,
    status: StatusCode,
    notice: Option<String>,
    errors: Vec<FieldError>,
) -> Page {
    let (port, _) = port_of(state);
    let (changed, struck) = state.ctx.slots_overview(session.actor.clone(), port.clone()).await?;
    Ok(html(
        status,
        &SlotsPage {
            nav: session.nav(),
            port,
            changed,
            struck,
            notice,
            errors,
            lanes: LaneType::ALL,
        },
    ))
}

#[utoipa::path(tag = "pages", responses((status = 200, description = "Changed slots and drivers with no-show strikes", content_type = "text/html"), (status = 403, content_type = "text/html")))]
#[get("/supervisor/slots")]
pub async fn slots(state: State, session: PageSession) -> Page {
    slots_page(&state, &session, StatusCode::OK, None, Vec::new()).await
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct SlotForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    direction: String,
    #[serde(default)]
    lane_type: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    hour: String,
    #[serde(default)]
    capacity: String,
    #[serde(default)]
    note: String,
}

#[utoipa::path(tag = "pages", responses((status = 200, description = "Saved; bookings beyond the capacity withdrawn and mailed", content_type = "text/html"), (status = 422, description = "The form again with what to correct", content_type = "text/html")))]
#[post("/supervisor/slots")]
pub async fn slots_change(state: State, session: PageSession, form: web::Form<SlotForm>) -> Page {
    session.check_csrf(&form.csrf)?;
    let f = form.into_inner();
    let starts_at = chrono::NaiveDate::parse_from_str(f.date.trim(), "%Y-%m-%d")
        .ok()
        .zip(f.hour.trim().parse::<u32>().ok())
        .and_then(|(d, h)| crate::domain::freight::slot_at(d, h))
        .map(|t| t.to_rfc3339())
        .unwrap_or_default();
    let input = SlotChangeIn {
        port: port_of(&state).0,
        direction: f.direction,
        lane_type: LaneType::parse(&f.lane_type).unwrap_or(LaneType::General),
        starts_at,
        capacity: f.capacity.trim().parse().unwrap_or(-1),
        note: f.note,
    };
    match state.ctx.change_slot(session.actor.clone(), input).await {
        Ok(out) => {
            let done = format!(
                "已保存 saved: {} 容量 capacity {}；取消预约 withdrawn: {}",
                out.slot.label,
                out.slot.capacity,
                out.bumped.len()
            );
            slots_page(&state, &session, StatusCode::OK, Some(done), Vec::new()).await
        }
        Err(e) => {
            let (status, errors) = shown(e, "slot")?;
            slots_page(&state, &session, status, None, errors).await
        }
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct LiftForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    driver_id: String,
}

#[utoipa::path(tag = "pages", responses((status = 200, description = "Lifted; the page again", content_type = "text/html"), (status = 404, description = "No strikes to lift", content_type = "text/html")))]
#[post("/supervisor/slots/lift")]
pub async fn slots_lift(state: State, session: PageSession, form: web::Form<LiftForm>) -> Page {
    session.check_csrf(&form.csrf)?;
    let n = state
        .ctx
        .lift_strikes(session.actor.clone(), form.driver_id.clone())
        .await?;
    let done = format!("已解除 lifted: {n}");
    slots_page(&state, &session, StatusCode::OK, Some(done), Vec::new()).await
}

#[utoipa::path(tag = "public", params(("port" = String, Path, description = "The port's code, e.g. YYG")), responses((status = 200, description = "The public board, for a large screen: waiting vehicles and expected wait per lane type, the last plates called (masked); refreshes itself", content_type = "text/html")))]
#[get("/board/{port}")]
pub async fn board(state: State, port: web::Path<String>) -> Page {
    let board = state.ctx.board(port.into_inner()).await?;
    Ok(html(
        StatusCode::OK,
        &BoardPage {
            board,
            refresh_seconds: BOARD_REFRESH_SECONDS,
        },
    ))
}
