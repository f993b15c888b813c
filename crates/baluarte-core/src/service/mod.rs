//! The service layer: the only way in to the platform's data.
//!
//! Each public method takes the acting [`Actor`], asks the [`policy`](crate::policy) and, for a write,
//! changes the rows and appends the audit entry in one transaction. Methods are grouped by area, one file
//! each.

mod accounts;
mod audit;
mod incidents;
mod kit;
mod notifications;
mod registry;

pub use incidents::board::{Board, Count};
pub use incidents::cases::{IncidentFilter, IncidentListItem, StageInput, MAX_ATTACHMENT};
pub use incidents::correlation::ObservableLookup;
pub use incidents::deadlines::{profile as deadline_profile, profiles as deadline_profiles, DeadlineAssignment};
pub use incidents::handling::{CampaignInput, CloseInput, TriageInput};
pub use incidents::intake::{Filed, ObservableInput, ReportInput, MAX_OBSERVABLES};
pub use incidents::sharing::{Collection, ImportSummary};
pub use incidents::taxii::{
    object_version as taxii_object_version, ObjectPage, TaxiiCursor, TaxiiFilter, SCAN_BUDGET as TAXII_SCAN_BUDGET,
};
pub use notifications::{is_webhook_event, Deliverer, DeliveryReport, NewWebhook, Webhook, WebhookInput};

pub use accounts::tokens::{NewToken, TokenInput};
pub(crate) use accounts::users::insert_user;
pub use accounts::users::{NewUser, UserFilter, UserInput, UserPatch};
pub use accounts::{LoginOutcome, SessionInfo, SessionStage, TotpEnrolment};
pub use registry::RegistryCounts;
pub(crate) use registry::{insert_contact, insert_entity, insert_sector, new_id as new_record_id};
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
