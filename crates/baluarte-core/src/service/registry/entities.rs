//! Entities: the organisations that report, with their kind, sector, state and time zone.

use super::Registry;
use crate::audit::{self, Change};
use crate::db::{flag, WriteTx};
use crate::error::{CoreError, FieldCode, FieldError, Result};
use crate::model::{Entity, EntityKind, Page, PageRequest};
use crate::policy::{self, Action, Actor, Resource};
use crate::service::kit::activation::{write_switch, Switch, Switchable};
use crate::service::kit::new_id;
use crate::service::kit::paging::page_of;
use crate::service::kit::sql::{Arg, Filter};
use crate::service::kit::tenancy;
use crate::service::kit::validation::{finish, optional_text, text};
use crate::time;
use serde::Deserialize;
use sqlx::any::AnyRow;
use sqlx::Row;
use utoipa::ToSchema;

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EntityInput {
    #[schema(schema_with = crate::service::schema::line::<2, 200>)]
    pub name: String,
    #[schema(schema_with = crate::service::schema::optional_line::<32>)]
    pub acronym: Option<String>,
    pub kind: EntityKind,
    /// An existing entity (not this one).
    #[schema(schema_with = crate::service::schema::optional_line::<64>)]
    pub parent_id: Option<String>,
    /// An existing sector or subsector.
    #[schema(schema_with = crate::service::schema::optional_line::<64>)]
    pub sector_id: Option<String>,
    #[schema(schema_with = crate::service::schema::state_code)]
    pub state_code: Option<String>,
    /// An IANA time zone, e.g. `America/Mexico_City`.
    pub time_zone: String,
}

#[derive(Debug, Clone, Default)]
pub struct EntityFilter {
    pub q: Option<String>,
    pub sector_id: Option<String>,
    pub kind: Option<EntityKind>,
    pub state_code: Option<String>,
    pub include_inactive: bool,
}

const ENTITY_COLUMNS: &str =
    "id, name, acronym, kind, parent_id, sector_id, state_code, time_zone, national_authority, active, created_at, updated_at";

pub(crate) fn entity_from_row(r: &AnyRow) -> Result<Entity, sqlx::Error> {
    let kind: String = r.try_get("kind")?;
    Ok(Entity {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        acronym: r.try_get("acronym")?,
        kind: EntityKind::parse(&kind).unwrap_or(EntityKind::Private),
        parent_id: r.try_get("parent_id")?,
        sector_id: r.try_get("sector_id")?,
        state_code: r.try_get("state_code")?,
        time_zone: r.try_get("time_zone")?,
        national_authority: r.try_get::<i64, _>("national_authority")? != 0,
        active: r.try_get::<i64, _>("active")? != 0,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// An ISO 3166-2 code (`MX-JAL`), trimmed and upper-cased; blank is none. Checked before upper-casing:
/// `ß` would become the ASCII `SS`.
pub(crate) fn state_code(errors: &mut Vec<FieldError>, value: &Option<String>) -> Option<String> {
    let code = optional_text(errors, "state_code", value, 10);
    if let Some(s) = &code {
        if !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') || !s.contains('-') {
            errors.push(FieldError::new("state_code", FieldCode::NotStateCode).with("example", "MX-JAL"));
        }
    }
    code.map(|s| s.to_ascii_uppercase())
}

impl Registry<'_> {
    pub async fn list_entities(self, actor: &Actor, filter: &EntityFilter, page: PageRequest) -> Result<Page<Entity>> {
        let mut f = Filter::new(self.s.db.backend());
        tenancy::scope(&mut f, actor, Resource::Entity, "id", None)?;
        if let Some(q) = filter.q.as_deref().filter(|q| !q.trim().is_empty()) {
            f.search(&["name", "acronym"], q.trim());
        }
        if let Some(s) = &filter.sector_id {
            // A sector matches itself and its subsectors.
            f.and(
                "(sector_id = ? OR sector_id IN (SELECT id FROM sectors WHERE parent_id = ?))",
                vec![Arg::Text(s.clone()), Arg::Text(s.clone())],
            );
        }
        if let Some(k) = filter.kind {
            f.eq("kind", k.as_str());
        }
        if let Some(st) = &filter.state_code {
            f.eq("state_code", st.clone());
        }
        if !filter.include_inactive {
            f.and("active = 1", vec![]);
        }
        page_of(
            &self.s.db,
            "entities",
            ENTITY_COLUMNS,
            &f,
            "name",
            page,
            entity_from_row,
        )
        .await
    }

    /// The entity, stored, without an access check: for the service layer's own decisions.
    pub(crate) async fn load_entity(self, id: &str) -> Result<Entity> {
        let row = sqlx::query(&format!("SELECT {ENTITY_COLUMNS} FROM entities WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.s.db.pool())
            .await?
            .ok_or(CoreError::NotFound)?;
        Ok(entity_from_row(&row)?)
    }

    pub async fn get_entity(self, actor: &Actor, id: &str) -> Result<Entity> {
        policy::check(actor, Resource::Entity, Action::Read, Some(id))?;
        self.load_entity(id).await
    }

    async fn validate_entity(self, input: &EntityInput, own_id: Option<&str>) -> Result<EntityInput> {
        let mut errors = Vec::new();
        let name = text(&mut errors, "name", &input.name, 2, 200);
        let acronym = optional_text(&mut errors, "acronym", &input.acronym, 32);
        let parent_id = optional_text(&mut errors, "parent_id", &input.parent_id, 64);
        if let Some(p) = &parent_id {
            if Some(p.as_str()) == own_id {
                errors.push(FieldError::new("parent_id", FieldCode::OwnParent));
            } else if sqlx::query("SELECT 1 AS one FROM entities WHERE id = $1")
                .bind(p)
                .fetch_optional(self.s.db.pool())
                .await?
                .is_none()
            {
                errors.push(FieldError::new("parent_id", FieldCode::UnknownEntity));
            }
        }
        let sector_id = optional_text(&mut errors, "sector_id", &input.sector_id, 64);
        if let Some(s) = &sector_id {
            if !self.sector_exists(s).await? {
                errors.push(FieldError::new("sector_id", FieldCode::UnknownSector));
            }
        }
        let state_code = state_code(&mut errors, &input.state_code);
        let time_zone = input.time_zone.trim().to_string();
        if !time::is_valid_zone(&time_zone) {
            errors.push(FieldError::new("time_zone", FieldCode::NotTimeZone).with("example", "America/Mexico_City"));
        }
        finish(errors)?;
        Ok(EntityInput {
            name,
            acronym,
            kind: input.kind,
            parent_id,
            sector_id,
            state_code,
            time_zone,
        })
    }

    pub async fn create_entity(self, actor: &Actor, input: EntityInput) -> Result<Entity> {
        policy::check(actor, Resource::Entity, Action::Create, None)?;
        let v = self.validate_entity(&input, None).await?;
        let now = self.s.now();
        let entity = Entity {
            id: new_id(),
            name: v.name,
            acronym: v.acronym,
            kind: v.kind,
            parent_id: v.parent_id,
            sector_id: v.sector_id,
            state_code: v.state_code,
            time_zone: v.time_zone,
            national_authority: false,
            active: true,
            created_at: now,
            updated_at: now,
        };
        let mut tx = self.s.db.begin_write().await?;
        insert_entity(&mut tx, &entity).await?;
        audit::append(
            &mut tx,
            actor,
            Change::created("entity", &entity.id, &entity.id, &entity),
        )
        .await?;
        tx.commit().await?;
        Ok(entity)
    }

    pub async fn update_entity(self, actor: &Actor, id: &str, input: EntityInput) -> Result<Entity> {
        policy::check(actor, Resource::Entity, Action::Update, Some(id))?;
        let before = self.load_entity(id).await?;
        let v = self.validate_entity(&input, Some(id)).await?;
        if v.kind != before.kind || v.sector_id != before.sector_id || v.parent_id != before.parent_id {
            policy::check_entity_classification(actor)?;
        }
        let after = Entity {
            name: v.name,
            acronym: v.acronym,
            kind: v.kind,
            parent_id: v.parent_id,
            sector_id: v.sector_id,
            state_code: v.state_code,
            time_zone: v.time_zone,
            updated_at: self.s.now(),
            ..before.clone()
        };
        let mut tx = self.s.db.begin_write().await?;
        sqlx::query("UPDATE entities SET name = $1, acronym = $2, kind = $3, parent_id = $4, sector_id = $5, state_code = $6, time_zone = $7, updated_at = $8 WHERE id = $9")
            .bind(&after.name)
            .bind(&after.acronym)
            .bind(after.kind.as_str())
            .bind(&after.parent_id)
            .bind(&after.sector_id)
            .bind(&after.state_code)
            .bind(&after.time_zone)
            .bind(after.updated_at)
            .bind(id)
            .execute(tx.conn())
            .await?;
        audit::append(
            &mut tx,
            actor,
            Change::changed("update", "entity", id, id, &before, &after),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    pub async fn set_entity_active(self, actor: &Actor, id: &str, active: bool) -> Result<Entity> {
        policy::check(actor, Resource::Entity, Action::Deactivate, Some(id))?;
        let before = self.load_entity(id).await?;
        if before.national_authority && !active {
            return Err(CoreError::Conflict(
                "the national authority cannot be deactivated".into(),
            ));
        }
        let after = Entity {
            active,
            updated_at: self.s.now(),
            ..before.clone()
        };
        let mut tx = self.s.db.begin_write().await?;
        let switch = Switch {
            kind: Switchable::Entity,
            id,
            entity_id: id,
            active,
            before: &before,
            after: &after,
        };
        // Already in that state: nothing changes, and the record is returned as it is.
        if !write_switch(&mut tx, actor, after.updated_at, switch).await? {
            return Ok(before);
        }
        tx.commit().await?;
        Ok(after)
    }
}

pub(crate) async fn insert_entity(tx: &mut WriteTx, e: &Entity) -> Result<()> {
    sqlx::query(&format!(
        "INSERT INTO entities ({ENTITY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
    ))
    .bind(&e.id)
    .bind(&e.name)
    .bind(&e.acronym)
    .bind(e.kind.as_str())
    .bind(&e.parent_id)
    .bind(&e.sector_id)
    .bind(&e.state_code)
    .bind(&e.time_zone)
    .bind(flag(e.national_authority))
    .bind(flag(e.active))
    .bind(e.created_at)
    .bind(e.updated_at)
    .execute(tx.conn())
    .await?;
    Ok(())
}
