//! The supervisor's pages: approvals waiting, deadlines, outstanding items; the mail outbox.

use actix_web::get;
use actix_web::http::StatusCode;
use utoipa_actix_web::service_config::ServiceConfig;

use super::{Page, PageSession, html};
use crate::http::State;
use crate::views::*;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(sla).service(mail);
}

#[utoipa::path(tag = "pages", responses((status = 200, description = "Open applications against their deadlines", content_type = "text/html"), (status = 403, content_type = "text/html")))]
#[get("/supervisor/sla")]
pub async fn sla(state: State, session: PageSession) -> Page {
    let view = state.ctx.sla(session.actor.clone()).await?;
    Ok(html(
        StatusCode::OK,
        &SlaPage {
            nav: session.nav(),
            view,
            policy: state.ctx.policy.clone(),
        },
    ))
}

#[utoipa::path(tag = "pages", responses((status = 200, description = "The mail outbox: queued, failing and sent counts and the latest messages, recipients masked", content_type = "text/html"), (status = 403, content_type = "text/html")))]
#[get("/supervisor/mail")]
pub async fn mail(state: State, session: PageSession) -> Page {
    let view = state.ctx.outbox_view(session.actor.clone()).await?;
    Ok(html(
        StatusCode::OK,
        &MailPage {
            nav: session.nav(),
            view,
        },
    ))
}
