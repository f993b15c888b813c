//! Errors that stop an import. Problems with single objects are not errors: the object is skipped and
//! recorded in [`crate::Imported::skipped`], so one odd object does not lose the rest of a partner's bundle.

/// Why a whole bundle was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StixError {
    #[error("the bundle is {size} bytes, over the limit of {max}")]
    TooLarge { size: usize, max: usize },
    #[error("the bundle is not UTF-8 text (invalid byte at offset {offset})")]
    NotUtf8 { offset: usize },
    #[error("the bundle is not JSON: {message} (line {line}, column {column})")]
    NotJson {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("not a STIX 2.1 bundle: {0}")]
    NotABundle(String),
    #[error("the bundle has {count} objects, over the limit of {max}")]
    TooManyObjects { count: usize, max: usize },
}
