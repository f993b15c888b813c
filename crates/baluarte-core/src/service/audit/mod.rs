//! The audit trail's reads.

mod trail;
