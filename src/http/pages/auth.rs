//! Signing in and out, and the landing page that sends each role to its work.

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::Deserialize;
use utoipa_actix_web::service_config::ServiceConfig;

use super::{CsrfForm, LOGIN_CSRF_COOKIE, Page, PageError, PageSession, check_origin, html, redirect, safe_next};
use crate::error::Error;
use crate::http::State;
use crate::http::extract::SESSION_COOKIE;
use crate::service::accounts::{self, LoginOutcome};
use crate::views::*;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(index).service(login_form).service(login).service(logout);
}

#[utoipa::path(tag = "pages", responses((status = 303, description = "To where the role's work is: officer /desk, supervisor /supervisor/sla (approvals and deadlines), admin /admin/calendar, checkpoint /checkpoint")))]
#[get("/")]
pub async fn index(session: PageSession) -> HttpResponse {
    redirect(landing(session.actor.role))
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

#[utoipa::path(tag = "public", responses((status = 200, description = "Login form", content_type = "text/html")))]
#[get("/login")]
pub async fn login_form(state: State, query: web::Query<NextQuery>) -> Page {
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

#[derive(Deserialize, utoipa::ToSchema)]
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

#[utoipa::path(tag = "public", responses((status = 303, description = "Logged in"), (status = 401, description = "Wrong username or password", content_type = "text/html"), (status = 403, description = "The form expired (CSRF) or came from another site", content_type = "text/html"), (status = 429, description = "Too many failed logins from this address or for this username: the form says how long to wait", content_type = "text/html")))]
#[post("/login")]
pub async fn login(state: State, req: HttpRequest, form: web::Form<LoginForm>) -> Page {
    let form = form.into_inner();
    check_origin(&req, state.public_origin.as_ref())?;
    // Double-submit check: a cross-site form cannot read or set our cookie.
    let cookie = req.cookie(LOGIN_CSRF_COOKIE).map(|c| c.value().to_string());
    if cookie.as_deref() != Some(form.csrf.as_str()) || form.csrf.is_empty() {
        return Err(PageError::Csrf);
    }
    let address = state.client(&req);
    let ttl = state.session_ttl;
    let outcome = state
        .ctx
        .login(address, form.username.clone(), form.password, ttl)
        .await?;
    let refused = |status, error: String| {
        html(
            status,
            &LoginPage {
                nav: None,
                error: Some(error),
                username: form.username.clone(),
                csrf: form.csrf.clone(),
                next: safe_next(&form.next),
            },
        )
    };
    let secret = match outcome {
        LoginOutcome::Opened(secret) => secret,
        LoginOutcome::Wait(wait) => {
            let secs = wait.num_seconds().max(1);
            return Ok(refused(
                StatusCode::TOO_MANY_REQUESTS,
                format!("尝试次数过多，请 {secs} 秒后再试 / too many attempts: try again in {secs} seconds"),
            ));
        }
        LoginOutcome::Refused => {
            return Ok(refused(
                StatusCode::UNAUTHORIZED,
                "用户名或密码错误，或账户已停用 / wrong username or password, or the account is disabled".into(),
            ));
        }
    };
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

#[utoipa::path(tag = "pages", responses((status = 303, description = "Logged out")))]
#[post("/logout")]
pub async fn logout(state: State, session: PageSession, form: web::Form<CsrfForm>) -> Page {
    session.check_csrf(&form.csrf)?;
    state.ctx.logout(session.secret.clone()).await?;
    let mut res = redirect("/login");
    let mut gone = Cookie::build(SESSION_COOKIE, "").path("/").finish();
    gone.make_removal();
    res.add_cookie(&gone).map_err(Error::internal)?;
    Ok(res)
}
