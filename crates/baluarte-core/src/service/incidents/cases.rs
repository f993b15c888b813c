//! Reading incidents: lists, the case file, receipts, reports and attachments.

use super::Incidents;
use crate::db::{Backend, WriteTx};
use crate::error::{CoreError, FieldCode, FieldError, Result};
use crate::incident::{
    Attachment, CaseFile, InfoRequest, JournalEntry, ObservableRecord, Severity, Status, Submission, Task,
};
use crate::incident::{DeadlineState, Incident, Pap};
use crate::model::{Page, PageRequest, Tlp};
use crate::policy::{self, Action, Actor, Resource};
use crate::receipt::Receipt;
use crate::service::kit::paging::rows_page;
use crate::service::kit::sql::{Arg, Filter};
use crate::service::kit::tenancy;
use crate::time::Micros;
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::Row;
use utoipa::ToSchema;

pub(crate) const INCIDENT_SELECT: &str = "SELECT i.id, i.reference, i.entity_id, e.name AS entity_name, e.time_zone AS time_zone, i.reported_by_label, i.channel, i.title, i.description, i.detected_at, i.occurred_at, i.rsit_class, i.rsit_type, i.severity, i.tlp, i.pap, i.affected_services, i.affected_systems, i.interruption_minutes, i.people_affected, i.data_compromised, i.personal_data, i.status, i.assignee_id, u.name AS assignee_name, i.merged_into, i.campaign_id, i.resolution, i.lessons_learned, i.profile_id, i.created_at, i.updated_at, i.acknowledged_at, i.closed_at FROM incidents i JOIN entities e ON e.id = i.entity_id LEFT JOIN users u ON u.id = i.assignee_id";

pub(crate) fn incident_from_row(r: &AnyRow) -> Result<Incident, sqlx::Error> {
    let text = |c: &str| r.try_get::<String, _>(c);
    Ok(Incident {
        id: text("id")?,
        reference: text("reference")?,
        entity_id: text("entity_id")?,
        entity_name: text("entity_name")?,
        reported_by_label: text("reported_by_label")?,
        channel: text("channel")?,
        title: text("title")?,
        description: text("description")?,
        detected_at: r.try_get("detected_at")?,
        occurred_at: r.try_get("occurred_at")?,
        rsit_class: text("rsit_class")?,
        rsit_type: text("rsit_type")?,
        severity: Severity::parse(&text("severity")?).unwrap_or(Severity::Medium),
        tlp: Tlp::parse(&text("tlp")?).unwrap_or(Tlp::AmberStrict),
        pap: Pap::parse(&text("pap")?).unwrap_or(Pap::Amber),
        affected_services: text("affected_services")?,
        affected_systems: text("affected_systems")?,
        interruption_minutes: r.try_get("interruption_minutes")?,
        people_affected: r.try_get("people_affected")?,
        data_compromised: r.try_get::<i64, _>("data_compromised")? != 0,
        personal_data: r.try_get::<i64, _>("personal_data")? != 0,
        status: Status::parse(&text("status")?).unwrap_or(Status::New),
        assignee_id: r.try_get("assignee_id")?,
        assignee_name: r.try_get("assignee_name")?,
        merged_into: r.try_get("merged_into")?,
        campaign_id: r.try_get("campaign_id")?,
        resolution: r.try_get("resolution")?,
        lessons_learned: r.try_get("lessons_learned")?,
        profile_id: r.try_get("profile_id")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        acknowledged_at: r.try_get("acknowledged_at")?,
        closed_at: r.try_get("closed_at")?,
        time_zone: text("time_zone")?,
    })
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct IncidentFilter {
    /// `open` (default), `closed`, `all`, or one status.
    pub status: Option<String>,
    pub severity: Option<Severity>,
    pub entity_id: Option<String>,
    pub sector_id: Option<String>,
    pub rsit_class: Option<String>,
    pub campaign_id: Option<String>,
    /// Only incidents assigned to the caller.
    #[serde(default)]
    pub mine: bool,
    /// Search in the reference and the title.
    pub q: Option<String>,
}

/// One line of an incident list: the incident and where its deadlines stand.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IncidentListItem {
    #[serde(flatten)]
    pub incident: Incident,
    pub deadline_state: DeadlineState,
    #[serde(with = "crate::time::rfc3339_serde::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_due_at: Option<Micros>,
}

impl Incidents<'_> {
    /// The incident row, without an access check.
    pub(crate) async fn load_incident(self, id: &str) -> Result<Incident> {
        let row = sqlx::query(&format!("{INCIDENT_SELECT} WHERE i.id = $1"))
            .bind(id)
            .fetch_optional(self.s.db.pool())
            .await?
            .ok_or(CoreError::NotFound)?;
        Ok(incident_from_row(&row)?)
    }

    /// The incident row as it stands inside a write transaction, locked until that transaction ends: on
    /// PostgreSQL by `FOR UPDATE` (of the incident row only: the joined user is on the nullable side of
    /// an outer join), on SQLite by the writer lock the transaction already holds. An act checks its
    /// transition against this row, never against one read before the transaction began.
    pub(crate) async fn lock_incident(self, tx: &mut WriteTx, id: &str) -> Result<Incident> {
        let lock = match self.s.db.backend() {
            Backend::Postgres => " FOR UPDATE OF i",
            Backend::Sqlite => "",
        };
        let row = sqlx::query(&format!("{INCIDENT_SELECT} WHERE i.id = $1{lock}"))
            .bind(id)
            .fetch_optional(tx.conn())
            .await?
            .ok_or(CoreError::NotFound)?;
        Ok(incident_from_row(&row)?)
    }

    /// Load an incident and check the actor may do `action` on it.
    pub(crate) async fn incident_for(self, actor: &Actor, id: &str, action: Action) -> Result<Incident> {
        let incident = self.load_incident(id).await?;
        policy::check(actor, Resource::Incident, Action::Read, Some(&incident.entity_id))?;
        if action != Action::Read {
            policy::check(actor, Resource::Incident, action, Some(&incident.entity_id))?;
        }
        Ok(incident)
    }

    /// One incident as `actor` may see it (its relations to what it may not read left out).
    pub async fn get_incident(self, actor: &Actor, id: &str) -> Result<Incident> {
        let incident = self.incident_for(actor, id, Action::Read).await?;
        self.with_visible_relations(actor, incident).await
    }

    pub async fn list_incidents(
        self,
        actor: &Actor,
        filter: &IncidentFilter,
        page: PageRequest,
    ) -> Result<Page<IncidentListItem>> {
        let f = self.incident_filter(actor, filter)?;
        let (total, rows) = rows_page(
            &self.s.db,
            "SELECT COUNT(*) AS n FROM incidents i JOIN entities e ON e.id = i.entity_id",
            INCIDENT_SELECT,
            &f,
            "i.created_at DESC, i.id",
            page,
        )
        .await?;
        let mut incidents = Vec::with_capacity(rows.len());
        for row in &rows {
            incidents.push(self.with_visible_relations(actor, incident_from_row(row)?).await?);
        }
        let deadlines = self.deadlines_many(&incidents, self.s.now()).await?;
        let items = incidents
            .into_iter()
            .zip(deadlines)
            .map(|(incident, d)| IncidentListItem {
                next_due_at: d
                    .stages
                    .iter()
                    .filter(|s| s.submitted_at.is_none())
                    .filter_map(|s| s.due_at)
                    .min(),
                deadline_state: d.state,
                incident,
            })
            .collect();
        Ok(Page {
            items,
            total,
            page: page.page,
            per_page: page.per_page,
        })
    }

    pub(crate) fn incident_filter(self, actor: &Actor, filter: &IncidentFilter) -> Result<Filter> {
        let mut f = Filter::new(self.s.db.backend());
        tenancy::scope(&mut f, actor, Resource::Incident, "i.entity_id", None)?;
        match filter.status.as_deref().unwrap_or("open") {
            "open" => {
                f.and("i.status NOT IN ('closed', 'rejected', 'merged')", vec![]);
            }
            "closed" => {
                f.and("i.status IN ('closed', 'rejected', 'merged')", vec![]);
            }
            "all" | "" => {}
            s => {
                let st = Status::parse(s).ok_or_else(|| {
                    CoreError::invalid_field(
                        FieldError::new("status", FieldCode::UnknownStatus)
                            .with("value", s.chars().take(40).collect::<String>()),
                    )
                })?;
                f.eq("i.status", st.as_str());
            }
        }
        if let Some(s) = filter.severity {
            f.eq("i.severity", s.as_str());
        }
        if let Some(e) = filter.entity_id.as_deref().filter(|s| !s.is_empty()) {
            f.eq("i.entity_id", e);
        }
        if let Some(s) = filter.sector_id.as_deref().filter(|s| !s.is_empty()) {
            f.and(
                "(e.sector_id = ? OR e.sector_id IN (SELECT id FROM sectors WHERE parent_id = ?))",
                vec![Arg::Text(s.into()), Arg::Text(s.into())],
            );
        }
        if let Some(c) = filter.rsit_class.as_deref().filter(|s| !s.is_empty()) {
            f.eq("i.rsit_class", c);
        }
        if let Some(c) = filter.campaign_id.as_deref().filter(|s| !s.is_empty()) {
            f.eq("i.campaign_id", c);
        }
        if filter.mine {
            f.eq("i.assignee_id", actor.id());
        }
        if let Some(q) = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
            f.search(&["i.reference", "i.title"], q);
        }
        Ok(f)
    }

    /// Everything about one incident the actor may see.
    pub async fn case_file(self, actor: &Actor, id: &str) -> Result<CaseFile> {
        let incident = self.get_incident(actor, id).await?;
        let handler = policy::check(actor, Resource::Incident, Action::Handle, Some(&incident.entity_id)).is_ok();
        let deadlines = self.deadlines_of(&incident).await?;
        let submissions = self.submissions(id).await?;
        let observables = self.observables_of(id).await?;
        let correlations = self.correlation_hints(actor, &incident).await?;
        let attachments = self.attachments(id).await?;
        let tasks = if handler { self.tasks(id).await? } else { Vec::new() };
        let journal = self.journal_of(id, handler).await?;
        let requests = self.info_requests(id).await?;
        let merged = self.merged_into_this(actor, id).await?;
        Ok(CaseFile {
            incident,
            deadlines,
            submissions,
            observables,
            correlations,
            attachments,
            tasks,
            journal,
            requests,
            merged,
        })
    }

    async fn submissions(self, incident_id: &str) -> Result<Vec<Submission>> {
        let rows = sqlx::query("SELECT id, incident_id, stage_id, digest, submitted_by, submitted_at FROM incident_submissions WHERE incident_id = $1 ORDER BY submitted_at, id")
            .bind(incident_id)
            .fetch_all(self.s.db.pool())
            .await?;
        rows.iter()
            .map(|r| {
                Ok(Submission {
                    id: r.try_get("id")?,
                    incident_id: r.try_get("incident_id")?,
                    stage_id: r.try_get("stage_id")?,
                    digest: r.try_get("digest")?,
                    submitted_by: r.try_get("submitted_by")?,
                    submitted_at: r.try_get("submitted_at")?,
                })
            })
            .collect()
    }

    async fn observables_of(self, incident_id: &str) -> Result<Vec<ObservableRecord>> {
        let rows =
            sqlx::query("SELECT id, kind, value, tlp FROM observables WHERE incident_id = $1 ORDER BY kind, value")
                .bind(incident_id)
                .fetch_all(self.s.db.pool())
                .await?;
        rows.iter()
            .map(|r| {
                Ok(ObservableRecord {
                    id: r.try_get("id")?,
                    kind: r.try_get("kind")?,
                    value: r.try_get("value")?,
                    tlp: Tlp::parse(&r.try_get::<String, _>("tlp")?).unwrap_or(Tlp::AmberStrict),
                })
            })
            .collect()
    }

    async fn attachments(self, incident_id: &str) -> Result<Vec<Attachment>> {
        let rows = sqlx::query("SELECT id, incident_id, sha256, filename, media_type, size, uploaded_by, created_at FROM attachments WHERE incident_id = $1 ORDER BY created_at, id")
            .bind(incident_id)
            .fetch_all(self.s.db.pool())
            .await?;
        rows.iter().map(attachment_from_row).collect()
    }

    async fn tasks(self, incident_id: &str) -> Result<Vec<Task>> {
        let rows = sqlx::query("SELECT id, incident_id, title, assignee_id, done, created_by, created_at FROM incident_tasks WHERE incident_id = $1 ORDER BY created_at, id")
            .bind(incident_id)
            .fetch_all(self.s.db.pool())
            .await?;
        rows.iter()
            .map(|r| {
                Ok(Task {
                    id: r.try_get("id")?,
                    incident_id: r.try_get("incident_id")?,
                    title: r.try_get("title")?,
                    assignee_id: r.try_get("assignee_id")?,
                    done: r.try_get::<i64, _>("done")? != 0,
                    created_by: r.try_get("created_by")?,
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect()
    }

    async fn journal_of(self, incident_id: &str, everything: bool) -> Result<Vec<JournalEntry>> {
        let sql = if everything {
            "SELECT id, at, author_label, kind, body, shared FROM incident_journal WHERE incident_id = $1 ORDER BY at, id"
        } else {
            "SELECT id, at, author_label, kind, body, shared FROM incident_journal WHERE incident_id = $1 AND shared = 1 ORDER BY at, id"
        };
        let rows = sqlx::query(sql).bind(incident_id).fetch_all(self.s.db.pool()).await?;
        rows.iter()
            .map(|r| {
                Ok(JournalEntry {
                    id: r.try_get("id")?,
                    at: r.try_get("at")?,
                    author_label: r.try_get("author_label")?,
                    kind: r.try_get("kind")?,
                    body: r.try_get("body")?,
                    shared: r.try_get::<i64, _>("shared")? != 0,
                })
            })
            .collect()
    }

    async fn info_requests(self, incident_id: &str) -> Result<Vec<InfoRequest>> {
        let rows = sqlx::query("SELECT id, incident_id, question, asked_by, asked_at, answer, answered_by, answered_at FROM info_requests WHERE incident_id = $1 ORDER BY asked_at, id")
            .bind(incident_id)
            .fetch_all(self.s.db.pool())
            .await?;
        rows.iter()
            .map(|r| {
                Ok(InfoRequest {
                    id: r.try_get("id")?,
                    incident_id: r.try_get("incident_id")?,
                    question: r.try_get("question")?,
                    asked_by: r.try_get("asked_by")?,
                    asked_at: r.try_get("asked_at")?,
                    answer: r.try_get("answer")?,
                    answered_by: r.try_get("answered_by")?,
                    answered_at: r.try_get("answered_at")?,
                })
            })
            .collect()
    }

    /// The signed receipt of one submission.
    pub async fn receipt(self, actor: &Actor, incident_id: &str, submission_id: &str) -> Result<Receipt> {
        let (_, receipt) = self.submission_files(actor, incident_id, submission_id).await?;
        serde_json::from_str(&receipt).map_err(|e| CoreError::internal_from("stored receipt", e))
    }

    /// The exact report bytes of a submission and its receipt text, as the reporter downloads them.
    pub async fn submission_files(
        self,
        actor: &Actor,
        incident_id: &str,
        submission_id: &str,
    ) -> Result<(String, String)> {
        self.get_incident(actor, incident_id).await?;
        let row = sqlx::query("SELECT body, receipt FROM incident_submissions WHERE id = $1 AND incident_id = $2")
            .bind(submission_id)
            .bind(incident_id)
            .fetch_optional(self.s.db.pool())
            .await?
            .ok_or(CoreError::NotFound)?;
        Ok((row.try_get("body")?, row.try_get("receipt")?))
    }

    /// An attachment's metadata and content.
    pub async fn attachment(
        self,
        actor: &Actor,
        incident_id: &str,
        attachment_id: &str,
    ) -> Result<(Attachment, Vec<u8>)> {
        self.get_incident(actor, incident_id).await?;
        let row = sqlx::query("SELECT id, incident_id, sha256, filename, media_type, size, uploaded_by, created_at FROM attachments WHERE id = $1 AND incident_id = $2")
            .bind(attachment_id)
            .bind(incident_id)
            .fetch_optional(self.s.db.pool())
            .await?
            .ok_or(CoreError::NotFound)?;
        let att = attachment_from_row(&row)?;
        let content: Vec<u8> = sqlx::query("SELECT content FROM blobs WHERE sha256 = $1")
            .bind(&att.sha256)
            .fetch_one(self.s.db.pool())
            .await?
            .try_get("content")?;
        Ok((att, content))
    }
}

fn attachment_from_row(r: &AnyRow) -> Result<Attachment> {
    Ok(Attachment {
        id: r.try_get("id")?,
        incident_id: r.try_get("incident_id")?,
        sha256: r.try_get("sha256")?,
        filename: r.try_get("filename")?,
        media_type: r.try_get("media_type")?,
        size: r.try_get("size")?,
        uploaded_by: r.try_get("uploaded_by")?,
        created_at: r.try_get("created_at")?,
    })
}
