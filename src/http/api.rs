//! The JSON API under `/api/v1`: other systems and devices integrate against it, so its shapes
//! stay stable.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::AppState;
use super::error::{ApiError, Problem};
use super::extract::{ApiActor, JsonBody};
use crate::domain::auth::{Action, authorize};
use crate::service::applications::{self, ApplicationOut, NewApplication};
use crate::service::permits::{self, Idempotency, PermitOut};

#[utoipa::path(
    post, path = "/api/v1/applications", tag = "applications",
    request_body = NewApplication,
    responses(
        (status = 201, description = "Application taken", body = ApplicationOut),
        (status = 400, description = "Malformed JSON", body = Problem),
        (status = 401, description = "No valid token", body = Problem),
        (status = 403, description = "Role or grant missing", body = Problem),
        (status = 413, description = "Body too large", body = Problem),
        (status = 415, description = "Not application/json", body = Problem),
        (status = 409, description = "An open application exists for the same identity document: the problem's detail names it (current_state is its state). Send `confirm_duplicate: true` to take another all the same", body = Problem),
        (status = 422, description = "Every field that broke a rule, including fields the request does not have and arrays where an object belongs", body = Problem),
    ),
    security(("bearer" = []))
)]
pub async fn create_application(
    state: web::Data<AppState>,
    actor: ApiActor,
    body: JsonBody<NewApplication>,
) -> Result<HttpResponse, ApiError> {
    let ctx = state.ctx.clone();
    let now = ctx.clock.now();
    let input = body.0;
    let out = ctx
        .db
        .clone()
        .run(move |c| applications::create_application(c, now, &actor.0, &ctx.policy, &input))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/applications/{}", out.id)))
        .json(out))
}

#[utoipa::path(
    get, path = "/api/v1/applications/{id}", tag = "applications",
    params(("id" = String, Path, description = "Application id")),
    responses((status = 200, body = ApplicationOut), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
pub async fn get_application(
    state: web::Data<AppState>,
    actor: ApiActor,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let ctx = state.ctx.clone();
    let now = ctx.clock.now();
    let out = ctx
        .db
        .clone()
        .run(move |c| applications::read(c, &actor.0, &id, now, &ctx.policy))
        .await?;
    Ok(HttpResponse::Ok().json(out))
}

#[utoipa::path(
    post, path = "/api/v1/applications/{id}/issue", tag = "permits",
    params(
        ("id" = String, Path, description = "Application id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key return the same permit"),
    ),
    responses(
        (status = 201, description = "Permit issued (or the earlier permit, on a replay)", body = PermitOut),
        (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "Already issued", body = Problem),
        (status = 422, description = "Key reused with a different request", body = Problem),
    ),
    security(("bearer" = []))
)]
pub async fn issue(
    state: web::Data<AppState>,
    req: HttpRequest,
    actor: ApiActor,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let idem = match req.headers().get("Idempotency-Key") {
        Some(v) => Some(Idempotency::new(v.to_str().unwrap_or(""), &id, &body)?),
        None => None,
    };
    issue_permit(&state, actor.0, id, idem).await
}

pub(super) async fn issue_permit(
    state: &AppState,
    actor: crate::domain::auth::Actor,
    id: String,
    idem: Option<Idempotency>,
) -> Result<HttpResponse, ApiError> {
    let ctx = state.ctx.clone();
    let now = ctx.clock.now();
    let (record, replayed) = ctx
        .db
        .clone()
        .run(move |c| permits::issue(c, now, &actor, &ctx.policy, &ctx.keys, &id, idem.as_ref()))
        .await?;
    if !replayed {
        state.metrics.permits_issued.inc();
    }
    let out = record.out(now)?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/permits/{}", out.number)))
        .insert_header(("Idempotent-Replayed", if replayed { "true" } else { "false" }))
        .json(out))
}

#[utoipa::path(
    get, path = "/api/v1/permits/{number}", tag = "permits",
    params(("number" = String, Path, description = "Permit number")),
    responses((status = 200, body = PermitOut), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
pub async fn get_permit(
    state: web::Data<AppState>,
    actor: ApiActor,
    number: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let now = state.ctx.clock.now();
    let number = number.into_inner();
    let record = state
        .ctx
        .db
        .run(move |c| permits::read(c, &actor.0, &number, crate::domain::auth::on::view_permit))
        .await?;
    Ok(HttpResponse::Ok().json(record.out(now)?))
}

#[utoipa::path(
    get, path = "/api/v1/permits/{number}/pdf", tag = "permits",
    params(("number" = String, Path, description = "Permit number")),
    responses((status = 200, description = "The permit as PDF", content_type = "application/pdf"), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
pub async fn permit_pdf(
    state: web::Data<AppState>,
    actor: ApiActor,
    number: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let now = state.ctx.clock.now();
    let number = number.into_inner();
    let record = state
        .ctx
        .db
        .run(move |c| permits::read(c, &actor.0, &number, crate::domain::auth::on::print))
        .await?;
    let photo = match record.application.portrait_at {
        Some(_) => {
            let id = record.application.id.clone();
            state
                .ctx
                .db
                .run(move |c| crate::service::portraits::stored(c, &id))
                .await?
        }
        None => None,
    };
    let model = super::print_model(&state.ctx.policy, &record, photo, now)?;
    // Rendering is CPU work of a few milliseconds: off the async worker like database calls.
    let pdf = tokio::task::spawn_blocking(move || crate::print::permit_pdf(&model))
        .await
        .map_err(crate::error::Error::internal)?
        .map_err(crate::error::Error::internal)?;
    Ok(HttpResponse::Ok()
        .content_type("application/pdf")
        .insert_header((
            "Content-Disposition",
            format!("inline; filename=\"{}.pdf\"", record.permit.number),
        ))
        .insert_header(("Cache-Control", "no-store"))
        .body(pdf))
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
pub struct RevokeRequest {
    /// Why the permit is revoked (required).
    pub reason: Option<String>,
}

#[utoipa::path(
    post, path = "/api/v1/permits/{number}/revoke", tag = "permits",
    params(("number" = String, Path, description = "Permit number")),
    request_body = RevokeRequest,
    responses((status = 400, description = "Malformed JSON", body = Problem), (status = 413, description = "Body over the limit", body = Problem), (status = 415, description = "Not application/json", body = Problem), (status = 200, body = PermitOut), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = []))
)]
pub async fn revoke(
    state: web::Data<AppState>,
    actor: ApiActor,
    number: web::Path<String>,
    body: JsonBody<RevokeRequest>,
) -> Result<HttpResponse, ApiError> {
    let now = state.ctx.clock.now();
    let number = number.into_inner();
    let reason = body.0.reason;
    let record = state
        .ctx
        .db
        .run(move |c| permits::revoke(c, now, &actor.0, &number, reason.as_deref()))
        .await?;
    Ok(HttpResponse::Ok().json(record.out(now)?))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PublicKey {
    /// Key id as printed in signed codes (hex of the first 4 bytes of SHA-256 of the key).
    pub kid: String,
    pub alg: String,
    /// Raw 32-byte Ed25519 public key, base64url without padding.
    pub public_key: String,
    /// Whether new permits are signed with it.
    pub active: bool,
    /// The permit kinds it may sign.
    pub kinds: Vec<crate::domain::permit::PermitKind>,
    #[schema(value_type = String, format = DateTime)]
    pub not_before: chrono::DateTime<chrono::Utc>,
    /// No permit it signs is valid past this time.
    #[schema(value_type = String, format = DateTime)]
    pub not_after: chrono::DateTime<chrono::Utc>,
}

#[utoipa::path(
    get, path = "/api/v1/keys", tag = "keys",
    responses((status = 200, description = "Public keys that verify permit codes", body = Vec<PublicKey>))
)]
pub async fn keys(state: web::Data<AppState>) -> HttpResponse {
    use base64::Engine;
    let active = state.ctx.keys.active_id();
    let list: Vec<PublicKey> = state
        .ctx
        .keys
        .ring()
        .iter()
        .map(|k| {
            let kid = crate::domain::seal::key_id_hex(k.id);
            PublicKey {
                active: kid == active,
                kid,
                alg: "Ed25519".into(),
                public_key: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(k.public.as_bytes()),
                kinds: k.kinds.clone(),
                not_before: k.not_before,
                not_after: k.not_after,
            }
        })
        .collect();
    HttpResponse::Ok().json(list)
}

#[derive(Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct AcceptRequest {
    /// Codes of the checklist items presented at the window; the rest are deferred (容缺) where
    /// policy allows.
    pub materials: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct ReasonRequest {
    pub reason: Option<String>,
}

#[derive(Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct ReviewRequest {
    /// approved or rejected.
    pub result: Option<String>,
    /// Required when rejected.
    pub reason: Option<String>,
}

type StepFn = Box<
    dyn FnOnce(
            &mut crate::db::DbConnection,
            &crate::service::Ctx,
            &crate::domain::auth::Actor,
            chrono::DateTime<chrono::Utc>,
        ) -> crate::error::Result<ApplicationOut>
        + Send,
>;

/// Runs one workflow step for the calling officer and answers with the application.
async fn run_step(state: &AppState, actor: crate::domain::auth::Actor, f: StepFn) -> Result<HttpResponse, ApiError> {
    let ctx = state.ctx.clone();
    let now = ctx.clock.now();
    let out = ctx.db.clone().run(move |c| f(c, &ctx, &actor, now)).await?;
    Ok(HttpResponse::Ok().json(out))
}

#[utoipa::path(
    post, path = "/api/v1/applications/{id}/accept", tag = "applications",
    params(("id" = String, Path, description = "Application id")), request_body = AcceptRequest,
    responses((status = 400, description = "Malformed JSON", body = Problem), (status = 413, description = "Body over the limit", body = Problem), (status = 415, description = "Not application/json", body = Problem), (status = 200, description = "Accepted (受理); deferred items have due dates", body = ApplicationOut), (status = 409, body = Problem), (status = 422, description = "A required item is missing", body = Problem)),
    security(("bearer" = []))
)]
pub async fn accept(
    state: web::Data<AppState>,
    actor: ApiActor,
    id: web::Path<String>,
    body: JsonBody<AcceptRequest>,
) -> Result<HttpResponse, ApiError> {
    let (id, provided) = (id.into_inner(), body.0.materials.unwrap_or_default());
    run_step(
        &state,
        actor.0,
        Box::new(move |c, ctx, a, now| applications::accept(c, now, a, &ctx.policy, &ctx.hours, &id, &provided)),
    )
    .await
}

#[utoipa::path(
    post, path = "/api/v1/applications/{id}/approve", tag = "applications",
    params(("id" = String, Path, description = "Application id")),
    responses((status = 200, body = ApplicationOut), (status = 403, description = "Grant missing, or the approver accepted it (four eyes)", body = Problem), (status = 409, body = Problem)),
    security(("bearer" = []))
)]
pub async fn approve(
    state: web::Data<AppState>,
    actor: ApiActor,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    run_step(
        &state,
        actor.0,
        Box::new(move |c, ctx, a, now| applications::approve(c, now, a, &ctx.policy, &id)),
    )
    .await
}

#[utoipa::path(
    post, path = "/api/v1/applications/{id}/reject", tag = "applications",
    params(("id" = String, Path, description = "Application id")), request_body = ReasonRequest,
    responses((status = 400, description = "Malformed JSON", body = Problem), (status = 413, description = "Body over the limit", body = Problem), (status = 415, description = "Not application/json", body = Problem), (status = 200, body = ApplicationOut), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = []))
)]
pub async fn reject(
    state: web::Data<AppState>,
    actor: ApiActor,
    id: web::Path<String>,
    body: JsonBody<ReasonRequest>,
) -> Result<HttpResponse, ApiError> {
    let (id, reason) = (id.into_inner(), body.0.reason);
    run_step(
        &state,
        actor.0,
        Box::new(move |c, ctx, a, now| applications::reject(c, now, a, &ctx.policy, &id, reason.as_deref())),
    )
    .await
}

#[utoipa::path(
    post, path = "/api/v1/applications/{id}/withdraw", tag = "applications",
    params(("id" = String, Path, description = "Application id")),
    responses((status = 200, body = ApplicationOut), (status = 409, body = Problem)),
    security(("bearer" = []))
)]
pub async fn withdraw(
    state: web::Data<AppState>,
    actor: ApiActor,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    run_step(
        &state,
        actor.0,
        Box::new(move |c, ctx, a, now| applications::withdraw(c, now, a, &ctx.policy, &id)),
    )
    .await
}

#[utoipa::path(
    post, path = "/api/v1/applications/{id}/receipt", tag = "applications",
    params(("id" = String, Path, description = "Application id")),
    responses((status = 201, description = "A new lookup code for the applicant's receipt, in clear this once (stored only hashed); any earlier code stops working and a lock is lifted", body = crate::service::progress::Receipt), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
pub async fn receipt(
    state: web::Data<AppState>,
    actor: ApiActor,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (id, now, actor) = (id.into_inner(), state.ctx.clock.now(), actor.0);
    let receipt = state
        .ctx
        .db
        .run(move |c| crate::service::progress::issue_code(c, now, &actor, &id))
        .await?;
    Ok(HttpResponse::Created().json(receipt))
}

#[utoipa::path(
    post, path = "/api/v1/applications/{id}/lookup/unlock", tag = "applications",
    params(("id" = String, Path, description = "Application id")),
    responses((status = 204, description = "The progress lookup is open again (audited); the code stays"), (status = 403, body = Problem), (status = 409, description = "No receipt printed yet", body = Problem)),
    security(("bearer" = []))
)]
pub async fn unlock_lookup(
    state: web::Data<AppState>,
    actor: ApiActor,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (id, now, actor) = (id.into_inner(), state.ctx.clock.now(), actor.0);
    state
        .ctx
        .db
        .run(move |c| crate::service::progress::unlock(c, now, &actor, &id))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(
    post, path = "/api/v1/applications/{id}/collect", tag = "applications",
    params(("id" = String, Path, description = "Application id")),
    responses((status = 200, description = "Handed over", body = ApplicationOut), (status = 409, body = Problem)),
    security(("bearer" = []))
)]
pub async fn collect(
    state: web::Data<AppState>,
    actor: ApiActor,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    run_step(
        &state,
        actor.0,
        Box::new(move |c, ctx, a, now| applications::collect(c, now, a, &ctx.policy, &id)),
    )
    .await
}

#[utoipa::path(
    post, path = "/api/v1/applications/{id}/materials/{item}/supply", tag = "applications",
    params(("id" = String, Path, description = "Application id"), ("item" = String, Path, description = "Checklist item code")),
    responses((status = 200, description = "Recorded; the application is back in the officers' queue", body = ApplicationOut), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = []))
)]
pub async fn supply(
    state: web::Data<AppState>,
    actor: ApiActor,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, item) = path.into_inner();
    run_step(
        &state,
        actor.0,
        Box::new(move |c, ctx, a, now| applications::supply(c, now, a, &ctx.policy, &id, &item)),
    )
    .await
}

/// Reads a request body up to `limit` bytes; past it the request is refused whole.
async fn read_body(mut payload: web::Payload, limit: usize) -> Result<Vec<u8>, ApiError> {
    use futures_util::StreamExt;
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| ApiError::UnreadableBody)?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[utoipa::path(
    put, path = "/api/v1/applications/{id}/portrait", tag = "applications",
    params(("id" = String, Path, description = "Application id")),
    request_body(content = Vec<u8>, description = "The photo taken at the hall (JPEG or PNG, at least 240×320, at most 12 MB); stored cropped to 33×48 and re-encoded without metadata", content_type = "image/jpeg"),
    responses(
        (status = 204, description = "Stored (a deferred portrait is supplied by it)"),
        (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 413, body = Problem), (status = 415, body = Problem),
        (status = 422, description = "Not a readable photo of the required size (field `photo`)", body = Problem),
    ),
    security(("bearer" = []))
)]
pub async fn put_portrait(
    state: web::Data<AppState>,
    actor: ApiActor,
    id: web::Path<String>,
    req: actix_web::HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let ctype = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = ctype.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if essence != "image/jpeg" && essence != "image/png" {
        return Err(ApiError::UnsupportedMediaType("image/jpeg or image/png"));
    }
    let body = read_body(payload, crate::service::portraits::MAX_BYTES).await?;
    super::save_portrait(&state, actor.0, id.into_inner(), body).await?;
    Ok(HttpResponse::NoContent().finish())
}

fn jpeg(bytes: Vec<u8>) -> HttpResponse {
    // Personal data: never kept by shared caches or the browser's disk cache.
    HttpResponse::Ok()
        .content_type("image/jpeg")
        .insert_header(("Cache-Control", "private, no-store"))
        .body(bytes)
}

#[utoipa::path(
    get, path = "/api/v1/applications/{id}/portrait", tag = "applications",
    params(("id" = String, Path, description = "Application id")),
    responses((status = 200, description = "The stored portrait", content_type = "image/jpeg"), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
pub async fn get_portrait(
    state: web::Data<AppState>,
    actor: ApiActor,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let bytes = state
        .ctx
        .db
        .run(move |c| crate::service::portraits::for_application(c, &actor.0, &id))
        .await?;
    Ok(jpeg(bytes))
}

#[utoipa::path(
    get, path = "/api/v1/permits/{number}/photo", tag = "permits",
    params(("number" = String, Path, description = "Permit number")),
    responses((status = 200, description = "The holder's portrait: for window staff of the permit's office, and for a checkpoint device that scanned the permit in the last 30 minutes (its verdict links here); anyone else 403, or 404 as if there were no photo", content_type = "image/jpeg"), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
pub async fn permit_photo(
    state: web::Data<AppState>,
    actor: ApiActor,
    number: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let number = number.into_inner();
    let now = state.ctx.clock.now();
    let bytes = state
        .ctx
        .db
        .run(move |c| crate::service::portraits::for_permit(c, now, &actor.0, &number))
        .await?;
    Ok(jpeg(bytes))
}

#[utoipa::path(
    post, path = "/api/v1/applications/{id}/acknowledge", tag = "applications",
    params(("id" = String, Path, description = "Application id")),
    responses((status = 200, description = "Taken off the attention queue", body = ApplicationOut)),
    security(("bearer" = []))
)]
pub async fn acknowledge(
    state: web::Data<AppState>,
    actor: ApiActor,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    run_step(
        &state,
        actor.0,
        Box::new(move |c, ctx, a, now| applications::acknowledge(c, now, a, &ctx.policy, &id)),
    )
    .await
}

#[utoipa::path(
    post, path = "/api/v1/applications/{id}/review", tag = "applications",
    params(("id" = String, Path, description = "Application id")), request_body = ReviewRequest,
    responses((status = 400, description = "Malformed JSON", body = Problem), (status = 413, description = "Body over the limit", body = Problem), (status = 415, description = "Not application/json", body = Problem), (status = 200, description = "Review result recorded", body = ApplicationOut), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = []))
)]
pub async fn review(
    state: web::Data<AppState>,
    actor: ApiActor,
    id: web::Path<String>,
    body: JsonBody<ReviewRequest>,
) -> Result<HttpResponse, ApiError> {
    let (id, r) = (id.into_inner(), body.0);
    run_step(
        &state,
        actor.0,
        Box::new(move |c, ctx, a, now| {
            applications::review(c, now, a, &ctx.policy, &id, r.result.as_deref(), r.reason.as_deref())
        }),
    )
    .await
}

#[derive(Debug, Deserialize)]
pub struct YearQuery {
    year: Option<i32>,
}

#[utoipa::path(
    get, path = "/api/v1/calendar", tag = "calendar",
    params(("year" = Option<i32>, Query, description = "Year (default: this year)")),
    responses((status = 200, description = "The year's exceptions to Monday–Friday; `provisional` while its State Council schedule is not loaded (statutory holidays computed, no make-up working days)", body = crate::domain::calendar::YearView)),
    security(("bearer" = []))
)]
pub async fn calendar_year(
    state: web::Data<AppState>,
    actor: ApiActor,
    q: web::Query<YearQuery>,
) -> Result<HttpResponse, ApiError> {
    authorize(&actor.0, Action::ReadCalendar)?;
    use chrono::Datelike;
    let year = q
        .year
        .unwrap_or_else(|| crate::domain::local(state.ctx.clock.now()).year());
    let view = state
        .ctx
        .db
        .run(move |c| crate::service::calendar::year(c, year))
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Debug, Deserialize)]
pub struct ConfirmQuery {
    confirm: Option<bool>,
}

#[derive(Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct CalendarDay {
    /// holiday or workday (a weekend day worked, 调休).
    pub kind: Option<String>,
    pub name: Option<String>,
    /// true to replace what the calendar already says about the date (a published, computed
    /// or edited day); without it such a change is refused naming the day it would replace.
    pub confirm: Option<bool>,
}

#[utoipa::path(
    put, path = "/api/v1/calendar/{date}", tag = "calendar",
    params(("date" = String, Path, description = "YYYY-MM-DD")), request_body = CalendarDay,
    responses((status = 400, description = "Malformed JSON", body = Problem), (status = 413, description = "Body over the limit", body = Problem), (status = 415, description = "Not application/json", body = Problem), (status = 200, body = crate::domain::calendar::Exception), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = []))
)]
pub async fn calendar_set(
    state: web::Data<AppState>,
    actor: ApiActor,
    date: web::Path<String>,
    body: JsonBody<CalendarDay>,
) -> Result<HttpResponse, ApiError> {
    let now = state.ctx.clock.now();
    let (date, day) = (date.into_inner(), body.0);
    let out = state
        .ctx
        .db
        .run(move |c| {
            crate::service::calendar::set_day(
                c,
                now,
                &actor.0,
                &date,
                day.kind.as_deref(),
                day.name.as_deref(),
                day.confirm.unwrap_or(false),
            )
        })
        .await?;
    Ok(HttpResponse::Ok().json(out))
}

#[utoipa::path(
    delete, path = "/api/v1/calendar/{date}", tag = "calendar",
    params(("date" = String, Path, description = "YYYY-MM-DD"), ("confirm" = Option<bool>, Query, description = "true to remove a day as published")),
    responses((status = 204, description = "Back to the Monday–Friday default"), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, description = "A published day, without confirm=true", body = Problem)),
    security(("bearer" = []))
)]
pub async fn calendar_remove(
    state: web::Data<AppState>,
    actor: ApiActor,
    date: web::Path<String>,
    q: web::Query<ConfirmQuery>,
) -> Result<HttpResponse, ApiError> {
    let now = state.ctx.clock.now();
    let date = date.into_inner();
    let confirm = q.confirm.unwrap_or(false);
    state
        .ctx
        .db
        .run(move |c| crate::service::calendar::remove_day(c, now, &actor.0, &date, confirm))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(
    get, path = "/api/v1/applications/{id}/notice", tag = "applications",
    params(("id" = String, Path, description = "Application id")),
    responses((status = 200, description = "一次性告知书: every missing item and its due date, as PDF", content_type = "application/pdf"), (status = 404, body = Problem), (status = 409, description = "Nothing is missing", body = Problem)),
    security(("bearer" = []))
)]
pub async fn notice(
    state: web::Data<AppState>,
    actor: ApiActor,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let ctx = state.ctx.clone();
    let now = ctx.clock.now();
    let id = id.into_inner();
    let policy = ctx.policy.clone();
    let app = ctx
        .db
        .clone()
        .run(move |c| applications::read(c, &actor.0, &id, now, &policy))
        .await?;
    let model = super::notice_model(&state.ctx.policy, &app)?;
    let number = app.number.clone().unwrap_or_default();
    let pdf = tokio::task::spawn_blocking(move || crate::print::notice::notice_pdf(&model))
        .await
        .map_err(crate::error::Error::internal)?
        .map_err(crate::error::Error::internal)?;
    Ok(HttpResponse::Ok()
        .content_type("application/pdf")
        .insert_header((
            "Content-Disposition",
            format!("inline; filename=\"notice-{number}.pdf\""),
        ))
        .insert_header(("Cache-Control", "no-store"))
        .body(pdf))
}

#[utoipa::path(
    get, path = "/api/v1/exports/passport", tag = "exports",
    responses((status = 200, description = "The batch to hand to the review system (the same one until acknowledged)", body = crate::service::exports::Batch), (status = 204, description = "Nothing to send"), (status = 403, body = Problem)),
    security(("bearer" = []))
)]
pub async fn export_pull(state: web::Data<AppState>, actor: ApiActor) -> Result<HttpResponse, ApiError> {
    let ctx = state.ctx.clone();
    let now = ctx.clock.now();
    let batch = ctx
        .db
        .clone()
        .run(move |c| crate::service::exports::pull(c, now, &actor.0, &ctx.keys))
        .await?;
    Ok(match batch {
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
    post, path = "/api/v1/exports/passport/{batch}/ack", tag = "exports",
    params(("batch" = String, Path, description = "Batch id")),
    responses((status = 200, description = "Acknowledged: the applications are uploaded and their review is due", body = AckOut), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
pub async fn export_ack(
    state: web::Data<AppState>,
    actor: ApiActor,
    batch: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let ctx = state.ctx.clone();
    let now = ctx.clock.now();
    let batch_id = batch.into_inner();
    let id = batch_id.clone();
    let uploaded = ctx
        .db
        .clone()
        .run(move |c| crate::service::exports::acknowledge(c, now, &actor.0, &ctx.policy, &ctx.hours, &id))
        .await?;
    Ok(HttpResponse::Ok().json(AckOut { batch_id, uploaded }))
}

#[utoipa::path(
    get, path = "/api/v1/sla", tag = "supervision",
    responses((status = 200, description = "What awaits approval, open applications (overdue first), permits pending their outstanding items with the items' due dates, and the weekly share decided on time", body = crate::service::sla::SlaView), (status = 403, body = Problem)),
    security(("bearer" = []))
)]
pub async fn sla(state: web::Data<AppState>, actor: ApiActor) -> Result<HttpResponse, ApiError> {
    let ctx = state.ctx.clone();
    let now = ctx.clock.now();
    let view = ctx
        .db
        .clone()
        .run(move |c| crate::service::sla::view(c, now, &actor.0, &ctx.policy, 8))
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Body of `POST /api/v1/checkpoint/scans`; a stable contract with checkpoint devices.
#[derive(Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct ScanRequest {
    /// The scanned text: a permit's Code128 number or its signed 2D code.
    pub code: Option<String>,
    /// Lane id, e.g. `YYG-C3`.
    pub lane: Option<String>,
    /// exit or entry.
    pub direction: Option<String>,
}

#[utoipa::path(
    post, path = "/api/v1/checkpoint/scans", tag = "checkpoint",
    request_body = ScanRequest,
    responses((status = 400, description = "Malformed JSON", body = Problem), (status = 413, description = "Body over the limit", body = Problem), (status = 415, description = "Not application/json", body = Problem), 
        (status = 200, description = "The verdict (admit or reject with a reason code); the attempt is recorded either way. Overstay: a pass that expired (per China date, Asia/Shanghai) while its holder was abroad — last crossing an exit — does not refuse the return: the entry is admitted with reason `ok` and `warning: \"overstay\"`, recorded with the crossing's audit entry for follow-up. An exit on an expired pass, or an entry with no exit on record, is rejected as `expired`. Offline verifiers admit every entry on an expired pass with the same warning (they cannot know the exit), and answer `unverifiable_offline` to a bare permit number.", body = crate::service::checkpoint::ScanOut),
        (status = 403, description = "Not a checkpoint account", body = Problem),
        (status = 422, description = "Lane or direction missing or malformed", body = Problem),
    ),
    security(("bearer" = []))
)]
pub async fn scan(
    state: web::Data<AppState>,
    actor: ApiActor,
    body: JsonBody<ScanRequest>,
) -> Result<HttpResponse, ApiError> {
    let b = body.0;
    let out = crate::service::checkpoint::scan(
        &state.ctx,
        actor.0,
        b.code.as_deref(),
        b.lane.as_deref(),
        b.direction.as_deref(),
    )
    .await?;
    state.metrics.count_scan(&out);
    Ok(HttpResponse::Ok().json(out))
}

#[utoipa::path(
    post, path = "/api/v1/checkpoint/scans/{id}/cleared", tag = "checkpoint",
    params(("id" = String, Path, description = "crossing_id of the scan")),
    responses((status = 204, description = "The check's time ends now"), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
pub async fn cleared(
    state: web::Data<AppState>,
    actor: ApiActor,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let now = state.ctx.clock.now();
    let id = id.into_inner();
    state
        .ctx
        .db
        .run(move |c| crate::service::checkpoint::clear(c, now, &actor.0, &id))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize)]
pub struct WindowQuery {
    window_minutes: Option<i64>,
}

#[utoipa::path(
    get, path = "/api/v1/checkpoint/lanes", tag = "checkpoint",
    params(("window_minutes" = Option<i64>, Query, description = "Look-back window (default 60)")),
    responses((status = 200, description = "Mean check time per lane", body = Vec<crate::service::checkpoint::LaneStat>)),
    security(("bearer" = []))
)]
pub async fn lanes(
    state: web::Data<AppState>,
    actor: ApiActor,
    q: web::Query<WindowQuery>,
) -> Result<HttpResponse, ApiError> {
    let now = state.ctx.clock.now();
    let window = q.window_minutes.unwrap_or(60);
    let stats = state
        .ctx
        .db
        .run(move |c| crate::service::checkpoint::lane_stats(c, now, &actor.0, window))
        .await?;
    Ok(HttpResponse::Ok().json(stats))
}

#[derive(Debug, Deserialize)]
pub struct TrustQuery {
    since: Option<String>,
}

#[utoipa::path(
    get, path = "/api/v1/checkpoint/trust", tag = "checkpoint",
    params(("since" = Option<i64>, Query, description = "The version the device holds: only permits changed after it are sent (`clear` undoes an earlier standing). Absent: the full bundle.")),
    responses(
        (status = 200, description = "Signed trust bundle for offline verification (verify the signature over `payload` with a key from /api/v1/keys installed on the device; the payload is a TrustBundle)", body = crate::domain::offline::SignedBundle),
        (status = 422, description = "`since` is not a version", body = Problem),
    ),
    security(("bearer" = []))
)]
pub async fn trust(
    state: web::Data<AppState>,
    actor: ApiActor,
    q: web::Query<TrustQuery>,
) -> Result<HttpResponse, ApiError> {
    let since = crate::service::trust::parse_since(q.since.as_deref())?;
    let ctx = state.ctx.clone();
    let now = ctx.clock.now();
    let bundle = ctx
        .db
        .clone()
        .run(move |c| crate::service::trust::bundle(c, now, &actor.0, &ctx.keys, since))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(bundle))
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
pub struct UploadRequest {
    pub crossings: Vec<crate::service::checkpoint::OfflineCrossing>,
}

#[utoipa::path(
    post, path = "/api/v1/checkpoint/crossings", tag = "checkpoint",
    request_body = UploadRequest,
    responses((status = 400, description = "Malformed JSON", body = Problem), (status = 413, description = "Body over the limit", body = Problem), (status = 415, description = "Not application/json", body = Problem), (status = 200, description = "Recorded; crossings already uploaded are counted, not recorded again", body = crate::service::checkpoint::UploadOut), (status = 422, body = Problem)),
    security(("bearer" = []))
)]
pub async fn upload(
    state: web::Data<AppState>,
    actor: ApiActor,
    body: JsonBody<UploadRequest>,
) -> Result<HttpResponse, ApiError> {
    let ctx = state.ctx.clone();
    let items = body.0.crossings;
    let out = ctx
        .db
        .clone()
        .run(move |c| crate::service::checkpoint::upload(c, &actor.0, &ctx.keys, &items))
        .await?;
    Ok(HttpResponse::Ok().json(out))
}
