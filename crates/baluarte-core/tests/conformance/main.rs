//! The storage conformance suite: the service layer's promises, checked on SQLite and on PostgreSQL.
//!
//! Each `async fn name(store: TestStore) -> TestResult` below runs twice, as `sqlite_name` and
//! `postgres_name`, each on a store of its own (see `common/mod.rs`). The tests talk to the services as
//! the web and the CLI do; they touch SQL directly only to look at what is stored (secrets must not be)
//! or to play the attacker who edits the database behind the platform's back.

#[path = "../common/mod.rs"]
mod common;

use baluarte_core::audit::{self, entry_from_row, ENTRY_COLUMNS};
use baluarte_core::backup;
use baluarte_core::crypto::{totp, ServerKey, KEY_FILE};
use baluarte_core::demo::{self, parse_dataset, DEMO_PASSWORD, MX_DATASET};
use baluarte_core::model::{AuditEntry, EntityKind, PageRequest, Purpose, Role, Tlp};
use baluarte_core::service::{
    ContactInput, EntityFilter, EntityInput, SectorInput, SessionStage, TokenInput, UserFilter, UserInput, UserPatch,
};
use baluarte_core::{CoreError, Services};
use common::*;
use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashSet};
use std::future::Future;

const IP: &str = "203.0.113.10";

fn all() -> PageRequest {
    PageRequest::new(Some(1), Some(PageRequest::MAX_PER_PAGE))
}

fn ids<T>(items: &[T], id: impl Fn(&T) -> &str) -> BTreeSet<String> {
    items.iter().map(|x| id(x).to_string()).collect()
}

fn set<S: AsRef<str>>(items: &[S]) -> BTreeSet<String> {
    items.iter().map(|s| s.as_ref().to_string()).collect()
}

fn json<T: serde::Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

mod accounts;
mod audit_checkpoints;
mod audit_records;
mod audit_tampering;
mod backup_restore;
mod hostile;
mod registry;
mod role_grants;
mod second_factor;
mod sign_in;
mod tenancy;
