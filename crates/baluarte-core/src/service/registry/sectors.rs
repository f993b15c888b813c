//! Sectors and subsectors (two levels), the registry's classification of entities.

use super::Registry;
use crate::audit::{self, Change};
use crate::db::WriteTx;
use crate::error::{CoreError, FieldCode, FieldError, Result};
use crate::model::Sector;
use crate::policy::{self, Action, Actor, Resource};
use crate::service::kit::validation::{finish, optional_text, text};
use crate::time;
use serde::Deserialize;
use sqlx::any::AnyRow;
use sqlx::Row;
use utoipa::ToSchema;

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SectorInput {
    /// Lowercase slug, e.g. `energia` or `electricidad`.
    #[schema(schema_with = crate::service::schema::slug)]
    pub id: String,
    /// An existing sector, for a subsector.
    #[schema(schema_with = crate::service::schema::optional_line::<64>)]
    pub parent_id: Option<String>,
    #[schema(schema_with = crate::service::schema::line::<2, 200>)]
    pub name_es: String,
    #[schema(schema_with = crate::service::schema::line::<2, 200>)]
    pub name_en: String,
}

fn sector_from_row(r: &AnyRow) -> Result<Sector, sqlx::Error> {
    Ok(Sector {
        id: r.try_get("id")?,
        parent_id: r.try_get("parent_id")?,
        name_es: r.try_get("name_es")?,
        name_en: r.try_get("name_en")?,
    })
}

impl Registry<'_> {
    pub async fn list_sectors(self, actor: &Actor) -> Result<Vec<Sector>> {
        policy::list_scope(actor, Resource::Sector)?;
        let rows = sqlx::query("SELECT id, parent_id, name_es, name_en FROM sectors ORDER BY COALESCE(parent_id, id), parent_id IS NOT NULL, name_es")
            .fetch_all(self.s.db.pool())
            .await?;
        Ok(rows.iter().map(sector_from_row).collect::<Result<_, _>>()?)
    }

    pub async fn create_sector(self, actor: &Actor, input: SectorInput) -> Result<Sector> {
        policy::check(actor, Resource::Sector, Action::Create, None)?;
        let mut errors = Vec::new();
        let id = text(&mut errors, "id", &input.id, 2, 64);
        if !id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        {
            errors.push(FieldError::new("id", FieldCode::NotSlug));
        }
        let name_es = text(&mut errors, "name_es", &input.name_es, 2, 200);
        let name_en = text(&mut errors, "name_en", &input.name_en, 2, 200);
        let parent_id = optional_text(&mut errors, "parent_id", &input.parent_id, 64);
        if let Some(p) = &parent_id {
            if !self.sector_exists(p).await? {
                errors.push(FieldError::new("parent_id", FieldCode::UnknownSector));
            }
        }
        finish(errors)?;
        let sector = Sector {
            id,
            parent_id,
            name_es,
            name_en,
        };
        let mut tx = self.s.db.begin_write().await?;
        insert_sector(&mut tx, &sector, self.s.now())
            .await
            .map_err(|e| match e {
                CoreError::Storage(e) => crate::error::unique_as_conflict(e, "id"),
                other => other,
            })?;
        audit::append(&mut tx, actor, Change::created("sector", &sector.id, "", &sector)).await?;
        tx.commit().await?;
        Ok(sector)
    }

    pub(super) async fn sector_exists(self, id: &str) -> Result<bool> {
        Ok(sqlx::query("SELECT 1 AS one FROM sectors WHERE id = $1")
            .bind(id)
            .fetch_optional(self.s.db.pool())
            .await?
            .is_some())
    }
}

pub(crate) async fn insert_sector(tx: &mut WriteTx, s: &Sector, now: time::Micros) -> Result<()> {
    sqlx::query("INSERT INTO sectors (id, parent_id, name_es, name_en, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(&s.id)
        .bind(&s.parent_id)
        .bind(&s.name_es)
        .bind(&s.name_en)
        .bind(now)
        .execute(tx.conn())
        .await?;
    Ok(())
}
