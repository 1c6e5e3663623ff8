//! The supervisor's view of the office: approvals waiting, deadlines, outstanding items.

use actix_web::{HttpResponse, get};
use utoipa_actix_web::service_config::ServiceConfig;

use super::Reply;
use crate::http::State;
use crate::http::extract::ApiActor;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(sla);
}

#[utoipa::path(
    tag = "supervision",
    responses((status = 200, description = "What awaits approval, open applications (overdue first), permits pending their outstanding items with the items' due dates, and the weekly share decided on time", body = crate::service::sla::SlaView)),
    security(("bearer" = []))
)]
#[get("/api/v1/sla")]
pub async fn sla(state: State, actor: ApiActor) -> Reply {
    Ok(HttpResponse::Ok().json(state.ctx.sla(actor.0).await?))
}
