//! Campaigns: named groups of related incidents, kept by the national CSIRT.

use super::Incidents;
use crate::audit::{self, Change};
use crate::error::{CoreError, Result};
use crate::incident::Campaign;
use crate::model::Tlp;
use crate::policy::{self, Action, Actor, Resource};
use crate::service::kit::new_id;
use crate::service::kit::validation::{finish, text, text_block};
use serde::Deserialize;
use sqlx::Row;
use utoipa::ToSchema;

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CampaignInput {
    #[schema(schema_with = crate::service::schema::line::<3, 200>)]
    pub name: String,
    #[serde(default)]
    #[schema(schema_with = crate::service::schema::block::<0, 20_000>)]
    pub description: String,
    pub tlp: Tlp,
}

impl Incidents<'_> {
    pub async fn create_campaign(self, actor: &Actor, input: CampaignInput) -> Result<Campaign> {
        policy::check(actor, Resource::Campaign, Action::Create, None)?;
        let mut errors = Vec::new();
        let name = text(&mut errors, "name", &input.name, 3, 200);
        let description = text_block(&mut errors, "description", &input.description, 0, 20_000);
        finish(errors)?;
        let now = self.s.now();
        let c = Campaign {
            id: new_id(),
            name,
            description,
            tlp: input.tlp,
            incident_count: 0,
            created_at: now,
        };
        let mut tx = self.s.db.begin_write().await?;
        sqlx::query("INSERT INTO campaigns (id, name, description, tlp, created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6)")
            .bind(&c.id)
            .bind(&c.name)
            .bind(&c.description)
            .bind(c.tlp.as_str())
            .bind(&actor.label)
            .bind(now)
            .execute(tx.conn())
            .await?;
        audit::append(&mut tx, actor, Change::created("campaign", &c.id, "", &c)).await?;
        tx.commit().await?;
        Ok(c)
    }

    pub async fn list_campaigns(self, actor: &Actor) -> Result<Vec<Campaign>> {
        policy::check(actor, Resource::Campaign, Action::Read, None)?;
        let rows = sqlx::query("SELECT c.id, c.name, c.description, c.tlp, c.created_at, (SELECT COUNT(*) FROM incidents i WHERE i.campaign_id = c.id) AS n FROM campaigns c ORDER BY c.created_at DESC")
            .fetch_all(self.s.db.pool())
            .await?;
        rows.iter().map(campaign_from_row).collect()
    }

    pub async fn get_campaign(self, actor: &Actor, id: &str) -> Result<Campaign> {
        policy::check(actor, Resource::Campaign, Action::Read, None)?;
        let row = sqlx::query("SELECT c.id, c.name, c.description, c.tlp, c.created_at, (SELECT COUNT(*) FROM incidents i WHERE i.campaign_id = c.id) AS n FROM campaigns c WHERE c.id = $1")
            .bind(id)
            .fetch_optional(self.s.db.pool())
            .await?
            .ok_or(CoreError::NotFound)?;
        campaign_from_row(&row)
    }
}

fn campaign_from_row(r: &sqlx::any::AnyRow) -> Result<Campaign> {
    Ok(Campaign {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        description: r.try_get("description")?,
        tlp: Tlp::parse(&r.try_get::<String, _>("tlp")?).unwrap_or(Tlp::AmberStrict),
        incident_count: r.try_get("n")?,
        created_at: r.try_get("created_at")?,
    })
}
