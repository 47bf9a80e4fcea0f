//! The store's error type.
//!
//! Expected failures that callers act on (a unique key already taken, a row that must exist) are
//! variants; everything else is an opaque database error carried with its cause, which the HTTP
//! layer turns into an opaque 500 and logs.

use tokio_postgres::error::SqlState;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No connection could be had from the pool (database down, pool exhausted, TLS failure).
    #[error("could not get a database connection")]
    Pool(#[from] deadpool_postgres::PoolError),

    /// A unique key rejected a row; carries the constraint's name, never the values.
    #[error("unique constraint {constraint} rejected the row")]
    UniqueViolation { constraint: String },

    /// A foreign key pointed nowhere; carries the constraint's name.
    #[error("foreign key {constraint} points at no row")]
    ForeignKeyViolation { constraint: String },

    /// A CHECK constraint rejected a row; carries the constraint's name.
    #[error("check constraint {constraint} rejected the row")]
    CheckViolation { constraint: String },

    /// Any other database error, with its cause chain.
    #[error("database error")]
    Database(#[source] tokio_postgres::Error),

    /// A value read back from the database did not have the expected shape.
    #[error("unexpected data in {context}")]
    Decode {
        context: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl From<tokio_postgres::Error> for StoreError {
    /// The one place where constraint violations are recognised: by SQLSTATE and constraint
    /// name, never by matching message text.
    fn from(err: tokio_postgres::Error) -> Self {
        if let Some(db) = err.as_db_error() {
            let constraint = db.constraint().unwrap_or_default().to_owned();
            let code = db.code();
            if *code == SqlState::UNIQUE_VIOLATION {
                return Self::UniqueViolation { constraint };
            }
            if *code == SqlState::FOREIGN_KEY_VIOLATION {
                return Self::ForeignKeyViolation { constraint };
            }
            if *code == SqlState::CHECK_VIOLATION {
                return Self::CheckViolation { constraint };
            }
        }
        Self::Database(err)
    }
}

impl StoreError {
    /// The name of the unique constraint this error is a violation of, if it is one.
    pub fn unique_violation(&self) -> Option<&str> {
        match self {
            Self::UniqueViolation { constraint } => Some(constraint),
            _ => None,
        }
    }

    /// True when retrying the same work may succeed (connection trouble, serialization
    /// failures, deadlocks, a statement cancelled by `statement_timeout` or a lock wait cut off
    /// by `lock_timeout`); consumers use it to decide between retrying and giving up, and
    /// webhooks to answer 503 so the provider retries.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Pool(_) => true,
            Self::Database(err) => match err.code() {
                Some(code) => {
                    *code == SqlState::T_R_SERIALIZATION_FAILURE
                        || *code == SqlState::T_R_DEADLOCK_DETECTED
                        || *code == SqlState::ADMIN_SHUTDOWN
                        || *code == SqlState::CANNOT_CONNECT_NOW
                        || *code == SqlState::TOO_MANY_CONNECTIONS
                        || *code == SqlState::QUERY_CANCELED
                        || *code == SqlState::LOCK_NOT_AVAILABLE
                }
                None => err.is_closed() || err.as_db_error().is_none(),
            },
            _ => false,
        }
    }
}
