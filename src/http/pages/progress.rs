//! The public progress page: an applicant looks up their application in their language.

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, get, post, web};
use serde::Deserialize;
use utoipa_actix_web::service_config::ServiceConfig;

use super::{Page, html};
use crate::error::Error;
use crate::http::State;
use crate::service::progress::Answer;
use crate::views::*;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(progress_form).service(progress_lookup);
}

#[derive(Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
}

/// Remembers the language a reader picked on the public pages (a year; nothing else is kept).
const LANG_COOKIE: &str = "bd_lang";

/// The public page's language: `chosen` (the switcher's link or the form's field), else the
/// remembered choice, else the browser's Accept-Language.
fn progress_lang(req: &HttpRequest, chosen: Option<&str>) -> crate::views::progress::Lang {
    let remembered = req.cookie(LANG_COOKIE).map(|c| c.value().to_string());
    let accept = req.headers().get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
    crate::views::progress::Lang::choose(
        chosen.filter(|c| !c.trim().is_empty()).or(remembered.as_deref()),
        accept,
    )
}

/// The page in its language; remembers an explicit choice, and tells caches the page varies
/// with Accept-Language.
fn progress_response(status: StatusCode, page: &ProgressPage, chosen: bool, secure: bool) -> Page {
    let mut res = html(status, page);
    res.headers_mut().insert(
        header::VARY,
        header::HeaderValue::from_static("Accept-Language, Cookie"),
    );
    if chosen {
        let cookie = Cookie::build(LANG_COOKIE, page.lang.code())
            .path("/progress")
            .http_only(true)
            .secure(secure)
            .same_site(SameSite::Lax)
            .max_age(CookieDuration::days(365))
            .finish();
        res.add_cookie(&cookie).map_err(Error::internal)?;
    }
    Ok(res)
}

fn progress_page(
    lang: crate::views::progress::Lang,
    number: String,
    message: Option<&'static str>,
    result: Option<ProgressResult>,
) -> ProgressPage {
    ProgressPage {
        nav: None,
        lang,
        t: crate::views::progress::texts(lang),
        number,
        message,
        result,
    }
}

#[utoipa::path(tag = "public", params(("lang" = Option<String>, Query, description = "zh, vi or en: the reader's choice, remembered in a cookie; without it (or the cookie) the page follows Accept-Language")), responses((status = 200, description = "Public progress query form", content_type = "text/html")))]
#[get("/progress")]
pub async fn progress_form(state: State, req: HttpRequest, q: web::Query<LangQuery>) -> Page {
    let chosen = q.lang.as_deref().and_then(crate::views::progress::Lang::from_code);
    let lang = progress_lang(&req, q.lang.as_deref());
    progress_response(
        StatusCode::OK,
        &progress_page(lang, String::new(), None, None),
        chosen.is_some(),
        state.secure_cookies,
    )
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ProgressForm {
    #[serde(default)]
    number: String,
    #[serde(default)]
    last4: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    lang: String,
}

#[utoipa::path(tag = "public", responses((status = 200, description = "The application's progress, found by the application number or the permit number", content_type = "text/html"), (status = 404, description = "No match: the same answer for an unknown number, a wrong ID suffix or lookup code, and a lookup locked after 5 wrong tries (30 minutes, or until the window unlocks it)", content_type = "text/html"), (status = 429, description = "Too many look-ups from this address", content_type = "text/html")))]
#[post("/progress")]
pub async fn progress_lookup(state: State, req: HttpRequest, form: web::Form<ProgressForm>) -> Page {
    use crate::domain::permit::PermitStatus;
    use crate::views::progress::{Lang, pending_line, permit_ended, status_text};
    let form = form.into_inner();
    let lang = progress_lang(&req, Some(form.lang.as_str()));
    let secure = state.secure_cookies;
    let number = form.number.trim().to_uppercase();
    let t = crate::views::progress::texts(lang);
    let ip = state.client(&req);
    let answer = state
        .ctx
        .lookup_progress(ip, number.clone(), form.last4, form.code)
        .await?;
    let (app, permit_status) = match answer {
        Answer::Found(found) => (found.app, found.permit_status),
        Answer::Limited | Answer::NoMatch => {
            let (status, message) = match answer {
                Answer::Limited => (StatusCode::TOO_MANY_REQUESTS, t.limited),
                _ => (StatusCode::NOT_FOUND, t.not_found),
            };
            return progress_response(status, &progress_page(lang, number, Some(message), None), false, secure);
        }
    };
    let kp = state.ctx.policy.kind(app.kind);
    let kind = kp
        .map(|k| match lang {
            Lang::Zh => k.title_zh.clone(),
            Lang::Vi => k.title_vi.clone(),
            Lang::En => k.title_en.clone(),
        })
        .unwrap_or_else(|| app.kind.as_str().into());
    let missing: Vec<ProgressItem> = app
        .materials
        .iter()
        .filter(|m| !m.provided)
        .map(|m| ProgressItem {
            name: match lang {
                Lang::Zh => m.name_zh.clone(),
                Lang::Vi => m.name_vi.clone(),
                Lang::En => m.name_en.clone(),
            },
            due: m.due_date.map(|d| d.to_string()).unwrap_or_default(),
        })
        .collect();
    let ended = permit_status.and_then(|p| permit_ended(lang, p));
    let (status, warn) = match (permit_status, ended) {
        (Some(PermitStatus::Pending), _) => {
            let items: Vec<(String, String)> = missing.iter().map(|m| (m.name.clone(), m.due.clone())).collect();
            (pending_line(lang, &items), true)
        }
        (Some(PermitStatus::Suspended), _) => (t.suspended.to_string(), true),
        (_, Some(text)) => (text.to_string(), true),
        _ => (status_text(lang, app.status.as_str()).to_string(), false),
    };
    let result = ProgressResult {
        number: app.number.clone().unwrap_or_default(),
        kind,
        status,
        warn,
        deadline: app
            .due_at
            .filter(|_| app.status.is_open())
            .map(|d| d.format("%Y-%m-%d %H:%M").to_string()),
        missing,
        permit: app.permit_number.clone(),
        reason: app.reason.clone(),
    };
    progress_response(
        StatusCode::OK,
        &progress_page(lang, number, None, Some(result)),
        false,
        secure,
    )
}
