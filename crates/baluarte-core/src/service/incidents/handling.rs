//! The national CSIRT's acts on an incident's state: status, triage (classification, severity, TLP),
//! assignment, close, reject, merge, and putting it in a campaign. Every act is one transaction with
//! its journal line and its audit entry; notes, tasks and requests are in [`super::journal`].

use super::Incidents;
use crate::audit::{self, Change};
use crate::db::WriteTx;
use crate::error::{CoreError, FieldCode, Result};
use crate::incident::{rsit_valid, Incident, Severity, Status};
use crate::model::{Role, Tlp};
use crate::policy::{Action, Actor};
use crate::service::kit::validation::{finish, text_block};
use serde::Deserialize;
use sqlx::Row;
use utoipa::ToSchema;

/// A column value to set.
#[derive(Debug, Clone)]
enum Val {
    Text(Option<String>),
    Int(Option<i64>),
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TriageInput {
    #[schema(schema_with = crate::service::schema::rsit_class)]
    pub rsit_class: String,
    /// A type of the class.
    #[schema(schema_with = crate::service::schema::rsit_type)]
    pub rsit_type: String,
    pub severity: Severity,
    pub tlp: Tlp,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseInput {
    #[schema(schema_with = crate::service::schema::block::<3, 20_000>)]
    pub resolution: String,
    #[serde(default)]
    #[schema(schema_with = crate::service::schema::block::<0, 20_000>)]
    pub lessons_learned: String,
}

/// What one act changes, for [`Incidents::apply`].
struct Act<'a> {
    action: &'a str,
    sets: Vec<(&'a str, Val)>,
    journal_kind: &'a str,
    journal: String,
    shared: bool,
    /// Tell the reporting entity (requests, closure).
    notify_entity: Option<&'a str>,
    /// Re-mark the incident's observables with this TLP (a triage that changes the marking).
    observables_tlp: Option<Tlp>,
    /// A journal line on another incident in the same transaction (the survivor of a merge).
    other_journal: Option<(String, String)>,
    /// Tell one person (the new assignee), in the same transaction.
    notify_user: Option<String>,
}

impl Act<'_> {
    /// An act with no side effects beyond its columns, its journal line and its audit entry.
    fn new<'a>(action: &'a str, sets: Vec<(&'a str, Val)>, journal_kind: &'a str, journal: String) -> Act<'a> {
        Act {
            action,
            sets,
            journal_kind,
            journal,
            shared: true,
            notify_entity: None,
            observables_tlp: None,
            other_journal: None,
            notify_user: None,
        }
    }

    /// The act's columns as the audit trail records them.
    fn after(&self) -> serde_json::Map<String, serde_json::Value> {
        self.sets
            .iter()
            .map(|(col, v)| {
                let j = match v {
                    Val::Text(t) => serde_json::json!(t),
                    Val::Int(n) => serde_json::json!(n),
                };
                ((*col).to_string(), j)
            })
            .collect()
    }
}
impl Incidents<'_> {
    /// Begin an act on an incident: the write transaction, and the incident as it stands inside it
    /// (locked until commit). Two concurrent acts both pass a check made on a row read before the
    /// transaction; made on this row, the second sees what the first did.
    pub(super) async fn begin_act(self, id: &str) -> Result<(WriteTx, Incident)> {
        let mut tx = self.s.db.begin_write().await?;
        let incident = self.lock_incident(&mut tx, id).await?;
        Ok((tx, incident))
    }

    /// Apply one act to `incident`, the row [`Self::begin_act`] read in `tx`, and commit. The update is
    /// guarded on the status read, so it can never land on a state the act was not checked against.
    async fn apply(self, mut tx: WriteTx, actor: &Actor, incident: &Incident, act: Act<'_>) -> Result<Incident> {
        let now = self.s.now();
        let mut sql = String::from("UPDATE incidents SET updated_at = $1");
        for (i, (col, _)) in act.sets.iter().enumerate() {
            sql.push_str(&format!(", {col} = ${}", i + 2));
        }
        let n = act.sets.len();
        sql.push_str(&format!(" WHERE id = ${} AND status = ${}", n + 2, n + 3));
        let mut q = sqlx::query(&sql).bind(now);
        for (_, v) in &act.sets {
            q = match v {
                Val::Text(t) => q.bind(t.clone()),
                Val::Int(n) => q.bind(*n),
            };
        }
        let updated = q
            .bind(&incident.id)
            .bind(incident.status.as_str())
            .execute(tx.conn())
            .await?
            .rows_affected();
        if updated != 1 {
            return Err(CoreError::Conflict(format!(
                "incident {} changed while this act ran; reload it and try again",
                incident.reference
            )));
        }
        self.journal(
            &mut tx,
            &incident.id,
            actor,
            act.journal_kind,
            &act.journal,
            act.shared,
            now,
        )
        .await?;
        if let Some(tlp) = act.observables_tlp {
            sqlx::query("UPDATE observables SET tlp = $1 WHERE incident_id = $2")
                .bind(tlp.as_str())
                .bind(&incident.id)
                .execute(tx.conn())
                .await?;
        }
        if let Some((other, body)) = &act.other_journal {
            self.journal(&mut tx, other, actor, act.journal_kind, body, false, now)
                .await?;
        }
        if let Some(uid) = &act.notify_user {
            let title = format!("{} · {}", incident.reference, incident.title);
            self.s
                .notifications()
                .notify_user(&mut tx, uid, "incident.assigned", &incident.id, &title, now)
                .await?;
        }
        let after = act.after();
        // `before` is the same columns as the row read in this transaction held them.
        let state = serde_json::to_value(incident).unwrap_or_default();
        let before: serde_json::Map<String, serde_json::Value> = after
            .keys()
            .filter_map(|k| state.get(k).map(|v| (k.clone(), v.clone())))
            .collect();
        audit::append(
            &mut tx,
            actor,
            Change::changed(
                act.action,
                "incident",
                &incident.id,
                &incident.entity_id,
                &before,
                &after,
            ),
        )
        .await?;
        if let Some(event) = act.notify_entity {
            self.s
                .notifications()
                .notify_entity(
                    &mut tx,
                    incident,
                    event,
                    &format!("{} · {}", incident.reference, act.journal),
                    now,
                )
                .await?;
        }
        // Read back in the transaction: the state this act made, not one a later act made.
        let result = self.lock_incident(&mut tx, &incident.id).await?;
        tx.commit().await?;
        Ok(result)
    }

    /// Check the actor may handle the incident (its entity never changes, so this read may precede
    /// the transaction; its state may change, so checks on state use [`Self::begin_act`]'s row).
    pub(super) async fn handled(self, actor: &Actor, id: &str) -> Result<Incident> {
        self.incident_for(actor, id, Action::Handle).await
    }

    pub(super) fn require_open(incident: &Incident) -> Result<()> {
        if incident.status.is_open() {
            Ok(())
        } else {
            Err(CoreError::Conflict(format!(
                "incident {} is {}; reopen it first",
                incident.reference, incident.status
            )))
        }
    }

    /// Move an open incident to another working status. Leaving `new` acknowledges it.
    pub async fn set_status(self, actor: &Actor, id: &str, status: Status) -> Result<Incident> {
        self.handled(actor, id).await?;
        if !Status::WORKING.contains(&status) {
            return Err(CoreError::invalid("status", FieldCode::StatusHasOwnAct));
        }
        let (tx, incident) = self.begin_act(id).await?;
        if incident.status == Status::Merged {
            return Err(CoreError::Conflict("a merged incident cannot be reopened".into()));
        }
        let reopening = !incident.status.is_open();
        let mut sets = vec![("status", Val::Text(Some(status.as_str().into())))];
        if incident.acknowledged_at.is_none() && status != Status::New {
            sets.push(("acknowledged_at", Val::Int(Some(self.s.now()))));
        }
        if reopening {
            sets.push(("closed_at", Val::Int(None)));
        }
        let action = if reopening { "reopen" } else { "status" };
        let journal = format!("{} → {}", incident.status, status);
        self.apply(tx, actor, &incident, Act::new(action, sets, "status", journal))
            .await
    }

    /// Reclassify: RSIT class and type, severity, TLP.
    pub async fn triage(self, actor: &Actor, id: &str, input: TriageInput) -> Result<Incident> {
        self.handled(actor, id).await?;
        if !rsit_valid(&input.rsit_class, &input.rsit_type) {
            return Err(CoreError::invalid_field(super::intake::not_in_taxonomy(
                "rsit_type",
                &input.rsit_class,
                &input.rsit_type,
            )));
        }
        let (tx, incident) = self.begin_act(id).await?;
        Self::require_open(&incident)?;
        let mut sets = vec![
            ("rsit_class", Val::Text(Some(input.rsit_class.clone()))),
            ("rsit_type", Val::Text(Some(input.rsit_type.clone()))),
            ("severity", Val::Text(Some(input.severity.as_str().into()))),
            ("tlp", Val::Text(Some(input.tlp.as_str().into()))),
        ];
        if incident.status == Status::New {
            sets.push(("status", Val::Text(Some(Status::Triage.as_str().into()))));
        }
        if incident.acknowledged_at.is_none() {
            sets.push(("acknowledged_at", Val::Int(Some(self.s.now()))));
        }
        let journal = format!(
            "{}/{} · {} · TLP:{}",
            input.rsit_class, input.rsit_type, input.severity, input.tlp
        );
        let act = Act {
            observables_tlp: Some(input.tlp),
            ..Act::new("triage", sets, "triage", journal)
        };
        self.apply(tx, actor, &incident, act).await
    }

    /// Assign to a member of the national CSIRT, or unassign with `None`.
    pub async fn assign(self, actor: &Actor, id: &str, assignee_id: Option<&str>) -> Result<Incident> {
        self.handled(actor, id).await?;
        let label = match assignee_id {
            Some(uid) => self.assignee_name(uid).await?,
            None => "—".to_string(),
        };
        let (tx, incident) = self.begin_act(id).await?;
        Self::require_open(&incident)?;
        let sets = vec![("assignee_id", Val::Text(assignee_id.map(String::from)))];
        let act = Act {
            shared: false,
            notify_user: assignee_id.map(String::from),
            ..Act::new("assign", sets, "assignment", label)
        };
        self.apply(tx, actor, &incident, act).await
    }

    /// The name of a user who may be assigned incidents and tasks: an active CSIRT analyst or coordinator
    /// of the national authority. Anyone else is refused on `assignee_id`: `unknown_user` for an id no one
    /// has, `not_assignable` for the rest.
    pub(super) async fn assignee_name(self, uid: &str) -> Result<String> {
        let row = sqlx::query("SELECT u.name, u.role, u.active, e.national_authority FROM users u JOIN entities e ON e.id = u.entity_id WHERE u.id = $1")
            .bind(uid)
            .fetch_optional(self.s.db.pool())
            .await?
            .ok_or_else(|| CoreError::invalid("assignee_id", FieldCode::UnknownUser))?;
        let role = Role::parse(&row.try_get::<String, _>("role")?);
        let national = row.try_get::<i64, _>("national_authority")? != 0;
        if !national || !role.is_some_and(Role::is_csirt) || row.try_get::<i64, _>("active")? == 0 {
            return Err(CoreError::invalid("assignee_id", FieldCode::NotAssignable));
        }
        Ok(row.try_get::<String, _>("name")?)
    }

    pub async fn close_incident(self, actor: &Actor, id: &str, input: CloseInput) -> Result<Incident> {
        self.handled(actor, id).await?;
        let mut errors = Vec::new();
        let resolution = text_block(&mut errors, "resolution", &input.resolution, 3, 20_000);
        let lessons = text_block(&mut errors, "lessons_learned", &input.lessons_learned, 0, 20_000);
        finish(errors)?;
        let (tx, incident) = self.begin_act(id).await?;
        Self::require_open(&incident)?;
        let now = self.s.now();
        let sets = vec![
            ("status", Val::Text(Some(Status::Closed.as_str().into()))),
            ("resolution", Val::Text(Some(resolution.clone()))),
            ("lessons_learned", Val::Text(Some(lessons).filter(|l| !l.is_empty()))),
            ("closed_at", Val::Int(Some(now))),
            (
                "acknowledged_at",
                Val::Int(Some(incident.acknowledged_at.unwrap_or(now))),
            ),
        ];
        let act = Act {
            notify_entity: Some("incident.closed"),
            ..Act::new("close", sets, "close", resolution)
        };
        self.apply(tx, actor, &incident, act).await
    }

    pub async fn reject_incident(self, actor: &Actor, id: &str, reason: &str) -> Result<Incident> {
        self.handled(actor, id).await?;
        let mut errors = Vec::new();
        let reason = text_block(&mut errors, "reason", reason, 3, 5000);
        finish(errors)?;
        let (tx, incident) = self.begin_act(id).await?;
        Self::require_open(&incident)?;
        let sets = vec![
            ("status", Val::Text(Some(Status::Rejected.as_str().into()))),
            ("resolution", Val::Text(Some(reason.clone()))),
            ("closed_at", Val::Int(Some(self.s.now()))),
        ];
        let act = Act {
            notify_entity: Some("incident.closed"),
            ..Act::new("reject", sets, "reject", reason)
        };
        self.apply(tx, actor, &incident, act).await
    }

    /// Mark `id` a duplicate of `into_id`: it closes as merged and the survivor lists it.
    pub async fn merge_incident(self, actor: &Actor, id: &str, into_id: &str) -> Result<Incident> {
        self.handled(actor, id).await?;
        self.handled(actor, into_id)
            .await
            .map_err(|_| CoreError::invalid("into", FieldCode::UnknownIncident))?;
        if id == into_id {
            return Err(Self::bad_survivor());
        }
        let mut tx = self.s.db.begin_write().await?;
        // Both rows are locked, in the order of their ids: two merges of one pair in opposite
        // directions then queue instead of deadlocking, and the second sees the first's result.
        let (first, second) = (id.min(into_id), id.max(into_id));
        let (a, b) = (
            self.lock_incident(&mut tx, first).await?,
            self.lock_incident(&mut tx, second).await?,
        );
        let (dup, survivor) = if a.id == id { (a, b) } else { (b, a) };
        Self::require_open(&dup)?;
        if survivor.merged_into.is_some() {
            return Err(Self::bad_survivor());
        }
        let sets = vec![
            ("status", Val::Text(Some(Status::Merged.as_str().into()))),
            ("merged_into", Val::Text(Some(survivor.id.clone()))),
            ("closed_at", Val::Int(Some(self.s.now()))),
        ];
        // The merged incident's journal is shared with its entity: it names the survivor only when
        // that is the same entity's (the rule of every relation: `relations`).
        let shared_line = if survivor.entity_id == dup.entity_id {
            format!("→ {}", survivor.reference)
        } else {
            String::new()
        };
        let act = Act {
            other_journal: Some((
                survivor.id.clone(),
                format!("← {} ({})", dup.reference, dup.entity_name),
            )),
            ..Act::new("merge", sets, "merge", shared_line)
        };
        self.apply(tx, actor, &dup, act).await
    }

    fn bad_survivor() -> CoreError {
        CoreError::invalid("into", FieldCode::NotMergeable)
    }

    /// Put an incident in a campaign, or take it out with `None`.
    pub async fn set_campaign(self, actor: &Actor, id: &str, campaign_id: Option<&str>) -> Result<Incident> {
        self.handled(actor, id).await?;
        let label = match campaign_id {
            Some(c) => {
                self.get_campaign(actor, c)
                    .await
                    .map_err(|_| CoreError::invalid("campaign_id", FieldCode::UnknownCampaign))?
                    .name
            }
            None => "—".into(),
        };
        let (tx, incident) = self.begin_act(id).await?;
        let sets = vec![("campaign_id", Val::Text(campaign_id.map(String::from)))];
        let act = Act {
            shared: false,
            ..Act::new("campaign", sets, "campaign", label)
        };
        self.apply(tx, actor, &incident, act).await
    }
}
