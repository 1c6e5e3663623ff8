//! Use cases: each one authorises, validates with the domain rules, and changes the database in
//! one transaction with its audit record. Each has one async entry point, a method on [`Ctx`]
//! (in the `impl Ctx` block of its module), which reads the clock and runs the transaction off
//! the async workers; HTTP handlers (API and pages alike) call only these. The synchronous
//! functions beside them take a connection and the time, for the CLI and for unit tests.

pub mod accounts;
pub mod applications;
pub mod auth_cache;
pub mod bookings;
pub mod calendar;
pub mod checkpoint;
pub mod drivers;
pub mod exports;
pub mod free;
pub mod outbox;
pub mod permits;
pub mod portraits;
pub mod printing;
pub mod progress;
pub mod scan_index;
mod scan_sql;
pub mod scan_writer;
pub mod seals;
pub mod sla;
pub mod stock;
pub mod trust;
pub mod yard;

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::clock::Clock;
use crate::db::{Db, DbConnection};
use crate::domain::policy::Policy;
use crate::error::Result;
use crate::keys::Keys;

/// Runs `task` every `period` on this instance's async runtime, for as long as it runs; a tick
/// that would fall while the last run is still going is taken when it ends, not piled up.
pub fn every<F, Fut>(period: std::time::Duration, task: F)
where
    F: Fn() -> Fut + 'static,
    Fut: std::future::Future<Output = ()>,
{
    actix_web::rt::spawn(async move {
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            task().await;
        }
    });
}

/// Everything a use case needs, shared by all workers.
#[derive(Clone)]
pub struct Ctx {
    pub db: Db,
    pub clock: Arc<dyn Clock>,
    pub policy: Arc<Policy>,
    /// The signing keys shared through the database (`keys.ring(c)` inside a transaction).
    pub keys: Arc<Keys>,
    pub hours: crate::domain::calendar::OfficeHours,
    pub scans: scan_writer::ScanWriter,
    /// Who the tokens and sessions seen lately belong to (this instance's memory, kept exact by
    /// the auth epoch).
    pub auth: Arc<auth_cache::AuthCache>,
    /// On SQLite, the group commit the busiest write use cases go through (see `Ctx::write`).
    pub group: Option<crate::db::group::GroupCommit>,
    pub limits: Arc<Limits>,
    pub mailer: Arc<crate::mail::Mailer>,
    /// Drivers' sign-in limits and the code secret.
    pub drivers: Arc<drivers::DriverConfig>,
}

/// What one instance holds in memory to protect itself and its users: counted per instance,
/// not shared between instances (each is a separate target for a guesser or a flood).
pub struct Limits {
    /// Failed logins per address and per username-and-address.
    pub login: accounts::LoginThrottle,
    /// Look-ups of the public progress page per address, against guessing.
    pub progress: governor::DefaultKeyedRateLimiter<std::net::IpAddr>,
    /// Photos being normalised at once (see `Settings::portrait_slots`).
    pub portraits: Arc<tokio::sync::Semaphore>,
    /// Booking changes (book, move, cancel) per driver, against bots grabbing slots.
    pub bookings_per_driver: governor::DefaultKeyedRateLimiter<String>,
    /// The same per client address, five times as many (drivers behind one NAT).
    pub bookings_per_client: governor::DefaultKeyedRateLimiter<std::net::IpAddr>,
}

/// Ten look-ups a minute per address is plenty for an applicant and far too few to guess the
/// last four characters of someone's ID number (up to 11,000 combinations for a resident ID).
const PROGRESS_LOOKUPS_PER_MINUTE: std::num::NonZeroU32 = std::num::NonZeroU32::MIN.saturating_add(9);

impl Limits {
    pub fn new(portrait_slots: usize, bookings_per_minute: u32) -> Limits {
        let per_driver = std::num::NonZeroU32::new(bookings_per_minute).unwrap_or(std::num::NonZeroU32::MIN);
        let per_client = per_driver.saturating_mul(std::num::NonZeroU32::MIN.saturating_add(4));
        Limits {
            bookings_per_driver: governor::RateLimiter::keyed(governor::Quota::per_minute(per_driver)),
            bookings_per_client: governor::RateLimiter::keyed(governor::Quota::per_minute(per_client)),
            login: accounts::LoginThrottle::default(),
            progress: governor::RateLimiter::keyed(governor::Quota::per_minute(PROGRESS_LOOKUPS_PER_MINUTE)),
            portraits: Arc::new(tokio::sync::Semaphore::new(portrait_slots.max(1))),
        }
    }
}

impl Ctx {
    /// Runs one use case's transaction on a pooled connection on the blocking pool, with the
    /// moment it happens: the one place an entry point reads the clock.
    pub(crate) async fn tx<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&mut DbConnection, &Ctx, DateTime<Utc>) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let ctx = self.clone();
        let now = self.clock.now();
        self.db.run(move |c| f(c, &ctx, now)).await
    }

    /// The same for a write use case that is short and frequent (taking an application,
    /// issuing, booking): on SQLite it joins the next group commit, sharing one transaction and
    /// one fsync with the others waiting (its own transactions become savepoints of it); on
    /// PostgreSQL, whose writers do not queue on one lock, it runs as `tx` does.
    pub(crate) async fn write<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&mut DbConnection, &Ctx, DateTime<Utc>) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        match &self.group {
            Some(group) => {
                let ctx = self.clone();
                let now = self.clock.now();
                group.run(move |c| f(c, &ctx, now)).await
            }
            None => self.tx(f).await,
        }
    }

    /// Whether the database answers (`/readyz`).
    pub async fn ready(&self) -> Result<()> {
        use diesel::connection::SimpleConnection;
        self.db.run(|c| Ok(c.batch_execute("SELECT 1")?)).await
    }
}
