//! Server-rendered pages for hall officers, supervisors, checkpoint staff and the public, one
//! file per resource. Forms carry a CSRF token tied to the session; errors redisplay the form
//! with messages. Each handler extracts, calls one entry point on `service::Ctx` and renders.

mod applications;
mod assets;
mod auth;
mod calendar;
mod checkpoint;
mod driver_bookings;
mod drivers;
mod free;
mod permits;
mod progress;
mod seals;
mod stock;
mod supervision;
mod yard;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, ContentType};
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError, dev::Payload, web};
use askama::Template;
use futures_util::future::LocalBoxFuture;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use utoipa_actix_web::service_config::ServiceConfig;

use super::AppState;
use super::extract::SESSION_COOKIE;
use crate::domain::DomainError;
use crate::domain::auth::{Actor, Menu};
use crate::error::Error;
use crate::views::*;

/// What a page handler answers: the page, or an error page (a login redirect for no session).
type Page = Result<HttpResponse, PageError>;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.configure(auth::routes)
        .configure(applications::routes)
        .configure(permits::routes)
        .configure(stock::routes)
        .configure(free::routes)
        .configure(seals::routes)
        .configure(progress::routes)
        .configure(supervision::routes)
        .configure(calendar::routes)
        .configure(checkpoint::routes)
        .configure(yard::routes)
        .configure(drivers::routes)
        .configure(driver_bookings::routes)
        .configure(assets::routes);
}

pub(super) const LOGIN_CSRF_COOKIE: &str = "bd_login_csrf";

/// A signed-in officer on a page request.
pub struct PageSession {
    pub actor: Actor,
    pub csrf: String,
    pub secret: String,
    /// The office's name for the header (the actor carries its code).
    pub office_name: String,
}

impl PageSession {
    pub(super) fn nav(&self) -> Option<Nav> {
        let menu = Menu::of(&self.actor);
        Some(Nav {
            display_name: self.actor.display_name.clone(),
            role: self.actor.role.as_str().into(),
            office: self.office_name.clone(),
            csrf: self.csrf.clone(),
            can_take: menu.take,
            can_supervise: menu.supervise,
            can_edit_calendar: menu.edit_calendar,
            can_scan: menu.scan,
            can_yard: menu.yard,
            can_manage_slots: menu.slots,
            can_stock: menu.stock,
            can_free: menu.free,
            can_seals: menu.seals,
        })
    }

    /// Constant-time comparison, so the token cannot be guessed byte by byte from timings.
    pub(super) fn check_csrf(&self, sent: &str) -> Result<(), PageError> {
        let (a, b) = (Sha256::digest(sent.as_bytes()), Sha256::digest(self.csrf.as_bytes()));
        if a.iter().zip(b.iter()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0 {
            Ok(())
        } else {
            Err(PageError::Csrf)
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error("login required")]
    Login(String),
    /// A driver page without a live driver session: to the drivers' sign-in.
    #[error("driver sign-in required")]
    DriverSignIn,
    #[error("CSRF token missing or wrong")]
    Csrf,
    #[error("form posted from another site")]
    CrossSite,
    #[error(transparent)]
    App(#[from] Error),
    #[error("page not found")]
    NotFound,
}

impl From<DomainError> for PageError {
    fn from(e: DomainError) -> Self {
        PageError::App(Error::Domain(e))
    }
}

/// A change's outcome as a page with a form shows it: what was done (and the form cleared), or
/// the refusal's reasons beside the form as it was sent, a conflict as the page's own message
/// (field `form`); anything else is the error page's.
pub(super) struct Shown<F> {
    pub status: StatusCode,
    pub errors: Vec<crate::domain::validation::FieldError>,
    pub notice: Option<String>,
    pub form: F,
}

pub(super) fn shown<F: Default>(outcome: Result<Option<String>, Error>, sent: F) -> Result<Shown<F>, PageError> {
    use crate::domain::DomainError;
    Ok(match outcome {
        Ok(notice) => Shown {
            status: StatusCode::OK,
            errors: Vec::new(),
            notice,
            form: F::default(),
        },
        Err(Error::Domain(DomainError::Validation(errs))) => Shown {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            errors: errs.0,
            notice: None,
            form: sent,
        },
        Err(Error::Domain(DomainError::Conflict { message, .. })) => {
            let mut errs = crate::domain::validation::FieldErrors::new();
            errs.add("form", "conflict", message);
            Shown {
                status: StatusCode::CONFLICT,
                errors: errs.0,
                notice: None,
                form: sent,
            }
        }
        Err(e) => return Err(e.into()),
    })
}

/// A printed document the service made for this page's button, shown in the browser's viewer
/// (not saved, not cached).
pub(super) fn pdf_page(doc: crate::service::printing::Document) -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok()
        .content_type("application/pdf")
        .insert_header(("Content-Disposition", format!("inline; filename=\"{}\"", doc.filename)))
        .insert_header(("Cache-Control", "no-store"))
        .body(doc.pdf)
}

pub(super) fn html(status: StatusCode, page: &impl Template) -> HttpResponse {
    match page.render() {
        Ok(body) => HttpResponse::build(status)
            .content_type(ContentType::html())
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body(body),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            HttpResponse::InternalServerError()
                .content_type(ContentType::plaintext())
                .body("internal error")
        }
    }
}

impl ResponseError for PageError {
    fn error_response(&self) -> HttpResponse {
        let (status, title, detail) = match self {
            PageError::Login(next) => {
                let target = format!(
                    "/login?{}",
                    serde_urlencoded::to_string([("next", next)]).unwrap_or_default()
                );
                return HttpResponse::SeeOther()
                    .insert_header((header::LOCATION, target))
                    .finish();
            }
            PageError::DriverSignIn => {
                return HttpResponse::SeeOther()
                    .insert_header((header::LOCATION, "/driver"))
                    .finish();
            }
            PageError::Csrf => (
                StatusCode::FORBIDDEN,
                "表单已过期 / form expired",
                "请返回重新提交 / go back, reload the page and submit again".to_string(),
            ),
            PageError::CrossSite => (
                StatusCode::FORBIDDEN,
                "来自其他网站的提交已拒绝 / form from another site refused",
                "请在本系统的页面上操作 / use the form on this service's own page".to_string(),
            ),
            PageError::NotFound => (StatusCode::NOT_FOUND, "未找到 / not found", "no such page".to_string()),
            PageError::App(Error::Domain(d)) => match d {
                DomainError::NotFound { what } => {
                    (StatusCode::NOT_FOUND, "未找到 / not found", format!("{what} not found"))
                }
                DomainError::Forbidden(reason) => (StatusCode::FORBIDDEN, "无权操作 / forbidden", reason.clone()),
                DomainError::Full { message, .. } => (StatusCode::CONFLICT, "时段已约满 / slot full", message.clone()),
                DomainError::Conflict { message, .. } => (
                    StatusCode::CONFLICT,
                    "状态不允许此操作 / not allowed now",
                    message.clone(),
                ),
                DomainError::Validation(errs) => (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "请更正 / please correct",
                    errs.0.iter().map(|e| e.message.clone()).collect::<Vec<_>>().join("; "),
                ),
                DomainError::TooMany { message, .. } => (
                    StatusCode::TOO_MANY_REQUESTS,
                    "尝试次数过多 / too many tries",
                    message.clone(),
                ),
                DomainError::IdempotencyMismatch => (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "重复提交 / repeated submission",
                    d.to_string(),
                ),
            },
            PageError::App(Error::Busy(_)) => {
                let mut res = html(
                    StatusCode::SERVICE_UNAVAILABLE,
                    &ErrorPage {
                        nav: None,
                        status: 503,
                        title: "系统繁忙 / busy".into(),
                        detail: "请稍等几秒后返回重新提交 / wait a few seconds, go back and submit again".into(),
                    },
                );
                res.headers_mut().insert(
                    header::RETRY_AFTER,
                    header::HeaderValue::from(crate::http::error::RETRY_AFTER_SECONDS),
                );
                return res;
            }
            PageError::App(e) => {
                tracing::error!(error = %e, "page failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "内部错误 / internal error",
                    "the error was logged".to_string(),
                )
            }
        };
        html(
            status,
            &ErrorPage {
                nav: None,
                status: status.as_u16(),
                title: title.into(),
                detail,
            },
        )
    }
}

impl FromRequest for PageSession {
    type Error = PageError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        // Every form and script post of a signed-in officer passes here first.
        let origin = match (req.method().is_safe(), &state) {
            (false, Some(s)) => check_origin(req, s.public_origin.as_ref()),
            _ => Ok(()),
        };
        let secret = req.cookie(SESSION_COOKIE).map(|c| c.value().to_string());
        let next = if req.method() == actix_web::http::Method::GET {
            req.path().to_string()
        } else {
            "/desk".to_string()
        };
        Box::pin(async move {
            origin?;
            let state = state.ok_or_else(|| PageError::App(Error::Internal("app state missing".into())))?;
            let secret = secret.ok_or_else(|| PageError::Login(next.clone()))?;
            let session = state.ctx.session(secret.clone()).await?;
            let session = session.ok_or(PageError::Login(next))?;
            let office_name = crate::views::words::office(&state.ctx.policy, &session.actor.office).zh;
            Ok(PageSession {
                office_name,
                actor: session.actor,
                csrf: session.csrf_token,
                secret,
            })
        })
    }
}

pub(super) fn redirect(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to.to_string()))
        .finish()
}

/// Only paths of this service: `next` must not send an officer to another site after login.
/// Browsers drop tabs and newlines from a Location and read `\` as `/`, so `/\t/evil` would
/// become `//evil`: such characters are refused outright, then the rest is resolved as a
/// browser would and must stay on our origin. Without one, `/` sends each role to its work.
pub(super) fn safe_next(next: &str) -> String {
    let plain = next.len() <= 2048
        && next.starts_with('/')
        && !next.starts_with("//")
        && !next.chars().any(|c| c.is_control() || c.is_whitespace() || c == '\\');
    let Ok(base) = url::Url::parse("http://borderdesk.invalid/") else {
        return "/".into();
    };
    match base.join(next) {
        Ok(u) if plain && u.origin() == base.origin() => u[url::Position::BeforePath..].to_string(),
        _ => "/".into(),
    }
}

/// Defence in depth beside the form token: a browser says where a form was posted from. A
/// request that names another origin (or `Sec-Fetch-Site` other than same-origin or none) is
/// refused; one that names none (curl, old browsers) is left to the token. Our origin is the
/// configured public one, or else the request's `Host` (host and port; behind a TLS proxy the
/// scheme may differ, so the Origin's own scheme is used).
pub(super) fn check_origin(req: &HttpRequest, public: Option<&url::Origin>) -> Result<(), PageError> {
    let h = req.headers();
    let fetch_site = h.get("sec-fetch-site").map(|v| v.to_str().unwrap_or(""));
    if fetch_site.is_some_and(|site| !matches!(site, "same-origin" | "none")) {
        return Err(PageError::CrossSite);
    }
    let Some(origin) = h.get(header::ORIGIN) else {
        return Ok(());
    };
    // Under our `Referrer-Policy: no-referrer` browsers send `Origin: null` even on our own
    // forms; then the browser's own Sec-Fetch-Site (which a page cannot set) decides.
    if origin.as_bytes() == b"null" {
        return if fetch_site.is_some() {
            Ok(())
        } else {
            Err(PageError::CrossSite)
        };
    }
    let origin = origin
        .to_str()
        .ok()
        .and_then(|o| url::Url::parse(o).ok())
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or(PageError::CrossSite)?;
    let ours = match public {
        Some(o) => o.clone(),
        None => {
            let host = h
                .get(header::HOST)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
                .or_else(|| req.uri().authority().map(|a| a.to_string()))
                .ok_or(PageError::CrossSite)?;
            url::Url::parse(&format!("{}://{host}/", origin.scheme()))
                .map_err(|_| PageError::CrossSite)?
                .origin()
        }
    };
    if origin.origin() == ours {
        Ok(())
    } else {
        Err(PageError::CrossSite)
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

pub async fn not_found() -> Page {
    Err(PageError::NotFound)
}

/// A kind's title in Chinese and English, as the pages head their forms.
fn kind_title(state: &AppState, kind: crate::domain::permit::PermitKind) -> String {
    state
        .ctx
        .policy
        .kind(kind)
        .map(|k| format!("{} {}", k.title_zh, k.title_en))
        .unwrap_or_else(|| kind.as_str().into())
}
