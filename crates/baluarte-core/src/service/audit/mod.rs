//! The audit trail's reads: lists (`trail.rs`), an object's history (`history.rs`), verification and
//! checkpoints (`checkpoints.rs`) ([`Audit`], `services.audit()`). Writes append their entries
//! themselves, in their own transaction (`crate::audit::append`).

mod checkpoints;
mod history;
mod trail;

use super::Services;

/// The audit trail: `services.audit()`.
#[derive(Debug, Clone, Copy)]
pub struct Audit<'a> {
    pub(in crate::service) s: &'a Services,
}
