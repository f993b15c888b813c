//! Relations between incidents — merged into, merged here, in a campaign, correlated — and the one
//! rule they all follow: a relation is shown to whoever may read what it points to, and to nobody
//! else. An entity's officer whose incident the CSIRT merged into another entity's sees that it was
//! merged, not into what; the survivor's readers do not see the other entity's incident at all.

use super::cases::INCIDENT_SELECT;
use super::Incidents;
use crate::error::Result;
use crate::incident::{Incident, RelatedIncident};
use crate::policy::{self, Action, Actor, Resource};
use sqlx::Row;

/// Whether `actor` may see a relation to an incident of `entity_id`: exactly when it may read that
/// incident.
pub(crate) fn sees_incident_of(actor: &Actor, entity_id: &str) -> bool {
    policy::check(actor, Resource::Incident, Action::Read, Some(entity_id)).is_ok()
}

/// Whether `actor` may see which campaign an incident is in: exactly when it may read campaigns.
pub(crate) fn sees_campaigns(actor: &Actor) -> bool {
    policy::check(actor, Resource::Campaign, Action::Read, None).is_ok()
}

impl Incidents<'_> {
    /// `incident` as `actor` may see it: the relations to what it may not read are left out.
    pub(crate) async fn with_visible_relations(self, actor: &Actor, mut incident: Incident) -> Result<Incident> {
        if let Some(survivor) = &incident.merged_into {
            let entity: Option<String> = sqlx::query("SELECT entity_id FROM incidents WHERE id = $1")
                .bind(survivor)
                .fetch_optional(self.s.db.pool())
                .await?
                .map(|r| r.try_get("entity_id"))
                .transpose()?;
            if !entity.is_some_and(|e| sees_incident_of(actor, &e)) {
                incident.merged_into = None;
            }
        }
        if !sees_campaigns(actor) {
            incident.campaign_id = None;
        }
        Ok(incident)
    }

    /// The incidents merged into `incident_id` that `actor` may read.
    pub(crate) async fn merged_into_this(self, actor: &Actor, incident_id: &str) -> Result<Vec<RelatedIncident>> {
        let rows = sqlx::query(&format!(
            "{INCIDENT_SELECT} WHERE i.merged_into = $1 ORDER BY i.created_at"
        ))
        .bind(incident_id)
        .fetch_all(self.s.db.pool())
        .await?;
        let mut related = Vec::new();
        for r in &rows {
            let i = super::cases::incident_from_row(r)?;
            if sees_incident_of(actor, &i.entity_id) {
                related.push(RelatedIncident {
                    id: i.id,
                    reference: i.reference,
                    entity_name: i.entity_name,
                    title: i.title,
                    status: i.status,
                });
            }
        }
        Ok(related)
    }
}
