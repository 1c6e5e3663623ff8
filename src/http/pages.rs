//! Server-rendered pages for hall officers: log in, take an application, issue, print, revoke.
//! Forms carry a CSRF token tied to the session; errors redisplay the form with messages.

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, ContentType};
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError, dev::Payload, web};
use askama::Template;
use futures_util::future::LocalBoxFuture;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::AppState;
use super::extract::SESSION_COOKIE;
use crate::domain::DomainError;
use crate::domain::auth::{Action, Actor, authorize};
use crate::domain::local;
use crate::domain::mask::mask_id;
use crate::domain::traveller::TravellerInput;
use crate::domain::validation::FieldError;
use crate::domain::verdict::{Direction, reject};
use crate::error::Error;
use crate::service::{accounts, applications, permits, progress};
use crate::views::*;

const LOGIN_CSRF_COOKIE: &str = "bd_login_csrf";

/// A signed-in officer on a page request.
pub struct PageSession {
    pub actor: Actor,
    pub csrf: String,
    pub secret: String,
    /// The office's name for the header (the actor carries its code).
    pub office_name: String,
}

impl PageSession {
    fn nav(&self) -> Option<Nav> {
        Some(Nav {
            display_name: self.actor.display_name.clone(),
            role: self.actor.role.as_str().into(),
            office: self.office_name.clone(),
            csrf: self.csrf.clone(),
            // The desk is offered only to someone who may take some kind there.
            can_take: crate::domain::permit::PermitKind::ALL
                .into_iter()
                .any(|k| authorize(&self.actor, Action::CreateApplication(k)).is_ok()),
            can_supervise: authorize(&self.actor, Action::Supervise).is_ok(),
            can_edit_calendar: authorize(&self.actor, Action::EditCalendar).is_ok(),
            can_scan: authorize(&self.actor, Action::Scan).is_ok(),
        })
    }

    /// Constant-time comparison, so the token cannot be guessed byte by byte from timings.
    fn check_csrf(&self, sent: &str) -> Result<(), PageError> {
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

fn html(status: StatusCode, page: &impl Template) -> HttpResponse {
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
                    header::HeaderValue::from(super::error::RETRY_AFTER_SECONDS),
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
            let now = state.ctx.clock.now();
            let s2 = secret.clone();
            let session = state
                .ctx
                .db
                .run(move |c| accounts::actor_for_session(c, now, &s2))
                .await?;
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

fn redirect(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to.to_string()))
        .finish()
}

/// Only paths of this service: `next` must not send an officer to another site after login.
/// Browsers drop tabs and newlines from a Location and read `\` as `/`, so `/\t/evil` would
/// become `//evil`: such characters are refused outright, then the rest is resolved as a
/// browser would and must stay on our origin. Without one, `/` sends each role to its work.
fn safe_next(next: &str) -> String {
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
fn check_origin(req: &HttpRequest, public: Option<&url::Origin>) -> Result<(), PageError> {
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

#[utoipa::path(get, path = "/", tag = "pages", responses((status = 303, description = "To where the role's work is: officer /desk, supervisor /supervisor/sla (approvals and deadlines), admin /admin/calendar, checkpoint /checkpoint")))]
pub async fn index(session: PageSession) -> HttpResponse {
    redirect(landing(session.actor.role))
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

#[utoipa::path(get, path = "/login", tag = "pages", responses((status = 200, description = "Login form", content_type = "text/html")))]
pub async fn login_form(state: web::Data<AppState>, query: web::Query<NextQuery>) -> Result<HttpResponse, PageError> {
    let csrf = accounts::random_secret("")?;
    let next = safe_next(query.next.as_deref().unwrap_or("/"));
    let mut res = html(
        StatusCode::OK,
        &LoginPage {
            nav: None,
            error: None,
            username: String::new(),
            csrf: csrf.clone(),
            next,
        },
    );
    let cookie = Cookie::build(LOGIN_CSRF_COOKIE, csrf)
        .path("/login")
        .http_only(true)
        .secure(state.secure_cookies)
        .same_site(SameSite::Strict)
        .finish();
    res.add_cookie(&cookie).map_err(Error::internal)?;
    Ok(res)
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

#[utoipa::path(post, path = "/login", tag = "pages", responses((status = 303, description = "Logged in"), (status = 401, description = "Wrong username or password", content_type = "text/html")))]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    check_origin(&req, state.public_origin.as_ref())?;
    // Double-submit check: a cross-site form cannot read or set our cookie.
    let cookie = req.cookie(LOGIN_CSRF_COOKIE).map(|c| c.value().to_string());
    if cookie.as_deref() != Some(form.csrf.as_str()) || form.csrf.is_empty() {
        return Err(PageError::Csrf);
    }
    let now = state.ctx.clock.now();
    let address = req
        .peer_addr()
        .map(|a| a.ip())
        .unwrap_or(std::net::IpAddr::from([0, 0, 0, 0]));
    if let Err(wait) = state.login_throttle.begin(now, address, &form.username) {
        let secs = wait.num_seconds().max(1);
        return Ok(html(
            StatusCode::TOO_MANY_REQUESTS,
            &LoginPage {
                nav: None,
                error: Some(format!(
                    "尝试次数过多，请 {secs} 秒后再试 / too many attempts: try again in {secs} seconds"
                )),
                username: form.username,
                csrf: form.csrf,
                next: safe_next(&form.next),
            },
        ));
    }
    let ttl = state.session_ttl;
    let (username, password) = (form.username.clone(), form.password);
    let secret = state
        .ctx
        .db
        .run(move |c| accounts::login(c, now, &username, &password, ttl))
        .await?;
    let Some(secret) = secret else {
        return Ok(html(
            StatusCode::UNAUTHORIZED,
            &LoginPage {
                nav: None,
                error: Some(
                    "用户名或密码错误，或账户已停用 / wrong username or password, or the account is disabled".into(),
                ),
                username: form.username,
                csrf: form.csrf,
                next: safe_next(&form.next),
            },
        ));
    };
    state.login_throttle.succeeded(address, &form.username);
    let cookie = Cookie::build(SESSION_COOKIE, secret)
        .path("/")
        .http_only(true)
        .secure(state.secure_cookies)
        .same_site(SameSite::Strict)
        .max_age(CookieDuration::seconds(ttl.num_seconds()))
        .finish();
    let mut res = redirect(&safe_next(&form.next));
    res.add_cookie(&cookie).map_err(Error::internal)?;
    Ok(res)
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

#[utoipa::path(post, path = "/logout", tag = "pages", responses((status = 303, description = "Logged out")))]
pub async fn logout(
    state: web::Data<AppState>,
    session: PageSession,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, PageError> {
    session.check_csrf(&form.csrf)?;
    let now = state.ctx.clock.now();
    let secret = session.secret.clone();
    state.ctx.db.run(move |c| accounts::logout(c, now, &secret)).await?;
    let mut res = redirect("/login");
    let mut gone = Cookie::build(SESSION_COOKIE, "").path("/").finish();
    gone.make_removal();
    res.add_cookie(&gone).map_err(Error::internal)?;
    Ok(res)
}

async fn desk_page(
    state: &AppState,
    session: &PageSession,
    form: ApplicationForm,
    errors: Vec<FieldError>,
    duplicate: Option<DuplicateWarning>,
) -> Result<DeskPage, PageError> {
    let actor = session.actor.clone();
    let (open, recent) = state.ctx.db.run(move |c| applications::desk(c, &actor, 50, 20)).await?;
    let now = state.ctx.clock.now();
    let policy = state.ctx.policy.clone();
    let offered: Vec<_> = policy
        .kinds
        .iter()
        .filter(|(k, _)| session.actor.has_grant(**k))
        .collect();
    let kinds = offered
        .iter()
        .map(|(k, p)| (k.as_str().to_string(), format!("{} {}", p.title_zh, p.title_en)))
        .collect();
    // Only the documents some offered kind accepts.
    let id_types = crate::domain::ids::IdType::ALL
        .into_iter()
        .filter(|t| offered.iter().any(|(_, p)| p.eligible_id_types.contains(t)))
        .map(|t| {
            let w = words::id_type(t);
            (t.as_str().to_string(), format!("{} {}", w.zh, w.en))
        })
        .collect();
    let validity_options = std::iter::once((String::new(), "默认 default".to_string()))
        .chain(
            state
                .ctx
                .policy
                .kind(crate::domain::permit::PermitKind::BorderTrade)
                .into_iter()
                .flat_map(|k| {
                    k.validity_options
                        .iter()
                        .map(|o| (o.code.clone(), format!("{} {}", o.label_zh, o.label_en)))
                }),
        )
        .collect();
    Ok(DeskPage {
        nav: session.nav(),
        kinds,
        validity_options,
        id_types,
        form,
        errors,
        duplicate,
        open: open
            .into_iter()
            .map(|(a, t)| OpenApplication {
                kind: words::kind(&policy, a.kind),
                status: words::application_status(a.status),
                id: a.id,
                name: format!("{} {}", t.name_zh.unwrap_or_default(), t.name_latin),
                id_number: mask_id(&t.id_number),
                created_at: local(crate::db::utc(a.created_at)).format("%m-%d %H:%M").to_string(),
            })
            .collect(),
        recent: recent
            .into_iter()
            .map(|r| RecentPermit {
                status: r.status(now).as_str().into(),
                status_words: words::permit_status(r.status(now)),
                valid_until: local(crate::db::utc(r.permit.valid_until))
                    .format("%Y-%m-%d")
                    .to_string(),
                number: r.permit.number,
                name: format!("{} {}", r.traveller.name_zh.unwrap_or_default(), r.traveller.name_latin),
                id_number: mask_id(&r.traveller.id_number),
            })
            .collect(),
    })
}

#[utoipa::path(get, path = "/desk", tag = "pages", responses((status = 200, description = "The officer's desk", content_type = "text/html"), (status = 303, description = "To login")))]
pub async fn desk(state: web::Data<AppState>, session: PageSession) -> Result<HttpResponse, PageError> {
    let first_kind = state
        .ctx
        .policy
        .kinds
        .keys()
        .find(|k| authorize(&session.actor, Action::CreateApplication(**k)).is_ok());
    // Nobody lands on a form they cannot use: without a kind to take, to the role's own work.
    let Some(first_kind) = first_kind else {
        return Ok(redirect(landing(session.actor.role)));
    };
    let form = ApplicationForm {
        kind: first_kind.as_str().into(),
        nationality: "CHN".into(),
        id_type: "cn_resident_id".into(),
        ..Default::default()
    };
    Ok(html(
        StatusCode::OK,
        &desk_page(&state, &session, form, Vec::new(), None).await?,
    ))
}

#[utoipa::path(post, path = "/desk/applications", tag = "pages", responses((status = 303, description = "Taken; to the application"), (status = 422, description = "Form redisplayed with every error", content_type = "text/html")))]
pub async fn create_application(
    state: web::Data<AppState>,
    session: PageSession,
    form: web::Form<ApplicationForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    session.check_csrf(&form.csrf)?;
    let opt = |s: &str| Some(s.to_string()).filter(|s| !s.trim().is_empty());
    let input = applications::NewApplication {
        kind: opt(&form.kind),
        traveller: Some(TravellerInput {
            name_zh: opt(&form.name_zh),
            name_latin: opt(&form.name_latin),
            nationality: opt(&form.nationality),
            sex: opt(&form.sex),
            birth_date: opt(&form.birth_date),
            id_type: opt(&form.id_type),
            id_number: opt(&form.id_number),
            phone: opt(&form.phone),
            email: opt(&form.email),
        }),
        enterprise: (!form.enterprise_name.trim().is_empty() || !form.credit_code.trim().is_empty()).then(|| {
            applications::EnterpriseInput {
                name: opt(&form.enterprise_name),
                credit_code: opt(&form.credit_code),
            }
        }),
        plates: Some(
            form.plates
                .split([' ', ',', '，'])
                .filter(|p| !p.trim().is_empty())
                .map(str::to_string)
                .collect::<Vec<_>>(),
        )
        .filter(|p| !p.is_empty()),
        validity_option: opt(&form.validity_option),
        fee_waived: Some(form.fee_waived == "yes"),
        photo_ref: opt(&form.photo_ref),
        confirm_duplicate: Some(form.confirm_duplicate == "yes"),
    };
    let ctx = state.ctx.clone();
    let now = ctx.clock.now();
    let actor = session.actor.clone();
    match ctx
        .db
        .clone()
        .run(move |c| applications::take_application(c, now, &actor, &ctx.policy, &input))
        .await
    {
        Ok(applications::Taken::New(app)) => Ok(redirect(&format!("/desk/applications/{}", app.id))),
        Ok(applications::Taken::OpenExists(open)) => {
            let warning = DuplicateWarning {
                number: open.number.clone().unwrap_or_else(|| open.id.clone()),
                status: words::application_status(open.status),
                id: open.id,
            };
            Ok(html(
                StatusCode::CONFLICT,
                &desk_page(&state, &session, form, Vec::new(), Some(warning)).await?,
            ))
        }
        Err(Error::Domain(DomainError::Validation(errs))) => Ok(html(
            StatusCode::UNPROCESSABLE_ENTITY,
            &desk_page(&state, &session, form, errs.0, None).await?,
        )),
        Err(e) => Err(e.into()),
    }
}

fn kind_title(state: &AppState, kind: crate::domain::permit::PermitKind) -> String {
    state
        .ctx
        .policy
        .kind(kind)
        .map(|k| format!("{} {}", k.title_zh, k.title_en))
        .unwrap_or_else(|| kind.as_str().into())
}

async fn application_page(
    state: &AppState,
    session: &PageSession,
    id: String,
    error: Option<String>,
) -> Result<ApplicationPage, PageError> {
    let ctx = state.ctx.clone();
    let now = ctx.clock.now();
    let actor = session.actor.clone();
    let (app, lookup) = ctx
        .db
        .clone()
        .run(move |c| {
            let app = applications::read(c, &actor, &id, now, &ctx.policy)?;
            Ok((app, progress::state(c, now, &id)?))
        })
        .await?;
    let china = |t: chrono::DateTime<chrono::Utc>| local(t).format("%Y-%m-%d %H:%M").to_string();
    let lookup = lookup.map(|l| LookupView {
        code_issued_at: china(l.code_issued_at),
        failures: l.failures,
        locked_until: l.locked_until.map(china),
    });
    let kp = state.ctx.policy.kind(app.kind);
    let checklist = kp
        .map(|k| {
            k.materials
                .iter()
                .map(|m| (m.code.clone(), format!("{} {}", m.name_zh, m.name_en), m.deferrable))
                .collect()
        })
        .unwrap_or_default();
    let offer = actions::offer(
        &session.actor,
        kp,
        &actions::Facts {
            kind: app.kind,
            office: &app.office,
            status: app.status,
            accepted_by: app.accepted_by.as_deref(),
            outstanding: app.materials.iter().filter(|m| !m.provided).count(),
            attention: app.attention.is_some(),
        },
    );
    let policy = &state.ctx.policy;
    let words = ApplicationWords {
        status: words::application_status(app.status),
        id_type: words::id_type_code(&app.traveller.id_type),
        sex: words::sex_code(&app.traveller.sex),
        validity: (app.kind == crate::domain::permit::PermitKind::BorderTrade)
            .then(|| words::validity_option(policy, app.kind, app.validity_option.as_deref())),
        office: words::office(policy, &app.office),
    };
    Ok(ApplicationPage {
        nav: session.nav(),
        kind_title: kind_title(state, app.kind),
        can_see_portrait: authorize(&session.actor, Action::ViewPortrait { office: &app.office }).is_ok(),
        offer,
        words,
        idempotency_key: accounts::random_secret("page-")?,
        checklist,
        can_receipt: authorize(&session.actor, Action::CreateApplication(app.kind)).is_ok(),
        lookup,
        app,
        error,
    })
}

/// After a change on an application page: back to the application, or the page again with
/// what was wrong (refused input 422, wrong state 409, not allowed 403).
async fn after_change(
    state: &AppState,
    session: &PageSession,
    id: String,
    outcome: Result<(), Error>,
) -> Result<HttpResponse, PageError> {
    let (status, message) = match outcome {
        Ok(()) => return Ok(redirect(&format!("/desk/applications/{id}"))),
        Err(Error::Domain(DomainError::Validation(errs))) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            errs.0.iter().map(|e| e.message.clone()).collect::<Vec<_>>().join("；"),
        ),
        Err(Error::Domain(DomainError::Conflict { message, .. })) => (StatusCode::CONFLICT, message),
        Err(Error::Domain(DomainError::Forbidden(message))) => (StatusCode::FORBIDDEN, message),
        Err(e) => return Err(e.into()),
    };
    Ok(html(
        status,
        &application_page(state, session, id, Some(message)).await?,
    ))
}

#[utoipa::path(post, path = "/desk/applications/{id}/step", tag = "pages", params(("id" = String, Path)), responses((status = 303, description = "Done; back to the application"), (status = 409, description = "Not allowed in the current state", content_type = "text/html"), (status = 422, description = "Redisplayed with the problem", content_type = "text/html")))]
pub async fn step(
    state: web::Data<AppState>,
    session: PageSession,
    id: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    let fields = form.into_inner();
    let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    session.check_csrf(&get("csrf").unwrap_or_default())?;
    let id = id.into_inner();
    let action = get("step").unwrap_or_default();
    let reason = get("reason");
    let item = get("item").unwrap_or_default();
    let result = get("result");
    let provided: Vec<String> = fields
        .iter()
        .filter_map(|(n, _)| n.strip_prefix("m_").map(str::to_string))
        .collect();
    let ctx = state.ctx.clone();
    let now = ctx.clock.now();
    let actor = session.actor.clone();
    let app_id = id.clone();
    let outcome = ctx
        .db
        .clone()
        .run(move |c| match action.as_str() {
            "accept" => applications::accept(c, now, &actor, &ctx.policy, &ctx.hours, &app_id, &provided),
            "approve" => applications::approve(c, now, &actor, &ctx.policy, &app_id),
            "reject" => applications::reject(c, now, &actor, &ctx.policy, &app_id, reason.as_deref()),
            "withdraw" => applications::withdraw(c, now, &actor, &ctx.policy, &app_id),
            "collect" => applications::collect(c, now, &actor, &ctx.policy, &app_id),
            "supply" => applications::supply(c, now, &actor, &ctx.policy, &app_id, &item),
            "acknowledge" => applications::acknowledge(c, now, &actor, &ctx.policy, &app_id),
            "review" => applications::review(
                c,
                now,
                &actor,
                &ctx.policy,
                &app_id,
                result.as_deref(),
                reason.as_deref(),
            ),
            _ => Err(DomainError::NotFound { what: "step" }.into()),
        })
        .await;
    after_change(&state, &session, id, outcome.map(|_| ())).await
}

/// The portrait form: the photo as a file (a camera on a tablet offers itself for it).
#[derive(actix_multipart::form::MultipartForm)]
pub struct PortraitForm {
    csrf: actix_multipart::form::text::Text<String>,
    photo: actix_multipart::form::bytes::Bytes,
}

#[utoipa::path(post, path = "/desk/applications/{id}/portrait", tag = "pages", params(("id" = String, Path)), responses((status = 303, description = "Stored; back to the application"), (status = 422, description = "Redisplayed with what is wrong with the photo", content_type = "text/html")))]
pub async fn portrait(
    state: web::Data<AppState>,
    session: PageSession,
    id: web::Path<String>,
    form: Result<actix_multipart::form::MultipartForm<PortraitForm>, actix_web::Error>,
) -> Result<HttpResponse, PageError> {
    let id = id.into_inner();
    // A form that cannot be read changes nothing: it is redisplayed with what went wrong beside
    // the photo (the multipart limit is the photo's limit plus room for the CSRF field), not
    // answered with actix's bare "Payload error".
    let form = match form {
        Ok(form) => form,
        Err(e) => {
            let too_large = matches!(
                e.as_error::<actix_multipart::MultipartError>(),
                Some(actix_multipart::MultipartError::Payload(
                    actix_web::error::PayloadError::Overflow
                ))
            );
            let mut errs = crate::domain::validation::FieldErrors::new();
            if too_large {
                errs.add(
                    "photo",
                    "max_size",
                    "照片文件不超过12 MB，请重新拍摄或压缩后上传 / the photo file must be at most 12 MB: take it again or make it smaller",
                );
            } else {
                errs.add(
                    "photo",
                    "upload",
                    "照片未能上传，请重新选择照片后提交 / the photo did not arrive: choose it again and submit",
                );
            }
            return after_change(&state, &session, id, Err(errs.into())).await;
        }
    };
    let form = form.into_inner();
    session.check_csrf(&form.csrf)?;
    let outcome = super::save_portrait(&state, session.actor.clone(), id.clone(), form.photo.data).await;
    after_change(&state, &session, id, outcome).await
}

#[utoipa::path(get, path = "/desk/applications/{id}", tag = "pages", params(("id" = String, Path)), responses((status = 200, content_type = "text/html")))]
pub async fn application(
    state: web::Data<AppState>,
    session: PageSession,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    Ok(html(
        StatusCode::OK,
        &application_page(&state, &session, id.into_inner(), None).await?,
    ))
}

#[utoipa::path(post, path = "/desk/applications/{id}/receipt", tag = "pages", params(("id" = String, Path)), responses((status = 200, description = "The receipt with a new lookup code, shown this once (any earlier code stops working)", content_type = "text/html"), (status = 403, description = "Not a window officer for this kind", content_type = "text/html")))]
pub async fn receipt(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: PageSession,
    id: web::Path<String>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, PageError> {
    session.check_csrf(&form.csrf)?;
    let (id, now, actor) = (id.into_inner(), state.ctx.clock.now(), session.actor.clone());
    let receipt = state
        .ctx
        .db
        .run(move |c| progress::issue_code(c, now, &actor, &id))
        .await?;
    let kp = state.ctx.policy.kind(receipt.kind);
    let title = |f: fn(&crate::domain::policy::KindPolicy) -> &String| kp.map(f).cloned().unwrap_or_default();
    // The address applicants know: the configured public origin, else the Host this page came on.
    let origin = match &state.public_origin {
        Some(o) => o.ascii_serialization(),
        None => {
            let info = req.connection_info();
            format!("{}://{}", info.scheme(), info.host())
        }
    };
    Ok(html(
        StatusCode::OK,
        &ReceiptPage {
            nav: session.nav(),
            kind_zh: title(|k| &k.title_zh),
            kind_vi: title(|k| &k.title_vi),
            kind_en: title(|k| &k.title_en),
            issued_at: local(receipt.issued_at).format("%Y-%m-%d %H:%M").to_string(),
            progress_url: format!("{origin}/progress"),
            receipt,
        },
    ))
}

#[utoipa::path(post, path = "/desk/applications/{id}/unlock", tag = "pages", params(("id" = String, Path)), responses((status = 303, description = "Unlocked; back to the application"), (status = 409, description = "No receipt printed yet", content_type = "text/html")))]
pub async fn unlock(
    state: web::Data<AppState>,
    session: PageSession,
    id: web::Path<String>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, PageError> {
    session.check_csrf(&form.csrf)?;
    let (id, now, actor) = (id.into_inner(), state.ctx.clock.now(), session.actor.clone());
    let app_id = id.clone();
    let outcome = state
        .ctx
        .db
        .run(move |c| progress::unlock(c, now, &actor, &app_id))
        .await;
    after_change(&state, &session, id, outcome).await
}

#[derive(Deserialize)]
pub struct IssueForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    idempotency_key: String,
}

#[utoipa::path(post, path = "/desk/applications/{id}/issue", tag = "pages", params(("id" = String, Path)), responses((status = 303, description = "Issued; to the permit")))]
pub async fn issue(
    state: web::Data<AppState>,
    session: PageSession,
    id: web::Path<String>,
    form: web::Form<IssueForm>,
) -> Result<HttpResponse, PageError> {
    session.check_csrf(&form.csrf)?;
    let id = id.into_inner();
    let idem = if form.idempotency_key.is_empty() {
        None
    } else {
        Some(permits::Idempotency::new(&form.idempotency_key, &id, b"")?)
    };
    let ctx = state.ctx.clone();
    let now = ctx.clock.now();
    let actor = session.actor.clone();
    let app_id = id.clone();
    match ctx
        .db
        .clone()
        .run(move |c| permits::issue(c, now, &actor, &ctx.policy, &ctx.keys, &app_id, idem.as_ref()))
        .await
    {
        Ok((record, replayed)) => {
            if !replayed {
                state.metrics.permits_issued.inc();
            }
            Ok(redirect(&format!("/desk/permits/{}", record.permit.number)))
        }
        Err(Error::Domain(DomainError::Conflict { message, .. })) => Ok(html(
            StatusCode::CONFLICT,
            &application_page(&state, &session, id, Some(message)).await?,
        )),
        Err(e) => Err(e.into()),
    }
}

async fn permit_page(
    state: &AppState,
    session: &PageSession,
    number: String,
    errors: Vec<FieldError>,
    notice: Option<String>,
) -> Result<PermitPage, PageError> {
    let now = state.ctx.clock.now();
    let actor = session.actor.clone();
    let record = state
        .ctx
        .db
        .run(move |c| permits::read(c, &actor, &number, crate::domain::auth::on::view_permit))
        .await?;
    let permit = record.out(now)?;
    let policy = &state.ctx.policy;
    let outstanding = record
        .outstanding
        .iter()
        .map(|m| {
            (
                words::material(policy, permit.kind, &m.item),
                m.due_date.map(|d| d.to_string()).unwrap_or_default(),
            )
        })
        .collect();
    let fmt = |d: chrono::DateTime<chrono::FixedOffset>| d.format("%Y-%m-%d %H:%M").to_string();
    Ok(PermitPage {
        nav: session.nav(),
        kind_title: kind_title(state, permit.kind),
        valid_from: fmt(permit.valid_from),
        valid_until: fmt(permit.valid_until),
        issued_at: fmt(permit.issued_at),
        can_print: authorize(
            &session.actor,
            Action::PrintPermit {
                kind: permit.kind,
                office: &permit.office,
            },
        )
        .is_ok(),
        status: words::permit_status(permit.status),
        id_type: words::id_type_code(&permit.holder.id_type),
        office: words::office(policy, &permit.office),
        outstanding,
        // The service's rule: a supervisor, and a permit still in force (pending and
        // suspended ones included).
        can_revoke: authorize(&session.actor, Action::RevokePermit { office: &permit.office }).is_ok()
            && crate::domain::permit::check_revoke(permit.status, Some("-")).is_ok(),
        permit,
        errors,
        notice,
    })
}

#[utoipa::path(get, path = "/desk/permits/{number}", tag = "pages", params(("number" = String, Path)), responses((status = 200, content_type = "text/html")))]
pub async fn permit(
    state: web::Data<AppState>,
    session: PageSession,
    number: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    Ok(html(
        StatusCode::OK,
        &permit_page(&state, &session, number.into_inner(), Vec::new(), None).await?,
    ))
}

#[derive(Deserialize)]
pub struct RevokeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
}

#[utoipa::path(post, path = "/desk/permits/{number}/revoke", tag = "pages", params(("number" = String, Path)), responses((status = 200, description = "Revoked; the permit page", content_type = "text/html")))]
pub async fn revoke(
    state: web::Data<AppState>,
    session: PageSession,
    number: web::Path<String>,
    form: web::Form<RevokeForm>,
) -> Result<HttpResponse, PageError> {
    session.check_csrf(&form.csrf)?;
    let number = number.into_inner();
    let now = state.ctx.clock.now();
    let actor = session.actor.clone();
    let (n, reason) = (number.clone(), form.reason.clone());
    match state
        .ctx
        .db
        .run(move |c| permits::revoke(c, now, &actor, &n, Some(&reason)))
        .await
    {
        Ok(_) => Ok(html(
            StatusCode::OK,
            &permit_page(&state, &session, number, Vec::new(), Some("已吊销 / revoked".into())).await?,
        )),
        Err(Error::Domain(DomainError::Validation(errs))) => Ok(html(
            StatusCode::UNPROCESSABLE_ENTITY,
            &permit_page(&state, &session, number, errs.0, None).await?,
        )),
        Err(e) => Err(e.into()),
    }
}

pub async fn not_found() -> Result<HttpResponse, PageError> {
    Err(PageError::NotFound)
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
fn progress_response(
    status: StatusCode,
    page: &ProgressPage,
    chosen: bool,
    secure: bool,
) -> Result<HttpResponse, PageError> {
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

#[utoipa::path(get, path = "/progress", tag = "pages", params(("lang" = Option<String>, Query, description = "zh, vi or en: the reader's choice, remembered in a cookie; without it (or the cookie) the page follows Accept-Language")), responses((status = 200, description = "Public progress query form", content_type = "text/html")))]
pub async fn progress_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<LangQuery>,
) -> Result<HttpResponse, PageError> {
    let chosen = q.lang.as_deref().and_then(crate::views::progress::Lang::from_code);
    let lang = progress_lang(&req, q.lang.as_deref());
    progress_response(
        StatusCode::OK,
        &progress_page(lang, String::new(), None, None),
        chosen.is_some(),
        state.secure_cookies,
    )
}

#[derive(Deserialize)]
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

#[utoipa::path(post, path = "/progress", tag = "pages", responses((status = 200, description = "The application's progress, found by the application number or the permit number", content_type = "text/html"), (status = 404, description = "No match: the same answer for an unknown number, a wrong ID suffix or lookup code, and a lookup locked after 5 wrong tries (30 minutes, or until the window unlocks it)", content_type = "text/html"), (status = 429, description = "Too many look-ups from this address", content_type = "text/html")))]
pub async fn progress_lookup(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<ProgressForm>,
) -> Result<HttpResponse, PageError> {
    use crate::domain::permit::PermitStatus;
    use crate::views::progress::{Lang, pending_line, permit_ended, status_text};
    let form = form.into_inner();
    let lang = progress_lang(&req, Some(form.lang.as_str()));
    let secure = state.secure_cookies;
    let number = form.number.trim().to_uppercase();
    let t = crate::views::progress::texts(lang);
    let ip = req
        .peer_addr()
        .map(|a| a.ip())
        .unwrap_or(std::net::IpAddr::from([0, 0, 0, 0]));
    if state.progress_limiter.check_key(&ip).is_err() {
        return progress_response(
            StatusCode::TOO_MANY_REQUESTS,
            &progress_page(lang, number, Some(t.limited), None),
            false,
            secure,
        );
    }
    // Keyed limiters keep a cell per address; drop the idle ones now and then.
    if state.progress_limiter.len() > 10_000 {
        state.progress_limiter.retain_recent();
    }
    let ctx = state.ctx.clone();
    let now = ctx.clock.now();
    let (n, l4, code) = (number.clone(), form.last4.clone(), form.code.clone());
    let lock = crate::domain::lookup::LockPolicy::default();
    let found = ctx
        .db
        .clone()
        .run(move |c| progress::lookup(c, now, &ctx.policy, lock, &n, &l4, &code))
        .await?;
    let Some(progress::Progress { app, permit_status }) = found else {
        return progress_response(
            StatusCode::NOT_FOUND,
            &progress_page(lang, number, Some(t.not_found), None),
            false,
            secure,
        );
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

#[utoipa::path(get, path = "/supervisor/sla", tag = "pages", responses((status = 200, description = "Open applications against their deadlines", content_type = "text/html"), (status = 403, content_type = "text/html")))]
pub async fn sla(state: web::Data<AppState>, session: PageSession) -> Result<HttpResponse, PageError> {
    let now = state.ctx.clock.now();
    let actor = session.actor.clone();
    let policy = state.ctx.policy.clone();
    let view = state
        .ctx
        .db
        .run(move |c| crate::service::sla::view(c, now, &actor, &policy, 8))
        .await?;
    Ok(html(
        StatusCode::OK,
        &SlaPage {
            nav: session.nav(),
            view,
            policy: state.ctx.policy.clone(),
        },
    ))
}

#[derive(Deserialize)]
pub struct YearQuery {
    year: Option<i32>,
}

async fn calendar_page(
    state: &AppState,
    session: &PageSession,
    year: i32,
    errors: Vec<FieldError>,
    notice: Option<String>,
    form: CalendarFormValues,
) -> Result<CalendarPage, PageError> {
    authorize(&session.actor, Action::EditCalendar)?;
    let year = year.clamp(2000, 2100);
    let view = state
        .ctx
        .db
        .run(move |c| crate::service::calendar::year(c, year))
        .await?;
    Ok(CalendarPage {
        nav: session.nav(),
        year,
        view,
        errors,
        notice,
        form,
    })
}

#[utoipa::path(get, path = "/admin/calendar", tag = "pages", params(("year" = Option<i32>, Query)), responses((status = 200, description = "The calendar's exceptions for a year", content_type = "text/html")))]
pub async fn calendar(
    state: web::Data<AppState>,
    session: PageSession,
    q: web::Query<YearQuery>,
) -> Result<HttpResponse, PageError> {
    use chrono::Datelike;
    let year = q.year.unwrap_or_else(|| local(state.ctx.clock.now()).year());
    Ok(html(
        StatusCode::OK,
        &calendar_page(&state, &session, year, Vec::new(), None, CalendarFormValues::default()).await?,
    ))
}

#[derive(Deserialize)]
pub struct CalendarForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    name: String,
    /// The "确认替换" checkbox, present only when a save would replace an existing day.
    #[serde(default)]
    confirm: Option<String>,
}

#[utoipa::path(post, path = "/admin/calendar", tag = "pages", responses((status = 200, description = "Saved; the year redisplayed", content_type = "text/html"), (status = 422, description = "Refused, or a day would be replaced: the form redisplayed with the reason (and a confirmation box)", content_type = "text/html")))]
pub async fn calendar_set(
    state: web::Data<AppState>,
    session: PageSession,
    form: web::Form<CalendarForm>,
) -> Result<HttpResponse, PageError> {
    use chrono::Datelike;
    session.check_csrf(&form.csrf)?;
    let form = form.into_inner();
    let now = state.ctx.clock.now();
    let actor = session.actor.clone();
    let (d, k, n) = (form.date.clone(), form.kind.clone(), form.name.clone());
    let confirm = form.confirm.is_some();
    let year = chrono::NaiveDate::parse_from_str(form.date.trim(), "%Y-%m-%d")
        .map(|x| x.year())
        .unwrap_or_else(|_| local(now).year());
    match state
        .ctx
        .db
        .run(move |c| crate::service::calendar::set_day(c, now, &actor, &d, Some(&k), Some(&n), confirm))
        .await
    {
        Ok(e) => Ok(html(
            StatusCode::OK,
            &calendar_page(
                &state,
                &session,
                e.date.year(),
                Vec::new(),
                Some(format!(
                    "已保存 saved: {}（{}）{}：{}",
                    e.date,
                    crate::domain::calendar::weekday_zh(e.date),
                    e.kind.zh(),
                    e.name
                )),
                CalendarFormValues::default(),
            )
            .await?,
        )),
        Err(Error::Domain(DomainError::Validation(errs))) => Ok(html(
            StatusCode::UNPROCESSABLE_ENTITY,
            &calendar_page(
                &state,
                &session,
                year,
                errs.0,
                None,
                CalendarFormValues {
                    date: form.date,
                    kind: form.kind,
                    name: form.name,
                    pending_remove: None,
                },
            )
            .await?,
        )),
        Err(e) => Err(e.into()),
    }
}

#[utoipa::path(post, path = "/admin/calendar/remove", tag = "pages", responses((status = 200, description = "Removed; the year redisplayed", content_type = "text/html"), (status = 422, description = "A published day: the page asks to confirm", content_type = "text/html")))]
pub async fn calendar_remove(
    state: web::Data<AppState>,
    session: PageSession,
    form: web::Form<CalendarForm>,
) -> Result<HttpResponse, PageError> {
    use chrono::Datelike;
    session.check_csrf(&form.csrf)?;
    let now = state.ctx.clock.now();
    let actor = session.actor.clone();
    let d = form.date.clone();
    let confirm = form.confirm.is_some();
    let year = chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d")
        .map(|x| x.year())
        .unwrap_or_else(|_| local(now).year());
    match state
        .ctx
        .db
        .run(move |c| crate::service::calendar::remove_day(c, now, &actor, &d, confirm))
        .await
    {
        Ok(()) => {}
        Err(Error::Domain(DomainError::Validation(errs))) => {
            return Ok(html(
                StatusCode::UNPROCESSABLE_ENTITY,
                &calendar_page(
                    &state,
                    &session,
                    year,
                    errs.0,
                    None,
                    CalendarFormValues {
                        pending_remove: Some(form.date.clone()),
                        ..CalendarFormValues::default()
                    },
                )
                .await?,
            ));
        }
        Err(e) => return Err(e.into()),
    }
    Ok(html(
        StatusCode::OK,
        &calendar_page(
            &state,
            &session,
            year,
            Vec::new(),
            Some(format!("已删除 removed: {}", form.date)),
            CalendarFormValues::default(),
        )
        .await?,
    ))
}

#[utoipa::path(get, path = "/desk/applications/{id}/notice", tag = "pages", params(("id" = String, Path)), responses((status = 200, description = "一次性告知书 as a page", content_type = "text/html"), (status = 409, description = "Nothing is missing", content_type = "text/html")))]
pub async fn notice(
    state: web::Data<AppState>,
    session: PageSession,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let ctx = state.ctx.clone();
    let now = ctx.clock.now();
    let id = id.into_inner();
    let app_id = id.clone();
    let actor = session.actor.clone();
    let app = ctx
        .db
        .clone()
        .run(move |c| applications::read(c, &actor, &app_id, now, &ctx.policy))
        .await?;
    let notice = super::notice_model(&state.ctx.policy, &app)?;
    Ok(html(
        StatusCode::OK,
        &NoticePage {
            nav: session.nav(),
            office_en: words::office(&state.ctx.policy, &app.office).en,
            id,
            notice,
        },
    ))
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
    authorize(&session.actor, Action::Scan)?;
    let l = lane.clone();
    let rows = if crate::domain::validation::plausible_key(&l) {
        state
            .ctx
            .db
            .run(move |c| crate::service::checkpoint::recent(c, &l, 10))
            .await?
    } else {
        Vec::new()
    };
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

#[utoipa::path(get, path = "/checkpoint", tag = "pages", params(("lane" = Option<String>, Query), ("direction" = Option<String>, Query)), responses((status = 200, description = "The scan page for checkpoint staff", content_type = "text/html")))]
pub async fn checkpoint(
    state: web::Data<AppState>,
    session: PageSession,
    q: web::Query<LaneQuery>,
) -> Result<HttpResponse, PageError> {
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

#[derive(Deserialize)]
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

#[utoipa::path(post, path = "/checkpoint", tag = "pages", responses(
    (status = 200, description = "The verdict, large, with holder and vehicle; as the API's scan answer (JSON) when the request accepts application/json", content_type = "text/html"),
    (status = 422, description = "Lane, direction or code missing or malformed: the page with the messages, or problem+json", content_type = "text/html"),
))]
pub async fn checkpoint_scan(
    state: web::Data<AppState>,
    session: PageSession,
    req: HttpRequest,
    form: web::Form<ScanForm>,
) -> Result<HttpResponse, PageError> {
    session.check_csrf(&form.csrf)?;
    let form = form.into_inner();
    let json = wants_json(&req);
    let scanned = crate::service::checkpoint::scan(
        &state.ctx,
        session.actor.clone(),
        Some(&form.code),
        Some(&form.lane),
        Some(&form.direction),
    )
    .await;
    let out = match scanned {
        Ok(out) => out,
        Err(e @ Error::Domain(DomainError::Validation(_))) if json => {
            return Ok(super::error::ApiError::from(e).error_response());
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
#[utoipa::path(get, path = "/static/checkpoint.js", tag = "pages", responses((status = 200, description = "Scan page script", content_type = "application/javascript")))]
pub async fn checkpoint_js() -> HttpResponse {
    asset(JS, "no-cache", include_str!("../../templates/static/checkpoint.js"))
}

/// The QR decoder for camera scanning where the browser has no `BarcodeDetector` (jsQR,
/// Apache-2.0, vendored unchanged with its notice). The version is in the path, so it is cached
/// for a year; the scan page loads it only when the camera is used.
#[utoipa::path(get, path = "/static/jsqr-1.4.0.js", tag = "pages", responses((status = 200, description = "jsQR 1.4.0, the scan page's QR decoder", content_type = "application/javascript")))]
pub async fn jsqr_js() -> HttpResponse {
    asset(
        JS,
        "public, max-age=31536000, immutable",
        include_str!("../../templates/static/jsqr-1.4.0.js"),
    )
}

/// jsQR's licence, as its notice asks.
#[utoipa::path(get, path = "/static/jsqr-1.4.0.LICENSE.txt", tag = "pages", responses((status = 200, description = "The Apache License 2.0 of jsQR", content_type = "text/plain")))]
pub async fn jsqr_license() -> HttpResponse {
    asset(
        ContentType::plaintext(),
        "public, max-age=31536000, immutable",
        include_str!("../../templates/static/jsqr-1.4.0.LICENSE.txt"),
    )
}

#[utoipa::path(post, path = "/checkpoint/upload", tag = "pages", request_body = super::api::UploadRequest, responses(
    (status = 200, description = "Crossings decided offline by the scan page, recorded once", body = crate::service::checkpoint::UploadOut),
    (status = 400, description = "Malformed JSON", body = super::error::Problem),
    (status = 413, description = "Body over the limit", body = super::error::Problem),
    (status = 415, description = "Not application/json", body = super::error::Problem),
    (status = 422, description = "A field missing, unknown, of the wrong type or breaking the text rule, each named", body = super::error::Problem),
))]
pub async fn checkpoint_upload(
    state: web::Data<AppState>,
    session: PageSession,
    req: HttpRequest,
    body: super::extract::JsonBody<super::api::UploadRequest>,
) -> Result<HttpResponse, PageError> {
    let sent = req
        .headers()
        .get("X-CSRF-Token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    session.check_csrf(sent)?;
    let ctx = state.ctx.clone();
    let actor = session.actor.clone();
    let items = body.0.crossings;
    let out = ctx
        .db
        .clone()
        .run(move |c| crate::service::checkpoint::upload(c, &actor, &ctx.keys, &items))
        .await?;
    Ok(HttpResponse::Ok().json(out))
}

/// The desk form's script: shows the fields of the chosen kind, and fills birth date and sex
/// from a resident ID number as it is typed. Served by the app like the scan page's script.
#[utoipa::path(get, path = "/static/desk.js", tag = "pages", responses((status = 200, description = "Desk form script", content_type = "application/javascript")))]
pub async fn desk_js() -> HttpResponse {
    asset(JS, "no-cache", include_str!("../../templates/static/desk.js"))
}
