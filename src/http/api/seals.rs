//! The seals and certificates register (授权登记): entries, grants to a holder, withdrawals,
//! retirement, and the uses recorded by the prints that bear a seal.

use actix_web::{HttpResponse, get, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

use super::Reply;
use crate::domain::seals::{GrantIn, SealIn, WithdrawIn};
use crate::http::State;
use crate::http::error::Problem;
use crate::http::extract::{ApiActor, JsonBody};
use crate::service::seals::{GrantOut, RegisterOut, SealOut};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(register)
        .service(enter)
        .service(grant)
        .service(withdraw)
        .service(retire);
}

#[utoipa::path(
    tag = "seals",
    responses((status = 200, description = "The office's seals and certificates with their holders and use counts, the grants' history, the latest uses, and signing keys not yet entered", body = RegisterOut), (status = 403, body = Problem)),
    security(("bearer" = []))
)]
#[get("/api/v1/seals")]
pub async fn register(state: State, actor: ApiActor) -> Reply {
    Ok(HttpResponse::Ok().json(state.ctx.seal_register(actor.0).await?))
}

#[utoipa::path(
    tag = "seals",
    request_body = SealIn,
    responses(
        (status = 201, body = SealOut),
        (status = 409, description = "The reference is entered already, or the document has a seal in use", body = Problem),
        (status = 422, description = "Every rule the entry breaks (a certificate names a signing key the service has)", body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/api/v1/seals")]
pub async fn enter(state: State, actor: ApiActor, body: JsonBody<SealIn>) -> Reply {
    Ok(HttpResponse::Created().json(state.ctx.register_seal(actor.0, body.0).await?))
}

#[utoipa::path(
    tag = "seals",
    params(("id" = String, Path, description = "The register entry")),
    request_body = GrantIn,
    responses(
        (status = 201, body = GrantOut),
        (status = 404, body = Problem),
        (status = 409, description = "Someone holds it now (withdraw first), or it is retired", body = Problem),
        (status = 422, description = "The holder is not an active officer of the office", body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/api/v1/seals/{id}/grants")]
pub async fn grant(state: State, actor: ApiActor, id: web::Path<String>, body: JsonBody<GrantIn>) -> Reply {
    Ok(HttpResponse::Created().json(state.ctx.grant_seal(actor.0, id.into_inner(), body.0).await?))
}

#[utoipa::path(
    tag = "seals",
    params(("id" = String, Path, description = "The grant")),
    request_body = WithdrawIn,
    responses((status = 200, body = GrantOut), (status = 404, body = Problem), (status = 409, description = "Withdrawn already", body = Problem)),
    security(("bearer" = []))
)]
#[post("/api/v1/seals/grants/{id}/withdraw")]
pub async fn withdraw(state: State, actor: ApiActor, id: web::Path<String>, body: JsonBody<WithdrawIn>) -> Reply {
    Ok(HttpResponse::Ok().json(state.ctx.withdraw_seal(actor.0, id.into_inner(), body.0).await?))
}

#[utoipa::path(
    tag = "seals",
    params(("id" = String, Path, description = "The register entry")),
    request_body = WithdrawIn,
    responses((status = 200, description = "Retired; its holder's grant ended with the same reason", body = SealOut), (status = 404, body = Problem), (status = 409, description = "Retired already", body = Problem)),
    security(("bearer" = []))
)]
#[post("/api/v1/seals/{id}/retire")]
pub async fn retire(state: State, actor: ApiActor, id: web::Path<String>, body: JsonBody<WithdrawIn>) -> Reply {
    Ok(HttpResponse::Ok().json(state.ctx.retire_seal(actor.0, id.into_inner(), body.0).await?))
}
