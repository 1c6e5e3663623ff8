//! The free services at the window (recorded by hand) and the supervisor's savings page with its
//! server-drawn chart.

use actix_web::http::StatusCode;
use actix_web::{get, post, web};
use serde::Deserialize;
use utoipa_actix_web::service_config::ServiceConfig;

use super::{Page, PageError, PageSession, html};
use crate::domain::DomainError;
use crate::domain::free::{Period, yuan_text};
use crate::domain::validation::{FieldError, FieldErrors};
use crate::error::Error;
use crate::http::{AppState, State};
use crate::service::free::GivenIn;
use crate::views::*;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(free_services)
        .service(give)
        .service(savings)
        .service(photo_sheet);
}

async fn free_page(
    state: &AppState,
    session: &PageSession,
    errors: Vec<FieldError>,
    notice: Option<String>,
    form: FreeFormValues,
) -> Result<FreeServicesPage, PageError> {
    Ok(FreeServicesPage {
        nav: session.nav(),
        today: state.ctx.free_services_today(session.actor.clone()).await?,
        errors,
        notice,
        form,
    })
}

#[utoipa::path(tag = "pages", responses((status = 200, content_type = "text/html")))]
#[get("/desk/free-services")]
pub async fn free_services(state: State, session: PageSession) -> Page {
    Ok(html(
        StatusCode::OK,
        &free_page(&state, &session, Vec::new(), None, FreeFormValues::default()).await?,
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct GiveForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    service: String,
    #[serde(default)]
    quantity: String,
    #[serde(default)]
    application_id: String,
    #[serde(default)]
    recipient_name: String,
    #[serde(default)]
    note: String,
}

#[utoipa::path(tag = "pages", responses((status = 200, description = "Recorded; the list of today", content_type = "text/html"), (status = 422, description = "The form again with its errors", content_type = "text/html")))]
#[post("/desk/free-services")]
pub async fn give(state: State, session: PageSession, form: web::Form<GiveForm>) -> Page {
    session.check_csrf(&form.csrf)?;
    let f = form.into_inner();
    let outcome = match f.quantity.trim().parse::<i64>() {
        Ok(quantity) => state
            .ctx
            .give_free_service(
                session.actor.clone(),
                GivenIn {
                    service: f.service.clone(),
                    quantity,
                    application_id: Some(f.application_id.clone()),
                    recipient_name: Some(f.recipient_name.clone()),
                    recipient_id_number: None,
                    note: Some(f.note.clone()),
                },
            )
            .await
            .map(|r| {
                format!(
                    "已登记：{} {} {}，市场价值 ¥{} / recorded, worth ¥{}",
                    r.service.words().zh,
                    r.quantity,
                    r.service.unit_zh(),
                    yuan_text(r.value_fen),
                    yuan_text(r.value_fen)
                )
            }),
        Err(_) => {
            let mut errs = FieldErrors::new();
            errs.add("quantity", "format", "请输入整数 / a whole number");
            Err(errs.into())
        }
    };
    let (status, errors, notice, form) = match outcome {
        Ok(done) => (StatusCode::OK, Vec::new(), Some(done), FreeFormValues::default()),
        Err(Error::Domain(DomainError::Validation(errs))) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            errs.0,
            None,
            FreeFormValues {
                service: f.service,
                quantity: f.quantity,
                application_id: f.application_id,
                recipient_name: f.recipient_name,
                note: f.note,
            },
        ),
        Err(e) => return Err(e.into()),
    };
    Ok(html(status, &free_page(&state, &session, errors, notice, form).await?))
}

#[derive(Deserialize)]
pub struct SavingsQuery {
    year: Option<String>,
    period: Option<String>,
}

#[utoipa::path(tag = "pages", params(("year" = Option<String>, Query), ("period" = Option<String>, Query)), responses((status = 200, content_type = "text/html"), (status = 422, description = "Not a year or period: this year by month, saying so", content_type = "text/html")))]
#[get("/supervisor/savings")]
pub async fn savings(state: State, session: PageSession, q: web::Query<SavingsQuery>) -> Page {
    let q = q.into_inner();
    let year = q.year.as_deref().map(str::trim).filter(|y| !y.is_empty());
    let (year, mut errors) = match year.map(str::parse::<i32>) {
        None => (None, Vec::new()),
        Some(Ok(y)) => (Some(y), Vec::new()),
        Some(Err(_)) => {
            let mut errs = FieldErrors::new();
            errs.add("year", "format", "年份应为四位数字 / a year such as 2026");
            (None, errs.0)
        }
    };
    let out = match state.ctx.savings(session.actor.clone(), year, q.period).await {
        Ok(s) => s,
        Err(Error::Domain(DomainError::Validation(errs))) => {
            errors.extend(errs.0);
            state.ctx.savings(session.actor.clone(), None, None).await?
        }
        Err(e) => return Err(e.into()),
    };
    let bars = chart_bars(&out);
    let page = SavingsPage {
        nav: session.nav(),
        office: words::office(&state.ctx.policy, &out.office),
        chart: chart::BarChart {
            title: format!("{} 节省金额（元） yuan saved", out.year),
            bars,
            format: |fen| format!("{}", fen / 100),
        },
        savings: out,
        errors,
    };
    let status = if page.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(html(status, &page))
}

/// The chart's bars: every month of the year when by month (empty months drawn as such), else
/// the periods that have records.
fn chart_bars(s: &crate::service::free::SavingsOut) -> Vec<(String, i64)> {
    let saved = |label: &str| {
        s.by_period
            .iter()
            .find(|g| g.key == label)
            .map_or(0, |g| g.tally.saved_fen)
    };
    match s.period {
        Period::Month => (1..=12)
            .map(|m| {
                let key = format!("{}-{m:02}", s.year);
                (format!("{m}月"), saved(&key))
            })
            .collect(),
        _ => s
            .by_period
            .iter()
            .map(|g| (g.label.clone(), g.tally.saved_fen))
            .collect(),
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct PhotoSheetForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    size: String,
    #[serde(default)]
    paper: String,
}

#[utoipa::path(tag = "pages", params(("id" = String, Path)), responses((status = 200, description = "The photo sheet (PDF), recorded as a free service", content_type = "application/pdf")))]
#[post("/desk/applications/{id}/photo-sheet")]
pub async fn photo_sheet(
    state: State,
    session: PageSession,
    id: web::Path<String>,
    form: web::Form<PhotoSheetForm>,
) -> Page {
    session.check_csrf(&form.csrf)?;
    let f = form.into_inner();
    let doc = state
        .ctx
        .photo_sheet(
            session.actor.clone(),
            id.into_inner(),
            crate::service::free::PhotoSheetIn {
                size: Some(f.size),
                paper: Some(f.paper),
            },
        )
        .await?;
    Ok(super::pdf_page(doc))
}
