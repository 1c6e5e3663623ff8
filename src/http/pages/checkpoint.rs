//! The scan page for checkpoint staff: one-handed on a phone or with a keyboard-wedge scanner,
//! with offline verification and the upload of crossings decided offline.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, ResponseError, get, post, web};
use serde::Deserialize;
use utoipa_actix_web::service_config::ServiceConfig;

use super::{Page, PageError, PageSession, html};
use crate::domain::DomainError;
use crate::domain::local;
use crate::domain::verdict::{Direction, reject};
use crate::error::Error;
use crate::http::{AppState, State};
use crate::views::*;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(checkpoint)
        .service(checkpoint_scan)
        .service(checkpoint_upload);
}

#[derive(Deserialize)]
pub struct LaneQuery {
    lane: Option<String>,
    direction: Option<String>,
}

async fn checkpoint_page(
    state: &AppState,
    session: &PageSession,
    lane: String,
    direction: String,
    result: Option<crate::service::checkpoint::ScanOut>,
    code: &str,
    error: Option<String>,
) -> Result<CheckpointPage, PageError> {
    let rows = state.ctx.recent_scans(session.actor.clone(), lane.clone()).await?;
    let recent = rows
        .into_iter()
        .map(|r| RecentScan {
            at: local(crate::db::utc(r.at)).format("%H:%M:%S").to_string(),
            number: r.permit_number.unwrap_or_else(|| "—".into()),
            direction: match r.direction {
                Direction::Exit => "出境".into(),
                Direction::Entry => "入境".into(),
            },
            admit: r.verdict == "admit",
            reason: reject(r.reason).message_zh.to_string(),
        })
        .collect();
    let stamp = result.as_ref().map(|r| VerdictStamp {
        tail: code_tail(code),
        time: r.scanned_at.format("%H:%M:%S").to_string(),
    });
    Ok(CheckpointPage {
        nav: session.nav(),
        lane,
        direction,
        result,
        error,
        recent,
        clear_seconds: state.verdict_clear_seconds,
        stamp,
    })
}

/// The end of a scanned code shown with its verdict, enough to tell one scan from the next: a
/// permit number's serial, a signed code's last characters. Never a whole ID number.
fn code_tail(code: &str) -> String {
    let chars: Vec<char> = code.trim().chars().collect();
    let tail: String = chars[chars.len().saturating_sub(6)..].iter().collect();
    if chars.len() > 6 { format!("…{tail}") } else { tail }
}

/// The scan page's script asks for the verdict as JSON (to show it in place and keep the scan
/// field focused); a form posted without the script gets the page.
fn wants_json(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/json"))
}

#[utoipa::path(tag = "pages", params(("lane" = Option<String>, Query), ("direction" = Option<String>, Query)), responses((status = 200, description = "The scan page for checkpoint staff", content_type = "text/html")))]
#[get("/checkpoint")]
pub async fn checkpoint(state: State, session: PageSession, q: web::Query<LaneQuery>) -> Page {
    let q = q.into_inner();
    let page = checkpoint_page(
        &state,
        &session,
        q.lane.unwrap_or_else(|| "L1".into()),
        q.direction.unwrap_or_else(|| "exit".into()),
        None,
        "",
        None,
    )
    .await?;
    Ok(html(StatusCode::OK, &page))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ScanForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    lane: String,
    #[serde(default)]
    direction: String,
}

#[utoipa::path(tag = "pages", responses(
    (status = 200, description = "The verdict, large, with holder and vehicle; as the API's scan answer (JSON) when the request accepts application/json", content_type = "text/html"),
    (status = 422, description = "Lane, direction or code missing or malformed: the page with the messages, or problem+json", content_type = "text/html"),
))]
#[post("/checkpoint")]
pub async fn checkpoint_scan(state: State, session: PageSession, req: HttpRequest, form: web::Form<ScanForm>) -> Page {
    session.check_csrf(&form.csrf)?;
    let form = form.into_inner();
    let json = wants_json(&req);
    let scanned = state
        .ctx
        .scan(
            session.actor.clone(),
            Some(&form.code),
            Some(&form.lane),
            Some(&form.direction),
        )
        .await;
    let out = match scanned {
        Ok(out) => out,
        Err(e @ Error::Domain(DomainError::Validation(_))) if json => {
            return Ok(crate::http::error::ApiError::from(e).error_response());
        }
        Err(Error::Domain(DomainError::Validation(errs))) => {
            let message = errs.0.iter().map(|e| e.message.clone()).collect::<Vec<_>>().join("；");
            let page = checkpoint_page(&state, &session, form.lane, form.direction, None, "", Some(message)).await?;
            return Ok(html(StatusCode::UNPROCESSABLE_ENTITY, &page));
        }
        Err(e) => return Err(e.into()),
    };
    state.metrics.count_scan(&out);
    if json {
        return Ok(HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(out));
    }
    let page = checkpoint_page(&state, &session, form.lane, form.direction, Some(out), &form.code, None).await?;
    Ok(html(StatusCode::OK, &page))
}

#[utoipa::path(tag = "pages", request_body = crate::http::api::checkpoint::UploadRequest, responses(
    (status = 200, description = "Crossings decided offline by the scan page, recorded once", body = crate::service::checkpoint::UploadOut),
    (status = 400, description = "Malformed JSON", body = crate::http::error::Problem),
    (status = 413, description = "Body over the limit", body = crate::http::error::Problem),
    (status = 415, description = "Not application/json", body = crate::http::error::Problem),
    (status = 422, description = "A field missing, unknown, of the wrong type or breaking the text rule, each named", body = crate::http::error::Problem),
))]
#[post("/checkpoint/upload")]
pub async fn checkpoint_upload(
    state: State,
    session: PageSession,
    req: HttpRequest,
    body: crate::http::extract::JsonBody<crate::http::api::checkpoint::UploadRequest>,
) -> Page {
    let sent = req
        .headers()
        .get("X-CSRF-Token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    session.check_csrf(sent)?;
    // The scan page's script reads the answer: problem+json like the API, not an error page.
    Ok(
        match state
            .ctx
            .upload_crossings(session.actor.clone(), body.0.crossings)
            .await
        {
            Ok(out) => HttpResponse::Ok().json(out),
            Err(e) => crate::http::error::ApiError::App(e).error_response(),
        },
    )
}
