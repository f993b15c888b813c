//! API tokens: shown once, stored as SHA-256, scoped to one entity and a set of purposes, expiring and
//! revocable.

use crate::audit::{self, Change};
use crate::crypto;
use crate::error::{CoreError, FieldCode, FieldError, Result};
use crate::model::{ApiToken, Page, PageRequest, Purpose};
use crate::policy::{self, Action, Actor, Principal, Resource};
use crate::service::kit::new_id;
use crate::service::kit::paging::page_of;
use crate::service::kit::sql::Filter;
use crate::service::kit::tenancy;
use crate::service::kit::validation::{finish, text};
use crate::service::Services;
use crate::time::DAY;
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::Row;
use utoipa::ToSchema;

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenInput {
    pub entity_id: String,
    #[schema(schema_with = crate::service::schema::line::<2, 100>)]
    pub name: String,
    #[schema(min_items = 1)]
    pub purposes: Vec<Purpose>,
    /// 1 to 365 days; 90 when absent.
    #[serde(default, deserialize_with = "crate::service::kit::json::optional_i64")]
    #[schema(minimum = 1, maximum = 365)]
    pub expires_in_days: Option<i64>,
}

/// A created token: `secret` is shown this once and never again.
#[derive(Clone, Serialize, ToSchema)]
pub struct NewToken {
    pub token: ApiToken,
    pub secret: String,
}

impl std::fmt::Debug for NewToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewToken")
            .field("token", &self.token)
            .field("secret", &"<redacted>")
            .finish()
    }
}

const TOKEN_COLUMNS: &str =
    "id, entity_id, name, prefix, purposes, created_by, created_at, expires_at, revoked_at, last_used_at";

fn token_from_row(r: &AnyRow) -> Result<ApiToken, sqlx::Error> {
    let purposes: String = r.try_get("purposes")?;
    Ok(ApiToken {
        id: r.try_get("id")?,
        entity_id: r.try_get("entity_id")?,
        name: r.try_get("name")?,
        prefix: r.try_get("prefix")?,
        purposes: purposes.split(',').filter_map(Purpose::parse).collect(),
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
        revoked_at: r.try_get("revoked_at")?,
        last_used_at: r.try_get("last_used_at")?,
    })
}

/// API tokens: `services.tokens()`.
#[derive(Debug, Clone, Copy)]
pub struct Tokens<'a> {
    pub(in crate::service) s: &'a Services,
}

impl Tokens<'_> {
    pub async fn list_tokens(
        self,
        actor: &Actor,
        entity_id: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<ApiToken>> {
        let mut f = Filter::default();
        tenancy::scope(&mut f, actor, Resource::ApiToken, "entity_id", entity_id)?;
        page_of(
            &self.s.db,
            "api_tokens",
            TOKEN_COLUMNS,
            &f,
            "created_at DESC",
            page,
            token_from_row,
        )
        .await
    }

    async fn load_token(self, id: &str) -> Result<ApiToken> {
        let row = sqlx::query(&format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.s.db.pool())
            .await?
            .ok_or(CoreError::NotFound)?;
        Ok(token_from_row(&row)?)
    }

    pub async fn get_token(self, actor: &Actor, id: &str) -> Result<ApiToken> {
        let t = self.load_token(id).await?;
        policy::check(actor, Resource::ApiToken, Action::Read, Some(&t.entity_id))?;
        Ok(t)
    }

    pub async fn create_token(self, actor: &Actor, input: TokenInput) -> Result<NewToken> {
        policy::check(actor, Resource::ApiToken, Action::Create, Some(&input.entity_id))?;
        self.s.registry().load_entity(&input.entity_id).await?;
        let mut errors = Vec::new();
        let name = text(&mut errors, "name", &input.name, 2, 100);
        let mut purposes = input.purposes.clone();
        purposes.sort_by_key(|p| p.as_str());
        purposes.dedup();
        if purposes.is_empty() {
            errors.push(FieldError::new("purposes", FieldCode::ChooseAtLeastOne));
        }
        let days = input.expires_in_days.unwrap_or(90);
        if !(1..=365).contains(&days) {
            errors.push(
                FieldError::new("expires_in_days", FieldCode::OutOfRange)
                    .with("min", 1)
                    .with("max", 365),
            );
        }
        finish(errors)?;
        let secret = crypto::random_secret("blt_");
        let now = self.s.now();
        let token = ApiToken {
            id: new_id(),
            entity_id: input.entity_id.clone(),
            name,
            prefix: secret.chars().take(12).collect(),
            purposes,
            created_by: actor.label.clone(),
            created_at: now,
            expires_at: now + days * DAY,
            revoked_at: None,
            last_used_at: None,
        };
        let mut tx = self.s.db.begin_write().await?;
        sqlx::query(
            "INSERT INTO api_tokens (id, entity_id, name, prefix, token_hash, purposes, created_by, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&token.id)
        .bind(&token.entity_id)
        .bind(&token.name)
        .bind(&token.prefix)
        .bind(crypto::sha256_hex(secret.as_bytes()))
        .bind(token.purposes.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(","))
        .bind(&token.created_by)
        .bind(token.created_at)
        .bind(token.expires_at)
        .execute(tx.conn())
        .await?;
        audit::append(
            &mut tx,
            actor,
            Change::created("api_token", &token.id, &token.entity_id, &token),
        )
        .await?;
        tx.commit().await?;
        Ok(NewToken { token, secret })
    }

    pub async fn revoke_token(self, actor: &Actor, id: &str) -> Result<ApiToken> {
        let before = self.load_token(id).await?;
        policy::check(actor, Resource::ApiToken, Action::Deactivate, Some(&before.entity_id))?;
        if before.revoked_at.is_some() {
            return Ok(before);
        }
        let after = ApiToken {
            revoked_at: Some(self.s.now()),
            ..before.clone()
        };
        let mut tx = self.s.db.begin_write().await?;
        sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2")
            .bind(after.revoked_at)
            .bind(id)
            .execute(tx.conn())
            .await?;
        audit::append(
            &mut tx,
            actor,
            Change::changed("revoke", "api_token", id, &after.entity_id, &before, &after),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// The actor behind a presented API token, if it is known, unrevoked and unexpired, and its entity
    /// is active.
    pub async fn authenticate_token(self, secret: &str) -> Result<Actor> {
        if !secret.starts_with("blt_") || secret.len() > 100 {
            return Err(CoreError::Unauthenticated);
        }
        let row = sqlx::query(&format!(
            "SELECT {} FROM api_tokens t JOIN entities e ON e.id = t.entity_id WHERE t.token_hash = $1 AND e.active = 1",
            TOKEN_COLUMNS.split(", ").map(|c| format!("t.{c}")).collect::<Vec<_>>().join(", ")
        ))
        .bind(crypto::sha256_hex(secret.as_bytes()))
        .fetch_optional(self.s.db.pool())
        .await?
        .ok_or(CoreError::Unauthenticated)?;
        let token = token_from_row(&row)?;
        let now = self.s.now();
        if !token.is_usable(now) {
            return Err(CoreError::Unauthenticated);
        }
        // Usage is bookkeeping, not a change of record: refreshed at most once a minute, unaudited.
        if token.last_used_at.is_none_or(|t| now - t > 60_000_000) {
            let mut tx = self.s.db.begin_write().await?;
            sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
                .bind(now)
                .bind(&token.id)
                .execute(tx.conn())
                .await?;
            tx.commit().await?;
        }
        Ok(Actor {
            principal: Principal::Token {
                token_id: token.id.clone(),
            },
            label: format!("token:{}", token.name),
            entity_id: token.entity_id,
            role: None,
            national: false,
            purposes: token.purposes,
        })
    }
}
