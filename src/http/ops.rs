//! Operations endpoints: liveness, readiness and the OpenAPI document. `/metrics` is served by
//! the Prometheus middleware set up in `app`.

use actix_web::{HttpResponse, web};
use diesel::connection::SimpleConnection;
use utoipa::OpenApi;

use super::AppState;

#[utoipa::path(get, path = "/healthz", tag = "ops", responses((status = 200, description = "The process is up")))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}

#[utoipa::path(get, path = "/readyz", tag = "ops", responses((status = 200, description = "The database answers"), (status = 503, description = "The database does not answer")))]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    match state.ctx.db.run(|c| Ok(c.batch_execute("SELECT 1")?)).await {
        Ok(()) => HttpResponse::Ok().content_type("text/plain").body("ready"),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            HttpResponse::ServiceUnavailable()
                .content_type("text/plain")
                .body("database unavailable")
        }
    }
}

#[utoipa::path(get, path = "/metrics", tag = "ops", responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
#[allow(dead_code)] // documents the route the Prometheus middleware answers
pub async fn metrics() {}

#[utoipa::path(get, path = "/api/openapi.json", tag = "ops", responses((status = 200, description = "This document")))]
pub async fn openapi() -> HttpResponse {
    HttpResponse::Ok().json(super::ApiDoc::openapi())
}
