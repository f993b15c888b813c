//! Reading the audit trail: lists, an object's history, verification and checkpoints.

use super::Audit;
use crate::audit::{self, VerifyReport, ENTRY_COLUMNS};
use crate::error::{CoreError, Result};
use crate::model::{AuditEntry, Page, PageRequest};
use crate::policy::{self, Action, Actor, ListScope, Resource};
use crate::service::kit::paging::page_of;
use crate::service::kit::sql::Filter;
use crate::service::kit::tenancy;
use sqlx::Row;

impl Audit<'_> {
    /// Entries the actor may read, newest first: all for national auditors and administrators, the own
    /// entity's for a security officer or an entity auditor.
    pub async fn list_audit(
        self,
        actor: &Actor,
        entity_id: Option<&str>,
        object_type: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<AuditEntry>> {
        let mut f = Filter::default();
        tenancy::scope(&mut f, actor, Resource::Audit, "entity_id", entity_id)?;
        if let Some(t) = object_type {
            f.eq("object_type", t);
        }
        page_of(
            &self.s.db,
            "audit_log",
            ENTRY_COLUMNS,
            &f,
            "seq DESC",
            page,
            audit::entry_from_row,
        )
        .await
    }

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
        audit::history(&self.s.db, object_type, object_id, 200).await
    }

    /// Verify the whole chain against this server's key. National auditors and administrators only.
    pub async fn verify_audit(self, actor: &Actor) -> Result<VerifyReport> {
        if policy::list_scope(actor, Resource::Audit)? != ListScope::All {
            return Err(CoreError::forbidden(
                "verifying the whole trail is for national auditors",
            ));
        }
        audit::verify(&self.s.db, &self.s.key.public_hex()).await
    }

    pub async fn audit_checkpoint(self) -> Result<Option<i64>> {
        audit::checkpoint(&self.s.db, &self.s.key).await
    }
}
