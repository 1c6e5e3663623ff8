//! The supervisor's register of seals and certificates (授权登记): enter one, hand it to a
//! holder, withdraw it, retire it; who held which, and each print that bore a seal.

use actix_web::{get, post, web};
use serde::Deserialize;
use utoipa_actix_web::service_config::ServiceConfig;

use super::{Page, PageSession, html};
use crate::domain::seals::{GrantIn, SealIn, WithdrawIn};
use crate::error::Error;
use crate::http::{AppState, State};
use crate::views::{SealFormValues, SealsPage};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(seals_view)
        .service(enter)
        .service(grant)
        .service(withdraw)
        .service(retire);
}

#[utoipa::path(tag = "pages", responses((status = 200, content_type = "text/html"), (status = 403, content_type = "text/html")))]
#[get("/supervisor/seals")]
pub async fn seals_view(state: State, session: PageSession) -> Page {
    after(&state, &session, Ok(None), SealFormValues::default()).await
}

/// The register, saying what was just done, or the refusal's reasons beside the form as sent (a
/// conflict, such as a seal someone holds, as the page's own message).
async fn after(
    state: &AppState,
    session: &PageSession,
    outcome: Result<Option<String>, Error>,
    sent: SealFormValues,
) -> Page {
    let shown = super::shown(outcome, sent)?;
    let register = state.ctx.seal_register(session.actor.clone()).await?;
    Ok(html(
        shown.status,
        &SealsPage {
            nav: session.nav(),
            register,
            errors: shown.errors,
            notice: shown.notice,
            form: shown.form,
        },
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct EnterForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    reference: String,
    #[serde(default)]
    applies_to: String,
}

#[utoipa::path(tag = "pages", responses((status = 200, description = "Entered; the register", content_type = "text/html"), (status = 409, content_type = "text/html"), (status = 422, description = "The form again with its errors", content_type = "text/html")))]
#[post("/supervisor/seals")]
pub async fn enter(state: State, session: PageSession, form: web::Form<EnterForm>) -> Page {
    session.check_csrf(&form.csrf)?;
    let f = form.into_inner();
    let outcome = state
        .ctx
        .register_seal(
            session.actor.clone(),
            SealIn {
                kind: f.kind.clone(),
                name: f.name.clone(),
                reference: f.reference.clone(),
                applies_to: Some(f.applies_to.clone()),
            },
        )
        .await
        .map(|s| Some(format!("已登记：{}（{}）/ entered", s.name, s.reference)));
    let sent = SealFormValues {
        kind: f.kind,
        name: f.name,
        reference: f.reference,
        applies_to: f.applies_to,
        ..SealFormValues::default()
    };
    after(&state, &session, outcome, sent).await
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct GrantForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    holder: String,
    #[serde(default)]
    note: String,
}

#[utoipa::path(tag = "pages", params(("id" = String, Path)), responses((status = 200, description = "Granted; the register", content_type = "text/html"), (status = 409, content_type = "text/html"), (status = 422, content_type = "text/html")))]
#[post("/supervisor/seals/{id}/grant")]
pub async fn grant(state: State, session: PageSession, id: web::Path<String>, form: web::Form<GrantForm>) -> Page {
    session.check_csrf(&form.csrf)?;
    let f = form.into_inner();
    let id = id.into_inner();
    let outcome = state
        .ctx
        .grant_seal(
            session.actor.clone(),
            id.clone(),
            GrantIn {
                holder: f.holder.clone(),
                note: Some(f.note.clone()),
            },
        )
        .await
        .map(|g| Some(format!("已交由{}保管 / now held by {}", g.holder_name, g.holder_name)));
    let sent = SealFormValues {
        seal: id,
        holder: f.holder,
        ..SealFormValues::default()
    };
    after(&state, &session, outcome, sent).await
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ReasonForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
}

#[utoipa::path(tag = "pages", params(("id" = String, Path)), responses((status = 200, description = "Withdrawn; the register", content_type = "text/html"), (status = 409, content_type = "text/html"), (status = 422, content_type = "text/html")))]
#[post("/supervisor/seals/grants/{id}/withdraw")]
pub async fn withdraw(state: State, session: PageSession, id: web::Path<String>, form: web::Form<ReasonForm>) -> Page {
    session.check_csrf(&form.csrf)?;
    let f = form.into_inner();
    let outcome = state
        .ctx
        .withdraw_seal(
            session.actor.clone(),
            id.into_inner(),
            WithdrawIn {
                reason: f.reason.clone(),
            },
        )
        .await
        .map(|g| Some(format!("已从{}收回 / withdrawn from {}", g.holder_name, g.holder_name)));
    let sent = SealFormValues {
        seal: String::new(),
        reason: f.reason,
        ..SealFormValues::default()
    };
    after(&state, &session, outcome, sent).await
}

#[utoipa::path(tag = "pages", params(("id" = String, Path)), responses((status = 200, description = "Retired; the register", content_type = "text/html"), (status = 409, content_type = "text/html"), (status = 422, content_type = "text/html")))]
#[post("/supervisor/seals/{id}/retire")]
pub async fn retire(state: State, session: PageSession, id: web::Path<String>, form: web::Form<ReasonForm>) -> Page {
    session.check_csrf(&form.csrf)?;
    let f = form.into_inner();
    let id = id.into_inner();
    let outcome = state
        .ctx
        .retire_seal(
            session.actor.clone(),
            id.clone(),
            WithdrawIn {
                reason: f.reason.clone(),
            },
        )
        .await
        .map(|s| Some(format!("已停用：{} / retired", s.name)));
    let sent = SealFormValues {
        seal: id,
        reason: f.reason,
        ..SealFormValues::default()
    };
    after(&state, &session, outcome, sent).await
}
