//! Webhooks: an entity's HTTPS endpoints, each subscribed to some events and signed with its own secret.
//!
//! A webhook's address must be public unless the operator allowed its network (the webhook address
//! policy, `Settings::webhook_addresses`, from `[webhooks] allow_networks`): registration refuses a URL
//! whose host is, or resolves to, a loopback, private, link-local or other internal address
//! (`internal_address` on `url`), and the outbox's HTTP client refuses to connect to one at delivery.

use super::outbox::DEACTIVATED;
use super::{is_webhook_event, Notifications};
use crate::audit::{self, Change};
use crate::error::{CoreError, FieldCode, FieldError, Result};
use crate::policy::{self, Action, Actor, Resource};
use crate::service::kit::new_id;
use crate::service::kit::validation::finish;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Webhook {
    pub id: String,
    pub entity_id: String,
    pub url: String,
    pub events: Vec<String>,
    pub active: bool,
}

/// A new webhook; the signing secret is shown once.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NewWebhook {
    pub webhook: Webhook,
    pub secret: String,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookInput {
    /// An http(s) URL without credentials, at most 2000 characters.
    pub url: String,
    /// At least one event the webhook is told of.
    #[schema(schema_with = webhook_events)]
    pub events: Vec<String>,
}

/// The events a webhook may subscribe to.
fn webhook_events() -> utoipa::openapi::schema::Array {
    let events: Vec<&str> = super::EVENTS.iter().map(|(e, _, _)| *e).collect();
    utoipa::openapi::schema::ArrayBuilder::new()
        .items(crate::service::schema::one_of(&events, "An event"))
        .min_items(Some(1))
        .build()
}

impl Notifications<'_> {
    pub async fn list_webhooks(self, actor: &Actor, entity_id: &str) -> Result<Vec<Webhook>> {
        policy::check(actor, Resource::Webhook, Action::Read, Some(entity_id))?;
        let rows = sqlx::query(
            "SELECT id, entity_id, url, events, active FROM webhooks WHERE entity_id = $1 ORDER BY created_at",
        )
        .bind(entity_id)
        .fetch_all(self.s.db.pool())
        .await?;
        rows.iter().map(webhook_from_row).collect()
    }

    pub async fn create_webhook(self, actor: &Actor, entity_id: &str, input: WebhookInput) -> Result<NewWebhook> {
        policy::check(actor, Resource::Webhook, Action::Create, Some(entity_id))?;
        let mut errors = Vec::new();
        let url = input.url.trim().to_string();
        match url::Url::parse(&url) {
            Ok(u) if matches!(u.scheme(), "https" | "http") && u.host().is_some() && u.password().is_none() => {
                // The webhook address policy, on the address or on what the name resolves to now; every
                // delivery checks the address it connects to again (the name may resolve otherwise later).
                let policy = &self.s.settings.webhook_addresses;
                if let Err(refused) = baluarte_notify::webhook::check_destination(policy, &url).await {
                    errors.push(
                        FieldError::new("url", FieldCode::InternalAddress)
                            .with("address", refused.address.to_string())
                            .with("range", refused.range),
                    );
                }
            }
            _ => errors.push(FieldError::new("url", FieldCode::NotHttpUrl)),
        }
        if url.len() > 2000 {
            errors.push(FieldError::new("url", FieldCode::TooLong).with("max", 2000));
        }
        if input.events.is_empty() {
            errors.push(FieldError::new("events", FieldCode::ChooseAtLeastOne));
        }
        for e in &input.events {
            if !is_webhook_event(e) {
                errors.push(
                    FieldError::new("events", FieldCode::UnknownEvent)
                        .with("value", e.chars().take(40).collect::<String>()),
                );
            }
        }
        finish(errors)?;
        let secret = crate::crypto::random_secret("whs_");
        let hook = Webhook {
            id: new_id(),
            entity_id: entity_id.into(),
            url,
            events: input.events,
            active: true,
        };
        let mut tx = self.s.db.begin_write().await?;
        sqlx::query("INSERT INTO webhooks (id, entity_id, url, secret, events, active, created_by, created_at) VALUES ($1, $2, $3, $4, $5, 1, $6, $7)")
            .bind(&hook.id)
            .bind(entity_id)
            .bind(&hook.url)
            .bind(&secret)
            .bind(hook.events.join(","))
            .bind(&actor.label)
            .bind(self.s.now())
            .execute(tx.conn())
            .await?;
        audit::append(&mut tx, actor, Change::created("webhook", &hook.id, entity_id, &hook)).await?;
        tx.commit().await?;
        Ok(NewWebhook { webhook: hook, secret })
    }

    pub async fn deactivate_webhook(self, actor: &Actor, id: &str) -> Result<()> {
        let row = sqlx::query("SELECT id, entity_id, url, events, active FROM webhooks WHERE id = $1")
            .bind(id)
            .fetch_optional(self.s.db.pool())
            .await?
            .ok_or(CoreError::NotFound)?;
        let hook = webhook_from_row(&row)?;
        policy::check(actor, Resource::Webhook, Action::Deactivate, Some(&hook.entity_id))?;
        let mut tx = self.s.db.begin_write().await?;
        sqlx::query("UPDATE webhooks SET active = 0 WHERE id = $1")
            .bind(id)
            .execute(tx.conn())
            .await?;
        // Its pending deliveries go with it. A worker that claimed one already checks the webhook
        // again before sending.
        sqlx::query("UPDATE outbox SET failed_at = $1, last_error = $2 WHERE channel = 'webhook' AND target = $3 AND delivered_at IS NULL AND failed_at IS NULL")
            .bind(self.s.now())
            .bind(DEACTIVATED)
            .bind(id)
            .execute(tx.conn())
            .await?;
        let after = Webhook {
            active: false,
            ..hook.clone()
        };
        audit::append(
            &mut tx,
            actor,
            Change::changed("deactivate", "webhook", id, &hook.entity_id, &hook, &after),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

fn webhook_from_row(r: &sqlx::any::AnyRow) -> Result<Webhook> {
    Ok(Webhook {
        id: r.try_get("id")?,
        entity_id: r.try_get("entity_id")?,
        url: r.try_get("url")?,
        events: r.try_get::<String, _>("events")?.split(',').map(String::from).collect(),
        active: r.try_get::<i64, _>("active")? != 0,
    })
}
