//! The supervisor's page: approvals waiting, deadlines, outstanding items.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, web};
use utoipa_actix_web::service_config::ServiceConfig;

use super::{PageError, PageSession, html};
use crate::http::AppState;
use crate::views::*;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(sla);
}

#[utoipa::path(tag = "pages", responses((status = 200, description = "Open applications against their deadlines", content_type = "text/html"), (status = 403, content_type = "text/html")))]
#[get("/supervisor/sla")]
pub async fn sla(state: web::Data<AppState>, session: PageSession) -> Result<HttpResponse, PageError> {
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
