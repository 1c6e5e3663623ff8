//! The crate's error: a domain refusal, or something that went wrong underneath it.

use crate::domain::DomainError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error("database: {}", with_sources(.0))]
    Db(#[from] diesel::result::Error),
    #[error("database connection: {0}")]
    Pool(String),
    #[error("{0}")]
    Internal(String),
    /// An operator's mistake in a command or a setting (a bad flag, an unknown key, a port in
    /// use): told to the operator as it is, not a fault of the service.
    #[error("{0}")]
    Config(String),
    /// Too much of one kind of work in flight: refused now rather than queued without bound.
    #[error("busy: {0}")]
    Busy(&'static str),
}

/// The error and its causes on one line. Diesel shows a failed column load as "Error
/// deserializing field 'status'" and keeps what was wrong with it (the stored value) as the
/// source, which a log line must not lose.
fn with_sources(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

impl Error {
    pub fn internal(e: impl std::fmt::Display) -> Self {
        Error::Internal(e.to_string())
    }

    pub fn config(e: impl std::fmt::Display) -> Self {
        Error::Config(e.to_string())
    }

    /// A unique constraint's refusal as the use case words it (`instead`: the race the reads
    /// before the insert could not see); any other error as it was.
    pub fn unique_as(self, instead: impl FnOnce() -> Error) -> Error {
        if self.is_unique_violation() { instead() } else { self }
    }

    pub fn is_unique_violation(&self) -> bool {
        matches!(
            self,
            Error::Db(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _
            ))
        )
    }
}

impl From<r2d2::Error> for Error {
    fn from(e: r2d2::Error) -> Self {
        Error::Pool(e.to_string())
    }
}

impl From<crate::domain::validation::FieldErrors> for Error {
    fn from(e: crate::domain::validation::FieldErrors) -> Self {
        Error::Domain(DomainError::Validation(e))
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
