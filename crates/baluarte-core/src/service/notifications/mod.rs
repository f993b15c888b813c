//! Notifications: the incident journal, in-app notices, and the outbox of e-mails and webhook calls.
//!
//! Whatever must leave the database (an e-mail, a webhook) is written to `outbox` in the same transaction
//! as the change that causes it, and a worker delivers it with retries: a crash between the two can
//! delay a message but never lose it or send one for a change that was rolled back. Workers claim rows
//! with a lease, so several servers over one database never send a message twice; a failure that would
//! repeat (per `NotifyError::is_retryable`) is given up at once, and a deactivated webhook's pending
//! deliveries are cancelled.

use super::registry::{finish, new_id};
use super::Services;
use crate::audit::{self, Change};
use crate::db::WriteTx;
use crate::error::{CoreError, FieldError, Result};
use crate::incident::{Incident, Notification};
use crate::policy::{self, Action, Actor, Resource};
use crate::time::{self, Micros};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use utoipa::ToSchema;

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
    pub url: String,
    pub events: Vec<String>,
}

/// Counts of one outbox pass.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    pub delivered: usize,
    /// Failed this time, tried again later.
    pub retried: usize,
    /// Given up: refused for good (a 4xx, a redirect, a bad address) or out of retries.
    pub failed: usize,
    /// Not sent because their webhook was deactivated.
    pub cancelled: usize,
}

impl DeliveryReport {
    /// Whether the pass handled any message.
    pub fn is_empty(&self) -> bool {
        self.delivered + self.retried + self.failed + self.cancelled == 0
    }
}

/// How long a worker holds a claimed outbox row. It must outlast one delivery (a webhook call times out
/// after 10 s, an SMTP exchange after a few 30 s commands); if the worker dies, the row waits this long.
const LEASE: Micros = 10 * 60 * 1_000_000;

/// The reason kept on a webhook's rows that will never be sent.
const DEACTIVATED: &str = "cancelled: webhook deactivated";

/// Why one delivery did not happen, which decides what becomes of its row.
#[derive(Debug)]
enum Undelivered {
    /// Worth trying again later: network trouble, a busy or failing receiver.
    Retry(String),
    /// Refused the same way every time (a 4xx, a redirect, a bad address or configuration): give up now.
    Permanent(String),
    /// Must not be sent any more.
    Cancelled(String),
}

impl From<baluarte_notify::NotifyError> for Undelivered {
    fn from(e: baluarte_notify::NotifyError) -> Self {
        if e.is_retryable() {
            Undelivered::Retry(e.to_string())
        } else {
            Undelivered::Permanent(e.to_string())
        }
    }
}

impl From<sqlx::Error> for Undelivered {
    // Reading the webhook failed: the database may be back on the next pass.
    fn from(e: sqlx::Error) -> Self {
        Undelivered::Retry(e.to_string())
    }
}

/// An outbox row claimed by this worker: its columns and the claim's token.
struct Claimed {
    id: String,
    channel: String,
    target: String,
    event: String,
    subject: String,
    payload: String,
    attempts: i64,
    token: String,
}

/// Where the outbox worker sends: SMTP (optional) and an HTTP client for webhooks.
#[derive(Debug)]
pub struct Deliverer {
    pub mailer: Option<baluarte_notify::Mailer>,
    pub http: reqwest::Client,
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

impl Services {
    /// A line in an incident's timeline.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn journal(
        &self,
        tx: &mut WriteTx,
        incident_id: &str,
        actor: &Actor,
        kind: &str,
        body: &str,
        shared: bool,
        at: Micros,
    ) -> Result<String> {
        let id = new_id();
        sqlx::query("INSERT INTO incident_journal (id, incident_id, at, author_id, author_label, kind, body, shared) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
            .bind(&id)
            .bind(incident_id)
            .bind(at)
            .bind(actor.id())
            .bind(&actor.label)
            .bind(kind)
            .bind(body)
            .bind(i64::from(shared))
            .execute(tx.conn())
            .await?;
        Ok(id)
    }

    /// Notify one user in the application and by e-mail.
    pub(crate) async fn notify_user(
        &self,
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
        if !self.settings.email_enabled {
            return Ok(());
        }
        let subject = format!("[Baluarte] {}: {title}", subject_for(event, &lang));
        let base = self.settings.public_url.as_deref().unwrap_or("").trim_end_matches('/');
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
        &self,
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
        &self,
        tx: &mut WriteTx,
        event: &str,
        incident_id: &str,
        title: &str,
        at: Micros,
    ) -> Result<()> {
        self.notify_users_where(
            tx,
            "SELECT u.id FROM users u JOIN entities e ON e.id = u.entity_id WHERE e.national_authority = 1 AND u.active = 1 AND u.role IN ('csirt_analyst', 'coordinator') AND $1 = $1",
            "",
            event,
            incident_id,
            title,
            at,
        )
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
        &self,
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
        &self,
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
        &self,
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

    // ----- in-app notifications -----

    pub async fn notifications(&self, actor: &Actor, unread_only: bool) -> Result<Vec<Notification>> {
        let uid = actor
            .user_id()
            .ok_or_else(|| CoreError::forbidden("notifications are for people"))?;
        let sql = if unread_only {
            "SELECT id, kind, incident_id, title, created_at, read_at FROM notifications WHERE user_id = $1 AND read_at IS NULL ORDER BY created_at DESC LIMIT 100"
        } else {
            "SELECT id, kind, incident_id, title, created_at, read_at FROM notifications WHERE user_id = $1 ORDER BY created_at DESC LIMIT 100"
        };
        let rows = sqlx::query(sql).bind(uid).fetch_all(self.db.pool()).await?;
        rows.iter()
            .map(|r| {
                Ok(Notification {
                    id: r.try_get("id")?,
                    kind: r.try_get("kind")?,
                    incident_id: r.try_get("incident_id")?,
                    title: r.try_get("title")?,
                    created_at: r.try_get("created_at")?,
                    read: r.try_get::<Option<i64>, _>("read_at")?.is_some(),
                })
            })
            .collect()
    }

    pub async fn unread_notifications(&self, actor: &Actor) -> Result<i64> {
        let Some(uid) = actor.user_id() else { return Ok(0) };
        Ok(
            sqlx::query("SELECT COUNT(*) AS n FROM notifications WHERE user_id = $1 AND read_at IS NULL")
                .bind(uid)
                .fetch_one(self.db.pool())
                .await?
                .try_get("n")?,
        )
    }

    /// Mark the caller's notifications read (a reading, not a change of record: not audited).
    pub async fn mark_notifications_read(&self, actor: &Actor) -> Result<()> {
        let uid = actor
            .user_id()
            .ok_or_else(|| CoreError::forbidden("notifications are for people"))?;
        let mut tx = self.db.begin_write().await?;
        sqlx::query("UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND read_at IS NULL")
            .bind(self.now())
            .bind(uid)
            .execute(tx.conn())
            .await?;
        tx.commit().await?;
        Ok(())
    }

    // ----- webhooks -----

    pub async fn list_webhooks(&self, actor: &Actor, entity_id: &str) -> Result<Vec<Webhook>> {
        policy::check(actor, Resource::Webhook, Action::Read, Some(entity_id))?;
        let rows = sqlx::query(
            "SELECT id, entity_id, url, events, active FROM webhooks WHERE entity_id = $1 ORDER BY created_at",
        )
        .bind(entity_id)
        .fetch_all(self.db.pool())
        .await?;
        rows.iter().map(webhook_from_row).collect()
    }

    pub async fn create_webhook(&self, actor: &Actor, entity_id: &str, input: WebhookInput) -> Result<NewWebhook> {
        policy::check(actor, Resource::Webhook, Action::Create, Some(entity_id))?;
        let mut errors = Vec::new();
        let url = input.url.trim().to_string();
        match url::Url::parse(&url) {
            Ok(u) if matches!(u.scheme(), "https" | "http") && u.host().is_some() && u.password().is_none() => {}
            _ => errors.push(FieldError::new("url", "must be an http(s) URL without credentials")),
        }
        if url.len() > 2000 {
            errors.push(FieldError::new("url", "must be at most 2000 characters"));
        }
        if input.events.is_empty() {
            errors.push(FieldError::new("events", "choose at least one event"));
        }
        for e in &input.events {
            if !is_webhook_event(e) {
                errors.push(FieldError::new("events", format!("unknown event `{e}`")));
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
        let mut tx = self.db.begin_write().await?;
        sqlx::query("INSERT INTO webhooks (id, entity_id, url, secret, events, active, created_by, created_at) VALUES ($1, $2, $3, $4, $5, 1, $6, $7)")
            .bind(&hook.id)
            .bind(entity_id)
            .bind(&hook.url)
            .bind(&secret)
            .bind(hook.events.join(","))
            .bind(&actor.label)
            .bind(self.now())
            .execute(tx.conn())
            .await?;
        audit::append(&mut tx, actor, Change::created("webhook", &hook.id, entity_id, &hook)).await?;
        tx.commit().await?;
        Ok(NewWebhook { webhook: hook, secret })
    }

    pub async fn deactivate_webhook(&self, actor: &Actor, id: &str) -> Result<()> {
        let row = sqlx::query("SELECT id, entity_id, url, events, active FROM webhooks WHERE id = $1")
            .bind(id)
            .fetch_optional(self.db.pool())
            .await?
            .ok_or(CoreError::NotFound)?;
        let hook = webhook_from_row(&row)?;
        policy::check(actor, Resource::Webhook, Action::Deactivate, Some(&hook.entity_id))?;
        let mut tx = self.db.begin_write().await?;
        sqlx::query("UPDATE webhooks SET active = 0 WHERE id = $1")
            .bind(id)
            .execute(tx.conn())
            .await?;
        // Its pending deliveries go with it. A worker that claimed one already checks the webhook
        // again before sending.
        sqlx::query("UPDATE outbox SET failed_at = $1, last_error = $2 WHERE channel = 'webhook' AND target = $3 AND delivered_at IS NULL AND failed_at IS NULL")
            .bind(self.now())
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

    // ----- the outbox worker -----

    /// Deliver what is due in the outbox (at most `batch` messages). A retryable failure is tried again
    /// with backoff and given up after the last retry; a failure that would repeat (a 4xx, a redirect, a
    /// bad address) is given up at once; errors are kept on the row, never the secrets.
    ///
    /// Each row is claimed with a lease before it is sent, so several servers can run this over one
    /// database without sending a message twice; a row whose worker died is claimed again when its
    /// lease runs out (the delivery id stays the same, so a receiver can still drop a repeat).
    pub async fn deliver_outbox(&self, deliverer: &Deliverer, batch: i64) -> Result<DeliveryReport> {
        let mut report = DeliveryReport::default();
        for _ in 0..batch.max(0) {
            let Some(row) = self.claim_due().await? else { break };
            let outcome = self.deliver_one(deliverer, &row).await;
            self.record_outcome(&row, outcome, &mut report).await?;
        }
        Ok(report)
    }

    /// Claim the next due row for [`LEASE`], in a short transaction of its own. On PostgreSQL,
    /// `FOR UPDATE SKIP LOCKED` lets concurrent workers pass over each other's rows instead of waiting
    /// and then claiming the same one; the lease condition is repeated in the outer `WHERE` so that
    /// the row is re-checked after any wait. SQLite has one writer at a time, so the plain statement
    /// is already atomic.
    async fn claim_due(&self) -> Result<Option<Claimed>> {
        let lock = match self.db.backend() {
            crate::db::Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            crate::db::Backend::Sqlite => "",
        };
        let sql = format!(
            "UPDATE outbox SET lease_until = $1, claimed_by = $2 \
             WHERE id = (SELECT id FROM outbox WHERE delivered_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $3 AND (lease_until IS NULL OR lease_until <= $3) ORDER BY next_attempt_at, id LIMIT 1{lock}) \
             AND delivered_at IS NULL AND failed_at IS NULL AND (lease_until IS NULL OR lease_until <= $3) \
             RETURNING id, channel, target, event, subject, payload, attempts"
        );
        let now = self.now();
        let token = new_id();
        let mut tx = self.db.begin_write().await?;
        let row = sqlx::query(&sql)
            .bind(now + LEASE)
            .bind(&token)
            .bind(now)
            .fetch_optional(tx.conn())
            .await?;
        tx.commit().await?;
        let Some(r) = row else { return Ok(None) };
        Ok(Some(Claimed {
            id: r.try_get("id")?,
            channel: r.try_get("channel")?,
            target: r.try_get("target")?,
            event: r.try_get("event")?,
            subject: r.try_get("subject")?,
            payload: r.try_get("payload")?,
            attempts: r.try_get("attempts")?,
            token,
        }))
    }

    /// Write what became of a claimed row and release its lease, provided the claim is still ours (a
    /// lease that ran out may have passed the row to another worker, whose outcome then stands).
    async fn record_outcome(
        &self,
        row: &Claimed,
        outcome: std::result::Result<(), Undelivered>,
        report: &mut DeliveryReport,
    ) -> Result<()> {
        let now = self.now();
        let query = match &outcome {
            // A message sent after its webhook was deactivated was still sent: say so.
            Ok(()) => {
                report.delivered += 1;
                sqlx::query("UPDATE outbox SET delivered_at = $1, attempts = attempts + 1, failed_at = NULL, last_error = NULL, lease_until = NULL, claimed_by = NULL WHERE id = $2 AND claimed_by = $3")
                    .bind(now)
            }
            Err(Undelivered::Cancelled(reason)) => {
                report.cancelled += 1;
                sqlx::query("UPDATE outbox SET failed_at = $1, last_error = $2, lease_until = NULL, claimed_by = NULL WHERE id = $3 AND claimed_by = $4")
                    .bind(now)
                    .bind(reason.clone())
            }
            Err(failure) => {
                let (next_at, failed_at, reason) = after_failure(row, failure, now);
                if failed_at.is_some() {
                    report.failed += 1;
                } else {
                    report.retried += 1;
                }
                // `failed_at IS NULL`: a deactivation that cancelled the row meanwhile stands.
                sqlx::query("UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $1, failed_at = $2, last_error = $3, lease_until = NULL, claimed_by = NULL WHERE id = $4 AND claimed_by = $5 AND failed_at IS NULL")
                    .bind(next_at)
                    .bind(failed_at)
                    .bind(reason)
            }
        };
        let mut tx = self.db.begin_write().await?;
        let done = query.bind(&row.id).bind(&row.token).execute(tx.conn()).await?;
        tx.commit().await?;
        if done.rows_affected() == 0 {
            tracing::warn!(outbox = %row.id, "outbox lease lost before the outcome was recorded");
        }
        Ok(())
    }

    async fn deliver_one(&self, deliverer: &Deliverer, row: &Claimed) -> std::result::Result<(), Undelivered> {
        match row.channel.as_str() {
            "email" => {
                // Retried: the operator may configure SMTP and restart within the retry schedule.
                let Some(mailer) = &deliverer.mailer else {
                    return Err(Undelivered::Retry("no SMTP server is configured".into()));
                };
                let email = baluarte_notify::Email {
                    to: vec![row.target.clone()],
                    subject: row.subject.clone(),
                    text: row.payload.clone(),
                };
                Ok(mailer.send(&email).await?)
            }
            "webhook" => self.call_webhook(deliverer, row).await,
            other => Err(Undelivered::Permanent(format!("unknown channel {other}"))),
        }
    }

    /// Read the webhook as it is now, after the claim: one deactivated meanwhile is sent nothing.
    async fn call_webhook(&self, deliverer: &Deliverer, row: &Claimed) -> std::result::Result<(), Undelivered> {
        let hook = sqlx::query("SELECT url, secret, active FROM webhooks WHERE id = $1")
            .bind(&row.target)
            .fetch_optional(self.db.pool())
            .await?
            .ok_or_else(|| Undelivered::Permanent("the webhook was removed".into()))?;
        if hook.try_get::<i64, _>("active")? == 0 {
            return Err(Undelivered::Cancelled(DEACTIVATED.into()));
        }
        let url: String = hook.try_get("url")?;
        let secret: String = hook.try_get("secret")?;
        let d = baluarte_notify::webhook::Delivery {
            url: &url,
            secret: secret.as_bytes(),
            event: &row.event,
            delivery_id: &row.id,
            body: row.payload.as_bytes(),
            signed_at: self.now() / 1_000_000,
        };
        baluarte_notify::webhook::deliver(&deliverer.http, &d).await?;
        Ok(())
    }
}

/// When to try a failed row again (`next_attempt_at`, `failed_at`) and the error to keep on it.
fn after_failure(row: &Claimed, failure: &Undelivered, now: Micros) -> (Micros, Option<Micros>, String) {
    let (reason, delay) = match failure {
        Undelivered::Retry(reason) => (
            reason,
            baluarte_notify::retry_delay(u32::try_from(row.attempts + 1).unwrap_or(u32::MAX)),
        ),
        Undelivered::Permanent(reason) | Undelivered::Cancelled(reason) => (reason, None),
    };
    let retryable = matches!(failure, Undelivered::Retry(_));
    tracing::warn!(outbox = %row.id, error = %reason, retryable, "delivery failed");
    let reason = reason.chars().take(500).collect::<String>();
    match delay {
        Some(d) => (now + i64::try_from(d.as_micros()).unwrap_or(i64::MAX / 2), None, reason),
        None => (now, Some(now), reason),
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

pub(crate) async fn enqueue(
    tx: &mut WriteTx,
    channel: &str,
    target: &str,
    event: &str,
    subject: &str,
    payload: &str,
    at: Micros,
) -> Result<()> {
    sqlx::query("INSERT INTO outbox (id, channel, target, event, subject, payload, created_at, next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)")
        .bind(new_id())
        .bind(channel)
        .bind(target)
        .bind(event)
        .bind(subject)
        .bind(payload)
        .bind(at)
        .execute(tx.conn())
        .await?;
    Ok(())
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
