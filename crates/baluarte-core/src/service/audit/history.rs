//! An object's history: the audit entries about one record.

use super::Audit;
use crate::audit;
use crate::error::{CoreError, Result};
use crate::model::AuditEntry;
use crate::policy::{self, Action, Actor, Resource};
use sqlx::Row;

/// The most entries a history shows.
const HISTORY_LIMIT: i64 = 200;

impl Audit<'_> {
    /// The history of one object, if the actor may read the audit trail of the object's entity.
    pub async fn object_history(self, actor: &Actor, object_type: &str, object_id: &str) -> Result<Vec<AuditEntry>> {
        let owner: Option<String> = sqlx::query(
            "SELECT entity_id FROM audit_log WHERE object_type = $1 AND object_id = $2 ORDER BY seq DESC LIMIT 1",
        )
        .bind(object_type)
        .bind(object_id)
        .fetch_optional(self.s.db.pool())
        .await?
        .map(|r| r.try_get("entity_id"))
        .transpose()?;
        let Some(owner) = owner else {
            return Err(CoreError::NotFound);
        };
        let owner = if owner.is_empty() { None } else { Some(owner.as_str()) };
        policy::check(actor, Resource::Audit, Action::Read, owner)?;
        audit::history(&self.s.db, object_type, object_id, HISTORY_LIMIT).await
    }
}
