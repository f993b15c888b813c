//! Delivery of Baluarte notifications: e-mail over SMTP and HMAC-signed webhooks.
//!
//! The platform's outbox worker owns queuing and persistence; this crate only performs one delivery attempt at a
//! time and says, through [`NotifyError::is_retryable`] and [`retry_delay`], whether and when to try again.

pub mod address;
mod email;
mod error;
mod retry;
pub mod webhook;

pub use address::{AddressPolicy, BadNetwork, Refused};
pub use email::{Email, Mailer, SmtpConfig, SmtpSecurity, MAX_BODY_BYTES, MAX_RECIPIENTS};
pub use error::NotifyError;
pub use retry::{retry_delay, MAX_RETRIES};
