//! The HTTP surface: routes, shared state, and the mapping from requests to use cases.

pub mod api;
pub mod error;
pub mod extract;
pub mod openapi;
pub mod ops;
pub mod pages;

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use openapi::Truth;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

use crate::domain::local;
use crate::domain::policy::Policy;
use crate::error::Error;
use crate::print::PermitPrint;
use crate::service::Ctx;
use crate::service::permits::PermitRecord;

/// Counters beyond the per-route request metrics.
#[derive(Clone)]
pub struct Metrics {
    pub permits_issued: prometheus::IntCounter,
    /// Checkpoint scans by verdict and reason code.
    pub scans: prometheus::IntCounterVec,
}

impl Metrics {
    /// Counts a verdict, whichever route (API or scan page) asked for it.
    pub fn count_scan(&self, out: &crate::service::checkpoint::ScanOut) {
        self.scans.with_label_values(&[out.verdict, out.reason.as_str()]).inc();
    }
}

/// Per-worker state: the use-case context and HTTP settings.
pub struct AppState {
    pub ctx: Ctx,
    pub metrics: Metrics,
    pub session_ttl: chrono::Duration,
    pub secure_cookies: bool,
    /// Seconds before the scan page clears a verdict (0 = never).
    pub verdict_clear_seconds: u32,
    /// Per-address limit on the public progress query, against guessing ID suffixes.
    pub progress_limiter: governor::DefaultKeyedRateLimiter<std::net::IpAddr>,
    /// Failed logins per address and per username-and-address (in memory, per instance).
    pub login_throttle: crate::service::accounts::LoginThrottle,
    /// The origin forms must come from (`BORDERDESK_PUBLIC_ORIGIN`); None: the request's Host.
    pub public_origin: Option<url::Origin>,
    /// Photos being normalised at once (see `Settings::portrait_slots`).
    pub portrait_slots: std::sync::Arc<tokio::sync::Semaphore>,
    /// Who may read `/metrics`, and the registry it shows.
    pub metrics_access: ops::MetricsAccess,
}

#[derive(OpenApi)]
#[openapi(
    info(title = "borderdesk", description = "Permit processing for the Pingxiang service hall and the Youyiguan one-window office."),
    paths(
        api::create_application, api::get_application, api::issue, api::get_permit, api::permit_pdf, api::revoke, api::keys,
        api::accept, api::approve, api::reject, api::withdraw, api::collect, api::receipt, api::unlock_lookup, api::supply, api::acknowledge, api::review,
        api::calendar_year, api::calendar_set, api::calendar_remove, api::notice,
        api::export_pull, api::export_ack, api::sla, api::scan, api::cleared, api::lanes, api::trust, api::upload,
        api::put_portrait, api::get_portrait, api::permit_photo,
        ops::healthz, ops::readyz, ops::metrics, ops::openapi,
        pages::index, pages::login_form, pages::login, pages::logout, pages::desk, pages::create_application,
        pages::application, pages::receipt, pages::unlock, pages::issue, pages::step, pages::portrait, pages::permit, pages::revoke,
        pages::progress_form, pages::progress_lookup, pages::sla, pages::calendar, pages::calendar_set, pages::calendar_remove, pages::notice, pages::checkpoint, pages::checkpoint_scan, pages::checkpoint_js, pages::jsqr_js, pages::jsqr_license, pages::checkpoint_upload, pages::desk_js,
    ),
    // The bundle's payload is JSON inside a string (so its signature covers exact bytes): its
    // schema is listed here for device makers.
    components(schemas(crate::domain::offline::TrustBundle)),
    modifiers(&BearerAuth, &Truth)
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(components) = openapi.components.as_mut() {
            components.add_security_scheme(
                "bearer",
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
            );
        }
    }
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(ops::healthz))
        .route("/readyz", web::get().to(ops::readyz))
        .route("/metrics", web::get().to(ops::metrics))
        .route("/api/openapi.json", web::get().to(ops::openapi))
        .service(
            web::scope("/api/v1")
                .route("/applications", web::post().to(api::create_application))
                .route("/applications/{id}", web::get().to(api::get_application))
                .route("/applications/{id}/issue", web::post().to(api::issue))
                .route("/applications/{id}/accept", web::post().to(api::accept))
                .route("/applications/{id}/approve", web::post().to(api::approve))
                .route("/applications/{id}/reject", web::post().to(api::reject))
                .route("/applications/{id}/withdraw", web::post().to(api::withdraw))
                .route("/applications/{id}/collect", web::post().to(api::collect))
                .route("/applications/{id}/receipt", web::post().to(api::receipt))
                .route("/applications/{id}/lookup/unlock", web::post().to(api::unlock_lookup))
                .route(
                    "/applications/{id}/materials/{item}/supply",
                    web::post().to(api::supply),
                )
                .route("/applications/{id}/acknowledge", web::post().to(api::acknowledge))
                .route("/applications/{id}/review", web::post().to(api::review))
                .route("/applications/{id}/notice", web::get().to(api::notice))
                .route("/applications/{id}/portrait", web::put().to(api::put_portrait))
                .route("/applications/{id}/portrait", web::get().to(api::get_portrait))
                .route("/exports/passport", web::get().to(api::export_pull))
                .route("/exports/passport/{batch}/ack", web::post().to(api::export_ack))
                .route("/sla", web::get().to(api::sla))
                .route("/checkpoint/scans", web::post().to(api::scan))
                .route("/checkpoint/scans/{id}/cleared", web::post().to(api::cleared))
                .route("/checkpoint/lanes", web::get().to(api::lanes))
                .route("/checkpoint/trust", web::get().to(api::trust))
                .route("/checkpoint/crossings", web::post().to(api::upload))
                .route("/calendar", web::get().to(api::calendar_year))
                .route("/calendar/{date}", web::put().to(api::calendar_set))
                .route("/calendar/{date}", web::delete().to(api::calendar_remove))
                .route("/permits/{number}", web::get().to(api::get_permit))
                .route("/permits/{number}/pdf", web::get().to(api::permit_pdf))
                .route("/permits/{number}/photo", web::get().to(api::permit_photo))
                .route("/permits/{number}/revoke", web::post().to(api::revoke))
                .route("/keys", web::get().to(api::keys))
                .default_service(web::to(api_not_found)),
        )
        .route("/", web::get().to(pages::index))
        .route("/login", web::get().to(pages::login_form))
        .route("/login", web::post().to(pages::login))
        .route("/logout", web::post().to(pages::logout))
        .route("/progress", web::get().to(pages::progress_form))
        .route("/progress", web::post().to(pages::progress_lookup))
        .route("/checkpoint", web::get().to(pages::checkpoint))
        .route("/checkpoint", web::post().to(pages::checkpoint_scan))
        .route("/checkpoint/upload", web::post().to(pages::checkpoint_upload))
        .route("/static/checkpoint.js", web::get().to(pages::checkpoint_js))
        .route("/static/jsqr-1.4.0.js", web::get().to(pages::jsqr_js))
        .route("/static/jsqr-1.4.0.LICENSE.txt", web::get().to(pages::jsqr_license))
        .route("/supervisor/sla", web::get().to(pages::sla))
        .route("/admin/calendar", web::get().to(pages::calendar))
        .route("/admin/calendar", web::post().to(pages::calendar_set))
        .route("/admin/calendar/remove", web::post().to(pages::calendar_remove))
        .route("/desk", web::get().to(pages::desk))
        .route("/desk/applications", web::post().to(pages::create_application))
        .route("/desk/applications/{id}", web::get().to(pages::application))
        .route("/desk/applications/{id}/issue", web::post().to(pages::issue))
        .route("/desk/applications/{id}/step", web::post().to(pages::step))
        .route("/desk/applications/{id}/receipt", web::post().to(pages::receipt))
        .route("/desk/applications/{id}/unlock", web::post().to(pages::unlock))
        .route("/desk/applications/{id}/portrait", web::post().to(pages::portrait))
        .route("/desk/applications/{id}/notice", web::get().to(pages::notice))
        .route("/desk/permits/{number}", web::get().to(pages::permit))
        .route("/desk/permits/{number}/revoke", web::post().to(pages::revoke))
        .route("/static/desk.js", web::get().to(pages::desk_js))
        .default_service(web::to(pages::not_found));
}

async fn api_not_found(_req: HttpRequest) -> Result<HttpResponse, error::ApiError> {
    Err(error::ApiError::NoRoute)
}

/// What a permit prints, from the stored permit and the policy's names for kinds and offices.
/// Normalises an uploaded photo (CPU work of tens of milliseconds, off the async workers and
/// outside any database connection) and stores it: for the API and the application page alike.
pub(crate) async fn save_portrait(
    state: &AppState,
    actor: crate::domain::auth::Actor,
    id: String,
    upload: impl AsRef<[u8]> + Send + 'static,
) -> Result<(), Error> {
    // A role that may not take photos is refused before its upload costs a decode.
    crate::domain::auth::authorize_role(
        &actor,
        crate::domain::auth::on::handle(crate::domain::permit::PermitKind::BorderTourism, &actor.office),
    )?;
    let slot = state
        .portrait_slots
        .clone()
        .try_acquire_owned()
        .map_err(|_| Error::Busy("every photo slot is in use"))?;
    let portrait = tokio::task::spawn_blocking(move || {
        // Held until the decode's memory is freed, even if the request is dropped meanwhile.
        let _slot = slot;
        crate::service::portraits::normalise(upload.as_ref())
    })
    .await
    .map_err(Error::internal)??;
    let now = state.ctx.clock.now();
    state
        .ctx
        .db
        .run(move |c| crate::service::portraits::store(c, now, &actor, &id, &portrait))
        .await
}

pub fn print_model(
    policy: &Policy,
    r: &PermitRecord,
    photo: Option<Vec<u8>>,
    now: DateTime<Utc>,
) -> Result<PermitPrint, Error> {
    let kind = r
        .kind()
        .ok_or_else(|| Error::Internal(format!("stored kind {}", r.permit.kind)))?;
    let kp = policy.kind(kind);
    let office = policy.office(&r.permit.office);
    let status = r.status(now);
    // 制证先行: a pending permit is printed as it will be once complete; the system, not the
    // paper, says when it comes into force.
    // Read by Chinese and Vietnamese guards alike: the banner in the pass's three languages.
    let banner = {
        use crate::domain::permit::PermitStatus::*;
        match status {
            Issued | Pending => None,
            Revoked => Some(("已吊销", "ĐÃ THU HỒI", "REVOKED")),
            Expired => Some(("已过期", "HẾT HẠN", "EXPIRED")),
            Used => Some(("已使用", "ĐÃ SỬ DỤNG", "USED")),
            Suspended => Some(("已中止", "TẠM ĐÌNH CHỈ", "SUSPENDED")),
        }
        .map(|(zh, vi, en)| format!("{zh} 无效 · {vi} — KHÔNG CÓ GIÁ TRỊ · {en} — NOT VALID"))
    };
    Ok(PermitPrint {
        title_zh: kp.map(|k| k.title_zh.clone()).unwrap_or_else(|| kind.as_str().into()),
        title_vi: kp.map(|k| k.title_vi.clone()).unwrap_or_default(),
        title_en: kp.map(|k| k.title_en.clone()).unwrap_or_else(|| kind.as_str().into()),
        number: r.permit.number.clone(),
        application_number: r.application.number.clone().unwrap_or_else(|| r.application.id.clone()),
        name_zh: r.traveller.name_zh.clone(),
        name_latin: r.traveller.name_latin.clone(),
        nationality: r.traveller.nationality.clone(),
        sex: r.traveller.sex.clone(),
        birth_date: r.traveller.birth_date,
        // A travel document carries the full number: the guard matches it to the ID card.
        id_number: r.traveller.id_number.clone(),
        valid_from: local(crate::db::utc(r.permit.valid_from)).date_naive(),
        valid_until: local(crate::db::utc(r.permit.valid_until)).date_naive(),
        entries_allowed: r.permit.entries_allowed,
        office_zh: office
            .map(|o| o.name_zh.clone())
            .unwrap_or_else(|| r.permit.office.clone()),
        office_en: office.map(|o| o.name_en.clone()).unwrap_or_default(),
        issued_at: local(crate::db::utc(r.permit.issued_at))
            .format("%Y-%m-%d %H:%M UTC%:z")
            .to_string(),
        code: r.permit.signed_code.clone(),
        enterprise: r.application.enterprise_name.clone(),
        plates: r.plates(),
        banner,
        photo: photo.map(|jpeg| crate::print::permit::Photo {
            jpeg,
            width: crate::service::portraits::WIDTH,
            height: crate::service::portraits::HEIGHT,
        }),
    })
}

/// The one complete notice of missing items for an accepted application.
pub fn notice_model(
    policy: &Policy,
    app: &crate::service::applications::ApplicationOut,
) -> Result<crate::print::notice::NoticePrint, Error> {
    use crate::domain::DomainError;
    let items: Vec<_> = app
        .materials
        .iter()
        .filter(|m| !m.provided)
        .filter_map(|m| {
            m.due_date.map(|due| crate::print::notice::NoticeItem {
                name_zh: m.name_zh.clone(),
                name_en: m.name_en.clone(),
                name_vi: m.name_vi.clone(),
                due,
            })
        })
        .collect();
    if items.is_empty() {
        return Err(DomainError::Conflict {
            message: "没有待补材料 / nothing is missing".into(),
            current_state: app.status.as_str().into(),
        }
        .into());
    }
    let kp = policy.kind(app.kind);
    Ok(crate::print::notice::NoticePrint {
        application_number: app.number.clone().unwrap_or_else(|| app.id.clone()),
        kind_zh: kp.map(|k| k.title_zh.clone()).unwrap_or_default(),
        kind_en: kp.map(|k| k.title_en.clone()).unwrap_or_default(),
        holder: format!(
            "{} {}",
            app.traveller.name_zh.clone().unwrap_or_default(),
            app.traveller.name_latin
        ),
        office_zh: policy
            .office(&app.office)
            .map(|o| o.name_zh.clone())
            .unwrap_or_else(|| app.office.clone()),
        accepted_at: app
            .accepted_at
            .map(|t| t.format("%Y-%m-%d %H:%M UTC%:z").to_string())
            .unwrap_or_default(),
        items,
    })
}
