//! The audit trail's reads: lists, an object's history, verification and checkpoints
//! ([`Audit`], `services.audit()`). Writes append their entries themselves, in their own transaction
//! (`crate::audit::append`).

mod trail;

use super::Services;

/// The audit trail: `services.audit()`.
#[derive(Debug, Clone, Copy)]
pub struct Audit<'a> {
    pub(in crate::service) s: &'a Services,
}
