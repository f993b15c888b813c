//! An object's history, from the audit trail.

use super::layout::{OrPage, PageError};
use crate::auth::SignedIn;
use crate::i18n::Tr;
use crate::AppState;
use baluarte_core::model::AuditEntry;
use baluarte_core::time::local_display;
use baluarte_core::CoreError;

/// One entry of an object's history.
#[derive(Debug, Clone)]
pub struct HistoryRow {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub changes: String,
}

/// The translated name of an audited action; an unknown one is shown as recorded.
pub fn action_label(t: Tr, action: &str) -> String {
    let key = match action {
        "create" => "action.create",
        "update" => "action.update",
        "deactivate" => "action.deactivate",
        "reactivate" => "action.reactivate",
        "revoke" => "action.revoke",
        "reset_password" => "action.reset_password",
        "reset_password_and_totp" => "action.reset_password_and_totp",
        "login" => "action.login",
        "login_password_step" => "action.login_password_step",
        "logout" => "action.logout",
        "change_password" => "action.change_password",
        "enrol_totp" => "action.enrol_totp",
        other => return other.to_string(),
    };
    t.t(key).to_string()
}

/// The changed fields recorded with an entry (a JSON list), as "a, b, c".
pub fn changed_fields(changes: &str) -> String {
    serde_json::from_str::<Vec<String>>(changes)
        .map(|v| v.join(", "))
        .unwrap_or_default()
}

pub fn history_row(t: Tr, e: &AuditEntry, zone: &str) -> HistoryRow {
    HistoryRow {
        at: local_display(e.at, zone),
        actor: e.actor_label.clone(),
        action: action_label(t, &e.action),
        changes: changed_fields(&e.changes),
    }
}

/// The object's history, newest first, or None when the actor may not read it.
pub async fn history(
    state: &AppState,
    s: &SignedIn,
    object_type: &str,
    id: &str,
    zone: &str,
) -> Result<Option<Vec<HistoryRow>>, PageError> {
    let lang = s.ctx.lang;
    match state.services.audit().object_history(s.actor(), object_type, id).await {
        Ok(entries) => Ok(Some(
            entries.iter().map(|e| history_row(Tr::new(lang), e, zone)).collect(),
        )),
        Err(CoreError::NotFound | CoreError::Forbidden(_)) => Ok(None),
        Err(e) => Err(e).page(lang),
    }
}
