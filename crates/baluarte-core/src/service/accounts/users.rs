//! Users: listing, creation, role changes, deactivation and password resets.

use crate::audit::{self, Change};
use crate::crypto;
use crate::db::flag;
use crate::error::{CoreError, FieldCode, FieldError, Result};
use crate::model::{Page, PageRequest, Role, User};
use crate::policy::{self, Action, Actor, Resource};
use crate::service::kit::activation::{write_switch, Switch, Switchable};
use crate::service::kit::new_id;
use crate::service::kit::paging::page_of;
use crate::service::kit::sql::Filter;
use crate::service::kit::tenancy;
use crate::service::kit::validation::{email, finish, text};
use crate::service::Services;
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::Row;
use utoipa::ToSchema;

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserInput {
    pub entity_id: String,
    #[schema(schema_with = crate::service::schema::email)]
    pub email: String,
    #[schema(schema_with = crate::service::schema::line::<2, 200>)]
    pub name: String,
    pub role: Role,
    /// Optional initial password (12 to 256 characters); when absent a temporary one is generated and
    /// returned once.
    #[schema(schema_with = crate::service::schema::optional_password)]
    pub password: Option<String>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    #[schema(schema_with = crate::service::schema::nullable_line::<2, 200>)]
    pub name: Option<String>,
    pub role: Option<Role>,
    #[schema(schema_with = crate::service::schema::optional_lang)]
    pub lang: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    pub entity_id: Option<String>,
    pub q: Option<String>,
    pub include_inactive: bool,
}

/// A created user, with the temporary password when one was generated (shown once).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NewUser {
    pub user: User,
    pub temporary_password: Option<String>,
}

pub(crate) const USER_COLUMNS: &str = "id, entity_id, email, name, role, totp_enabled, active, lang, created_at";

pub(crate) fn user_from_row(r: &AnyRow) -> Result<User, sqlx::Error> {
    let role: String = r.try_get("role")?;
    Ok(User {
        id: r.try_get("id")?,
        entity_id: r.try_get("entity_id")?,
        email: r.try_get("email")?,
        name: r.try_get("name")?,
        // An unknown stored role gets the least privileged one.
        role: Role::parse(&role).unwrap_or(Role::Reporter),
        totp_enabled: r.try_get::<i64, _>("totp_enabled")? != 0,
        active: r.try_get::<i64, _>("active")? != 0,
        lang: r.try_get("lang")?,
        created_at: r.try_get("created_at")?,
    })
}

/// A temporary password: 20 characters from an alphabet without look-alikes.
pub(crate) fn temporary_password() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rngs::OsRng;
    (0..20)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

pub(crate) fn valid_lang(lang: &str) -> bool {
    matches!(lang, "es" | "en")
}

/// The people of each entity: `services.users()`.
#[derive(Debug, Clone, Copy)]
pub struct Users<'a> {
    pub(in crate::service) s: &'a Services,
}

impl Users<'_> {
    pub async fn list_users(self, actor: &Actor, filter: &UserFilter, page: PageRequest) -> Result<Page<User>> {
        let mut f = Filter::new(self.s.db.backend());
        tenancy::scope(&mut f, actor, Resource::User, "entity_id", filter.entity_id.as_deref())?;
        if let Some(q) = filter.q.as_deref().filter(|q| !q.trim().is_empty()) {
            f.search(&["name", "email"], q.trim());
        }
        if !filter.include_inactive {
            f.and("active = 1", vec![]);
        }
        page_of(&self.s.db, "users", USER_COLUMNS, &f, "name", page, user_from_row).await
    }

    pub(crate) async fn load_user(self, id: &str) -> Result<User> {
        let row = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.s.db.pool())
            .await?
            .ok_or(CoreError::NotFound)?;
        Ok(user_from_row(&row)?)
    }

    pub async fn get_user(self, actor: &Actor, id: &str) -> Result<User> {
        let user = self.load_user(id).await?;
        if actor.user_id() == Some(id) {
            return Ok(user);
        }
        policy::check(actor, Resource::User, Action::Read, Some(&user.entity_id))?;
        Ok(user)
    }

    /// Only an administrator grants national roles (or an auditor seat at the national authority), and a
    /// national role can only be held at the national authority.
    async fn check_role_grant(self, actor: &Actor, entity_id: &str, role: Role) -> Result<()> {
        let entity = self.s.registry().load_entity(entity_id).await?;
        if role.is_national_only() && !entity.national_authority {
            return Err(CoreError::invalid("role", FieldCode::NationalRoleOnly));
        }
        policy::check_role_grant(actor, role, entity.national_authority)
    }

    /// Only an administrator changes a user who holds a national role.
    /// National accounts are those that see across entities: national roles, and an auditor at the
    /// national authority. Only an administrator may change or deactivate them.
    async fn check_target(self, actor: &Actor, target: &User) -> Result<()> {
        let at_authority = self
            .s
            .registry()
            .load_entity(&target.entity_id)
            .await?
            .national_authority;
        policy::check_account_change(actor, target.role, at_authority)
    }

    pub async fn create_user(self, actor: &Actor, input: UserInput) -> Result<NewUser> {
        policy::check(actor, Resource::User, Action::Create, Some(&input.entity_id))?;
        let mut errors = Vec::new();
        let address = email(&mut errors, "email", &input.email);
        let name = text(&mut errors, "name", &input.name, 2, 200);
        if let Some(p) = &input.password {
            if let Err(CoreError::Invalid(mut e)) = crypto::check_password_strength(p) {
                errors.append(&mut e);
            }
        }
        finish(errors)?;
        self.check_role_grant(actor, &input.entity_id, input.role).await?;
        let (password, temporary) = match input.password {
            Some(p) => (p, None),
            None => {
                let t = temporary_password();
                (t.clone(), Some(t))
            }
        };
        let hash = crypto::hash_password(&password)?;
        let user = User {
            id: new_id(),
            entity_id: input.entity_id.clone(),
            email: address,
            name,
            role: input.role,
            totp_enabled: false,
            active: true,
            lang: "es".into(),
            created_at: self.s.now(),
        };
        let mut tx = self.s.db.begin_write().await?;
        insert_user(tx.conn(), &user, &hash).await?;
        audit::append(
            &mut tx,
            actor,
            Change::created("user", &user.id, &user.entity_id, &user),
        )
        .await?;
        tx.commit().await?;
        Ok(NewUser {
            user,
            temporary_password: temporary,
        })
    }

    pub async fn update_user(self, actor: &Actor, id: &str, patch: UserPatch) -> Result<User> {
        let before = self.load_user(id).await?;
        policy::check(actor, Resource::User, Action::Update, Some(&before.entity_id))?;
        self.check_target(actor, &before).await?;
        let mut errors = Vec::new();
        let name = patch
            .name
            .as_deref()
            .map(|n| text(&mut errors, "name", n, 2, 200))
            .unwrap_or(before.name.clone());
        let lang = patch.lang.clone().unwrap_or(before.lang.clone());
        if !valid_lang(&lang) {
            errors.push(FieldError::new("lang", FieldCode::NotLanguage));
        }
        finish(errors)?;
        let role = patch.role.unwrap_or(before.role);
        if role != before.role {
            if actor.user_id() == Some(id) {
                return Err(CoreError::forbidden("you cannot change your own role"));
            }
            self.check_role_grant(actor, &before.entity_id, role).await?;
        }
        let after = User {
            name,
            role,
            lang,
            ..before.clone()
        };
        let mut tx = self.s.db.begin_write().await?;
        sqlx::query("UPDATE users SET name = $1, role = $2, lang = $3, updated_at = $4 WHERE id = $5")
            .bind(&after.name)
            .bind(after.role.as_str())
            .bind(&after.lang)
            .bind(self.s.now())
            .bind(id)
            .execute(tx.conn())
            .await?;
        if role != before.role {
            // A new role takes effect at the next login.
            sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(id)
                .execute(tx.conn())
                .await?;
        }
        audit::append(
            &mut tx,
            actor,
            Change::changed("update", "user", id, &after.entity_id, &before, &after),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    pub async fn set_user_active(self, actor: &Actor, id: &str, active: bool) -> Result<User> {
        let before = self.load_user(id).await?;
        policy::check(actor, Resource::User, Action::Deactivate, Some(&before.entity_id))?;
        self.check_target(actor, &before).await?;
        if actor.user_id() == Some(id) && !active {
            return Err(CoreError::Conflict("you cannot deactivate your own account".into()));
        }
        let after = User {
            active,
            ..before.clone()
        };
        let mut tx = self.s.db.begin_write().await?;
        let switch = Switch {
            kind: Switchable::User,
            id,
            entity_id: &after.entity_id,
            active,
            before: &before,
            after: &after,
        };
        // Switching a user to the state it is in already is a no-op: no session ends, nothing is audited.
        // Deactivation ends the user's sessions; reactivation has none to end.
        if write_switch(&mut tx, actor, self.s.now(), switch).await? {
            if !active {
                sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                    .bind(id)
                    .execute(tx.conn())
                    .await?;
            }
            tx.commit().await?;
        }
        Ok(after)
    }

    /// An administrator sets a new temporary password (returned once) and ends the user's sessions.
    /// With `reset_totp`, the second factor is removed too, for a lost phone.
    pub async fn reset_password(self, actor: &Actor, id: &str, reset_totp: bool) -> Result<String> {
        let user = self.load_user(id).await?;
        policy::check(actor, Resource::User, Action::ResetPassword, Some(&user.entity_id))?;
        let temporary = temporary_password();
        let hash = crypto::hash_password(&temporary)?;
        let mut tx = self.s.db.begin_write().await?;
        sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
            .bind(&hash)
            .bind(self.s.now())
            .bind(id)
            .execute(tx.conn())
            .await?;
        if reset_totp {
            sqlx::query("UPDATE users SET totp_enabled = 0, totp_secret = NULL WHERE id = $1")
                .bind(id)
                .execute(tx.conn())
                .await?;
        }
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(id)
            .execute(tx.conn())
            .await?;
        let action = if reset_totp {
            "reset_password_and_totp"
        } else {
            "reset_password"
        };
        audit::append(&mut tx, actor, Change::act(action, "user", id, &user.entity_id)).await?;
        tx.commit().await?;
        Ok(temporary)
    }
}

pub(crate) async fn insert_user(conn: &mut sqlx::AnyConnection, user: &User, password_hash: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO users (id, entity_id, email, name, role, password_hash, totp_enabled, active, lang, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
    )
    .bind(&user.id)
    .bind(&user.entity_id)
    .bind(&user.email)
    .bind(&user.name)
    .bind(user.role.as_str())
    .bind(password_hash)
    .bind(flag(user.totp_enabled))
    .bind(flag(user.active))
    .bind(&user.lang)
    .bind(user.created_at)
    .execute(conn)
    .await
    .map_err(|e| crate::error::unique_as_conflict(e, "email"))?;
    Ok(())
}

impl Users<'_> {
    /// `baluarte admin create`: the first administrator, at the national authority (created with the
    /// given name when the store has none yet). Audited as the system.
    pub async fn bootstrap_admin(
        self,
        authority_name: &str,
        email_address: &str,
        name: &str,
        password: &str,
    ) -> Result<User> {
        let mut errors = Vec::new();
        let address = email(&mut errors, "email", email_address);
        let name = text(&mut errors, "name", name, 2, 200);
        if let Err(CoreError::Invalid(mut e)) = crypto::check_password_strength(password) {
            errors.append(&mut e);
        }
        finish(errors)?;
        let actor = Actor::system();
        let existing = sqlx::query("SELECT id FROM entities WHERE national_authority = 1")
            .fetch_optional(self.s.db.pool())
            .await?;
        let entity_id = match existing {
            Some(row) => row.try_get("id")?,
            None => {
                let now = self.s.now();
                let entity = crate::model::Entity {
                    id: new_id(),
                    name: authority_name.trim().to_string(),
                    acronym: None,
                    kind: crate::model::EntityKind::Federal,
                    parent_id: None,
                    sector_id: None,
                    state_code: None,
                    time_zone: "America/Mexico_City".into(),
                    national_authority: true,
                    active: true,
                    created_at: now,
                    updated_at: now,
                };
                let mut tx = self.s.db.begin_write().await?;
                crate::service::registry::insert_entity(&mut tx, &entity).await?;
                audit::append(
                    &mut tx,
                    &actor,
                    Change::created("entity", &entity.id, &entity.id, &entity),
                )
                .await?;
                tx.commit().await?;
                entity.id
            }
        };
        let user = User {
            id: new_id(),
            entity_id,
            email: address,
            name,
            role: Role::Admin,
            totp_enabled: false,
            active: true,
            lang: "es".into(),
            created_at: self.s.now(),
        };
        let hash = crypto::hash_password(password)?;
        let mut tx = self.s.db.begin_write().await?;
        insert_user(tx.conn(), &user, &hash).await?;
        audit::append(
            &mut tx,
            &actor,
            Change::created("user", &user.id, &user.entity_id, &user),
        )
        .await?;
        tx.commit().await?;
        Ok(user)
    }
}
