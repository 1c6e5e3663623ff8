//! The checkpoint: scans and their verdicts, cleared vehicles, lane times, the trust bundle for
//! offline devices and the crossings they decided offline.

use actix_web::{HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa_actix_web::service_config::ServiceConfig;

use super::Reply;
use crate::http::State;
use crate::http::error::ApiError;
use crate::http::error::Problem;
use crate::http::extract::{ApiActor, BearerToken, JsonBody};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(scan)
        .service(cleared)
        .service(lanes)
        .service(trust)
        .service(upload);
}

/// Body of `POST /api/v1/checkpoint/scans`; a stable contract with checkpoint devices.
#[derive(Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct ScanRequest {
    /// The scanned text: a permit's Code128 number or its signed 2D code.
    #[schema(required = true, nullable = false, pattern = "\\S")]
    pub code: Option<String>,
    /// Lane id, e.g. `YYG-C3`.
    #[schema(
        required = true,
        nullable = false,
        pattern = "^[ \\t\\r\\n]*[A-Za-z0-9_-]{1,32}[ \\t\\r\\n]*$"
    )]
    pub lane: Option<String>,
    /// exit or entry.
    #[schema(required = true, nullable = false, pattern = "^(exit|entry)$")]
    pub direction: Option<String>,
}

#[utoipa::path(
    tag = "checkpoint",
    request_body = ScanRequest,
    responses(        (status = 200, description = "The verdict (admit or reject with a reason code); the attempt is recorded either way. Overstay: a pass that expired (per China date, Asia/Shanghai) while its holder was abroad — last crossing an exit — does not refuse the return: the entry is admitted with reason `ok` and `warning: \"overstay\"`, recorded with the crossing's audit entry for follow-up. An exit on an expired pass, or an entry with no exit on record, is rejected as `expired`. Offline verifiers admit every entry on an expired pass with the same warning (they cannot know the exit), and answer `unverifiable_offline` to a bare permit number.", body = crate::service::checkpoint::ScanOut),
        (status = 403, description = "Not a checkpoint account", body = Problem),
        (status = 422, description = "Lane or direction missing or malformed", body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/api/v1/checkpoint/scans")]
pub async fn scan(state: State, token: BearerToken, body: JsonBody<ScanRequest>) -> Reply {
    let b = body.0;
    let out = state
        .ctx
        .scan_with_token(token.0, b.code.as_deref(), b.lane.as_deref(), b.direction.as_deref())
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    state.metrics.count_scan(&out);
    Ok(HttpResponse::Ok().json(out))
}

#[utoipa::path(
    tag = "checkpoint",
    params(("id" = String, Path, description = "crossing_id of the scan")),
    responses((status = 204, description = "The check's time ends now")),
    security(("bearer" = []))
)]
#[post("/api/v1/checkpoint/scans/{id}/cleared")]
pub async fn cleared(state: State, actor: ApiActor, id: web::Path<String>) -> Reply {
    state.ctx.clear_crossing(actor.0, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize)]
pub struct WindowQuery {
    window_minutes: Option<i64>,
}

#[utoipa::path(
    tag = "checkpoint",
    params(("window_minutes" = Option<i64>, Query, description = "Look-back window (default 60)")),
    responses((status = 200, description = "Mean check time per lane", body = Vec<crate::service::checkpoint::LaneStat>)),
    security(("bearer" = []))
)]
#[get("/api/v1/checkpoint/lanes")]
pub async fn lanes(state: State, actor: ApiActor, q: web::Query<WindowQuery>) -> Reply {
    Ok(HttpResponse::Ok().json(state.ctx.lane_stats(actor.0, q.window_minutes).await?))
}

#[derive(Debug, Deserialize)]
pub struct TrustQuery {
    since: Option<String>,
}

#[utoipa::path(
    tag = "checkpoint",
    params(("since" = Option<String>, Query, pattern = "^\\s*[0-9]{0,18}\\s*$", description = "The version the device holds: only permits changed after it are sent (`clear` undoes an earlier standing). Absent or blank: the full bundle.")),
    responses(
        (status = 200, description = "Signed trust bundle for offline verification (verify the signature over `payload` with a key from /api/v1/keys installed on the device; the payload is a TrustBundle)", body = crate::domain::offline::SignedBundle),
        (status = 422, description = "`since` is not a version", body = Problem),
    ),
    security(("bearer" = []))
)]
#[get("/api/v1/checkpoint/trust")]
pub async fn trust(state: State, actor: ApiActor, q: web::Query<TrustQuery>) -> Reply {
    let bundle = state.ctx.trust_bundle(actor.0, q.into_inner().since).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(bundle))
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
pub struct UploadRequest {
    pub crossings: Vec<crate::service::checkpoint::OfflineCrossing>,
}

#[utoipa::path(
    tag = "checkpoint",
    request_body = UploadRequest,
    responses((status = 200, description = "Recorded; crossings already uploaded are counted, not recorded again", body = crate::service::checkpoint::UploadOut)),
    security(("bearer" = []))
)]
#[post("/api/v1/checkpoint/crossings")]
pub async fn upload(state: State, actor: ApiActor, body: JsonBody<UploadRequest>) -> Reply {
    Ok(HttpResponse::Ok().json(state.ctx.upload_crossings(actor.0, body.0.crossings).await?))
}
