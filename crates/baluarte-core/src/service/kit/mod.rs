//! The small kit every capability uses.

pub(crate) mod sql;
