//! The office's blank stock: the day's reconciliation, the drawer's count, and the supervisor's
//! batches received, voids and explanations.

use actix_web::http::StatusCode;
use actix_web::{get, post, web};
use serde::Deserialize;
use utoipa_actix_web::service_config::ServiceConfig;

use super::{Page, PageError, PageSession, html};
use crate::domain::DomainError;
use crate::domain::auth::{Action, may};
use crate::domain::validation::{FieldError, FieldErrors};
use crate::error::Error;
use crate::http::{AppState, State};
use crate::service::stock::{BatchIn, CountIn, ExplainIn, VoidIn};
use crate::views::*;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(stock_view)
        .service(receive)
        .service(void_blank)
        .service(count)
        .service(explain);
}

#[derive(Deserialize)]
pub struct DayQuery {
    day: Option<String>,
}

async fn stock_page(
    state: &AppState,
    session: &PageSession,
    day: Option<String>,
    errors: Vec<FieldError>,
    notice: Option<String>,
    form: StockFormValues,
) -> Result<StockPage, PageError> {
    let actor = session.actor.clone();
    // The page's date field left blank asks for today.
    let day = day.filter(|d| !d.trim().is_empty());
    let (stock, errors) = match state.ctx.stock(actor.clone(), day).await {
        Ok(s) => (s, errors),
        // A day that is not a date: today's page, saying so.
        Err(Error::Domain(DomainError::Validation(errs))) => {
            (state.ctx.stock(actor, None).await?, [errors, errs.0].concat())
        }
        Err(e) => return Err(e.into()),
    };
    let today = stock.today;
    Ok(StockPage {
        nav: session.nav(),
        office: words::office(&state.ctx.policy, &session.actor.office),
        is_today: stock.reconciliation.day == today,
        today: today.to_string(),
        can_manage: may(
            &session.actor,
            Action::ManageStock {
                office: &session.actor.office,
            },
        ),
        stock,
        errors,
        notice,
        form,
    })
}

#[utoipa::path(tag = "pages", params(("day" = Option<String>, Query)), responses((status = 200, content_type = "text/html")))]
#[get("/desk/stock")]
pub async fn stock_view(state: State, session: PageSession, q: web::Query<DayQuery>) -> Page {
    let page = stock_page(
        &state,
        &session,
        q.into_inner().day,
        Vec::new(),
        None,
        StockFormValues::default(),
    )
    .await?;
    let status = if page.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(html(status, &page))
}

/// After a change: today's page saying what was done, or the refusal's reasons beside the form
/// as it was sent (a conflict, such as voiding a printed blank, as the page's own message).
async fn after(state: &AppState, session: &PageSession, outcome: Result<String, Error>, sent: StockFormValues) -> Page {
    let shown = super::shown(outcome.map(Some), sent)?;
    Ok(html(
        shown.status,
        &stock_page(state, session, None, shown.errors, shown.notice, shown.form).await?,
    ))
}

/// A whole number typed into a form, or the field's error (the service never sees the text).
fn number(field: &str, text: &str) -> Result<i64, Error> {
    text.trim().parse::<i64>().map_err(|_| {
        let mut errs = FieldErrors::new();
        errs.add(field, "format", "请输入整数 / a whole number");
        errs.into()
    })
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct BatchForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    first_serial: String,
    #[serde(default)]
    last_serial: String,
    #[serde(default)]
    received_from: String,
}

#[utoipa::path(tag = "pages", responses((status = 200, description = "Received; the stock page", content_type = "text/html"), (status = 422, description = "The form again with its errors", content_type = "text/html")))]
#[post("/desk/stock/batches")]
pub async fn receive(state: State, session: PageSession, form: web::Form<BatchForm>) -> Page {
    session.check_csrf(&form.csrf)?;
    let f = form.into_inner();
    let parsed = (
        number("first_serial", &f.first_serial),
        number("last_serial", &f.last_serial),
    );
    let outcome = match parsed {
        (Ok(first_serial), Ok(last_serial)) => state
            .ctx
            .receive_blanks(
                session.actor.clone(),
                BatchIn {
                    first_serial,
                    last_serial,
                    received_from: f.received_from.clone(),
                },
            )
            .await
            .map(|b| {
                format!(
                    "已入库 {} 张：{:08}–{:08} / received {} blanks",
                    b.count, b.first_serial, b.last_serial, b.count
                )
            }),
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    let sent = StockFormValues {
        first_serial: f.first_serial,
        last_serial: f.last_serial,
        received_from: f.received_from,
        ..StockFormValues::default()
    };
    after(&state, &session, outcome, sent).await
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct VoidForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    serial: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    note: String,
}

#[utoipa::path(tag = "pages", responses((status = 200, description = "Voided; the stock page", content_type = "text/html"), (status = 409, description = "Printed on or void already: the page says so", content_type = "text/html"), (status = 422, content_type = "text/html")))]
#[post("/desk/stock/void")]
pub async fn void_blank(state: State, session: PageSession, form: web::Form<VoidForm>) -> Page {
    session.check_csrf(&form.csrf)?;
    let f = form.into_inner();
    let outcome = match number("serial", &f.serial) {
        Ok(serial) => state
            .ctx
            .void_blank(
                session.actor.clone(),
                serial,
                VoidIn {
                    reason: f.reason.clone(),
                    note: Some(f.note.clone()),
                },
            )
            .await
            .map(|b| format!("证卡 {:08} 已作废 / blank {:08} voided", b.serial, b.serial)),
        Err(e) => Err(e),
    };
    let sent = StockFormValues {
        serial: f.serial,
        reason: f.reason,
        note: f.note,
        ..StockFormValues::default()
    };
    after(&state, &session, outcome, sent).await
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct CountForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    counted: String,
}

#[utoipa::path(tag = "pages", responses((status = 200, description = "Recorded; the stock page", content_type = "text/html"), (status = 422, content_type = "text/html")))]
#[post("/desk/stock/count")]
pub async fn count(state: State, session: PageSession, form: web::Form<CountForm>) -> Page {
    session.check_csrf(&form.csrf)?;
    let f = form.into_inner();
    let outcome = match number("counted", &f.counted) {
        Ok(counted) => state
            .ctx
            .count_blanks(session.actor.clone(), CountIn { counted })
            .await
            .map(|c| {
                if c.difference == 0 {
                    format!("清点 {} 张，与账面一致 / {} counted, as the records say", c.counted, c.counted)
                } else {
                    format!(
                        "清点 {} 张，账面 {} 张：差额已报主管 / {} counted against {} recorded: flagged to the supervisors",
                        c.counted, c.expected, c.counted, c.expected
                    )
                }
            }),
        Err(e) => Err(e),
    };
    let sent = StockFormValues {
        counted: f.counted,
        ..StockFormValues::default()
    };
    after(&state, &session, outcome, sent).await
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ExplainForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    day: String,
    #[serde(default)]
    explanation: String,
}

#[utoipa::path(tag = "pages", responses((status = 200, description = "Explained; the stock page", content_type = "text/html"), (status = 422, content_type = "text/html")))]
#[post("/desk/stock/explain")]
pub async fn explain(state: State, session: PageSession, form: web::Form<ExplainForm>) -> Page {
    session.check_csrf(&form.csrf)?;
    let f = form.into_inner();
    let outcome = state
        .ctx
        .explain_count(
            session.actor.clone(),
            f.day.clone(),
            ExplainIn {
                explanation: f.explanation,
            },
        )
        .await
        .map(|c| format!("{} 的差异已说明 / the difference of {} is explained", c.day, c.day));
    after(&state, &session, outcome, StockFormValues::default()).await
}
