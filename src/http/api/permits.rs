//! Permits: issued on an application, read, printed, revoked; the holder's photo; the keys that
//! verify their codes.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa_actix_web::service_config::ServiceConfig;

use super::Reply;
use crate::http::State;
use crate::http::error::Problem;
use crate::http::extract::{ApiActor, JsonBody};
use crate::service::permits::{PermitOut, PublicKey};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(issue)
        .service(get_permit)
        .service(permit_pdf)
        .service(permit_photo)
        .service(revoke)
        .service(keys);
}

#[utoipa::path(
    tag = "permits",
    params(
        ("id" = String, Path, description = "Application id"),
        ("Idempotency-Key" = Option<String>, Header, pattern = "^[!-~]{1,255}$", description = "Retries with the same key return the same permit (1–255 visible ASCII characters)"),
    ),
    request_body(content = Option<String>, content_type = "application/octet-stream", description = "Optional and not read; with an Idempotency-Key, a retry must send the same bytes"),
    responses(
        (status = 201, description = "Permit issued (or the earlier permit, on a replay)", body = PermitOut),
        (status = 409, description = "Already issued", body = Problem),
        (status = 422, description = "Key reused with a different request", body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/api/v1/applications/{id}/issue")]
pub async fn issue(state: State, req: HttpRequest, actor: ApiActor, id: web::Path<String>, body: web::Bytes) -> Reply {
    let key = req
        .headers()
        .get("Idempotency-Key")
        .map(|v| v.to_str().unwrap_or("").to_string());
    let (out, replayed) = state.ctx.issue_permit(actor.0, id.into_inner(), key, body).await?;
    if !replayed {
        state.metrics.permits_issued.inc();
    }
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/permits/{}", out.number)))
        .insert_header(("Idempotent-Replayed", if replayed { "true" } else { "false" }))
        .json(out))
}

#[utoipa::path(
    tag = "permits",
    params(("number" = String, Path, description = "Permit number")),
    responses((status = 200, body = PermitOut)),
    security(("bearer" = []))
)]
#[get("/api/v1/permits/{number}")]
pub async fn get_permit(state: State, actor: ApiActor, number: web::Path<String>) -> Reply {
    let (_, out) = state.ctx.permit(actor.0, number.into_inner()).await?;
    Ok(HttpResponse::Ok().json(out))
}

#[utoipa::path(
    tag = "permits",
    params(("number" = String, Path, description = "Permit number")),
    responses((status = 200, description = "The permit as PDF", content_type = "application/pdf")),
    security(("bearer" = []))
)]
#[get("/api/v1/permits/{number}/pdf")]
pub async fn permit_pdf(state: State, actor: ApiActor, number: web::Path<String>) -> Reply {
    Ok(super::pdf(state.ctx.permit_pdf(actor.0, number.into_inner()).await?))
}

#[utoipa::path(
    tag = "permits",
    params(("number" = String, Path, description = "Permit number")),
    responses((status = 200, description = "The holder's portrait: for window staff of the permit's office, and for a checkpoint device that scanned the permit in the last 30 minutes (its verdict links here); anyone else 403, or 404 as if there were no photo", content_type = "image/jpeg")),
    security(("bearer" = []))
)]
#[get("/api/v1/permits/{number}/photo")]
pub async fn permit_photo(state: State, actor: ApiActor, number: web::Path<String>) -> Reply {
    Ok(super::jpeg(state.ctx.permit_photo(actor.0, number.into_inner()).await?))
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
pub struct RevokeRequest {
    /// Why the permit is revoked (required).
    #[schema(required = true, nullable = false, max_length = 500)]
    pub reason: Option<String>,
}

#[utoipa::path(
    tag = "permits",
    params(("number" = String, Path, description = "Permit number")),
    request_body = RevokeRequest,
    responses((status = 200, body = PermitOut), (status = 409, body = Problem)),
    security(("bearer" = []))
)]
#[post("/api/v1/permits/{number}/revoke")]
pub async fn revoke(state: State, actor: ApiActor, number: web::Path<String>, body: JsonBody<RevokeRequest>) -> Reply {
    let out = state
        .ctx
        .revoke_permit(actor.0, number.into_inner(), body.0.reason)
        .await?;
    Ok(HttpResponse::Ok().json(out))
}

#[utoipa::path(
    tag = "keys",
    responses((status = 200, description = "Public keys that verify permit codes", body = Vec<PublicKey>))
)]
#[get("/api/v1/keys")]
pub async fn keys(state: State) -> Reply {
    Ok(HttpResponse::Ok().json(state.ctx.public_keys().await?))
}
