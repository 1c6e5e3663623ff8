//! The rules of permit work, pure: no web framework, no database, no clock reads.
//!
//! Everything here takes time and policy as parameters so it can be tested beside the code.

pub mod auth;
pub mod calendar;
pub mod free;
pub mod freight;
pub mod ids;
pub mod lookup;
pub mod mask;
pub mod offline;
pub mod permit;
pub mod policy;
pub mod portrait;
pub mod seal;
pub mod seals;
pub mod stock;
pub mod trade;
pub mod traveller;
pub mod validation;
pub mod verdict;
pub mod workflow;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

/// Border offices and printed documents use China Standard Time; storage stays in UTC.
pub const OFFICE_TZ: Tz = chrono_tz::Asia::Shanghai;

pub fn local(at: DateTime<Utc>) -> DateTime<Tz> {
    at.with_timezone(&OFFICE_TZ)
}

/// Why a request could not be carried out, in domain terms; the HTTP layer picks status codes.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    #[error("validation failed")]
    Validation(validation::FieldErrors),
    #[error("{what} not found")]
    NotFound { what: &'static str },
    #[error("{message}")]
    Conflict { message: String, current_state: String },
    #[error("{0}")]
    Forbidden(String),
    /// No place left where one was asked for; what is free instead.
    #[error("{message}")]
    Full {
        message: String,
        offers: Vec<freight::SlotOffer>,
    },
    #[error("the idempotency key was already used with a different request")]
    IdempotencyMismatch,
    /// A limit on tries was reached (sign-in codes, say): the field and rule it concerns, and
    /// how long to wait before the next try counts.
    #[error("{message}")]
    TooMany {
        field: &'static str,
        rule: &'static str,
        message: String,
        retry_after_seconds: u32,
    },
}
