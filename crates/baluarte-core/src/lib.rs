//! Baluarte's domain and service layer.
//!
//! Every read and write of the platform goes through [`service::Services`] and its capability handles
//! (`services.incidents()`, `services.registry()`, …): they decide access with the one [`policy`], and
//! for a write append the [`audit`] entry in the same database transaction. HTTP handlers and CLI
//! commands are thin callers of this crate.

pub mod audit;
pub mod backup;
pub mod canonical;
pub mod crypto;
pub mod db;
pub mod demo;
pub mod demo_incidents;
pub mod error;
pub mod field_error;
pub mod incident;
pub mod model;
pub mod policy;
pub mod receipt;
pub mod service;
pub mod time;

pub use error::{CoreError, FieldCode, FieldError};
pub use service::Services;
