//! The HTTP surface: routes, shared state, and the mapping from requests to use cases. Routes
//! and the OpenAPI document come from one registration (utoipa-actix-web): each handler's
//! `#[get]`/`#[post]` attribute is its route and its operation's path and method.

pub mod api;
pub mod client;
pub mod error;
pub mod extract;
pub mod openapi;
pub mod ops;
pub mod pages;

use std::sync::OnceLock;

use actix_web::{HttpRequest, HttpResponse};
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_actix_web::AppExt;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::service::Ctx;

/// Counters beyond the per-route request metrics.
#[derive(Clone)]
pub struct Metrics {
    pub permits_issued: prometheus::IntCounter,
    /// Checkpoint scans by verdict and reason code.
    pub scans: prometheus::IntCounterVec,
    /// The mail outbox, read from the database at each scrape (all instances share it).
    pub mail_queued: prometheus::IntGauge,
    pub mail_failing: prometheus::IntGauge,
    pub mail_oldest_queued_seconds: prometheus::IntGauge,
    /// The scan writer of this instance.
    pub scan_queue: prometheus::IntGauge,
    pub scan_index_permits: prometheus::IntGauge,
    pub scan_batch_fallbacks: prometheus::Counter,
    /// The auth cache of this instance.
    pub auth_cache_hits: prometheus::Counter,
    pub auth_cache_misses: prometheus::Counter,
    pub auth_epoch_reads: prometheus::Counter,
    /// The windows' queue, read from the database at each scrape.
    pub oldest_unreviewed_seconds: prometheus::IntGauge,
    /// This instance's database pool.
    pub pool_checkouts_total: prometheus::Counter,
    pub pool_timeouts_total: prometheus::Counter,
    pub pool_in_use: prometheus::IntGauge,
    pub pool_wait_seconds_total: prometheus::Counter,
}

impl Metrics {
    /// Counts a verdict, whichever route (API or scan page) asked for it.
    pub fn count_scan(&self, out: &crate::service::checkpoint::ScanOut) {
        self.scans.with_label_values(&[out.verdict, out.reason.as_str()]).inc();
    }
}

/// What a handler extracts to reach the use cases and the HTTP settings.
pub type State = actix_web::web::Data<AppState>;

/// Per-worker state: the use-case context and HTTP settings.
pub struct AppState {
    pub ctx: Ctx,
    pub metrics: Metrics,
    pub session_ttl: chrono::Duration,
    pub secure_cookies: bool,
    /// Seconds before the scan page clears a verdict (0 = never).
    pub verdict_clear_seconds: u32,
    /// The origin forms must come from (`BORDERDESK_PUBLIC_ORIGIN`); None: the request's Host.
    pub public_origin: Option<url::Origin>,
    /// Who may read `/metrics`, and the registry it shows.
    pub metrics_access: ops::MetricsAccess,
    /// Proxies whose `X-Forwarded-For` is believed (`BORDERDESK_TRUSTED_PROXIES`).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// How long a driver's page session lasts (its cookie's age).
    pub driver_session_ttl: chrono::Duration,
}

impl AppState {
    /// The client address every limiter counts by (see [`client::client_address`]).
    pub fn client(&self, req: &HttpRequest) -> std::net::IpAddr {
        client::client_address(req, &self.trusted_proxies)
    }
}

/// What the document says beyond the routes: its title, the schemas only device makers need,
/// and the bearer scheme.
#[derive(OpenApi)]
#[openapi(
    info(title = "borderdesk", description = "Permit processing for the Pingxiang service hall and the Youyiguan one-window office."),
    // The bundle's payload is JSON inside a string (so its signature covers exact bytes): its
    // schema is listed here for device makers.
    components(schemas(crate::domain::offline::TrustBundle)),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

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

/// Every route of the service: operations, API and pages.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.configure(ops::routes)
        .configure(api::routes)
        .configure(pages::routes)
        .default_service(actix_web::web::to(no_route));
}

/// The OpenAPI document, collected from [`routes`] once: a route cannot be added without its
/// operation, nor documented without being served.
pub fn api_doc() -> &'static utoipa::openapi::OpenApi {
    static DOC: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    DOC.get_or_init(|| {
        let (_, mut doc) = actix_web::App::new()
            .into_utoipa_app()
            .openapi(ApiDoc::openapi())
            .configure(routes)
            .split_for_parts();
        // Modifiers of the base document ran before the routes were collected: the rules that
        // apply to every operation run over the whole.
        openapi::make_true(&mut doc);
        doc
    })
}

/// No route matched: problem+json under `/api/`, the error page elsewhere.
async fn no_route(req: HttpRequest) -> actix_web::Result<HttpResponse> {
    if req.path().starts_with("/api/") {
        Err(error::ApiError::NoRoute.into())
    } else {
        Err(pages::PageError::NotFound.into())
    }
}
