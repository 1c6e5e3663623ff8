//! Operations endpoints: liveness, readiness, the OpenAPI document and `/metrics` (counted by
//! the Prometheus middleware set up in `app`, shown here only to whoever may read it).

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::middleware::Next;
use actix_web::{HttpRequest, HttpResponse, ResponseError, get, head, web};
use sha2::{Digest, Sha256};
use utoipa_actix_web::service_config::ServiceConfig;

use super::AppState;
use super::error::ApiError;

/// Who may read `/metrics`: anyone on the private metrics address, on the public listener only
/// Prometheus with the bearer token; without either configured, nobody (404).
#[derive(Clone)]
pub struct MetricsAccess {
    pub registry: prometheus::Registry,
    pub token_hash: Option<[u8; 32]>,
    pub private_addr: Option<std::net::SocketAddr>,
}

impl MetricsAccess {
    fn on_private(&self, req: &HttpRequest) -> bool {
        self.private_addr.is_some_and(|a| a == req.app_config().local_addr())
    }

    fn may_read(&self, req: &HttpRequest) -> Result<(), ApiError> {
        if self.on_private(req) {
            return Ok(());
        }
        // Not served on the public listener at all: nothing to authenticate against.
        let Some(expected) = &self.token_hash else {
            return Err(ApiError::NoRoute);
        };
        let sent = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(ApiError::Unauthenticated)?;
        // Hashes compared, so the comparison's time says nothing about the token.
        let digest = Sha256::digest(sent.trim().as_bytes());
        if digest
            .iter()
            .zip(expected.iter())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
        {
            Ok(())
        } else {
            Err(ApiError::Unauthenticated)
        }
    }
}

/// Methods any route here answers; anything else is refused before it is counted.
const KNOWN_METHODS: [Method; 7] = [
    Method::GET,
    Method::HEAD,
    Method::POST,
    Method::PUT,
    Method::DELETE,
    Method::PATCH,
    Method::OPTIONS,
];

/// The request id a proxy sent (nginx's `$request_id`), if it is a plain token: it then ties the
/// proxy's log line to ours. Anything else is replaced, so a client cannot write into the logs.
fn forwarded_id(req: &ServiceRequest) -> Option<String> {
    let v = req.headers().get("x-request-id")?.to_str().ok()?;
    (!v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
        .then(|| v.to_string())
}

/// The outermost middleware: gives each request an id, runs it inside a span carrying the id
/// (so every line logged while serving it names it), returns the id in `X-Request-Id`, and logs
/// one line when it is answered: status, method, path (never the query string: search terms and
/// lookup codes stay out of the logs) and time taken.
pub async fn request_log(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> actix_web::Result<ServiceResponse<impl MessageBody>> {
    use tracing::Instrument;
    let id = forwarded_id(&req).unwrap_or_else(|| uuid::Uuid::now_v7().simple().to_string());
    let method = req.method().to_string();
    let path = req.path().to_string();
    let started = std::time::Instant::now();
    let span = tracing::info_span!("request", request_id = %id);
    let out = next.call(req).instrument(span.clone()).await;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let _in = span.enter();
    match out {
        Ok(mut res) => {
            let status = res.status().as_u16();
            if let Ok(v) = header::HeaderValue::from_str(&id) {
                res.headers_mut()
                    .insert(header::HeaderName::from_static("x-request-id"), v);
            }
            tracing::info!(status, method = %method, path = %path, ms = format!("{ms:.1}"), "answered");
            Ok(res)
        }
        Err(e) => {
            tracing::warn!(error = %e, method = %method, path = %path, ms = format!("{ms:.1}"), "failed");
            Err(e)
        }
    }
}

/// Runs before the metrics middleware: the metrics address serves `/metrics` and nothing else,
/// and a made-up method (any token is a valid HTTP method) is answered 501 without becoming a
/// label value.
pub async fn screen(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> actix_web::Result<ServiceResponse<BoxBody>> {
    let access = req.app_data::<web::Data<AppState>>().map(|s| s.metrics_access.clone());
    let private = access.as_ref().is_some_and(|a| a.on_private(req.request()));
    if private && req.path() != "/metrics" {
        return Ok(req.into_response(ApiError::NoRoute.error_response()));
    }
    // A method the document does not give a known path (TRACE on any, DELETE on /api/v1/keys):
    // 405 with what the path answers. Decided here, before routing, because a scope's default
    // service cannot tell an unknown path from a known one asked the wrong way.
    if let Some(not_allowed) = req
        .app_data::<web::Data<super::openapi::Methods>>()
        .and_then(|m| m.not_allowed(req.method(), req.path()))
    {
        return Ok(req.into_response(not_allowed.error_response()));
    }
    if !KNOWN_METHODS.contains(req.method()) {
        let res = HttpResponse::NotImplemented()
            .content_type("application/problem+json")
            .json(super::error::Problem {
                kind: "/problems/method".into(),
                title: "不支持的请求方法 / method not supported".into(),
                status: 501,
                detail: format!("use one of {}", KNOWN_METHODS.map(|m| m.to_string()).join(", ")),
                errors: Vec::new(),
                current_state: None,
                next_free: Vec::new(),
            });
        return Ok(req.into_response(res));
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

#[utoipa::path(tag = "ops", responses((status = 200, description = "The process is up")))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    alive()
}

/// Liveness for probes that send HEAD (HAProxy's and many load balancers' checks): actix's GET
/// routes do not answer it. The server drops the body of a HEAD answer.
#[utoipa::path(tag = "ops", responses((status = 200, description = "The process is up")))]
#[head("/healthz")]
pub async fn healthz_head() -> HttpResponse {
    alive()
}

fn alive() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}

#[utoipa::path(tag = "ops", responses((status = 200, description = "The database answers"), (status = 503, description = "The database does not answer")))]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    ready_answer(&state).await
}

/// Readiness for probes that send HEAD, as `healthz_head`.
#[utoipa::path(tag = "ops", responses((status = 200, description = "The database answers"), (status = 503, description = "The database does not answer")))]
#[head("/readyz")]
pub async fn readyz_head(state: web::Data<AppState>) -> HttpResponse {
    ready_answer(&state).await
}

async fn ready_answer(state: &AppState) -> HttpResponse {
    match state.ctx.ready().await {
        Ok(()) => HttpResponse::Ok().content_type("text/plain").body("ready"),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            HttpResponse::ServiceUnavailable()
                .content_type("text/plain")
                .body("database unavailable")
        }
    }
}

#[utoipa::path(tag = "ops", security(("bearer" = [])), responses((status = 200, description = "Prometheus text format: on the metrics address (BORDERDESK_METRICS_ADDR) to anyone, on the public listener with Authorization: Bearer BORDERDESK_METRICS_TOKEN", content_type = "text/plain"), (status = 401, description = "A token is configured and this request did not send it", content_type = "application/problem+json"), (status = 404, description = "Not served on the public listener (no token configured)", content_type = "application/problem+json")))]
#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let access = &state.metrics_access;
    access.may_read(&req)?;
    let outbox = state.ctx.outbox_stats().await?;
    let m = &state.metrics;
    m.mail_queued.set(outbox.queued);
    m.mail_failing.set(outbox.failing);
    m.mail_oldest_queued_seconds.set(
        outbox
            .oldest_queued
            .map(|t| (state.ctx.clock.now() - crate::db::utc(t)).num_seconds().max(0))
            .unwrap_or(0),
    );
    let writer = &state.ctx.scans.stats;
    m.scan_queue
        .set(writer.queued.load(std::sync::atomic::Ordering::Relaxed));
    m.scan_index_permits
        .set(writer.indexed.load(std::sync::atomic::Ordering::Relaxed));
    let total = |n: &std::sync::atomic::AtomicU64| n.load(std::sync::atomic::Ordering::Relaxed) as f64;
    catch_up(&m.scan_batch_fallbacks, total(&writer.fallbacks));
    let auth = &state.ctx.auth.stats;
    catch_up(&m.auth_cache_hits, total(&auth.hits));
    catch_up(&m.auth_cache_misses, total(&auth.misses));
    catch_up(&m.auth_epoch_reads, total(&auth.epoch_reads));
    let now = state.ctx.clock.now();
    let oldest = state.ctx.oldest_unreviewed().await?;
    m.oldest_unreviewed_seconds
        .set(oldest.map(|t| (now - t).num_seconds().max(0)).unwrap_or(0));
    let waits = state.ctx.db.pool_waits();
    catch_up(&m.pool_checkouts_total, total(&waits.checkouts));
    catch_up(&m.pool_timeouts_total, total(&waits.timeouts));
    catch_up(&m.pool_wait_seconds_total, total(&waits.waited_micros) / 1e6);
    m.pool_in_use.set(i64::from(state.ctx.db.pool_state().1));
    let text = prometheus::TextEncoder::new()
        .encode_to_string(&access.registry.gather())
        .map_err(crate::error::Error::internal)?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(text))
}

/// Brings a counter up to a running total kept elsewhere (it never goes down).
fn catch_up(counter: &prometheus::Counter, total: f64) {
    let behind = total - counter.get();
    if behind > 0.0 {
        counter.inc_by(behind);
    }
}

#[utoipa::path(tag = "ops", responses((status = 200, description = "This document")))]
#[get("/api/openapi.json")]
pub async fn openapi() -> HttpResponse {
    HttpResponse::Ok().json(super::api_doc())
}

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(healthz)
        .service(healthz_head)
        .service(readyz)
        .service(readyz_head)
        .service(metrics)
        .service(openapi);
}
