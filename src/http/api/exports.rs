//! What other systems pull: the batch of passport applications for the review system.

use actix_web::{HttpResponse, get, post, web};
use serde::Serialize;
use utoipa_actix_web::service_config::ServiceConfig;

use super::Reply;
use crate::http::State;
use crate::http::extract::ApiActor;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(export_pull).service(export_ack);
}

#[utoipa::path(
    tag = "exports",
    responses((status = 200, description = "The batch to hand to the review system (the same one until acknowledged)", body = crate::service::exports::Batch), (status = 204, description = "Nothing to send")),
    security(("bearer" = []))
)]
#[get("/api/v1/exports/passport")]
pub async fn export_pull(state: State, actor: ApiActor) -> Reply {
    Ok(match state.ctx.pull_export(actor.0).await? {
        Some(b) => HttpResponse::Ok().json(b),
        None => HttpResponse::NoContent().finish(),
    })
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AckOut {
    pub batch_id: String,
    /// Applications marked uploaded by this call (0 when acknowledged before).
    pub uploaded: usize,
}

#[utoipa::path(
    tag = "exports",
    params(("batch" = String, Path, description = "Batch id")),
    responses((status = 200, description = "Acknowledged: the applications are uploaded and their review is due", body = AckOut)),
    security(("bearer" = []))
)]
#[post("/api/v1/exports/passport/{batch}/ack")]
pub async fn export_ack(state: State, actor: ApiActor, batch: web::Path<String>) -> Reply {
    let batch_id = batch.into_inner();
    let uploaded = state.ctx.acknowledge_export(actor.0, batch_id.clone()).await?;
    Ok(HttpResponse::Ok().json(AckOut { batch_id, uploaded }))
}
