//! Notifications: who is told of an incident's events, in the application ([`notices`]), by e-mail and
//! by signed webhook ([`webhooks`]), through the outbox ([`outbox`]) ([`Notifications`],
//! `services.notifications()`).
//!
//! Whatever must leave the database (an e-mail, a webhook) is written to `outbox` in the same transaction
//! as the change that causes it, and a worker delivers it with retries: a crash between the two can
//! delay a message but never lose it or send one for a change that was rolled back. Workers claim rows
//! with a lease, so several servers over one database never send a message twice; a failure that would
//! repeat (per `NotifyError::is_retryable`) is given up at once, and a deactivated webhook's pending
//! deliveries are cancelled.

mod notices;
mod outbox;
mod webhooks;

pub use outbox::{Deliverer, DeliveryReport};
pub use webhooks::{NewWebhook, Webhook, WebhookInput};

use super::kit::new_id;
use super::Services;
use crate::db::WriteTx;
use crate::error::Result;
use crate::incident::Incident;
use crate::time::{self, Micros};
use outbox::enqueue;
use sqlx::Row;

/// In-app notices, webhooks and the outbox worker: `services.notifications()`.
#[derive(Debug, Clone, Copy)]
pub struct Notifications<'a> {
    pub(in crate::service) s: &'a Services,
}

/// The events notices and webhooks are sent for, with the subject of their e-mail in Spanish and English.
const EVENTS: &[(&str, &str, &str)] = &[
    (
        "incident.reported",
        "Nuevo incidente reportado",
        "New incident reported",
    ),
    (
        "incident.assigned",
        "Incidente asignado a usted",
        "Incident assigned to you",
    ),
    (
        "incident.request",
        "El CSIRT nacional solicita información",
        "The national CSIRT requests information",
    ),
    (
        "incident.answer",
        "Respuesta a una solicitud de información",
        "Answer to a request for information",
    ),
    (
        "incident.stage",
        "Nueva entrega de un incidente",
        "New incident stage submitted",
    ),
    (
        "incident.stage_requested",
        "El CSIRT nacional solicita una entrega",
        "The national CSIRT requests a stage",
    ),
    ("incident.closed", "Incidente cerrado", "Incident closed"),
    (
        "deadline.approaching",
        "Plazo de notificación próximo a vencer",
        "Notification deadline approaching",
    ),
    (
        "deadline.missed",
        "Plazo de notificación vencido",
        "Notification deadline missed",
    ),
];

/// Whether a webhook may subscribe to `event`.
pub fn is_webhook_event(event: &str) -> bool {
    EVENTS.iter().any(|(e, _, _)| *e == event)
}

fn subject_for(event: &str, lang: &str) -> &'static str {
    let (es, en) = EVENTS
        .iter()
        .find(|(e, _, _)| *e == event)
        .map_or(("Aviso de Baluarte", "Baluarte notice"), |(_, es, en)| (*es, *en));
    if lang == "en" {
        en
    } else {
        es
    }
}

impl Notifications<'_> {
    /// Notify one user in the application and by e-mail.
    pub(crate) async fn notify_user(
        self,
        tx: &mut WriteTx,
        user_id: &str,
        event: &str,
        incident_id: &str,
        title: &str,
        at: Micros,
    ) -> Result<()> {
        let row = sqlx::query("SELECT email, lang FROM users WHERE id = $1 AND active = 1")
            .bind(user_id)
            .fetch_optional(tx.conn())
            .await?;
        let Some(row) = row else { return Ok(()) };
        let (email, lang): (String, String) = (row.try_get("email")?, row.try_get("lang")?);
        sqlx::query("INSERT INTO notifications (id, user_id, kind, incident_id, title, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(new_id())
            .bind(user_id)
            .bind(event)
            .bind(incident_id)
            .bind(title)
            .bind(at)
            .execute(tx.conn())
            .await?;
        if !self.s.settings.email_enabled {
            return Ok(());
        }
        let subject = format!("[Baluarte] {}: {title}", subject_for(event, &lang));
        let base = self
            .s
            .settings
            .public_url
            .as_deref()
            .unwrap_or("")
            .trim_end_matches('/');
        let link = format!("{base}/incidents/{incident_id}");
        let open = if lang == "en" {
            "Open it in Baluarte"
        } else {
            "Consúltelo en Baluarte"
        };
        let body = format!("{}\n\n{title}\n\n{open}: {link}\n", subject_for(event, &lang));
        enqueue(tx, "email", &email, event, &subject, &body, at).await
    }

    #[allow(clippy::too_many_arguments)]
    async fn notify_users_where(
        self,
        tx: &mut WriteTx,
        sql: &str,
        arg: &str,
        event: &str,
        incident_id: &str,
        title: &str,
        at: Micros,
    ) -> Result<()> {
        for uid in ids(tx, sql, arg).await? {
            self.notify_user(tx, &uid, event, incident_id, title, at).await?;
        }
        Ok(())
    }

    /// Tell the national CSIRT (analysts and coordinators) and the national authority's webhooks.
    pub(crate) async fn notify_csirt(
        self,
        tx: &mut WriteTx,
        event: &str,
        incident_id: &str,
        title: &str,
        at: Micros,
    ) -> Result<()> {
        let csirt = format!(
            "SELECT u.id FROM users u JOIN entities e ON e.id = u.entity_id WHERE e.national_authority = 1 AND u.active = 1 AND u.role IN ({}) AND $1 = $1",
            crate::model::Role::csirt_sql_list()
        );
        self.notify_users_where(tx, &csirt, "", event, incident_id, title, at)
            .await?;
        for e in ids(
            tx,
            "SELECT id FROM entities WHERE national_authority = 1 AND $1 = $1",
            "",
        )
        .await?
        {
            self.enqueue_webhooks(tx, &e, event, incident_id, title, at).await?;
        }
        Ok(())
    }

    /// Tell whoever handles the incident: its assignee, or the whole CSIRT when unassigned.
    pub(crate) async fn notify_handlers(
        self,
        tx: &mut WriteTx,
        incident: &Incident,
        event: &str,
        title: &str,
        at: Micros,
    ) -> Result<()> {
        match &incident.assignee_id {
            Some(uid) => self.notify_user(tx, uid, event, &incident.id, title, at).await,
            None => self.notify_csirt(tx, event, &incident.id, title, at).await,
        }
    }

    /// Tell the reporting entity: its security officers and reporters, and its webhooks.
    pub(crate) async fn notify_entity(
        self,
        tx: &mut WriteTx,
        incident: &Incident,
        event: &str,
        title: &str,
        at: Micros,
    ) -> Result<()> {
        self.notify_users_where(
            tx,
            "SELECT id FROM users WHERE entity_id = $1 AND active = 1 AND role IN ('security_officer', 'reporter')",
            &incident.entity_id,
            event,
            &incident.id,
            title,
            at,
        )
        .await?;
        self.enqueue_webhooks(tx, &incident.entity_id, event, &incident.id, title, at)
            .await
    }

    async fn enqueue_webhooks(
        self,
        tx: &mut WriteTx,
        entity_id: &str,
        event: &str,
        incident_id: &str,
        title: &str,
        at: Micros,
    ) -> Result<()> {
        let rows = sqlx::query("SELECT id, events FROM webhooks WHERE entity_id = $1 AND active = 1")
            .bind(entity_id)
            .fetch_all(tx.conn())
            .await?;
        for r in rows {
            let events: String = r.try_get("events")?;
            if !events.split(',').any(|e| e == event) {
                continue;
            }
            let payload = serde_json::json!({
                "event": event,
                "incident_id": incident_id,
                "title": title,
                "at": time::rfc3339(at),
            })
            .to_string();
            enqueue(
                tx,
                "webhook",
                &r.try_get::<String, _>("id")?,
                event,
                title,
                &payload,
                at,
            )
            .await?;
        }
        Ok(())
    }
}

/// The `id` column of a one-parameter query, inside the caller's transaction.
async fn ids(tx: &mut WriteTx, sql: &str, arg: &str) -> Result<Vec<String>> {
    let rows = sqlx::query(sql).bind(arg).fetch_all(tx.conn()).await?;
    Ok(rows
        .iter()
        .map(|r| r.try_get::<String, _>("id"))
        .collect::<Result<_, _>>()?)
}
