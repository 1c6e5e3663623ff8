//! The supervisor's page: approvals waiting, deadlines, outstanding items.

use actix_web::get;
use actix_web::http::StatusCode;
use utoipa_actix_web::service_config::ServiceConfig;

use super::{Page, PageSession, html};
use crate::http::State;
use crate::views::*;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(sla);
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
