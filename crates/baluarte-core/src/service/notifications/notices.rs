//! In-app notices: each person's list of what happened to the incidents they follow.

use super::Notifications;
use crate::error::{CoreError, Result};
use crate::incident::Notification;
use crate::policy::Actor;
use sqlx::Row;

impl Notifications<'_> {
    pub async fn notifications(self, actor: &Actor, unread_only: bool) -> Result<Vec<Notification>> {
        let uid = actor
            .user_id()
            .ok_or_else(|| CoreError::forbidden("notifications are for people"))?;
        let sql = if unread_only {
            "SELECT id, kind, incident_id, title, created_at, read_at FROM notifications WHERE user_id = $1 AND read_at IS NULL ORDER BY created_at DESC LIMIT 100"
        } else {
            "SELECT id, kind, incident_id, title, created_at, read_at FROM notifications WHERE user_id = $1 ORDER BY created_at DESC LIMIT 100"
        };
        let rows = sqlx::query(sql).bind(uid).fetch_all(self.s.db.pool()).await?;
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

    pub async fn unread_notifications(self, actor: &Actor) -> Result<i64> {
        let Some(uid) = actor.user_id() else { return Ok(0) };
        Ok(
            sqlx::query("SELECT COUNT(*) AS n FROM notifications WHERE user_id = $1 AND read_at IS NULL")
                .bind(uid)
                .fetch_one(self.s.db.pool())
                .await?
                .try_get("n")?,
        )
    }

    /// Mark the caller's notifications read (a reading, not a change of record: not audited).
    pub async fn mark_notifications_read(self, actor: &Actor) -> Result<()> {
        let uid = actor
            .user_id()
            .ok_or_else(|| CoreError::forbidden("notifications are for people"))?;
        let mut tx = self.s.db.begin_write().await?;
        sqlx::query("UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND read_at IS NULL")
            .bind(self.s.now())
            .bind(uid)
            .execute(tx.conn())
            .await?;
        tx.commit().await?;
        Ok(())
    }
}
