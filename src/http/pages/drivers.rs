//! The drivers' phone pages: sign-in by a mailed code, home, profile and vehicles, in the
//! driver's language (chosen with the switcher: a cookie before sign-in, the driver's row
//! after). Plain forms, no script needed. Each handler extracts, calls one entry point on
//! `service::Ctx` and renders; a refused form is shown again with the messages.

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, HttpResponse, get, post, web};
use futures_util::future::LocalBoxFuture;
use serde::Deserialize;
use utoipa_actix_web::service_config::ServiceConfig;

use super::{Page, PageError, check_origin, html, redirect};
use crate::domain::DomainError;
use crate::error::Error;
use crate::http::{AppState, State};
use crate::service::accounts::random_secret;
use crate::service::drivers::{Driver, ProfileInput, VehicleInput};
use crate::views::drivers::*;
use crate::views::progress::Lang;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(start_form)
        .service(start)
        .service(code_form)
        .service(code)
        .service(home)
        .service(profile_form)
        .service(profile_save)
        .service(vehicles_page)
        .service(vehicle_add)
        .service(vehicle_remove)
        .service(sign_out)
        .service(set_lang);
}

/// The driver's session token (as the API's bearer token), for the driver pages only.
pub(crate) const DRIVER_COOKIE: &str = "bd_driver";
/// The language chosen before sign-in.
const LANG_COOKIE: &str = "bd_driver_lang";
/// The double-submit token of the sign-in forms (no session yet to tie one to).
const CSRF_COOKIE: &str = "bd_driver_csrf";
/// The address a code was just sent to, for the code form.
const EMAIL_COOKIE: &str = "bd_driver_email";
const PATH: &str = "/driver";

fn cookie<'c>(name: &'c str, value: String, secure: bool) -> actix_web::cookie::CookieBuilder<'c> {
    Cookie::build(name, value)
        .path(PATH)
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Strict)
}

fn gone(name: &str) -> Cookie<'_> {
    let mut c = Cookie::build(name, "").path(PATH).finish();
    c.make_removal();
    c
}

/// A signed-in driver on a page: no live session sends them to `/driver`.
pub struct DriverPage {
    pub driver: Driver,
    pub token: String,
}

impl DriverPage {
    /// The form's token against the session's: None when it matches, else the page telling a
    /// stale form in the driver's language.
    pub(super) fn stale_form(&self, sent: &str) -> Option<HttpResponse> {
        same_token(sent, &self.driver.csrf)
            .err()
            .map(|_| expired(self.driver.lang, Some(self.driver.csrf.clone())))
    }

    pub(super) fn frame(&self, here: &'static str) -> Frame {
        Frame::new(self.driver.lang, Some(self.driver.csrf.clone()), here)
    }
}

/// Constant-time comparison, as the officers' form token.
fn same_token(sent: &str, expected: &str) -> Result<(), PageError> {
    use sha2::{Digest, Sha256};
    let (a, b) = (Sha256::digest(sent.as_bytes()), Sha256::digest(expected.as_bytes()));
    if !expected.is_empty() && a.iter().zip(b.iter()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0 {
        Ok(())
    } else {
        Err(PageError::Csrf)
    }
}

impl FromRequest for DriverPage {
    type Error = PageError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let origin = match (req.method().is_safe(), &state) {
            (false, Some(s)) => check_origin(req, s.public_origin.as_ref()),
            _ => Ok(()),
        };
        let token = req.cookie(DRIVER_COOKIE).map(|c| c.value().to_string());
        Box::pin(async move {
            origin?;
            let state = state.ok_or_else(|| PageError::App(Error::Internal("app state missing".into())))?;
            let token = token.ok_or(PageError::DriverSignIn)?;
            let driver = state.ctx.driver_session(token.clone()).await?;
            let driver = driver.ok_or(PageError::DriverSignIn)?;
            Ok(DriverPage { driver, token })
        })
    }
}

#[derive(Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
}

/// Before sign-in: the switcher's choice, else the remembered one, else Accept-Language.
fn public_lang(req: &HttpRequest, chosen: Option<&str>) -> Lang {
    let remembered = req.cookie(LANG_COOKIE).map(|c| c.value().to_string());
    let accept = req.headers().get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
    Lang::choose(
        chosen
            .filter(|c| Lang::from_code(c).is_some())
            .or(remembered.as_deref()),
        accept,
    )
}

/// The sign-in forms' token: the one the browser holds, or a new one.
fn form_token(req: &HttpRequest) -> Result<String, PageError> {
    match req.cookie(CSRF_COOKIE).map(|c| c.value().to_string()) {
        Some(t) if t.len() >= 32 => Ok(t),
        _ => Ok(random_secret("")?),
    }
}

/// A sign-in page with its cookies: the form token, and the language when one was chosen.
fn public_page(
    state: &AppState,
    status: StatusCode,
    page: &impl askama::Template,
    csrf: &str,
    chosen: Option<Lang>,
) -> Page {
    let mut res = html(status, page);
    let secure = state.secure_cookies;
    res.add_cookie(&cookie(CSRF_COOKIE, csrf.to_string(), secure).finish())
        .map_err(Error::internal)?;
    if let Some(lang) = chosen {
        let c = cookie(LANG_COOKIE, lang.code().to_string(), secure)
            .same_site(SameSite::Lax)
            .max_age(CookieDuration::days(365))
            .finish();
        res.add_cookie(&c).map_err(Error::internal)?;
    }
    res.headers_mut().insert(
        header::VARY,
        header::HeaderValue::from_static("Accept-Language, Cookie"),
    );
    Ok(res)
}

/// A refused form's one message and status, or the error itself when it is not the driver's to fix.
fn refusal(e: Error) -> Result<(StatusCode, String, Option<u32>), PageError> {
    match e {
        Error::Domain(DomainError::Validation(errs)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            errs.0.iter().map(|e| e.message.clone()).collect::<Vec<_>>().join(" "),
            None,
        )),
        Error::Domain(DomainError::TooMany {
            message,
            retry_after_seconds,
            ..
        }) => Ok((StatusCode::TOO_MANY_REQUESTS, message, Some(retry_after_seconds))),
        other => Err(other.into()),
    }
}

/// A form whose token does not match (an old tab, a page kept too long): what to do next.
fn expired(lang: Lang, csrf: Option<String>) -> HttpResponse {
    let t = texts(lang);
    let signed_in = csrf.is_some();
    html(
        StatusCode::FORBIDDEN,
        &DriverErrorPage {
            f: Frame::new(lang, csrf, "/driver/home"),
            title: t.expired_title,
            detail: t.expired_detail,
            back: if signed_in { "/driver/home" } else { "/driver" },
            back_words: if signed_in { t.back_home } else { t.start_again },
        },
    )
}

fn with_retry(mut res: HttpResponse, retry: Option<u32>) -> HttpResponse {
    if let Some(secs) = retry {
        res.headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from(secs.max(1)));
    }
    res
}

#[utoipa::path(tag = "public", params(("lang" = Option<String>, Query, description = "zh, vi or en: the reader's choice, remembered in a cookie")), responses((status = 200, description = "Driver sign-in: e-mail and language", content_type = "text/html"), (status = 303, description = "Already signed in: to /driver/home")))]
#[get("/driver")]
pub async fn start_form(state: State, req: HttpRequest, q: web::Query<LangQuery>) -> Page {
    if let Some(token) = req.cookie(DRIVER_COOKIE).map(|c| c.value().to_string())
        && state.ctx.driver_session(token).await?.is_some()
    {
        return Ok(redirect("/driver/home"));
    }
    let chosen = q.lang.as_deref().and_then(Lang::from_code);
    let lang = public_lang(&req, q.lang.as_deref());
    let csrf = form_token(&req)?;
    let page = DriverStartPage {
        f: Frame::new(lang, None, "/driver"),
        csrf: csrf.clone(),
        email: String::new(),
        message: None,
    };
    public_page(&state, StatusCode::OK, &page, &csrf, chosen)
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct StartForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    lang: String,
}

#[utoipa::path(tag = "public", request_body(content = StartForm, content_type = "application/x-www-form-urlencoded"), responses((status = 303, description = "Code mailed: to /driver/code"), (status = 403, description = "The form expired or came from another site", content_type = "text/html"), (status = 422, description = "Not an e-mail address: the form again with the message", content_type = "text/html"), (status = 429, description = "Too many codes for this address or from this network: the form again, with Retry-After", content_type = "text/html")))]
#[post("/driver")]
pub async fn start(state: State, req: HttpRequest, form: web::Form<StartForm>) -> Page {
    check_origin(&req, state.public_origin.as_ref())?;
    let form = form.into_inner();
    let held = req
        .cookie(CSRF_COOKIE)
        .map(|c| c.value().to_string())
        .unwrap_or_default();
    let lang = public_lang(&req, Some(&form.lang));
    if same_token(&form.csrf, &held).is_err() {
        return Ok(expired(lang, None));
    }
    let email = form.email.trim().to_string();
    match state
        .ctx
        .driver_request_code(email.clone(), lang.code().into(), state.client(&req))
        .await
    {
        Ok(_) => {
            let mut res = redirect("/driver/code");
            let secure = state.secure_cookies;
            res.add_cookie(
                &cookie(EMAIL_COOKIE, email.to_lowercase(), secure)
                    .max_age(CookieDuration::minutes(15))
                    .finish(),
            )
            .map_err(Error::internal)?;
            res.add_cookie(
                &cookie(LANG_COOKIE, lang.code().to_string(), secure)
                    .same_site(SameSite::Lax)
                    .max_age(CookieDuration::days(365))
                    .finish(),
            )
            .map_err(Error::internal)?;
            Ok(res)
        }
        Err(e) => {
            let (status, message, retry) = refusal(e)?;
            let page = DriverStartPage {
                f: Frame::new(lang, None, "/driver"),
                csrf: held.clone(),
                email,
                message: Some(message),
            };
            Ok(with_retry(public_page(&state, status, &page, &held, None)?, retry))
        }
    }
}

#[utoipa::path(tag = "public", params(("lang" = Option<String>, Query, description = "zh, vi or en")), responses((status = 200, description = "Enter the code mailed to the address just given", content_type = "text/html"), (status = 303, description = "No address given yet: to /driver")))]
#[get("/driver/code")]
pub async fn code_form(state: State, req: HttpRequest, q: web::Query<LangQuery>) -> Page {
    let Some(email) = req.cookie(EMAIL_COOKIE).map(|c| c.value().to_string()) else {
        return Ok(redirect("/driver"));
    };
    let chosen = q.lang.as_deref().and_then(Lang::from_code);
    let lang = public_lang(&req, q.lang.as_deref());
    let csrf = form_token(&req)?;
    let page = DriverCodePage {
        f: Frame::new(lang, None, "/driver/code"),
        csrf: csrf.clone(),
        email,
        message: None,
    };
    public_page(&state, StatusCode::OK, &page, &csrf, chosen)
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct CodeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    code: String,
}

#[utoipa::path(tag = "public", request_body(content = CodeForm, content_type = "application/x-www-form-urlencoded"), responses((status = 303, description = "Signed in: to /driver/home, with the session cookie"), (status = 403, description = "The form expired or came from another site", content_type = "text/html"), (status = 422, description = "Wrong, expired or used code, or too many tries: the form again with the message", content_type = "text/html"), (status = 429, description = "Too many wrong codes from this network: the form again, with Retry-After", content_type = "text/html")))]
#[post("/driver/code")]
pub async fn code(state: State, req: HttpRequest, form: web::Form<CodeForm>) -> Page {
    check_origin(&req, state.public_origin.as_ref())?;
    let form = form.into_inner();
    let held = req
        .cookie(CSRF_COOKIE)
        .map(|c| c.value().to_string())
        .unwrap_or_default();
    let lang = public_lang(&req, None);
    if same_token(&form.csrf, &held).is_err() {
        return Ok(expired(lang, None));
    }
    match state
        .ctx
        .driver_sign_in(
            form.email.clone(),
            form.code,
            Some(lang.code().into()),
            state.client(&req),
        )
        .await
    {
        Ok(signed) => {
            let mut res = redirect("/driver/home");
            let age = CookieDuration::seconds(state.driver_session_ttl.num_seconds());
            res.add_cookie(
                &cookie(DRIVER_COOKIE, signed.token, state.secure_cookies)
                    .max_age(age)
                    .finish(),
            )
            .map_err(Error::internal)?;
            res.add_cookie(&gone(EMAIL_COOKIE)).map_err(Error::internal)?;
            Ok(res)
        }
        Err(e) => {
            let (status, message, retry) = refusal(e)?;
            let page = DriverCodePage {
                f: Frame::new(lang, None, "/driver/code"),
                csrf: held.clone(),
                email: form.email,
                message: Some(message),
            };
            Ok(with_retry(public_page(&state, status, &page, &held, None)?, retry))
        }
    }
}

#[utoipa::path(tag = "pages", responses((status = 200, description = "The driver's page: profile, vehicles, bookings", content_type = "text/html")))]
#[get("/driver/home")]
pub async fn home(state: State, page: DriverPage) -> Page {
    let lang = page.driver.lang;
    let (profile, vehicles) = state.ctx.driver_home(page.driver.clone()).await?;
    let t = texts(lang);
    Ok(html(
        StatusCode::OK,
        &DriverHomePage {
            id_type: id_type_words(t, profile.id_type),
            f: page.frame("/driver/home"),
            profile,
            vehicles: vehicles.iter().map(|v| VehicleLine::new(v, lang)).collect(),
        },
    ))
}

#[utoipa::path(tag = "pages", responses((status = 200, description = "The profile form", content_type = "text/html")))]
#[get("/driver/profile")]
pub async fn profile_form(state: State, page: DriverPage) -> Page {
    let p = state.ctx.driver_profile(page.driver.clone()).await?;
    let v = ProfileValues {
        name_zh: p.name_zh.unwrap_or_default(),
        name_latin: p.name_latin.unwrap_or_default(),
        nationality: p.nationality.unwrap_or_default(),
        id_type: p.id_type.map(|t| t.as_str().to_string()).unwrap_or_default(),
        id_number: p.id_number.unwrap_or_default(),
        phone: p.phone.unwrap_or_default(),
        trade_pass: p.trade_pass.unwrap_or_default(),
    };
    Ok(html(
        StatusCode::OK,
        &DriverProfilePage {
            f: page.frame("/driver/profile"),
            v,
            problems: Problems::default(),
        },
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ProfileForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name_zh: String,
    #[serde(default)]
    name_latin: String,
    #[serde(default)]
    nationality: String,
    #[serde(default)]
    id_type: String,
    #[serde(default)]
    id_number: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    trade_pass: String,
}

#[utoipa::path(tag = "pages", request_body(content = ProfileForm, content_type = "application/x-www-form-urlencoded"), responses((status = 303, description = "Saved: to /driver/home"), (status = 422, description = "The form again, each message beside its field in the driver's language", content_type = "text/html")))]
#[post("/driver/profile")]
pub async fn profile_save(state: State, page: DriverPage, form: web::Form<ProfileForm>) -> Page {
    let form = form.into_inner();
    if let Some(res) = page.stale_form(&form.csrf) {
        return Ok(res);
    }
    let opt = |s: &str| Some(crate::domain::validation::nfc(s).into_owned()).filter(|s| !s.trim().is_empty());
    let input = ProfileInput {
        lang: None,
        name_zh: opt(&form.name_zh),
        name_latin: opt(&form.name_latin),
        nationality: opt(&form.nationality),
        id_type: opt(&form.id_type),
        id_number: opt(&form.id_number),
        phone: opt(&form.phone),
        trade_pass: opt(&form.trade_pass),
    };
    match state.ctx.driver_update_profile(page.driver.clone(), input).await {
        Ok(_) => Ok(redirect("/driver/home")),
        Err(Error::Domain(DomainError::Validation(errs))) => Ok(html(
            StatusCode::UNPROCESSABLE_ENTITY,
            &DriverProfilePage {
                f: page.frame("/driver/profile"),
                v: ProfileValues {
                    name_zh: form.name_zh,
                    name_latin: form.name_latin,
                    nationality: form.nationality,
                    id_type: form.id_type,
                    id_number: form.id_number,
                    phone: form.phone,
                    trade_pass: form.trade_pass,
                },
                problems: Problems(errs.0),
            },
        )),
        Err(e) => Err(e.into()),
    }
}

fn vehicles_view(
    page: &DriverPage,
    vehicles: &[crate::service::drivers::Vehicle],
    input: VehicleInput,
    problems: Problems,
) -> DriverVehiclesPage {
    let lang = page.driver.lang;
    DriverVehiclesPage {
        f: page.frame("/driver/vehicles"),
        vehicles: vehicles.iter().map(|v| VehicleLine::new(v, lang)).collect(),
        plate: input.plate.unwrap_or_default(),
        trailer_plate: input.trailer_plate.unwrap_or_default(),
        vehicle_type: input.vehicle_type.unwrap_or_default(),
        types: vehicle_types(lang),
        problems,
    }
}

#[utoipa::path(tag = "pages", responses((status = 200, description = "The driver's vehicles, the form to add one", content_type = "text/html")))]
#[get("/driver/vehicles")]
pub async fn vehicles_page(state: State, page: DriverPage) -> Page {
    let vehicles = state.ctx.driver_vehicles(page.driver.clone()).await?;
    Ok(html(
        StatusCode::OK,
        &vehicles_view(&page, &vehicles, VehicleInput::default(), Problems::default()),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct VehicleForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    plate: String,
    #[serde(default)]
    trailer_plate: String,
    #[serde(default)]
    vehicle_type: String,
}

#[utoipa::path(tag = "pages", request_body(content = VehicleForm, content_type = "application/x-www-form-urlencoded"), responses((status = 303, description = "Added: to /driver/vehicles"), (status = 422, description = "The form again with the messages (plate format, duplicate, at most 5)", content_type = "text/html")))]
#[post("/driver/vehicles")]
pub async fn vehicle_add(state: State, page: DriverPage, form: web::Form<VehicleForm>) -> Page {
    let form = form.into_inner();
    if let Some(res) = page.stale_form(&form.csrf) {
        return Ok(res);
    }
    let input = VehicleInput {
        plate: Some(form.plate),
        trailer_plate: Some(form.trailer_plate),
        vehicle_type: Some(form.vehicle_type),
    };
    match state.ctx.driver_add_vehicle(page.driver.clone(), input.clone()).await {
        Ok(_) => Ok(redirect("/driver/vehicles")),
        Err(Error::Domain(DomainError::Validation(errs))) => {
            let vehicles = state.ctx.driver_vehicles(page.driver.clone()).await?;
            Ok(html(
                StatusCode::UNPROCESSABLE_ENTITY,
                &vehicles_view(&page, &vehicles, input, Problems(errs.0)),
            ))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

#[utoipa::path(tag = "pages", params(("id" = String, Path, description = "The vehicle's id")), request_body(content = CsrfOnly, content_type = "application/x-www-form-urlencoded"), responses((status = 303, description = "Removed: to /driver/vehicles")))]
#[post("/driver/vehicles/{id}/remove")]
pub async fn vehicle_remove(state: State, page: DriverPage, id: web::Path<String>, form: web::Form<CsrfOnly>) -> Page {
    if let Some(res) = page.stale_form(&form.csrf) {
        return Ok(res);
    }
    match state
        .ctx
        .driver_remove_vehicle(page.driver.clone(), id.into_inner())
        .await
    {
        Ok(()) => Ok(redirect("/driver/vehicles")),
        Err(Error::Domain(DomainError::NotFound { .. })) => {
            let t = texts(page.driver.lang);
            Ok(html(
                StatusCode::NOT_FOUND,
                &DriverErrorPage {
                    f: page.frame("/driver/vehicles"),
                    title: t.gone_title,
                    detail: t.gone_detail,
                    back: "/driver/vehicles",
                    back_words: t.vehicles,
                },
            ))
        }
        Err(e) => Err(e.into()),
    }
}

#[utoipa::path(tag = "pages", request_body(content = CsrfOnly, content_type = "application/x-www-form-urlencoded"), responses((status = 303, description = "Signed out: to /driver")))]
#[post("/driver/signout")]
pub async fn sign_out(state: State, page: DriverPage, form: web::Form<CsrfOnly>) -> Page {
    if let Some(res) = page.stale_form(&form.csrf) {
        return Ok(res);
    }
    state.ctx.driver_sign_out(page.token.clone()).await?;
    let mut res = redirect("/driver");
    res.add_cookie(&gone(DRIVER_COOKIE)).map_err(Error::internal)?;
    Ok(res)
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct LangForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    lang: String,
    #[serde(default)]
    next: String,
}

#[utoipa::path(tag = "pages", request_body(content = LangForm, content_type = "application/x-www-form-urlencoded"), responses((status = 303, description = "The language is the driver's from now on (pages and mail): back to the page")))]
#[post("/driver/lang")]
pub async fn set_lang(state: State, page: DriverPage, form: web::Form<LangForm>) -> Page {
    let form = form.into_inner();
    if let Some(res) = page.stale_form(&form.csrf) {
        return Ok(res);
    }
    let back = match form.next.as_str() {
        "/driver/profile" => "/driver/profile",
        "/driver/vehicles" => "/driver/vehicles",
        _ => "/driver/home",
    };
    let Some(lang) = Lang::from_code(&form.lang) else {
        return Ok(redirect(back));
    };
    state.ctx.driver_set_lang(page.driver.clone(), lang).await?;
    let mut res = redirect(back);
    res.add_cookie(
        &cookie(LANG_COOKIE, lang.code().to_string(), state.secure_cookies)
            .same_site(SameSite::Lax)
            .max_age(CookieDuration::days(365))
            .finish(),
    )
    .map_err(Error::internal)?;
    Ok(res)
}
