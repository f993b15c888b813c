//! The small kit every capability shares: list filters that number their `$n` placeholders
//! ([`sql`]), the one tenancy filter from the policy's list scope to SQL ([`tenancy`]), paging
//! ([`paging`]), input validation ([`validation`]) and the deactivate/reactivate write
//! ([`activation`]).

pub(crate) mod activation;
pub(crate) mod json;
pub(crate) mod paging;
pub(crate) mod sql;
pub(crate) mod tenancy;
pub(crate) mod validation;

/// A new record id (a UUIDv7).
pub(crate) fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
