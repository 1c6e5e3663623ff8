//! The JSON API under `/api/v1`, one file per resource: other systems and devices integrate
//! against it, so its shapes stay stable. Each handler extracts, calls one entry point on
//! `service::Ctx` and answers; the route and its OpenAPI operation come from the same
//! attributes on the handler.

pub mod applications;
pub mod bookings;
pub mod calendar;
pub mod checkpoint;
pub mod drivers;
pub mod exports;
pub mod free;
pub mod freight;
pub mod permits;
pub mod seals;
pub mod stock;
pub mod supervision;

use actix_web::{HttpResponse, web};
use utoipa_actix_web::service_config::ServiceConfig;

use super::error::ApiError;

/// What an API handler answers: the response, or an error as problem+json.
type Reply = Result<HttpResponse, ApiError>;

/// The busiest first: actix tries each route in turn and matches a path with a parameter by
/// regular expression, so a scan registered after the applications' and permits' routes ran
/// some twenty of them per request (a tenth of the HTTP threads' time in the scan profile).
/// No two modules here share a path prefix, so their order decides nothing else.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.configure(checkpoint::routes)
        .configure(drivers::routes)
        .configure(bookings::routes)
        .configure(applications::routes)
        .configure(permits::routes)
        .configure(stock::routes)
        .configure(free::routes)
        .configure(seals::routes)
        .configure(calendar::routes)
        .configure(exports::routes)
        .configure(supervision::routes)
        .configure(freight::routes);
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

/// A holder's photo. Personal data: never kept by shared caches or the browser's disk cache.
fn jpeg(bytes: Vec<u8>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("image/jpeg")
        .insert_header(("Cache-Control", "private, no-store"))
        .body(bytes)
}

/// A printed document, shown in the browser rather than saved, and not cached.
fn pdf(doc: crate::service::printing::Document) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/pdf")
        .insert_header(("Content-Disposition", format!("inline; filename=\"{}\"", doc.filename)))
        .insert_header(("Cache-Control", "no-store"))
        .body(doc.pdf)
}
