//! Why a value was rejected.

use crate::kind::Kind;
use crate::MAX_INPUT;

/// Why a value is not a valid observable. Messages say what is wrong with the value, so they can be shown to the
/// analyst who pasted it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ObservableError {
    /// Nothing left after trimming whitespace.
    #[error("input is empty")]
    Empty,
    /// Longer than [`MAX_INPUT`] bytes after trimming; never truncated, since a truncated indicator is another one.
    #[error("input longer than {MAX_INPUT} bytes")]
    TooLong,
    /// The value is not valid for `kind`; `reason` says why.
    #[error("not {}: {reason}", kind.noun())]
    Invalid { kind: Kind, reason: String },
    /// A URL whose scheme is not http, https or ftp (quoted, shortened).
    #[error("unsupported URL scheme {0}; only http, https and ftp URLs are accepted")]
    UnsupportedScheme(String),
    /// [`crate::detect`] could not guess the kind; the reason says what to do.
    #[error("cannot tell what kind of observable this is: {0}")]
    Unrecognised(String),
    /// A kind id that does not exist (quoted, shortened).
    #[error("unknown observable kind {0}")]
    UnknownKind(String),
}

impl ObservableError {
    /// The kind the value was checked against, when there was one.
    pub fn kind(&self) -> Option<Kind> {
        match self {
            ObservableError::Invalid { kind, .. } => Some(*kind),
            ObservableError::UnsupportedScheme(_) => Some(Kind::Url),
            _ => None,
        }
    }
}

pub(crate) fn invalid(kind: Kind, reason: impl Into<String>) -> ObservableError {
    ObservableError::Invalid {
        kind,
        reason: reason.into(),
    }
}

/// Longest piece of user input echoed in a message: enough to recognise it, not enough to flood a log.
const QUOTE_CHARS: usize = 40;

/// A piece of user input for a message: in backticks, shortened, with control and invisible characters escaped
/// so that a message cannot hide or reorder text (bidi overrides) when shown in a page or a terminal.
pub(crate) fn quote(text: &str) -> String {
    let mut out = String::from("`");
    for c in text.chars().take(QUOTE_CHARS) {
        out.extend(c.escape_debug());
    }
    if text.chars().nth(QUOTE_CHARS).is_some() {
        out.push('…');
    }
    out.push('`');
    out
}

/// One character for a message, escaped like [`quote`].
pub(crate) fn quote_char(c: char) -> String {
    quote(c.encode_utf8(&mut [0; 4]))
}
