//! The drivers' own API: sign-in by a mailed code, their profile and their vehicles. A driver's
//! bearer token is a driver session (not an officer's token): it reaches only these routes and
//! only the driver's own records.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, HttpResponse, delete, get, post, put, web};
use futures_util::future::LocalBoxFuture;
use serde::Deserialize;
use utoipa_actix_web::service_config::ServiceConfig;

use super::Reply;
use crate::error::Error;
use crate::http::error::{ApiError, Problem};
use crate::http::extract::JsonBody;
use crate::http::{AppState, State};
use crate::service::drivers::{CodeSent, Driver, Profile, ProfileInput, SignedIn, Vehicle, VehicleInput};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(request_code)
        .service(sign_in)
        .service(sign_out)
        .service(get_profile)
        .service(put_profile)
        .service(list_vehicles)
        .service(add_vehicle)
        .service(remove_vehicle);
}

/// The signed-in driver behind `Authorization: Bearer <token>` (401 otherwise), with the token.
pub struct DriverBearer(pub Driver, pub String);

impl FromRequest for DriverBearer {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = crate::http::extract::bearer(req);
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::App(Error::Internal("app state missing".into())))?;
            let token = token.ok_or(ApiError::Unauthenticated)?;
            let driver = state.ctx.driver_session(token.clone()).await?;
            driver.map(|d| DriverBearer(d, token)).ok_or(ApiError::Unauthenticated)
        })
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CodeRequest {
    /// Where the code is sent; also the account's name.
    #[schema(max_length = 254)]
    pub email: String,
    /// The mail's language: zh, vi or en.
    #[schema(pattern = "^(zh|vi|en)$")]
    pub lang: String,
}

#[utoipa::path(
    tag = "drivers",
    request_body = CodeRequest,
    responses(
        (status = 202, description = "A 6-digit code is mailed, valid 10 minutes; earlier codes stop working. The same answer whether or not the address has an account", body = CodeSent),
        (status = 429, description = "Too many codes for this address (`codes_per_email`) or from this client (`codes_per_client`) in the last hour; Retry-After says when to try again", body = Problem,
            headers(("Retry-After" = u32, description = "Seconds to wait")))
    )
)]
#[post("/api/v1/driver/codes")]
pub async fn request_code(state: State, req: HttpRequest, body: JsonBody<CodeRequest>) -> Reply {
    let CodeRequest { email, lang } = body.0;
    let sent = state.ctx.driver_request_code(email, lang, state.client(&req)).await?;
    Ok(HttpResponse::Accepted().json(sent))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SignInRequest {
    #[schema(max_length = 254)]
    pub email: String,
    /// The 6 digits from the mail.
    #[schema(max_length = 20)]
    pub code: String,
    /// The language of a new account and of these messages (an account's own language wins).
    #[schema(pattern = "^(zh|vi|en)$")]
    pub lang: Option<String>,
}

#[utoipa::path(
    tag = "drivers",
    request_body = SignInRequest,
    responses(
        (status = 201, description = "Signed in (the account is created on the first sign-in): the bearer token for the driver API", body = SignedIn),
        (status = 422, description = "Field `code`, rule `format`, `wrong` (attempts left), `expired`, `used`, `unknown` (no live code) or `too_many_attempts` (5 wrong: ask for a new code); nothing changes but the code's attempt count", body = Problem),
        (status = 429, description = "Too many wrong codes from this client in the last hour (`failures_per_client`)", body = Problem,
            headers(("Retry-After" = u32, description = "Seconds to wait")))
    )
)]
#[post("/api/v1/driver/sessions")]
pub async fn sign_in(state: State, req: HttpRequest, body: JsonBody<SignInRequest>) -> Reply {
    let SignInRequest { email, code, lang } = body.0;
    let signed = state.ctx.driver_sign_in(email, code, lang, state.client(&req)).await?;
    Ok(HttpResponse::Created().json(signed))
}

#[utoipa::path(
    tag = "drivers",
    responses((status = 204, description = "Signed out: the token no longer works")),
    security(("bearer" = []))
)]
#[delete("/api/v1/driver/sessions/current")]
pub async fn sign_out(state: State, driver: DriverBearer) -> Reply {
    state.ctx.driver_sign_out(driver.1).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(
    tag = "drivers",
    responses((status = 200, description = "The driver's own profile (their ID number in full: nobody else sees it unmasked)", body = Profile)),
    security(("bearer" = []))
)]
#[get("/api/v1/driver/profile")]
pub async fn get_profile(state: State, driver: DriverBearer) -> Reply {
    Ok(HttpResponse::Ok().json(state.ctx.driver_profile(driver.0).await?))
}

#[utoipa::path(
    tag = "drivers",
    request_body = ProfileInput,
    responses(
        (status = 200, description = "Saved", body = Profile),
        (status = 422, description = "Every field that broke a rule, in the driver's language: names, nationality, `id_number` (format, check character, `taken` by another account), `phone`, `trade_pass` (`unknown`, `not_holder`, `not_in_force`, `chn_only`)", body = Problem)
    ),
    security(("bearer" = []))
)]
#[put("/api/v1/driver/profile")]
pub async fn put_profile(state: State, driver: DriverBearer, body: JsonBody<ProfileInput>) -> Reply {
    Ok(HttpResponse::Ok().json(state.ctx.driver_update_profile(driver.0, body.0).await?))
}

#[utoipa::path(
    tag = "drivers",
    responses((status = 200, description = "The driver's vehicles (removed ones left out)", body = [Vehicle])),
    security(("bearer" = []))
)]
#[get("/api/v1/driver/vehicles")]
pub async fn list_vehicles(state: State, driver: DriverBearer) -> Reply {
    Ok(HttpResponse::Ok().json(state.ctx.driver_vehicles(driver.0).await?))
}

#[utoipa::path(
    tag = "drivers",
    request_body = VehicleInput,
    responses(
        (status = 201, description = "Added", body = Vehicle),
        (status = 422, description = "`plate` or `trailer_plate`: not a Chinese or Vietnamese plate (`plate_format`, `vn_province`, `vn_series`, `vn_serial`), `duplicate`, `max_vehicles` (5); `vehicle_type`: `one_of`", body = Problem)
    ),
    security(("bearer" = []))
)]
#[post("/api/v1/driver/vehicles")]
pub async fn add_vehicle(state: State, driver: DriverBearer, body: JsonBody<VehicleInput>) -> Reply {
    let v = state.ctx.driver_add_vehicle(driver.0, body.0).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/driver/vehicles/{}", v.id)))
        .json(v))
}

#[utoipa::path(
    tag = "drivers",
    params(("id" = String, Path, description = "The vehicle's id")),
    responses((status = 204, description = "Removed from the driver's list (kept for the record)")),
    security(("bearer" = []))
)]
#[delete("/api/v1/driver/vehicles/{id}")]
pub async fn remove_vehicle(state: State, driver: DriverBearer, id: web::Path<String>) -> Reply {
    state.ctx.driver_remove_vehicle(driver.0, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
