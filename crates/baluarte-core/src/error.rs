//! The error type of the service layer. Each variant maps to one HTTP status in the web crate; the
//! messages are safe to show to the caller (they never carry secrets or SQL).

use serde::Serialize;

/// One invalid input field, named as the caller sent it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// Not there, or not visible to the caller: the two are deliberately indistinguishable.
    #[error("not found")]
    NotFound,
    /// The caller can see the record but its role may not do this.
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("authentication required")]
    Unauthenticated,
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("too many attempts; retry in {retry_after_secs} s")]
    TooManyAttempts { retry_after_secs: u64 },
    #[error("storage error: {0}")]
    Storage(#[from] sqlx::Error),
    #[error("internal error: {0}")]
    Internal(String),
}

impl CoreError {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldError::new(field, message)])
    }
    pub fn forbidden(what: impl Into<String>) -> Self {
        Self::Forbidden(what.into())
    }
}

pub type Result<T, E = CoreError> = std::result::Result<T, E>;

/// Turn a unique-constraint violation into a conflict naming the field; pass anything else through.
pub fn unique_as_conflict(err: sqlx::Error, field: &str) -> CoreError {
    if let sqlx::Error::Database(db) = &err {
        if db.is_unique_violation() {
            return CoreError::Invalid(vec![FieldError::new(field, "already in use")]);
        }
    }
    CoreError::Storage(err)
}
