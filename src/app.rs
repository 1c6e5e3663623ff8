//! Composition root: settings in, a running server out. Binds its own listener so tests can ask
//! for port 0 and learn the real address.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::{Compress, DefaultHeaders};
use actix_web::{App, HttpServer, web};
use actix_web_prom::PrometheusMetricsBuilder;

use crate::clock::Clock;
use crate::config::Settings;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::http::{AppState, Metrics};
use crate::keys::{Kek, KekSource, Keys};
use crate::service::Ctx;

/// Opens the database (migrating it), loads keys and policy: everything but the HTTP server.
pub fn context(settings: &Settings, clock: Arc<dyn Clock>) -> Result<Ctx> {
    std::fs::create_dir_all(&settings.data_dir)
        .map_err(|e| Error::Config(format!("creating {}: {e}", settings.data_dir.display())))?;
    let policy = settings.load_policy()?;
    let db = Db::connect(&settings.database_url(), settings.pool_size)?;
    let applied = db.migrate()?;
    if !applied.is_empty() {
        tracing::info!(migrations = ?applied, "database migrated");
    }
    let seeded = db.run_blocking(|c| crate::service::calendar::seed(c, clock.now()))?;
    if !seeded.is_empty() {
        tracing::info!(years = ?seeded, "loaded the published working-day calendar");
    }
    for year in db.run_blocking(|c| crate::service::calendar::provisional_years(c, clock.now()))? {
        // Deadlines still count right (statutory holidays are computed), but the State
        // Council's 调休 swaps are missing until its schedule is loaded.
        tracing::warn!(
            year,
            "the State Council holiday schedule for {year} is not loaded: the year is provisional \
             (statutory holidays computed, no make-up working days); add fixtures/calendar/{year}.json"
        );
    }
    let (kek, source) = Kek::from_settings(
        settings.kek.as_deref(),
        settings.kek_file.as_deref(),
        &settings.data_dir,
    )?;
    let kek = kek.with_previous_file(settings.kek_previous_file.as_deref())?;
    if matches!(source, KekSource::DataDir(_)) && db.backend() == crate::db::Backend::Postgres {
        // Fine for one instance; a second one would bring its own and fail to open the keys.
        tracing::warn!(
            kek = kek.id(),
            "the key-encryption key is the data directory's own: set BORDERDESK_KEK_FILE to one file shared by every instance"
        );
    }
    let (keys, opened) = {
        let mut c = db.dedicated()?;
        Keys::open(&mut c, kek, &settings.data_dir, clock.now(), settings.key_lifetime_days)?
    };
    let ring = keys.cached();
    if let Some(kid) = &opened.created {
        tracing::info!(kid = %kid, kek = keys.kek().id(), "created the permit-signing key");
    }
    if !opened.imported.is_empty() {
        tracing::info!(keys = ?opened.imported, "imported the key files into the database; DATA_DIR/keys moved to keys.imported (delete it once a backup holds the keys)");
    }
    if let Some(k) = ring.active_key() {
        let left = (k.not_after - clock.now()).num_days();
        // A year's pass cannot be signed by a key with less than a year left: say so early.
        if left < 400 {
            tracing::warn!(kid = %ring.active_id(), days_left = left, "the signing key ends soon: run `borderdesk keys rotate`");
        }
    }
    let drivers = crate::service::drivers::DriverConfig::from_settings(settings, || {
        db.run_blocking(|c| {
            crate::keys::secret(
                c,
                keys.kek(),
                "driver_code",
                &settings.data_dir.join("driver-code.key"),
                clock.now(),
            )
        })
    })?;
    let keys = Arc::new(keys);
    let policy = Arc::new(policy);
    let auth = Arc::new(crate::service::auth_cache::AuthCache::default());
    let scans = crate::service::scan_writer::ScanWriter::start(db.clone(), keys.clone(), policy.clone(), auth.clone())?;
    let mailer = settings.mailer()?;
    tracing::info!(transport = mailer.describe(), "mail");
    let group = match db.backend() {
        crate::db::Backend::Sqlite => Some(crate::db::group::GroupCommit::start(db.clone(), scans.restart())?),
        crate::db::Backend::Postgres => None,
    };
    Ok(Ctx {
        group,
        auth,
        mailer: Arc::new(mailer),
        scans,
        db,
        clock,
        policy,
        keys,
        hours: settings.office_hours()?,
        limits: Arc::new(crate::service::Limits::new(
            settings.portrait_slots,
            settings.driver_bookings_per_minute,
        )),
        drivers: Arc::new(drivers),
    })
}

pub struct Running {
    pub server: Server,
    pub addr: SocketAddr,
    /// Where `/metrics` is served without a token (`BORDERDESK_METRICS_ADDR`), if anywhere.
    pub metrics_addr: Option<SocketAddr>,
    pub ctx: Ctx,
}

/// Builds the server on `settings.bind`; the caller awaits `server` (or spawns it).
pub fn start(settings: &Settings, ctx: Ctx) -> Result<Running> {
    let listener =
        TcpListener::bind(&settings.bind).map_err(|e| Error::Config(format!("binding {}: {e}", settings.bind)))?;
    let addr = listener.local_addr().map_err(Error::internal)?;
    let metrics_listener = match settings
        .metrics_addr
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty())
    {
        Some(a) => {
            Some(TcpListener::bind(a).map_err(|e| Error::Internal(format!("binding metrics address {a}: {e}")))?)
        }
        None => None,
    };
    let metrics_addr = match &metrics_listener {
        Some(l) => Some(l.local_addr().map_err(Error::internal)?),
        None => None,
    };

    let registry = prometheus::Registry::new();
    let permits_issued = prometheus::IntCounter::new(
        "borderdesk_permits_issued_total",
        "Permits issued (replays not counted)",
    )
    .map_err(Error::internal)?;
    registry
        .register(Box::new(permits_issued.clone()))
        .map_err(Error::internal)?;
    let scans = prometheus::IntCounterVec::new(
        prometheus::Opts::new("borderdesk_scans_total", "Checkpoint scans by verdict and reason"),
        &["verdict", "reason"],
    )
    .map_err(Error::internal)?;
    registry.register(Box::new(scans.clone())).map_err(Error::internal)?;
    let gauge = |name: &str, help: &str| -> Result<prometheus::IntGauge> {
        let g = prometheus::IntGauge::new(name, help).map_err(Error::internal)?;
        registry.register(Box::new(g.clone())).map_err(Error::internal)?;
        Ok(g)
    };
    let mail_queued = gauge("borderdesk_mail_queued", "Mails in the outbox not sent yet")?;
    let mail_failing = gauge("borderdesk_mail_failing", "Unsent mails whose last try failed")?;
    let mail_oldest_queued_seconds = gauge(
        "borderdesk_mail_oldest_queued_seconds",
        "Age of the oldest unsent mail (0 when none)",
    )?;
    let scan_queue = gauge(
        "borderdesk_scan_queue",
        "Scans waiting for the scan writer on this instance",
    )?;
    let scan_index_permits = gauge(
        "borderdesk_scan_index_permits",
        "Permits the scan writer holds in memory on this instance",
    )?;
    let oldest_unreviewed_seconds = gauge(
        "borderdesk_oldest_unreviewed_seconds",
        "Age of the oldest application waiting for a decision (taken or accepted, not yet decided; 0 when none)",
    )?;
    // Running totals are counters (rate() and increase() expect them), brought up at each scrape
    // to the figures the pool, the scan writer and the auth cache keep.
    let counter = |name: &str, help: &str| -> Result<prometheus::Counter> {
        let c = prometheus::Counter::new(name, help).map_err(Error::internal)?;
        registry.register(Box::new(c.clone())).map_err(Error::internal)?;
        Ok(c)
    };
    let scan_batch_fallbacks = counter(
        "borderdesk_scan_batch_fallbacks_total",
        "Scan batches that failed as a whole and were recorded one scan at a time, since start",
    )?;
    let auth_cache_hits = counter(
        "borderdesk_auth_cache_hits_total",
        "Requests whose token or session this instance knew from memory, since start",
    )?;
    let auth_cache_misses = counter(
        "borderdesk_auth_cache_misses_total",
        "Requests whose token or session was looked up in the database, since start",
    )?;
    let auth_epoch_reads = counter(
        "borderdesk_auth_epoch_reads_total",
        "Reads of the auth epoch (each shared by the requests waiting together), since start",
    )?;
    let pool_checkouts_total = counter(
        "borderdesk_pool_checkouts_total",
        "Connections taken from this instance's database pool",
    )?;
    let pool_timeouts_total = counter(
        "borderdesk_pool_timeouts_total",
        "Requests that gave up waiting for a pooled connection",
    )?;
    let pool_wait_seconds_total = counter(
        "borderdesk_pool_wait_seconds_total",
        "Time spent waiting for pooled connections (its rate: requests waiting at any moment; over the checkouts' rate: the mean wait)",
    )?;
    let pool_in_use = gauge("borderdesk_pool_in_use", "Pooled connections in use now")?;
    // No `.endpoint()`: the middleware would answer /metrics itself, past any check; the
    // route in `http::ops` serves it instead. Every path no route matches is counted under one
    // label, so unknown paths cannot grow the series.
    let prometheus = PrometheusMetricsBuilder::new("borderdesk")
        .registry(registry.clone())
        .mask_unmatched_patterns("unmatched")
        .build()
        .map_err(|e| Error::Internal(format!("metrics: {e}")))?;

    ctx.scans.start_background(ctx.db.clone())?;
    crate::service::portraits::start_sweeper(ctx.clone(), std::time::Duration::from_secs(600));
    if settings.mail_poll_seconds > 0 {
        crate::service::outbox::start_worker(ctx.clone(), std::time::Duration::from_secs(settings.mail_poll_seconds));
        // Late calls and no-shows happen with nobody at a page: the same instances that send
        // mail look for them once a minute.
        crate::service::yard::start_sweeper(ctx.clone(), std::time::Duration::from_secs(60));
    }
    let workers = if settings.workers == 0 {
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2)
    } else {
        settings.workers
    };
    let token_hash = settings.metrics_token_hash()?;
    // Say where Prometheus finds the metrics, since by default nobody does.
    match (metrics_addr, token_hash.is_some()) {
        (Some(a), _) => tracing::info!("metrics at http://{a}/metrics (no token there)"),
        (None, true) => tracing::info!("metrics at /metrics with the bearer token"),
        (None, false) => tracing::info!(
            "/metrics is not served: set BORDERDESK_METRICS_TOKEN or BORDERDESK_METRICS_ADDR for Prometheus"
        ),
    }
    let state = web::Data::new(AppState {
        ctx: ctx.clone(),
        metrics: Metrics {
            permits_issued,
            scans,
            mail_queued,
            mail_failing,
            mail_oldest_queued_seconds,
            scan_queue,
            scan_index_permits,
            scan_batch_fallbacks,
            auth_cache_hits,
            auth_cache_misses,
            auth_epoch_reads,
            oldest_unreviewed_seconds,
            pool_checkouts_total,
            pool_timeouts_total,
            pool_in_use,
            pool_wait_seconds_total,
        },
        session_ttl: chrono::Duration::hours(i64::from(settings.session_hours)),
        secure_cookies: settings.secure_cookies,
        verdict_clear_seconds: settings.verdict_clear_seconds,
        public_origin: settings.public_origin()?,
        metrics_access: crate::http::ops::MetricsAccess {
            registry,
            token_hash,
            private_addr: metrics_addr,
        },
        trusted_proxies: settings.trusted_proxies()?,
        driver_session_ttl: chrono::Duration::hours(i64::from(settings.driver_session_hours)),
    });
    let body_limit = settings.body_limit;
    let methods = web::Data::new(crate::http::openapi::Methods::new(crate::http::api_doc()));
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(web::PayloadConfig::new(body_limit))
            .app_data(
                web::FormConfig::default()
                    .limit(body_limit)
                    .error_handler(crate::http::error::extractors::form),
            )
            .app_data(web::QueryConfig::default().error_handler(crate::http::error::extractors::query))
            .app_data(web::PathConfig::default().error_handler(crate::http::error::extractors::path))
            // The documented methods per path: a known path asked with another method is 405.
            .app_data(methods.clone())
            // Only the portrait form is multipart: room for one phone photo and the CSRF field.
            .app_data(
                actix_multipart::form::MultipartFormConfig::default()
                    .total_limit(crate::service::portraits::MAX_BYTES + 64 * 1024)
                    .memory_limit(crate::service::portraits::MAX_BYTES + 64 * 1024),
            )
            .wrap(prometheus.clone())
            // Outside the metrics middleware, so what it never sees it never counts: the
            // metrics listener's other paths, and made-up methods (each would be a new series).
            .wrap(actix_web::middleware::from_fn(crate::http::ops::screen))
            .wrap(Compress::default())
            .wrap(
                DefaultHeaders::new()
                    .add(("X-Content-Type-Options", "nosniff"))
                    .add(("X-Frame-Options", "DENY"))
                    .add(("Referrer-Policy", "no-referrer"))
                    .add((
                        "Content-Security-Policy",
                        "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
                    )),
            )
            // Outermost: every request gets its id and its log line, refusals included. Paths
            // carry permit numbers and record ids, never identity numbers.
            .wrap(actix_web::middleware::from_fn(crate::http::ops::request_log))
            .configure(|cfg| crate::http::routes(&mut utoipa_actix_web::service_config::ServiceConfig::new(cfg)))
    })
    .workers(workers)
    // Database calls run on the blocking pool; more threads than connections only queue.
    .worker_max_blocking_threads((settings.pool_size as usize / workers).max(2) + 2)
    .listen(listener)
    .map_err(Error::internal)?;
    let server = match metrics_listener {
        Some(l) => server.listen(l).map_err(Error::internal)?,
        None => server,
    }
    .run();
    Ok(Running {
        server,
        addr,
        metrics_addr,
        ctx,
    })
}
