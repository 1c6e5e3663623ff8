//! A permit's page: its state, printing and revocation.

use actix_web::http::StatusCode;
use actix_web::{get, post, web};
use serde::Deserialize;
use utoipa_actix_web::service_config::ServiceConfig;

use super::{Page, PageError, PageSession, html, kind_title};
use crate::domain::DomainError;
use crate::domain::auth::{Action, may};
use crate::domain::validation::FieldError;
use crate::error::Error;
use crate::http::{AppState, State};
use crate::views::*;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(permit).service(revoke).service(print);
}

async fn permit_page(
    state: &AppState,
    session: &PageSession,
    number: String,
    errors: Vec<FieldError>,
    notice: Option<String>,
) -> Result<PermitPage, PageError> {
    permit_page_with(state, session, number, errors, Vec::new(), notice).await
}

async fn permit_page_with(
    state: &AppState,
    session: &PageSession,
    number: String,
    errors: Vec<FieldError>,
    print_errors: Vec<FieldError>,
    notice: Option<String>,
) -> Result<PermitPage, PageError> {
    let (record, out) = state.ctx.permit(session.actor.clone(), number.clone()).await?;
    let prints = state.ctx.permit_prints(session.actor.clone(), number).await?;
    let policy = &state.ctx.policy;
    let outstanding = record
        .outstanding
        .iter()
        .map(|m| {
            (
                words::material(policy, out.kind, &m.item),
                m.due_date.map(|d| d.to_string()).unwrap_or_default(),
            )
        })
        .collect();
    let fmt = |d: chrono::DateTime<chrono::FixedOffset>| d.format("%Y-%m-%d %H:%M").to_string();
    Ok(PermitPage {
        nav: session.nav(),
        kind_title: kind_title(state, out.kind),
        valid_from: fmt(out.valid_from),
        valid_until: fmt(out.valid_until),
        issued_at: fmt(out.issued_at),
        can_print: may(
            &session.actor,
            Action::PrintPermit {
                kind: out.kind,
                office: &out.office,
            },
        ),
        status: words::permit_status(out.status),
        id_type: words::id_type_code(&out.holder.id_type),
        office: words::office(policy, &out.office),
        outstanding,
        // The service's rule: a supervisor, and a permit still in force (pending and
        // suspended ones included).
        can_revoke: may(&session.actor, Action::RevokePermit { office: &out.office })
            && crate::domain::permit::check_revoke(out.status, Some("-")).is_ok(),
        can_print_on_blank: may(
            &session.actor,
            Action::PrintPermit {
                kind: out.kind,
                office: &out.office,
            },
        ) && matches!(
            out.status,
            crate::domain::permit::PermitStatus::Issued | crate::domain::permit::PermitStatus::Pending
        ),
        permit: out,
        errors,
        notice,
        prints,
        print_errors,
    })
}

#[utoipa::path(tag = "pages", params(("number" = String, Path)), responses((status = 200, content_type = "text/html")))]
#[get("/desk/permits/{number}")]
pub async fn permit(state: State, session: PageSession, number: web::Path<String>) -> Page {
    Ok(html(
        StatusCode::OK,
        &permit_page(&state, &session, number.into_inner(), Vec::new(), None).await?,
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct RevokeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
}

#[utoipa::path(tag = "pages", params(("number" = String, Path)), responses((status = 200, description = "Revoked; the permit page", content_type = "text/html")))]
#[post("/desk/permits/{number}/revoke")]
pub async fn revoke(
    state: State,
    session: PageSession,
    number: web::Path<String>,
    form: web::Form<RevokeForm>,
) -> Page {
    session.check_csrf(&form.csrf)?;
    let number = number.into_inner();
    let reason = Some(form.reason.clone());
    match state
        .ctx
        .revoke_permit(session.actor.clone(), number.clone(), reason)
        .await
    {
        Ok(_) => Ok(html(
            StatusCode::OK,
            &permit_page(&state, &session, number, Vec::new(), Some("已吊销 / revoked".into())).await?,
        )),
        Err(Error::Domain(DomainError::Validation(errs))) => Ok(html(
            StatusCode::UNPROCESSABLE_ENTITY,
            &permit_page(&state, &session, number, errs.0, None).await?,
        )),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct PrintForm {
    #[serde(default)]
    csrf: String,
    /// Present for a reprint: why the card in force is replaced.
    #[serde(default)]
    reprint_reason: Option<String>,
    #[serde(default)]
    note: String,
}

#[utoipa::path(tag = "pages", params(("number" = String, Path)), responses((status = 200, description = "Printed on the next blank: the permit page names the blank to load and links the PDF", content_type = "text/html"), (status = 409, description = "Printed already, not in force, or no blank left: the page says so", content_type = "text/html"), (status = 422, content_type = "text/html")))]
#[post("/desk/permits/{number}/print")]
pub async fn print(state: State, session: PageSession, number: web::Path<String>, form: web::Form<PrintForm>) -> Page {
    session.check_csrf(&form.csrf)?;
    let number = number.into_inner();
    let f = form.into_inner();
    let input = crate::service::stock::PrintIn {
        reprint_reason: f.reprint_reason,
        note: Some(f.note),
    };
    let (status, errors, notice) = match state
        .ctx
        .print_permit(session.actor.clone(), number.clone(), input)
        .await
    {
        Ok(p) => (
            StatusCode::OK,
            Vec::new(),
            Some(match &p.replace_reason {
                None => format!(
                    "请放入证卡 No. {0}，再打开PDF打印 / load blank No. {0}, then print the PDF",
                    p.blank
                ),
                Some(_) => format!(
                    "重印：请放入证卡 No. {0}，原证卡已作废 / reprint: load blank No. {0}; the card it replaces is void",
                    p.blank
                ),
            }),
        ),
        Err(Error::Domain(DomainError::Validation(errs))) => (StatusCode::UNPROCESSABLE_ENTITY, errs.0, None),
        Err(Error::Domain(DomainError::Conflict { message, .. })) => (
            StatusCode::CONFLICT,
            vec![FieldError {
                field: "print".into(),
                rule: "conflict".into(),
                message,
            }],
            None,
        ),
        Err(e) => return Err(e.into()),
    };
    Ok(html(
        status,
        &permit_page_with(&state, &session, number, Vec::new(), errors, notice).await?,
    ))
}
