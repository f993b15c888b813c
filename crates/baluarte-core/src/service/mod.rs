//! The service layer: the only way in to the platform's data.
//!
//! [`Services`] holds the store, the server key and the settings. Each capability is one folder here and
//! one small handle that borrows the services; every public method is on a handle:
//!
//! | handle | folder | what |
//! |---|---|---|
//! | `services.registry()` → [`Registry`] | `registry/` | sectors, entities, 24/7 contacts, the dashboard's counts, platform gauges |
//! | `services.accounts()` → [`Accounts`] | `accounts/` | login with throttling, sessions, TOTP, a person's own password and language |
//! | `services.users()` → [`Users`] | `accounts/users.rs` | people: list, create, roles, deactivation, password resets, the first administrator |
//! | `services.tokens()` → [`Tokens`] | `accounts/tokens.rs` | API tokens: create, list, revoke, authenticate |
//! | `services.incidents()` → [`Incidents`] | `incidents/` | intake, the case file, handling, campaigns, deadlines, correlation, STIX and TAXII sharing, the board |
//! | `services.audit()` → [`Audit`] | `audit/` | the audit trail's reads, verification and checkpoints |
//! | `services.notifications()` → [`Notifications`] | `notifications/` | in-app notices, webhooks, the outbox worker |
//!
//! Each public method takes the acting [`Actor`](crate::policy::Actor), asks the
//! [`policy`](crate::policy) and, for a write, changes the rows and appends the audit entry in one
//! transaction. What one capability needs of another is `pub(crate)` on the other's handle and called
//! through it (`self.s.registry().load_entity(..)`). The `kit/` is what they share: list filters, the
//! one tenancy filter (policy scope → SQL `WHERE`), paging and input validation.
//!
//! A handle is a copy of one reference: its methods take `self`, so what they return (a future to
//! `join!`, say) borrows the services, not the handle. A new capability is a folder with its handle
//! type (`#[derive(Clone, Copy)] pub struct X<'a> { s: &'a Services }`) and one accessor below.

pub mod access;
mod accounts;
mod audit;
mod incidents;
mod kit;
mod notifications;
mod registry;
pub mod schema;

pub use accounts::{Accounts, Tokens, Users};
pub use audit::Audit;
pub use incidents::Incidents;
pub use notifications::Notifications;
pub use registry::Registry;

pub use incidents::board::{Board, Count};
pub use incidents::cases::{IncidentFilter, IncidentListItem};
pub use incidents::correlation::ObservableLookup;
pub use incidents::deadlines::{profile as deadline_profile, profiles as deadline_profiles, DeadlineAssignment};
pub use incidents::handling::{CloseInput, TriageInput};
pub use incidents::intake::{Filed, ObservableInput, ReportInput, MAX_OBSERVABLES};
pub use incidents::sharing::{Collection, ImportSummary};
pub use incidents::taxii::{
    object_version as taxii_object_version, ObjectPage, TaxiiCursor, TaxiiFilter, SCAN_BUDGET as TAXII_SCAN_BUDGET,
};
pub use incidents::{CampaignInput, CaseOptions, StageChoice, StageInput, MAX_ATTACHMENT};
pub use notifications::{is_webhook_event, Deliverer, DeliveryReport, NewWebhook, Webhook, WebhookInput};

pub(crate) use accounts::insert_user;
pub use accounts::{LoginOutcome, NewToken, NewUser, SessionInfo, SessionStage, TokenInput, TotpEnrolment};
pub use accounts::{UserFilter, UserInput, UserPatch};
pub(crate) use kit::new_id as new_record_id;
pub use registry::RegistryCounts;
pub(crate) use registry::{insert_contact, insert_entity, insert_sector};
pub use registry::{ContactInput, EntityFilter, EntityInput, SectorInput};

use crate::crypto::ServerKey;
use crate::db::Db;
use crate::time::{Clock, Micros, HOUR};

/// Tunables of accounts and sessions.
#[derive(Debug, Clone)]
pub struct Settings {
    pub session_ttl: Micros,
    /// Failed logins for one account inside `lockout_window` before it is throttled.
    pub max_failures_per_account: i64,
    /// Failed logins from one address inside `lockout_window` before it is throttled.
    pub max_failures_per_ip: i64,
    pub lockout_window: Micros,
    /// Whether notifications also go out by e-mail (an SMTP server is configured).
    pub email_enabled: bool,
    /// The address people reach the platform at (`https://baluarte.example.gob.mx`), for links in
    /// e-mails; without it the e-mails carry the path only.
    pub public_url: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            session_ttl: 12 * HOUR,
            max_failures_per_account: 5,
            max_failures_per_ip: 50,
            lockout_window: HOUR / 4,
            email_enabled: false,
            public_url: None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Services {
    db: Db,
    key: ServerKey,
    settings: Settings,
}

impl Services {
    pub fn new(db: Db, key: ServerKey, settings: Settings) -> Self {
        Services { db, key, settings }
    }
    pub fn db(&self) -> &Db {
        &self.db
    }
    pub fn server_key(&self) -> &ServerKey {
        &self.key
    }
    /// The clock every service reads (the store's): the system clock in production, a manual one in tests.
    pub fn clock(&self) -> &Clock {
        self.db.clock()
    }
    pub fn now(&self) -> Micros {
        self.db.now()
    }
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn registry(&self) -> Registry<'_> {
        Registry { s: self }
    }
    pub fn accounts(&self) -> Accounts<'_> {
        Accounts { s: self }
    }
    pub fn users(&self) -> Users<'_> {
        Users { s: self }
    }
    pub fn tokens(&self) -> Tokens<'_> {
        Tokens { s: self }
    }
    pub fn incidents(&self) -> Incidents<'_> {
        Incidents { s: self }
    }
    pub fn audit(&self) -> Audit<'_> {
        Audit { s: self }
    }
    pub fn notifications(&self) -> Notifications<'_> {
        Notifications { s: self }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn debug_output_of_the_services_holds_no_database_password() {
        let db = crate::db::unconnected("postgres://baluarte:hunter2@db.example/baluarte");
        let services = Services::new(db, ServerKey::generate(), Settings::default());
        let shown = format!("{services:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("db.example"), "{shown}");
    }
}
