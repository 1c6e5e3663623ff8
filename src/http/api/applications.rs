//! Applications: taken at the window, moved along their workflow, their portrait, receipt and
//! notice of missing items.

use actix_web::{HttpRequest, HttpResponse, get, post, put, web};
use serde::{Deserialize, Serialize};
use utoipa_actix_web::service_config::ServiceConfig;

use super::Reply;
use crate::domain::portrait::{Crop, CropAsk};
use crate::http::error::{ApiError, Problem};
use crate::http::extract::{ApiActor, JsonBody};
use crate::http::{AppState, State};
use crate::service::applications::{ApplicationOut, Move, NewApplication};
use crate::service::portraits::DraftView;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(create_application)
        .service(get_application)
        .service(accept)
        .service(approve)
        .service(reject)
        .service(withdraw)
        .service(collect)
        .service(supply)
        .service(acknowledge)
        .service(review)
        .service(receipt)
        .service(unlock_lookup)
        .service(notice)
        .service(print_notice)
        .service(put_portrait)
        .service(get_portrait)
        .service(put_portrait_draft)
        .service(get_portrait_draft)
        .service(portrait_draft_image)
        .service(save_portrait_draft);
}

#[utoipa::path(
    tag = "applications",
    request_body = NewApplication,
    responses(
        (status = 201, description = "Application taken", body = ApplicationOut),
                        (status = 403, description = "Role or grant missing", body = Problem),
                        (status = 409, description = "An open application exists for the same identity document: the problem's detail names it (current_state is its state). Send `confirm_duplicate: true` to take another all the same", body = Problem),
        (status = 422, description = "Every field that broke a rule, including fields the request does not have and arrays where an object belongs", body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/api/v1/applications")]
pub async fn create_application(state: State, actor: ApiActor, body: JsonBody<NewApplication>) -> Reply {
    let out = state.ctx.create_application(actor.0, body.0).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/applications/{}", out.id)))
        .json(out))
}

#[utoipa::path(
    tag = "applications",
    params(("id" = String, Path, description = "Application id")),
    responses((status = 200, body = ApplicationOut)),
    security(("bearer" = []))
)]
#[get("/api/v1/applications/{id}")]
pub async fn get_application(state: State, actor: ApiActor, id: web::Path<String>) -> Reply {
    let out = state.ctx.application(actor.0, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(out))
}

#[derive(Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct AcceptRequest {
    /// Codes of the checklist items presented at the window; the rest are deferred (容缺) where
    /// policy allows.
    pub materials: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct ReasonRequest {
    #[schema(required = true, nullable = false, max_length = 500)]
    pub reason: Option<String>,
}

#[derive(Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct ReviewRequest {
    /// approved or rejected.
    #[schema(required = true, nullable = false, pattern = "^(approved|rejected)$")]
    pub result: Option<String>,
    /// Required when rejected.
    pub reason: Option<String>,
}

/// One workflow step for the calling officer, answered with the application.
async fn step(state: &AppState, actor: ApiActor, id: web::Path<String>, step: Move) -> Reply {
    let out = state.ctx.step(actor.0, id.into_inner(), step).await?;
    Ok(HttpResponse::Ok().json(out))
}

#[utoipa::path(
    tag = "applications",
    params(("id" = String, Path, description = "Application id")), request_body = AcceptRequest,
    responses((status = 200, description = "Accepted (受理); deferred items have due dates", body = ApplicationOut), (status = 409, body = Problem), (status = 422, description = "A required item is missing", body = Problem)),
    security(("bearer" = []))
)]
#[post("/api/v1/applications/{id}/accept")]
pub async fn accept(state: State, actor: ApiActor, id: web::Path<String>, body: JsonBody<AcceptRequest>) -> Reply {
    let provided = body.0.materials.unwrap_or_default();
    step(&state, actor, id, Move::Accept { provided }).await
}

#[utoipa::path(
    tag = "applications",
    params(("id" = String, Path, description = "Application id")),
    responses((status = 200, body = ApplicationOut), (status = 403, description = "Grant missing, or the approver accepted it (four eyes)", body = Problem), (status = 409, body = Problem)),
    security(("bearer" = []))
)]
#[post("/api/v1/applications/{id}/approve")]
pub async fn approve(state: State, actor: ApiActor, id: web::Path<String>) -> Reply {
    step(&state, actor, id, Move::Approve).await
}

#[utoipa::path(
    tag = "applications",
    params(("id" = String, Path, description = "Application id")), request_body = ReasonRequest,
    responses((status = 200, body = ApplicationOut), (status = 409, body = Problem)),
    security(("bearer" = []))
)]
#[post("/api/v1/applications/{id}/reject")]
pub async fn reject(state: State, actor: ApiActor, id: web::Path<String>, body: JsonBody<ReasonRequest>) -> Reply {
    step(&state, actor, id, Move::Reject { reason: body.0.reason }).await
}

#[utoipa::path(
    tag = "applications",
    params(("id" = String, Path, description = "Application id")),
    responses((status = 200, body = ApplicationOut), (status = 409, body = Problem)),
    security(("bearer" = []))
)]
#[post("/api/v1/applications/{id}/withdraw")]
pub async fn withdraw(state: State, actor: ApiActor, id: web::Path<String>) -> Reply {
    step(&state, actor, id, Move::Withdraw).await
}

#[utoipa::path(
    tag = "applications",
    params(("id" = String, Path, description = "Application id")),
    responses((status = 200, description = "Handed over", body = ApplicationOut), (status = 409, body = Problem)),
    security(("bearer" = []))
)]
#[post("/api/v1/applications/{id}/collect")]
pub async fn collect(state: State, actor: ApiActor, id: web::Path<String>) -> Reply {
    step(&state, actor, id, Move::Collect).await
}

#[utoipa::path(
    tag = "applications",
    params(("id" = String, Path, description = "Application id"), ("item" = String, Path, description = "Checklist item code")),
    responses((status = 200, description = "Recorded; the application is back in the officers' queue", body = ApplicationOut), (status = 409, body = Problem)),
    security(("bearer" = []))
)]
#[post("/api/v1/applications/{id}/materials/{item}/supply")]
pub async fn supply(state: State, actor: ApiActor, path: web::Path<(String, String)>) -> Reply {
    let (id, item) = path.into_inner();
    let out = state.ctx.step(actor.0, id, Move::Supply { item }).await?;
    Ok(HttpResponse::Ok().json(out))
}

#[utoipa::path(
    tag = "applications",
    params(("id" = String, Path, description = "Application id")),
    responses((status = 200, description = "Taken off the attention queue", body = ApplicationOut)),
    security(("bearer" = []))
)]
#[post("/api/v1/applications/{id}/acknowledge")]
pub async fn acknowledge(state: State, actor: ApiActor, id: web::Path<String>) -> Reply {
    step(&state, actor, id, Move::Acknowledge).await
}

#[utoipa::path(
    tag = "applications",
    params(("id" = String, Path, description = "Application id")), request_body = ReviewRequest,
    responses((status = 200, description = "Review result recorded", body = ApplicationOut), (status = 409, body = Problem)),
    security(("bearer" = []))
)]
#[post("/api/v1/applications/{id}/review")]
pub async fn review(state: State, actor: ApiActor, id: web::Path<String>, body: JsonBody<ReviewRequest>) -> Reply {
    let ReviewRequest { result, reason } = body.0;
    step(&state, actor, id, Move::Review { result, reason }).await
}

#[utoipa::path(
    tag = "applications",
    params(("id" = String, Path, description = "Application id")),
    responses((status = 201, description = "A new lookup code for the applicant's receipt, in clear this once (stored only hashed); any earlier code stops working and a lock is lifted", body = crate::service::progress::Receipt)),
    security(("bearer" = []))
)]
#[post("/api/v1/applications/{id}/receipt")]
pub async fn receipt(state: State, actor: ApiActor, id: web::Path<String>) -> Reply {
    let receipt = state.ctx.issue_receipt(actor.0, id.into_inner()).await?;
    Ok(HttpResponse::Created().json(receipt))
}

#[utoipa::path(
    tag = "applications",
    params(("id" = String, Path, description = "Application id")),
    responses((status = 204, description = "The progress lookup is open again (audited); the code stays"), (status = 409, description = "No receipt printed yet", body = Problem)),
    security(("bearer" = []))
)]
#[post("/api/v1/applications/{id}/lookup/unlock")]
pub async fn unlock_lookup(state: State, actor: ApiActor, id: web::Path<String>) -> Reply {
    state.ctx.unlock_lookup(actor.0, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(
    tag = "applications",
    params(("id" = String, Path, description = "Application id")),
    responses((status = 200, description = "一次性告知书: every missing item and its due date, as PDF", content_type = "application/pdf"), (status = 409, description = "Nothing is missing", body = Problem)),
    security(("bearer" = []))
)]
#[get("/api/v1/applications/{id}/notice")]
pub async fn notice(state: State, actor: ApiActor, id: web::Path<String>) -> Reply {
    Ok(super::pdf(state.ctx.notice_pdf(actor.0, id.into_inner()).await?))
}

#[utoipa::path(
    tag = "applications",
    params(("id" = String, Path, description = "Application id")),
    request_body(content = Vec<u8>, description = "The photo taken at the hall (JPEG or PNG, at least 240×320, at most 12 MB); stored cropped to 33×48 and re-encoded without metadata", content_type = "image/jpeg"),
    responses(
        (status = 204, description = "Stored (a deferred portrait is supplied by it)"), (status = 409, body = Problem),
        (status = 422, description = "Not a readable photo of the required size (field `photo`)", body = Problem),
    ),
    security(("bearer" = []))
)]
#[put("/api/v1/applications/{id}/portrait")]
pub async fn put_portrait(
    state: State,
    actor: ApiActor,
    id: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
) -> Reply {
    let body = photo_body(&req, payload).await?;
    state.ctx.save_portrait(actor.0, id.into_inner(), body).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// An uploaded photo's bytes: a JPEG or PNG by its declared type, bounded while it arrives.
async fn photo_body(req: &HttpRequest, payload: web::Payload) -> Result<Vec<u8>, ApiError> {
    let ctype = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = ctype.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if essence != "image/jpeg" && essence != "image/png" {
        return Err(ApiError::UnsupportedMediaType("image/jpeg or image/png"));
    }
    super::read_body(payload, crate::service::portraits::MAX_BYTES).await
}

#[utoipa::path(
    tag = "applications",
    params(("id" = String, Path, description = "Application id")),
    request_body(content = Vec<u8>, description = "The photo taken at the hall (JPEG or PNG, at least 240×320, at most 12 MB), kept as a working picture (upright, at most 2000 pixels a side) until its crop is saved", content_type = "image/jpeg"),
    responses(
        (status = 200, description = "The working picture's size, the centred 33×48 box and the quality lines (background, exposure, sharpness, size) of the photo it makes", body = DraftView),
        (status = 409, body = Problem),
        (status = 422, description = "Not a readable photo of the required size (field `photo`)", body = Problem),
    ),
    security(("bearer" = []))
)]
#[put("/api/v1/applications/{id}/portrait/draft")]
pub async fn put_portrait_draft(
    state: State,
    actor: ApiActor,
    id: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
) -> Reply {
    let body = photo_body(&req, payload).await?;
    Ok(HttpResponse::Ok().json(state.ctx.draft_portrait(actor.0, id.into_inner(), body).await?))
}

#[utoipa::path(
    tag = "applications",
    params(("id" = String, Path, description = "Application id"), CropAsk),
    responses(
        (status = 200, description = "The box asked for (moved by the nudge, if any) with the quality lines of the photo it makes", body = DraftView),
        (status = 404, description = "No working picture (none uploaded, saved already, or older than two hours)", body = Problem),
        (status = 422, description = "A box not on the picture, or an unknown nudge", body = Problem),
    ),
    security(("bearer" = []))
)]
#[get("/api/v1/applications/{id}/portrait/draft")]
pub async fn get_portrait_draft(state: State, actor: ApiActor, id: web::Path<String>, q: web::Query<CropAsk>) -> Reply {
    Ok(HttpResponse::Ok().json(
        state
            .ctx
            .portrait_draft(actor.0, id.into_inner(), q.into_inner())
            .await?,
    ))
}

#[utoipa::path(
    tag = "applications",
    params(("id" = String, Path, description = "Application id")),
    responses((status = 200, description = "The working picture (upright) the box is drawn on", content_type = "image/jpeg"), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
#[get("/api/v1/applications/{id}/portrait/draft/image")]
pub async fn portrait_draft_image(state: State, actor: ApiActor, id: web::Path<String>) -> Reply {
    Ok(super::jpeg(
        state.ctx.portrait_draft_image(actor.0, id.into_inner()).await?,
    ))
}

#[utoipa::path(
    tag = "applications",
    params(("id" = String, Path, description = "Application id")),
    request_body = Crop,
    responses(
        (status = 204, description = "The box's photo stored as the application's portrait (a deferred portrait is supplied by it); the working picture dropped"),
        (status = 404, description = "No working picture", body = Problem),
        (status = 409, description = "The working picture was replaced meanwhile", body = Problem),
        (status = 422, description = "A box not on the picture", body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/api/v1/applications/{id}/portrait/draft/save")]
pub async fn save_portrait_draft(state: State, actor: ApiActor, id: web::Path<String>, body: JsonBody<Crop>) -> Reply {
    let c = body.0;
    let ask = CropAsk {
        x: Some(c.x),
        y: Some(c.y),
        height: Some(c.height),
        nudge: None,
    };
    state.ctx.save_portrait_draft(actor.0, id.into_inner(), ask).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(
    tag = "applications",
    params(("id" = String, Path, description = "Application id")),
    responses((status = 200, description = "The stored portrait", content_type = "image/jpeg")),
    security(("bearer" = []))
)]
#[get("/api/v1/applications/{id}/portrait")]
pub async fn get_portrait(state: State, actor: ApiActor, id: web::Path<String>) -> Reply {
    Ok(super::jpeg(
        state.ctx.application_portrait(actor.0, id.into_inner()).await?,
    ))
}

#[utoipa::path(
    tag = "applications",
    params(("id" = String, Path, description = "Application id")),
    responses(
        (status = 200, description = "The notice of missing items as PDF, printed for the applicant: recorded as a free service, with the office's seal for notices (if entered) and an audit row", content_type = "application/pdf"),
        (status = 409, description = "Nothing is missing", body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/api/v1/applications/{id}/notice/print")]
pub async fn print_notice(state: State, actor: ApiActor, id: web::Path<String>) -> Reply {
    Ok(super::pdf(state.ctx.print_notice(actor.0, id.into_inner()).await?))
}
