//! The error type of the service layer. Each variant maps to one HTTP status in the web crate; the
//! messages are safe to show to the caller (they never carry secrets or SQL).

pub use crate::field_error::{FieldCode, FieldError};

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
    /// A failure of ours, not the caller's. It keeps the error that caused it, so that the log shows the
    /// whole chain ([`CoreError::chain`]) while the caller sees only that something went wrong.
    #[error("internal error: {context}")]
    Internal {
        context: String,
        #[source]
        source: Option<BoxError>,
    },
}

/// Any error, as the cause of an internal one.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

impl CoreError {
    /// One rejected field, without parameters.
    pub fn invalid(field: &str, code: FieldCode) -> Self {
        Self::Invalid(vec![FieldError::new(field, code)])
    }
    /// One rejected field, with its parameters.
    pub fn invalid_field(error: FieldError) -> Self {
        Self::Invalid(vec![error])
    }
    /// A document or value that cannot be read; `detail` is the parser's reason (line, column, path).
    pub fn malformed(field: &str, detail: impl Into<String>) -> Self {
        Self::invalid_field(FieldError::new(field, FieldCode::Malformed).with("detail", detail.into()))
    }
    pub fn forbidden(what: impl Into<String>) -> Self {
        Self::Forbidden(what.into())
    }
    /// An internal error with no underlying cause (a broken invariant).
    pub fn internal(context: impl Into<String>) -> Self {
        Self::Internal {
            context: context.into(),
            source: None,
        }
    }
    /// An internal error caused by `source`: `context` says what was being done ("stored receipt").
    pub fn internal_from(context: impl Into<String>, source: impl Into<BoxError>) -> Self {
        Self::Internal {
            context: context.into(),
            source: Some(source.into()),
        }
    }
    /// This error and every cause under it, outermost first, joined by ": " (for logs).
    pub fn chain(&self) -> String {
        let mut text = self.to_string();
        let mut cause = std::error::Error::source(self);
        while let Some(e) = cause {
            text.push_str(": ");
            text.push_str(&e.to_string());
            cause = e.source();
        }
        text
    }
}

pub type Result<T, E = CoreError> = std::result::Result<T, E>;

/// Turn a unique-constraint violation into a conflict naming the field; pass anything else through.
pub fn unique_as_conflict(err: sqlx::Error, field: &str) -> CoreError {
    if let sqlx::Error::Database(db) = &err {
        if db.is_unique_violation() {
            return CoreError::Invalid(vec![FieldError::new(field, FieldCode::AlreadyInUse)]);
        }
    }
    CoreError::Storage(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_internal_error_keeps_its_cause() {
        let cause = serde_json::from_str::<serde_json::Value>("{").err();
        let err = CoreError::internal_from(
            "stored receipt",
            cause.map(BoxError::from).unwrap_or_else(|| "none".into()),
        );
        assert!(std::error::Error::source(&err).is_some());
        assert_eq!(err.to_string(), "internal error: stored receipt");
        assert!(
            err.chain()
                .starts_with("internal error: stored receipt: EOF while parsing"),
            "{}",
            err.chain()
        );
        assert!(std::error::Error::source(&CoreError::internal("invariant")).is_none());
    }

    #[test]
    fn the_chain_of_a_storage_error_names_the_database_error() {
        let err = CoreError::from(sqlx::Error::RowNotFound);
        assert!(err.chain().contains("no rows returned"), "{}", err.chain());
    }
}
