//! Registry: sectors, entities and their 24/7 contacts.

use super::kit::sql::{Arg, Filter};
use super::Services;
use crate::audit::{self, Change};
use crate::db::{flag, WriteTx};
use crate::error::{CoreError, FieldError, Result};
use crate::model::{Contact, Entity, EntityKind, Page, PageRequest, Sector, Tlp};
use crate::policy::{self, Action, Actor, ListScope, Resource};
use crate::time;
use serde::Deserialize;
use sqlx::any::AnyRow;
use sqlx::Row;
use utoipa::ToSchema;

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SectorInput {
    /// Lowercase slug, e.g. `energia` or `electricidad`.
    pub id: String,
    pub parent_id: Option<String>,
    pub name_es: String,
    pub name_en: String,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EntityInput {
    pub name: String,
    pub acronym: Option<String>,
    pub kind: EntityKind,
    pub parent_id: Option<String>,
    pub sector_id: Option<String>,
    pub state_code: Option<String>,
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

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactInput {
    pub name: String,
    pub title: String,
    pub email: String,
    pub phone: String,
    #[serde(default)]
    pub is_24_7: bool,
    pub tlp: Tlp,
}

const ENTITY_COLUMNS: &str =
    "id, name, acronym, kind, parent_id, sector_id, state_code, time_zone, national_authority, active, created_at, updated_at";
const CONTACT_COLUMNS: &str = "id, entity_id, name, title, email, phone, is_24_7, tlp, active, updated_at";

fn sector_from_row(r: &AnyRow) -> Result<Sector, sqlx::Error> {
    Ok(Sector {
        id: r.try_get("id")?,
        parent_id: r.try_get("parent_id")?,
        name_es: r.try_get("name_es")?,
        name_en: r.try_get("name_en")?,
    })
}

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

fn contact_from_row(r: &AnyRow) -> Result<Contact, sqlx::Error> {
    let tlp: String = r.try_get("tlp")?;
    Ok(Contact {
        id: r.try_get("id")?,
        entity_id: r.try_get("entity_id")?,
        name: r.try_get("name")?,
        title: r.try_get("title")?,
        email: r.try_get("email")?,
        phone: r.try_get("phone")?,
        is_24_7: r.try_get::<i64, _>("is_24_7")? != 0,
        // An unknown stored marking is treated as the most restrictive one that still has readers.
        tlp: Tlp::parse(&tlp).unwrap_or(Tlp::AmberStrict),
        active: r.try_get::<i64, _>("active")? != 0,
        updated_at: r.try_get("updated_at")?,
    })
}

pub(crate) fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Trimmed required text within bounds.
pub(crate) fn text(errors: &mut Vec<FieldError>, field: &str, value: &str, min: usize, max: usize) -> String {
    let v = value.trim().to_string();
    let n = v.chars().count();
    if n < min {
        errors.push(FieldError::new(
            field,
            if min <= 1 {
                "is required".to_string()
            } else {
                format!("must be at least {min} characters")
            },
        ));
    } else if n > max {
        errors.push(FieldError::new(field, format!("must be at most {max} characters")));
    } else if v.chars().any(|c| c.is_control()) {
        errors.push(FieldError::new(field, "must not contain control characters"));
    }
    v
}

pub(crate) fn optional_text(
    errors: &mut Vec<FieldError>,
    field: &str,
    value: &Option<String>,
    max: usize,
) -> Option<String> {
    match value.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(v) => Some(text(errors, field, v, 1, max)),
    }
}

pub(crate) fn email(errors: &mut Vec<FieldError>, field: &str, value: &str) -> String {
    let v = value.trim().to_lowercase();
    let valid = v.len() <= 254
        && v.split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.') && !domain.starts_with('.'))
        && !v
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '"' | ',' | ';'));
    if !valid {
        errors.push(FieldError::new(field, "must be an e-mail address"));
    }
    v
}

pub(crate) fn finish(errors: Vec<FieldError>) -> Result<()> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(CoreError::Invalid(errors))
    }
}

impl Services {
    // ----- sectors -----

    pub async fn list_sectors(&self, actor: &Actor) -> Result<Vec<Sector>> {
        policy::list_scope(actor, Resource::Sector)?;
        let rows = sqlx::query("SELECT id, parent_id, name_es, name_en FROM sectors ORDER BY COALESCE(parent_id, id), parent_id IS NOT NULL, name_es")
            .fetch_all(self.db.pool())
            .await?;
        Ok(rows.iter().map(sector_from_row).collect::<Result<_, _>>()?)
    }

    pub async fn create_sector(&self, actor: &Actor, input: SectorInput) -> Result<Sector> {
        policy::check(actor, Resource::Sector, Action::Create, None)?;
        let mut errors = Vec::new();
        let id = text(&mut errors, "id", &input.id, 2, 64);
        if !id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        {
            errors.push(FieldError::new("id", "must be a lowercase slug (a-z, 0-9, - and _)"));
        }
        let name_es = text(&mut errors, "name_es", &input.name_es, 2, 200);
        let name_en = text(&mut errors, "name_en", &input.name_en, 2, 200);
        let parent_id = optional_text(&mut errors, "parent_id", &input.parent_id, 64);
        if let Some(p) = &parent_id {
            if !self.sector_exists(p).await? {
                errors.push(FieldError::new("parent_id", "no such sector"));
            }
        }
        finish(errors)?;
        let sector = Sector {
            id,
            parent_id,
            name_es,
            name_en,
        };
        let mut tx = self.db.begin_write().await?;
        insert_sector(&mut tx, &sector, self.now()).await.map_err(|e| match e {
            CoreError::Storage(e) => crate::error::unique_as_conflict(e, "id"),
            other => other,
        })?;
        audit::append(&mut tx, actor, Change::created("sector", &sector.id, "", &sector)).await?;
        tx.commit().await?;
        Ok(sector)
    }

    async fn sector_exists(&self, id: &str) -> Result<bool> {
        Ok(sqlx::query("SELECT 1 AS one FROM sectors WHERE id = $1")
            .bind(id)
            .fetch_optional(self.db.pool())
            .await?
            .is_some())
    }

    // ----- entities -----

    pub async fn list_entities(&self, actor: &Actor, filter: &EntityFilter, page: PageRequest) -> Result<Page<Entity>> {
        let mut f = Filter::new(self.db.backend());
        if let ListScope::Entity(own) = policy::list_scope(actor, Resource::Entity)? {
            f.eq("id", own);
        }
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
        self.page_of("entities", ENTITY_COLUMNS, &f, "name", page, entity_from_row)
            .await
    }

    pub(crate) async fn page_of<T>(
        &self,
        table: &str,
        columns: &str,
        f: &Filter,
        order: &str,
        page: PageRequest,
        map: fn(&AnyRow) -> Result<T, sqlx::Error>,
    ) -> Result<Page<T>> {
        let where_sql = f.where_sql();
        let total: i64 = f
            .bind(sqlx::query(&format!("SELECT COUNT(*) AS n FROM {table}{where_sql}")))
            .fetch_one(self.db.pool())
            .await?
            .try_get("n")?;
        let n = f.next();
        let sql = format!(
            "SELECT {columns} FROM {table}{where_sql} ORDER BY {order} LIMIT ${n} OFFSET ${}",
            n + 1
        );
        let rows = f
            .bind(sqlx::query(&sql))
            .bind(page.per_page)
            .bind(page.offset())
            .fetch_all(self.db.pool())
            .await?;
        Ok(Page {
            items: rows.iter().map(map).collect::<Result<_, _>>()?,
            total,
            page: page.page,
            per_page: page.per_page,
        })
    }

    /// The entity, stored, without an access check: for the service layer's own decisions.
    pub(crate) async fn load_entity(&self, id: &str) -> Result<Entity> {
        let row = sqlx::query(&format!("SELECT {ENTITY_COLUMNS} FROM entities WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.db.pool())
            .await?
            .ok_or(CoreError::NotFound)?;
        Ok(entity_from_row(&row)?)
    }

    pub async fn get_entity(&self, actor: &Actor, id: &str) -> Result<Entity> {
        policy::check(actor, Resource::Entity, Action::Read, Some(id))?;
        self.load_entity(id).await
    }

    async fn validate_entity(&self, input: &EntityInput, own_id: Option<&str>) -> Result<EntityInput> {
        let mut errors = Vec::new();
        let name = text(&mut errors, "name", &input.name, 2, 200);
        let acronym = optional_text(&mut errors, "acronym", &input.acronym, 32);
        let parent_id = optional_text(&mut errors, "parent_id", &input.parent_id, 64);
        if let Some(p) = &parent_id {
            if Some(p.as_str()) == own_id {
                errors.push(FieldError::new("parent_id", "an entity cannot be its own parent"));
            } else if sqlx::query("SELECT 1 AS one FROM entities WHERE id = $1")
                .bind(p)
                .fetch_optional(self.db.pool())
                .await?
                .is_none()
            {
                errors.push(FieldError::new("parent_id", "no such entity"));
            }
        }
        let sector_id = optional_text(&mut errors, "sector_id", &input.sector_id, 64);
        if let Some(s) = &sector_id {
            if !self.sector_exists(s).await? {
                errors.push(FieldError::new("sector_id", "no such sector"));
            }
        }
        let state_code = optional_text(&mut errors, "state_code", &input.state_code, 10).map(|s| s.to_uppercase());
        if let Some(s) = &state_code {
            if !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') || !s.contains('-') {
                errors.push(FieldError::new(
                    "state_code",
                    "must be an ISO 3166-2 code such as MX-JAL",
                ));
            }
        }
        let time_zone = input.time_zone.trim().to_string();
        if !time::is_valid_zone(&time_zone) {
            errors.push(FieldError::new(
                "time_zone",
                "must be an IANA time zone such as America/Mexico_City",
            ));
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

    pub async fn create_entity(&self, actor: &Actor, input: EntityInput) -> Result<Entity> {
        policy::check(actor, Resource::Entity, Action::Create, None)?;
        let v = self.validate_entity(&input, None).await?;
        let now = self.now();
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
        let mut tx = self.db.begin_write().await?;
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

    pub async fn update_entity(&self, actor: &Actor, id: &str, input: EntityInput) -> Result<Entity> {
        policy::check(actor, Resource::Entity, Action::Update, Some(id))?;
        let before = self.load_entity(id).await?;
        let v = self.validate_entity(&input, Some(id)).await?;
        let after = Entity {
            name: v.name,
            acronym: v.acronym,
            kind: v.kind,
            parent_id: v.parent_id,
            sector_id: v.sector_id,
            state_code: v.state_code,
            time_zone: v.time_zone,
            updated_at: self.now(),
            ..before.clone()
        };
        let mut tx = self.db.begin_write().await?;
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

    pub async fn set_entity_active(&self, actor: &Actor, id: &str, active: bool) -> Result<Entity> {
        policy::check(actor, Resource::Entity, Action::Deactivate, Some(id))?;
        let before = self.load_entity(id).await?;
        if before.national_authority && !active {
            return Err(CoreError::Conflict(
                "the national authority cannot be deactivated".into(),
            ));
        }
        let after = Entity {
            active,
            updated_at: self.now(),
            ..before.clone()
        };
        let mut tx = self.db.begin_write().await?;
        sqlx::query("UPDATE entities SET active = $1, updated_at = $2 WHERE id = $3")
            .bind(flag(active))
            .bind(after.updated_at)
            .bind(id)
            .execute(tx.conn())
            .await?;
        let action = if active { "reactivate" } else { "deactivate" };
        audit::append(
            &mut tx,
            actor,
            Change::changed(action, "entity", id, id, &before, &after),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    // ----- contacts -----

    /// Contacts of one entity that the actor may see (the entity itself must be visible).
    pub async fn list_contacts(&self, actor: &Actor, entity_id: &str) -> Result<Vec<Contact>> {
        policy::check(actor, Resource::Contact, Action::Read, Some(entity_id))?;
        let rows = sqlx::query(&format!(
            "SELECT {CONTACT_COLUMNS} FROM contacts WHERE entity_id = $1 ORDER BY is_24_7 DESC, name"
        ))
        .bind(entity_id)
        .fetch_all(self.db.pool())
        .await?;
        let contacts: Vec<Contact> = rows.iter().map(contact_from_row).collect::<Result<_, _>>()?;
        Ok(contacts
            .into_iter()
            .filter(|c| policy::sees_marking(actor, &c.entity_id, c.tlp, &[], &[]))
            .collect())
    }

    /// The national 24/7 directory: every active contact the actor may see under TLP, across entities.
    pub async fn contact_directory(&self, actor: &Actor, q: Option<&str>, page: PageRequest) -> Result<Page<Contact>> {
        if actor.role.is_none() {
            policy::list_scope(actor, Resource::Contact)?;
        }
        let mut f = Filter::new(self.db.backend());
        f.and("active = 1", vec![]);
        if !actor.national {
            // Own entity's contacts, and those shared with everyone (GREEN, CLEAR).
            f.and(
                "(entity_id = ? OR tlp IN ('GREEN', 'CLEAR'))",
                vec![Arg::Text(actor.entity_id.clone())],
            );
            if actor.role.is_none() {
                // Tokens see only their own entity.
                f.eq("entity_id", actor.entity_id.clone());
            }
        } else {
            f.and("tlp <> 'RED'", vec![]);
        }
        if let Some(q) = q.filter(|q| !q.trim().is_empty()) {
            f.search(&["name", "title", "email"], q.trim());
        }
        self.page_of(
            "contacts",
            CONTACT_COLUMNS,
            &f,
            "is_24_7 DESC, name",
            page,
            contact_from_row,
        )
        .await
    }

    async fn load_contact(&self, id: &str) -> Result<Contact> {
        let row = sqlx::query(&format!("SELECT {CONTACT_COLUMNS} FROM contacts WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.db.pool())
            .await?
            .ok_or(CoreError::NotFound)?;
        Ok(contact_from_row(&row)?)
    }

    pub async fn get_contact(&self, actor: &Actor, id: &str) -> Result<Contact> {
        let c = self.load_contact(id).await?;
        if !policy::sees_marking(actor, &c.entity_id, c.tlp, &[], &[]) {
            return Err(CoreError::NotFound);
        }
        // A GREEN contact of another entity is readable by any user; the role table still applies to tokens,
        // which reach only their own entity (so a foreign contact is not found for them).
        let owner = if policy::sees_entity(actor, &c.entity_id) || actor.role.is_none() {
            Some(c.entity_id.as_str())
        } else {
            None
        };
        policy::check(actor, Resource::Contact, Action::Read, owner)?;
        Ok(c)
    }

    fn validate_contact(input: &ContactInput) -> Result<ContactInput> {
        let mut errors = Vec::new();
        let name = text(&mut errors, "name", &input.name, 2, 200);
        let title = text(&mut errors, "title", &input.title, 2, 200);
        let email = email(&mut errors, "email", &input.email);
        let phone = text(&mut errors, "phone", &input.phone, 5, 40);
        if !phone.chars().all(|c| c.is_ascii_digit() || " +-()".contains(c)) {
            errors.push(FieldError::new("phone", "may contain only digits, spaces and + - ( )"));
        }
        if input.tlp == Tlp::Red {
            errors.push(FieldError::new(
                "tlp",
                "RED needs named recipients; use AMBER+STRICT for a contact",
            ));
        }
        finish(errors)?;
        Ok(ContactInput {
            name,
            title,
            email,
            phone,
            is_24_7: input.is_24_7,
            tlp: input.tlp,
        })
    }

    pub async fn create_contact(&self, actor: &Actor, entity_id: &str, input: ContactInput) -> Result<Contact> {
        policy::check(actor, Resource::Contact, Action::Create, Some(entity_id))?;
        self.load_entity(entity_id).await?;
        let v = Self::validate_contact(&input)?;
        let contact = Contact {
            id: new_id(),
            entity_id: entity_id.to_string(),
            name: v.name,
            title: v.title,
            email: v.email,
            phone: v.phone,
            is_24_7: v.is_24_7,
            tlp: v.tlp,
            active: true,
            updated_at: self.now(),
        };
        let mut tx = self.db.begin_write().await?;
        insert_contact(&mut tx, &contact).await?;
        audit::append(
            &mut tx,
            actor,
            Change::created("contact", &contact.id, entity_id, &contact),
        )
        .await?;
        tx.commit().await?;
        Ok(contact)
    }

    pub async fn update_contact(&self, actor: &Actor, id: &str, input: ContactInput) -> Result<Contact> {
        let before = self.get_contact(actor, id).await?;
        policy::check(actor, Resource::Contact, Action::Update, Some(&before.entity_id))?;
        let v = Self::validate_contact(&input)?;
        let after = Contact {
            name: v.name,
            title: v.title,
            email: v.email,
            phone: v.phone,
            is_24_7: v.is_24_7,
            tlp: v.tlp,
            updated_at: self.now(),
            ..before.clone()
        };
        let mut tx = self.db.begin_write().await?;
        sqlx::query("UPDATE contacts SET name = $1, title = $2, email = $3, phone = $4, is_24_7 = $5, tlp = $6, updated_at = $7 WHERE id = $8")
            .bind(&after.name)
            .bind(&after.title)
            .bind(&after.email)
            .bind(&after.phone)
            .bind(flag(after.is_24_7))
            .bind(after.tlp.as_str())
            .bind(after.updated_at)
            .bind(id)
            .execute(tx.conn())
            .await?;
        audit::append(
            &mut tx,
            actor,
            Change::changed("update", "contact", id, &after.entity_id, &before, &after),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    pub async fn set_contact_active(&self, actor: &Actor, id: &str, active: bool) -> Result<Contact> {
        let before = self.get_contact(actor, id).await?;
        policy::check(actor, Resource::Contact, Action::Deactivate, Some(&before.entity_id))?;
        let after = Contact {
            active,
            updated_at: self.now(),
            ..before.clone()
        };
        let mut tx = self.db.begin_write().await?;
        sqlx::query("UPDATE contacts SET active = $1, updated_at = $2 WHERE id = $3")
            .bind(flag(active))
            .bind(after.updated_at)
            .bind(id)
            .execute(tx.conn())
            .await?;
        let action = if active { "reactivate" } else { "deactivate" };
        audit::append(
            &mut tx,
            actor,
            Change::changed(action, "contact", id, &after.entity_id, &before, &after),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Count of active entities per top-level sector and per kind, for the dashboard.
    pub async fn registry_counts(&self, actor: &Actor) -> Result<RegistryCounts> {
        let scope = policy::list_scope(actor, Resource::Entity)?;
        let (scope_sql, arg) = match &scope {
            ListScope::All => ("", None),
            ListScope::Entity(id) => (" AND e.id = $1", Some(id.clone())),
        };
        let by = |sql: String| {
            let arg = arg.clone();
            async move {
                let mut q = sqlx::query(&sql);
                if let Some(a) = arg {
                    q = q.bind(a);
                }
                let rows = q.fetch_all(self.db.pool()).await?;
                rows.iter()
                    .map(|r| Ok((r.try_get::<String, _>("k")?, r.try_get::<i64, _>("n")?)))
                    .collect::<Result<Vec<_>, sqlx::Error>>()
            }
        };
        let by_sector = by(format!(
            "SELECT COALESCE(s.parent_id, s.id, '-') AS k, COUNT(*) AS n FROM entities e LEFT JOIN sectors s ON s.id = e.sector_id \
             WHERE e.active = 1{scope_sql} GROUP BY COALESCE(s.parent_id, s.id, '-') ORDER BY n DESC"
        ))
        .await?;
        let by_kind = by(format!("SELECT e.kind AS k, COUNT(*) AS n FROM entities e WHERE e.active = 1{scope_sql} GROUP BY e.kind ORDER BY n DESC")).await?;
        let by_zone = by(format!("SELECT e.time_zone AS k, COUNT(*) AS n FROM entities e WHERE e.active = 1{scope_sql} GROUP BY e.time_zone ORDER BY n DESC")).await?;
        Ok(RegistryCounts {
            by_sector,
            by_kind,
            by_zone,
        })
    }
}

#[derive(Debug, Clone, serde::Serialize, ToSchema)]
pub struct RegistryCounts {
    pub by_sector: Vec<(String, i64)>,
    pub by_kind: Vec<(String, i64)>,
    pub by_zone: Vec<(String, i64)>,
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

pub(crate) async fn insert_contact(tx: &mut WriteTx, c: &Contact) -> Result<()> {
    sqlx::query(&format!(
        "INSERT INTO contacts ({CONTACT_COLUMNS}, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)"
    ))
    .bind(&c.id)
    .bind(&c.entity_id)
    .bind(&c.name)
    .bind(&c.title)
    .bind(&c.email)
    .bind(&c.phone)
    .bind(flag(c.is_24_7))
    .bind(c.tlp.as_str())
    .bind(flag(c.active))
    .bind(c.updated_at)
    .execute(tx.conn())
    .await?;
    Ok(())
}

impl Services {
    /// Platform-wide sizes for the operator's metrics (no record contents): active entities, active
    /// users, audit entries.
    pub async fn platform_gauges(&self) -> Result<Vec<(&'static str, &'static str, i64)>> {
        let mut out = Vec::new();
        for (name, help, sql) in [
            (
                "baluarte_entities",
                "Active entities.",
                "SELECT COUNT(*) AS n FROM entities WHERE active = 1",
            ),
            (
                "baluarte_users",
                "Active users.",
                "SELECT COUNT(*) AS n FROM users WHERE active = 1",
            ),
            (
                "baluarte_audit_entries",
                "Entries in the audit trail.",
                "SELECT seq AS n FROM audit_head WHERE id = 1",
            ),
        ] {
            let n: i64 = sqlx::query(sql).fetch_one(self.db.pool()).await?.try_get("n")?;
            out.push((name, help, n));
        }
        Ok(out)
    }
}
