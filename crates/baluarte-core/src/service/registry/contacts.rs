//! 24/7 contacts of an entity, each marked with TLP, and the national directory across entities.

use super::Registry;
use crate::audit::{self, Change};
use crate::db::{flag, WriteTx};
use crate::error::{CoreError, FieldCode, FieldError, Result};
use crate::model::{Contact, DirectoryEntry, Page, PageRequest, Tlp};
use crate::policy::{self, Action, Actor, Resource};
use crate::service::kit::activation::{write_switch, Switch, Switchable};
use crate::service::kit::new_id;
use crate::service::kit::paging::page_of;
use crate::service::kit::sql::{Arg, Filter};
use crate::service::kit::validation::{email, finish, text};
use serde::Deserialize;
use sqlx::any::AnyRow;
use sqlx::Row;
use utoipa::ToSchema;

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactInput {
    #[schema(schema_with = crate::service::schema::line::<2, 200>)]
    pub name: String,
    #[schema(schema_with = crate::service::schema::line::<2, 200>)]
    pub title: String,
    #[schema(schema_with = crate::service::schema::email)]
    pub email: String,
    #[schema(schema_with = crate::service::schema::phone)]
    pub phone: String,
    #[serde(default)]
    pub is_24_7: bool,
    /// Any TLP but RED (RED needs named recipients; use AMBER+STRICT for a contact).
    #[schema(schema_with = crate::service::schema::contact_tlp)]
    pub tlp: Tlp,
}

const CONTACT_COLUMNS: &str = "id, entity_id, name, title, email, phone, is_24_7, tlp, active, updated_at";

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

impl Registry<'_> {
    /// Contacts of one entity that the actor may see (the entity itself must be visible).
    pub async fn list_contacts(self, actor: &Actor, entity_id: &str) -> Result<Vec<Contact>> {
        policy::check(actor, Resource::Contact, Action::Read, Some(entity_id))?;
        let rows = sqlx::query(&format!(
            "SELECT {CONTACT_COLUMNS} FROM contacts WHERE entity_id = $1 ORDER BY is_24_7 DESC, name"
        ))
        .bind(entity_id)
        .fetch_all(self.s.db.pool())
        .await?;
        let contacts: Vec<Contact> = rows.iter().map(contact_from_row).collect::<Result<_, _>>()?;
        Ok(contacts
            .into_iter()
            .filter(|c| policy::sees_marking(actor, &c.entity_id, c.tlp, &[], &[]))
            .collect())
    }

    /// The national 24/7 directory: every active contact the actor may see under TLP, across entities.
    pub async fn contact_directory(
        self,
        actor: &Actor,
        q: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<DirectoryEntry>> {
        if actor.role.is_none() {
            policy::list_scope(actor, Resource::Contact)?;
        }
        let mut f = Filter::new(self.s.db.backend());
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
        let contacts = page_of(
            &self.s.db,
            "contacts",
            CONTACT_COLUMNS,
            &f,
            "is_24_7 DESC, name",
            page,
            contact_from_row,
        )
        .await?;
        // Each listed contact's institution by name: the contact is visible, so its entity's name is.
        let mut names: std::collections::HashMap<String, String> = std::collections::HashMap::new();
        let mut items = Vec::with_capacity(contacts.items.len());
        for contact in contacts.items {
            let name = match names.get(&contact.entity_id) {
                Some(n) => n.clone(),
                None => {
                    let n: String = sqlx::query("SELECT name FROM entities WHERE id = $1")
                        .bind(&contact.entity_id)
                        .fetch_one(self.s.db.pool())
                        .await?
                        .try_get("name")?;
                    names.insert(contact.entity_id.clone(), n.clone());
                    n
                }
            };
            items.push(DirectoryEntry {
                contact,
                entity_name: name,
            });
        }
        Ok(Page {
            items,
            total: contacts.total,
            page: contacts.page,
            per_page: contacts.per_page,
        })
    }

    async fn load_contact(self, id: &str) -> Result<Contact> {
        let row = sqlx::query(&format!("SELECT {CONTACT_COLUMNS} FROM contacts WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.s.db.pool())
            .await?
            .ok_or(CoreError::NotFound)?;
        Ok(contact_from_row(&row)?)
    }

    pub async fn get_contact(self, actor: &Actor, id: &str) -> Result<Contact> {
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
            errors.push(FieldError::new("phone", FieldCode::NotPhone));
        }
        if input.tlp == Tlp::Red {
            errors.push(FieldError::new("tlp", FieldCode::RedNeedsRecipients));
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

    pub async fn create_contact(self, actor: &Actor, entity_id: &str, input: ContactInput) -> Result<Contact> {
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
            updated_at: self.s.now(),
        };
        let mut tx = self.s.db.begin_write().await?;
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

    pub async fn update_contact(self, actor: &Actor, id: &str, input: ContactInput) -> Result<Contact> {
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
            updated_at: self.s.now(),
            ..before.clone()
        };
        let mut tx = self.s.db.begin_write().await?;
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

    pub async fn set_contact_active(self, actor: &Actor, id: &str, active: bool) -> Result<Contact> {
        let before = self.get_contact(actor, id).await?;
        policy::check(actor, Resource::Contact, Action::Deactivate, Some(&before.entity_id))?;
        let after = Contact {
            active,
            updated_at: self.s.now(),
            ..before.clone()
        };
        let mut tx = self.s.db.begin_write().await?;
        let switch = Switch {
            kind: Switchable::Contact,
            id,
            entity_id: &after.entity_id,
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
