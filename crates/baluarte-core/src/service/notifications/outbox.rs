//! The outbox worker: delivers the e-mails and webhook calls that changes wrote to `outbox`, each row
//! claimed with a lease, retried with backoff when the failure may pass and given up when it would repeat.

use super::Notifications;
use crate::db::WriteTx;
use crate::error::Result;
use crate::service::kit::new_id;
use crate::time::Micros;
use sqlx::Row;

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
pub(super) const DEACTIVATED: &str = "cancelled: webhook deactivated";

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

/// Where the outbox worker sends: SMTP (optional) and an HTTP client for webhooks, which connects only to
/// the addresses its webhook address policy allows.
#[derive(Debug)]
pub struct Deliverer {
    pub mailer: Option<baluarte_notify::Mailer>,
    pub http: baluarte_notify::webhook::Client,
}

impl Deliverer {
    /// A deliverer whose webhook client applies the services' webhook address policy.
    pub fn new(
        mailer: Option<baluarte_notify::Mailer>,
        settings: &crate::service::Settings,
    ) -> std::result::Result<Self, baluarte_notify::NotifyError> {
        Ok(Deliverer {
            mailer,
            http: baluarte_notify::webhook::client(settings.webhook_addresses.clone())?,
        })
    }
}

impl Notifications<'_> {
    /// Deliver what is due in the outbox (at most `batch` messages). A retryable failure is tried again
    /// with backoff and given up after the last retry; a failure that would repeat (a 4xx, a redirect, a
    /// bad address) is given up at once; errors are kept on the row, never the secrets.
    ///
    /// Each row is claimed with a lease before it is sent, so several servers can run this over one
    /// database without sending a message twice; a row whose worker died is claimed again when its
    /// lease runs out (the delivery id stays the same, so a receiver can still drop a repeat).
    pub async fn deliver_outbox(self, deliverer: &Deliverer, batch: i64) -> Result<DeliveryReport> {
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
    async fn claim_due(self) -> Result<Option<Claimed>> {
        let lock = match self.s.db.backend() {
            crate::db::Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            crate::db::Backend::Sqlite => "",
        };
        let sql = format!(
            "UPDATE outbox SET lease_until = $1, claimed_by = $2 \
             WHERE id = (SELECT id FROM outbox WHERE delivered_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $3 AND (lease_until IS NULL OR lease_until <= $3) ORDER BY next_attempt_at, id LIMIT 1{lock}) \
             AND delivered_at IS NULL AND failed_at IS NULL AND (lease_until IS NULL OR lease_until <= $3) \
             RETURNING id, channel, target, event, subject, payload, attempts"
        );
        let now = self.s.now();
        let token = new_id();
        let mut tx = self.s.db.begin_write().await?;
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
        self,
        row: &Claimed,
        outcome: std::result::Result<(), Undelivered>,
        report: &mut DeliveryReport,
    ) -> Result<()> {
        let now = self.s.now();
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
        let mut tx = self.s.db.begin_write().await?;
        let done = query.bind(&row.id).bind(&row.token).execute(tx.conn()).await?;
        tx.commit().await?;
        if done.rows_affected() == 0 {
            tracing::warn!(outbox = %row.id, "outbox lease lost before the outcome was recorded");
        }
        Ok(())
    }

    async fn deliver_one(self, deliverer: &Deliverer, row: &Claimed) -> std::result::Result<(), Undelivered> {
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
    async fn call_webhook(self, deliverer: &Deliverer, row: &Claimed) -> std::result::Result<(), Undelivered> {
        let hook = sqlx::query("SELECT url, secret, active FROM webhooks WHERE id = $1")
            .bind(&row.target)
            .fetch_optional(self.s.db.pool())
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
            signed_at: self.s.now() / 1_000_000,
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
