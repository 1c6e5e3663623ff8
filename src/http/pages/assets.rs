//! Files shipped inside the binary for the pages: their scripts and the vendored QR decoder
//! (no build step, nothing fetched at run time; the CSP allows only 'self').

use actix_web::http::header::{self, ContentType};
use actix_web::{HttpResponse, get};
use utoipa_actix_web::service_config::ServiceConfig;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(checkpoint_js)
        .service(jsqr_js)
        .service(jsqr_license)
        .service(desk_js)
        .service(board_js)
        .service(portrait_js);
}

const JS: &str = "application/javascript; charset=utf-8";

/// A file shipped inside the binary (no build step, nothing fetched at run time).
fn asset(
    content_type: impl actix_web::http::header::TryIntoHeaderValue,
    cache: &'static str,
    body: &'static str,
) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CACHE_CONTROL, cache))
        .body(body)
}

/// The scan page's script: offline verification from the last trust bundle, and the upload of
/// crossings decided offline. Served by the app (no build step; the CSP allows only 'self').
#[utoipa::path(tag = "assets", responses((status = 200, description = "Scan page script", content_type = "application/javascript")))]
#[get("/static/checkpoint.js")]
pub async fn checkpoint_js() -> HttpResponse {
    asset(JS, "no-cache", include_str!("../../../templates/static/checkpoint.js"))
}

/// The QR decoder for camera scanning where the browser has no `BarcodeDetector` (jsQR,
/// Apache-2.0, vendored unchanged with its notice). The version is in the path, so it is cached
/// for a year; the scan page loads it only when the camera is used.
#[utoipa::path(tag = "assets", responses((status = 200, description = "jsQR 1.4.0, the scan page's QR decoder", content_type = "application/javascript")))]
#[get("/static/jsqr-1.4.0.js")]
pub async fn jsqr_js() -> HttpResponse {
    asset(
        JS,
        "public, max-age=31536000, immutable",
        include_str!("../../../templates/static/jsqr-1.4.0.js"),
    )
}

/// jsQR's licence, as its notice asks.
#[utoipa::path(tag = "assets", responses((status = 200, description = "The Apache License 2.0 of jsQR", content_type = "text/plain")))]
#[get("/static/jsqr-1.4.0.LICENSE.txt")]
pub async fn jsqr_license() -> HttpResponse {
    asset(
        ContentType::plaintext(),
        "public, max-age=31536000, immutable",
        include_str!("../../../templates/static/jsqr-1.4.0.LICENSE.txt"),
    )
}

/// The desk form's script: shows the fields of the chosen kind, and fills birth date and sex
/// from a resident ID number as it is typed. Served by the app like the scan page's script.
#[utoipa::path(tag = "assets", responses((status = 200, description = "Desk form script", content_type = "application/javascript")))]
#[get("/static/desk.js")]
pub async fn desk_js() -> HttpResponse {
    asset(JS, "no-cache", include_str!("../../../templates/static/desk.js"))
}

/// The public board's script: the figures brought up to date in place every few seconds.
#[utoipa::path(tag = "assets", responses((status = 200, description = "Board script", content_type = "application/javascript")))]
#[get("/static/board.js")]
pub async fn board_js() -> HttpResponse {
    asset(JS, "no-cache", include_str!("../../../templates/static/board.js"))
}

/// The photo page's script: dragging the crop box (the nudge buttons work without it).
#[utoipa::path(tag = "assets", responses((status = 200, description = "Photo page script", content_type = "application/javascript")))]
#[get("/static/portrait.js")]
pub async fn portrait_js() -> HttpResponse {
    asset(JS, "no-cache", include_str!("../../../templates/static/portrait.js"))
}
