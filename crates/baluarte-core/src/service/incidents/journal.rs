//! The incident's journal, and the CSIRT's acts that add to it without changing the incident's state:
//! notes, tasks, and requests to the reporting entity (for information, for a stage).

use super::Incidents;
use crate::audit::{self, Change};
use crate::db::WriteTx;
use crate::error::{CoreError, FieldCode, Result};
use crate::policy::Actor;
use crate::service::kit::new_id;
use crate::service::kit::validation::{finish, text, text_block};
use crate::time::Micros;

impl Incidents<'_> {
    /// A line in an incident's timeline.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn journal(
        self,
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

    /// A note in the journal; `shared` makes it visible to the reporting entity.
    pub async fn add_note(self, actor: &Actor, id: &str, body: &str, shared: bool) -> Result<()> {
        let incident = self.handled(actor, id).await?;
        let mut errors = Vec::new();
        let body = text_block(&mut errors, "body", body, 1, 20_000);
        finish(errors)?;
        let now = self.s.now();
        let mut tx = self.s.db.begin_write().await?;
        let jid = self.journal(&mut tx, id, actor, "note", &body, shared, now).await?;
        audit::append(
            &mut tx,
            actor,
            Change::created(
                "journal",
                &jid,
                &incident.entity_id,
                &serde_json::json!({"body": body, "shared": shared}),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A task on an open incident, optionally assigned to someone who may be assigned the incident itself
    /// (an active CSIRT analyst or coordinator of the national authority).
    pub async fn add_task(self, actor: &Actor, id: &str, title: &str, assignee_id: Option<&str>) -> Result<String> {
        self.handled(actor, id).await?;
        let mut errors = Vec::new();
        let title = text(&mut errors, "title", title, 2, 300);
        finish(errors)?;
        if let Some(uid) = assignee_id {
            self.assignee_name(uid).await?;
        }
        let (mut tx, incident) = self.begin_act(id).await?;
        Self::require_open(&incident)?;
        let now = self.s.now();
        let task_id = new_id();
        sqlx::query("INSERT INTO incident_tasks (id, incident_id, title, assignee_id, done, created_by, created_at) VALUES ($1, $2, $3, $4, 0, $5, $6)")
            .bind(&task_id)
            .bind(id)
            .bind(&title)
            .bind(assignee_id)
            .bind(&actor.label)
            .bind(now)
            .execute(tx.conn())
            .await?;
        self.journal(&mut tx, id, actor, "task", &title, false, now).await?;
        audit::append(
            &mut tx,
            actor,
            Change::created(
                "task",
                &task_id,
                &incident.entity_id,
                &serde_json::json!({"title": title, "assignee_id": assignee_id}),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(task_id)
    }

    pub async fn set_task_done(self, actor: &Actor, id: &str, task_id: &str, done: bool) -> Result<()> {
        let incident = self.handled(actor, id).await?;
        let mut tx = self.s.db.begin_write().await?;
        let n = sqlx::query("UPDATE incident_tasks SET done = $1, done_at = $2 WHERE id = $3 AND incident_id = $4")
            .bind(i64::from(done))
            .bind(done.then(|| self.s.now()))
            .bind(task_id)
            .bind(id)
            .execute(tx.conn())
            .await?
            .rows_affected();
        if n == 0 {
            return Err(CoreError::NotFound);
        }
        audit::append(
            &mut tx,
            actor,
            Change::changed(
                "task",
                "task",
                task_id,
                &incident.entity_id,
                &serde_json::json!({"done": !done}),
                &serde_json::json!({"done": done}),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Ask the reporting entity a question; it sees it on the incident and is notified.
    pub async fn request_info(self, actor: &Actor, id: &str, question: &str) -> Result<String> {
        self.handled(actor, id).await?;
        let mut errors = Vec::new();
        let question = text_block(&mut errors, "question", question, 3, 5000);
        finish(errors)?;
        let (mut tx, incident) = self.begin_act(id).await?;
        Self::require_open(&incident)?;
        let now = self.s.now();
        let rid = new_id();
        sqlx::query(
            "INSERT INTO info_requests (id, incident_id, question, asked_by, asked_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&rid)
        .bind(id)
        .bind(&question)
        .bind(&actor.label)
        .bind(now)
        .execute(tx.conn())
        .await?;
        self.journal(&mut tx, id, actor, "request", &question, true, now)
            .await?;
        audit::append(
            &mut tx,
            actor,
            Change::created(
                "info_request",
                &rid,
                &incident.entity_id,
                &serde_json::json!({"question": question}),
            ),
        )
        .await?;
        self.s
            .notifications()
            .notify_entity(
                &mut tx,
                &incident,
                "incident.request",
                &format!("{} · {question}", incident.reference),
                now,
            )
            .await?;
        tx.commit().await?;
        Ok(rid)
    }

    /// Ask for a stage whose deadline runs from the CSIRT's request (e.g. the APF final report).
    pub async fn request_stage(self, actor: &Actor, id: &str, stage_id: &str) -> Result<()> {
        let incident = self.handled(actor, id).await?;
        if !self.stage_ids(&incident).await?.iter().any(|s| s == stage_id) {
            return Err(CoreError::invalid("stage_id", FieldCode::NotAStage));
        }
        let now = self.s.now();
        let mut tx = self.s.db.begin_write().await?;
        let inserted = sqlx::query("INSERT INTO incident_stage_requests (incident_id, stage_id, requested_by, requested_at) VALUES ($1, $2, $3, $4) ON CONFLICT (incident_id, stage_id) DO NOTHING")
            .bind(id)
            .bind(stage_id)
            .bind(&actor.label)
            .bind(now)
            .execute(tx.conn())
            .await?
            .rows_affected();
        if inserted == 0 {
            return Err(CoreError::Conflict(format!("stage `{stage_id}` was already requested")));
        }
        self.journal(&mut tx, id, actor, "stage_request", stage_id, true, now)
            .await?;
        audit::append(
            &mut tx,
            actor,
            Change::act("request_stage", "incident", id, &incident.entity_id),
        )
        .await?;
        self.s
            .notifications()
            .notify_entity(
                &mut tx,
                &incident,
                "incident.stage_requested",
                &format!("{} · {stage_id}", incident.reference),
                now,
            )
            .await?;
        tx.commit().await?;
        Ok(())
    }
}
