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
//! | `services.audit()` → [`Audit`] | `audit/` | the audit trail's reads, an object's history, verification and checkpoints |
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
use crate::time::{Clock, Micros, HOUR, MINUTE};
use std::path::PathBuf;

/// Tunables of accounts, sessions and the audit trail's checkpoints.
#[derive(Debug, Clone)]
pub struct Settings {
    pub session_ttl: Micros,
    /// Failed sign-ins (wrong passwords or second-factor codes) for one account from one address inside
    /// `lockout_window` before that pair is throttled: the strict limit, which stops one client guessing
    /// one account. The three limits and why they differ: `accounts/throttle.rs`.
    pub max_failures_per_account_and_ip: i64,
    /// Failed sign-ins for one account from every address inside `lockout_window` before the account is
    /// throttled everywhere: guessing spread over many addresses.
    pub max_failures_per_account: i64,
    /// Failed sign-ins from one address over every account inside `lockout_window` before the address is
    /// throttled: much higher than the others, since many people may share one address (a NAT).
    pub max_failures_per_ip: i64,
    pub lockout_window: Micros,
    /// Whether notifications also go out by e-mail (an SMTP server is configured).
    pub email_enabled: bool,
    /// The address people reach the platform at (`https://baluarte.example.gob.mx`), for links in
    /// e-mails; without it the e-mails carry the path only.
    pub public_url: Option<String>,
    /// The webhook address policy: which addresses webhooks may be registered for and sent to (public
    /// ones, and those in the networks an administrator allowed with `[webhooks] allow_networks`). The
    /// outbox's client ([`Deliverer::new`]) is built from the same policy.
    pub webhook_addresses: baluarte_notify::AddressPolicy,
    /// How often the server signs the audit trail's tip (`checkpoint_interval_secs`). Verification
    /// fails when an entry has waited longer than [`audit::GRACE_INTERVALS`](crate::audit::GRACE_INTERVALS)
    /// of these for a checkpoint.
    pub checkpoint_interval: Micros,
    /// The append-only checkpoint file (`audit-checkpoints.jsonl` in the data directory) every
    /// checkpoint is also written to, and verification reads; None: checkpoints stay in the database.
    pub checkpoint_file: Option<PathBuf>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            session_ttl: 12 * HOUR,
            max_failures_per_account_and_ip: 5,
            max_failures_per_account: 20,
            max_failures_per_ip: 100,
            lockout_window: HOUR / 4,
            email_enabled: false,
            public_url: None,
            webhook_addresses: baluarte_notify::AddressPolicy::public_only(),
            checkpoint_interval: 5 * MINUTE,
            checkpoint_file: None,
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
    /// The same store and key under other settings (a test that allows a private network, say).
    pub fn with_settings(self, settings: Settings) -> Self {
        Services { settings, ..self }
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
