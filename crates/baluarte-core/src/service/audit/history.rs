//! An object's history: the audit entries about one record, for whoever may read that record.

use super::Audit;
use crate::audit;
use crate::error::{CoreError, Result};
use crate::model::AuditEntry;
use crate::policy::{self, Action, Actor, ListScope, Resource};
use sqlx::Row;

/// The most entries a history shows.
const HISTORY_LIMIT: i64 = 200;

impl Audit<'_> {
    /// The history of one object, newest first. Two decisions, both the ones made elsewhere:
    /// - the object's own read, exactly as reading it decides (a campaign's history is as closed as the
    ///   campaign, a foreign entity's is not found);
    /// - the audit trail's read, for the trail the entries belong to: the owning entity's, as the audit
    ///   list shows it, or, for what belongs to no entity (sectors, campaigns, deadline rules of a
    ///   sector or a kind of entity), the national authority's, which only those who read the whole
    ///   trail see. Its entries name the national staff who acted; the object itself does not.
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
        let owner = Some(owner.as_str()).filter(|o| !o.is_empty());
        self.check_object_read(actor, object_type, object_id, owner).await?;
        match owner {
            Some(owner) => policy::check(actor, Resource::Audit, Action::Read, Some(owner))?,
            None if policy::list_scope(actor, Resource::Audit)? == ListScope::All => {}
            None => {
                return Err(CoreError::forbidden(
                    "the history of a national record is the national authority's",
                ))
            }
        }
        audit::history(&self.s.db, object_type, object_id, HISTORY_LIMIT).await
    }

    /// Whether the actor may read the object, decided as reading it decides. `owner` is the entity
    /// the trail records it under, for records that may be gone (a deleted deadline rule) or that
    /// are read with their incident.
    async fn check_object_read(self, actor: &Actor, object_type: &str, id: &str, owner: Option<&str>) -> Result<()> {
        let s = self.s;
        match object_type {
            "entity" => s.registry().get_entity(actor, id).await.map(drop),
            "contact" => s.registry().get_contact(actor, id).await.map(drop),
            "user" => s.users().get_user(actor, id).await.map(drop),
            "api_token" => s.tokens().get_token(actor, id).await.map(drop),
            "incident" => s.incidents().get_incident(actor, id).await.map(drop),
            "campaign" => s.incidents().get_campaign(actor, id).await.map(drop),
            "sector" => policy::check(actor, Resource::Sector, Action::Read, None),
            "deadline_assignment" => policy::check(actor, Resource::DeadlineAssignment, Action::Read, owner),
            "webhook" => policy::check(actor, Resource::Webhook, Action::Read, owner),
            // The records of a case file are read with their incident.
            "incident_submission" | "attachment" | "journal" | "task" | "info_request" => {
                policy::check(actor, Resource::Incident, Action::Read, owner)
            }
            // Anything else (partner bundles imported, say): only those who read the whole trail.
            _ if policy::list_scope(actor, Resource::Audit)? == ListScope::All => Ok(()),
            _ => Err(CoreError::forbidden(format!("the history of a {object_type}"))),
        }
    }
}
