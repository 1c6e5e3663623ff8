//! Use cases: each one authorises, validates with the domain rules, and changes the database in
//! one transaction with its audit record. HTTP handlers and the CLI both call these.

pub mod accounts;
pub mod applications;
pub mod calendar;
pub mod checkpoint;
pub mod exports;
pub mod permits;
pub mod portraits;
pub mod progress;
pub mod scan_writer;
pub mod sla;
pub mod trust;

use std::sync::Arc;

use crate::clock::Clock;
use crate::db::Db;
use crate::domain::policy::Policy;
use crate::keys::KeyRing;

/// Everything a use case needs, shared by all workers.
#[derive(Clone)]
pub struct Ctx {
    pub db: Db,
    pub clock: Arc<dyn Clock>,
    pub policy: Arc<Policy>,
    pub keys: Arc<KeyRing>,
    pub hours: crate::domain::calendar::OfficeHours,
    pub scans: scan_writer::ScanWriter,
}
