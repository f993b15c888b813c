//! Deadlines: which regulation profile applies to an entity, and where each incident's stages stand,
//! computed by the pure `baluarte-deadlines` engine in the entity's time zone. A periodic scan turns
//! approaching and missed deadlines into notifications, each exactly once.

use super::Incidents;
use crate::audit::{self, Change};
use crate::error::{CoreError, FieldCode, FieldError, Result};
use crate::incident::{DeadlineState, Deadlines, Incident, StageDeadline};
use crate::model::EntityKind;
use crate::policy::{self, Action, Actor, Resource};
use crate::service::kit::new_id;
use crate::service::kit::validation::finish;
use crate::time::{self, Micros};
use baluarte_deadlines::{CaseFacts, Profile};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use std::collections::HashMap;
use std::sync::OnceLock;
use utoipa::ToSchema;

/// The shipped regulation profiles.
pub fn profiles() -> &'static [Profile] {
    static P: OnceLock<Vec<Profile>> = OnceLock::new();
    P.get_or_init(baluarte_deadlines::builtin_profiles)
}

pub fn profile(id: &str) -> Option<&'static Profile> {
    profiles().iter().find(|p| p.id == id)
}

fn calendar() -> &'static baluarte_deadlines::Calendar {
    static C: OnceLock<baluarte_deadlines::Calendar> = OnceLock::new();
    C.get_or_init(baluarte_deadlines::Calendar::mexico)
}

/// Who a profile applies to: exactly one of entity, sector or kind.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeadlineAssignment {
    #[serde(default)]
    pub id: String,
    pub profile_id: String,
    #[serde(default)]
    pub entity_id: Option<String>,
    #[serde(default)]
    pub sector_id: Option<String>,
    #[serde(default)]
    pub entity_kind: Option<EntityKind>,
}

fn ts(us: Micros) -> jiff::Timestamp {
    time::to_timestamp(us)
}

impl Incidents<'_> {
    /// The profile for a new report of this entity: an assignment to the entity wins over one to its
    /// sector, then its parent sector, then its kind of entity.
    pub(crate) async fn profile_for(self, entity: &crate::model::Entity) -> Result<Option<&'static Profile>> {
        let rows = sqlx::query("SELECT profile_id, entity_id, sector_id, entity_kind FROM deadline_assignments")
            .fetch_all(self.s.db.pool())
            .await?;
        let parent_sector: Option<String> = match &entity.sector_id {
            Some(s) => sqlx::query("SELECT parent_id FROM sectors WHERE id = $1")
                .bind(s)
                .fetch_optional(self.s.db.pool())
                .await?
                .and_then(|r| r.try_get::<Option<String>, _>("parent_id").ok().flatten()),
            None => None,
        };
        let mut best: Option<(u8, String)> = None;
        for r in rows {
            let pid: String = r.try_get("profile_id")?;
            let rank = if r.try_get::<Option<String>, _>("entity_id")?.as_deref() == Some(entity.id.as_str()) {
                4
            } else if r
                .try_get::<Option<String>, _>("sector_id")?
                .is_some_and(|s| Some(&s) == entity.sector_id.as_ref())
            {
                3
            } else if r
                .try_get::<Option<String>, _>("sector_id")?
                .is_some_and(|s| Some(&s) == parent_sector.as_ref())
            {
                2
            } else if r.try_get::<Option<String>, _>("entity_kind")?.as_deref() == Some(entity.kind.as_str()) {
                1
            } else {
                0
            };
            if rank > 0 && best.as_ref().is_none_or(|(b, _)| rank > *b) {
                best = Some((rank, pid));
            }
        }
        Ok(best.and_then(|(_, id)| profile(&id)))
    }

    /// Stage ids a submission may name: the profile's, or `initial`/`update`/`final` without one.
    pub(crate) async fn stage_ids(self, incident: &Incident) -> Result<Vec<String>> {
        Ok(match incident.profile_id.as_deref().and_then(profile) {
            Some(p) => p.stages.iter().map(|s| s.id.clone()).collect(),
            None => vec!["initial".into(), "update".into(), "final".into()],
        })
    }

    async fn case_facts(self, incident: &Incident) -> Result<CaseFacts> {
        let mut facts = self.facts_of_many(std::slice::from_ref(incident)).await?;
        Ok(facts
            .pop()
            .unwrap_or_else(|| facts_of(incident, Vec::new(), Vec::new())))
    }

    /// The deadline facts of many incidents in two queries per 500 incidents (lists and the board
    /// would otherwise ask twice per incident).
    async fn facts_of_many(self, incidents: &[Incident]) -> Result<Vec<CaseFacts>> {
        type Pairs = HashMap<String, Vec<(String, jiff::Timestamp)>>;
        let mut subs: Pairs = HashMap::new();
        let mut reqs: Pairs = HashMap::new();
        for chunk in incidents.chunks(500) {
            let marks: Vec<String> = (1..=chunk.len()).map(|n| format!("${n}")).collect();
            let marks = marks.join(", ");
            for (sql, into) in [
                (
                    format!("SELECT incident_id, stage_id, submitted_at AS at FROM incident_submissions WHERE incident_id IN ({marks}) ORDER BY submitted_at"),
                    &mut subs,
                ),
                (
                    format!("SELECT incident_id, stage_id, requested_at AS at FROM incident_stage_requests WHERE incident_id IN ({marks}) ORDER BY requested_at"),
                    &mut reqs,
                ),
            ] {
                let mut q = sqlx::query(&sql);
                for i in chunk {
                    q = q.bind(&i.id);
                }
                for r in q.fetch_all(self.s.db.pool()).await? {
                    into.entry(r.try_get("incident_id")?)
                        .or_default()
                        .push((r.try_get("stage_id")?, ts(r.try_get::<i64, _>("at")?)));
                }
            }
        }
        Ok(incidents
            .iter()
            .map(|i| {
                facts_of(
                    i,
                    subs.remove(&i.id).unwrap_or_default(),
                    reqs.remove(&i.id).unwrap_or_default(),
                )
            })
            .collect())
    }

    /// Where the incident's deadlines stand now.
    pub(crate) async fn deadlines_of(self, incident: &Incident) -> Result<Deadlines> {
        self.deadlines_at(incident, self.s.now()).await
    }

    pub(crate) async fn deadlines_at(self, incident: &Incident, now: Micros) -> Result<Deadlines> {
        let facts = self.case_facts(incident).await?;
        Ok(deadlines_from(incident, &facts, now))
    }

    /// Deadlines of many incidents at `now`, in the order given.
    pub(crate) async fn deadlines_many(self, incidents: &[Incident], now: Micros) -> Result<Vec<Deadlines>> {
        let facts = self.facts_of_many(incidents).await?;
        Ok(incidents
            .iter()
            .zip(&facts)
            .map(|(i, f)| deadlines_from(i, f, now))
            .collect())
    }

    // ----- assignments -----

    pub async fn list_deadline_assignments(self, actor: &Actor) -> Result<Vec<DeadlineAssignment>> {
        policy::check(actor, Resource::DeadlineAssignment, Action::Read, None)?;
        let rows = sqlx::query(
            "SELECT id, profile_id, entity_id, sector_id, entity_kind FROM deadline_assignments ORDER BY created_at",
        )
        .fetch_all(self.s.db.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(DeadlineAssignment {
                    id: r.try_get("id")?,
                    profile_id: r.try_get("profile_id")?,
                    entity_id: r.try_get("entity_id")?,
                    sector_id: r.try_get("sector_id")?,
                    entity_kind: r
                        .try_get::<Option<String>, _>("entity_kind")?
                        .and_then(|k| EntityKind::parse(&k)),
                })
            })
            .collect()
    }

    pub async fn assign_deadline_profile(self, actor: &Actor, input: DeadlineAssignment) -> Result<DeadlineAssignment> {
        policy::check(actor, Resource::DeadlineAssignment, Action::Create, None)?;
        let mut errors = Vec::new();
        if profile(&input.profile_id).is_none() {
            let known: Vec<&str> = profiles().iter().map(|p| p.id.as_str()).collect();
            errors.push(FieldError::new("profile_id", FieldCode::NotOneOf).with("choices", known.join(", ")));
        }
        let targets = [
            input.entity_id.is_some(),
            input.sector_id.is_some(),
            input.entity_kind.is_some(),
        ];
        if targets.iter().filter(|t| **t).count() != 1 {
            errors.push(FieldError::new("target", FieldCode::OneTarget));
        }
        if let Some(e) = &input.entity_id {
            if self.s.registry().load_entity(e).await.is_err() {
                errors.push(FieldError::new("entity_id", FieldCode::UnknownEntity));
            }
        }
        if let Some(s) = &input.sector_id {
            if sqlx::query("SELECT 1 AS one FROM sectors WHERE id = $1")
                .bind(s)
                .fetch_optional(self.s.db.pool())
                .await?
                .is_none()
            {
                errors.push(FieldError::new("sector_id", FieldCode::UnknownSector));
            }
        }
        finish(errors)?;
        let a = DeadlineAssignment { id: new_id(), ..input };
        let mut tx = self.s.db.begin_write().await?;
        // One assignment per target: a new one replaces the old.
        sqlx::query("DELETE FROM deadline_assignments WHERE COALESCE(entity_id, '') = $1 AND COALESCE(sector_id, '') = $2 AND COALESCE(entity_kind, '') = $3")
            .bind(a.entity_id.clone().unwrap_or_default())
            .bind(a.sector_id.clone().unwrap_or_default())
            .bind(a.entity_kind.map(|k| k.as_str().to_string()).unwrap_or_default())
            .execute(tx.conn())
            .await?;
        sqlx::query("INSERT INTO deadline_assignments (id, profile_id, entity_id, sector_id, entity_kind, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(&a.id)
            .bind(&a.profile_id)
            .bind(&a.entity_id)
            .bind(&a.sector_id)
            .bind(a.entity_kind.map(|k| k.as_str()))
            .bind(&actor.label)
            .bind(self.s.now())
            .execute(tx.conn())
            .await?;
        audit::append(
            &mut tx,
            actor,
            Change::created("deadline_assignment", &a.id, a.entity_id.as_deref().unwrap_or(""), &a),
        )
        .await?;
        tx.commit().await?;
        Ok(a)
    }

    pub async fn remove_deadline_assignment(self, actor: &Actor, id: &str) -> Result<()> {
        policy::check(actor, Resource::DeadlineAssignment, Action::Deactivate, None)?;
        let mut tx = self.s.db.begin_write().await?;
        let n = sqlx::query("DELETE FROM deadline_assignments WHERE id = $1")
            .bind(id)
            .execute(tx.conn())
            .await?
            .rows_affected();
        if n == 0 {
            return Err(CoreError::NotFound);
        }
        audit::append(&mut tx, actor, Change::act("delete", "deadline_assignment", id, "")).await?;
        tx.commit().await?;
        Ok(())
    }

    // ----- the reminder scan -----

    /// Emit the reminders (approaching, missed) whose time fell since the last scan, up to `now`.
    /// The bookmark moves in the same transaction as the notices, so each fires once.
    pub async fn scan_deadlines(self) -> Result<usize> {
        let now = self.s.now();
        let since: Micros = sqlx::query("SELECT at FROM worker_marks WHERE name = 'deadlines'")
            .fetch_optional(self.s.db.pool())
            .await?
            .map(|r| r.try_get("at"))
            .transpose()?
            .unwrap_or(now);
        if since >= now {
            self.set_mark("deadlines", now).await?;
            return Ok(0);
        }
        let rows = sqlx::query(&format!(
            "{} WHERE i.status NOT IN ('closed', 'rejected', 'merged') AND i.profile_id IS NOT NULL",
            super::cases::INCIDENT_SELECT
        ))
        .fetch_all(self.s.db.pool())
        .await?;
        let incidents: Vec<Incident> = rows
            .iter()
            .map(super::cases::incident_from_row)
            .collect::<Result<_, _>>()?;
        let all_facts = self.facts_of_many(&incidents).await?;
        let mut notes = Vec::new();
        for (incident, facts) in incidents.iter().zip(&all_facts) {
            let Some(p) = incident.profile_id.as_deref().and_then(profile) else {
                continue;
            };
            let tz = jiff::tz::TimeZone::get(&incident.time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
            let s = baluarte_deadlines::schedule(p, facts, &tz, calendar(), ts(now));
            for rem in baluarte_deadlines::reminders_between(&s, p, ts(since), ts(now)) {
                notes.push((incident.clone(), rem));
            }
        }
        let mut tx = self.s.db.begin_write().await?;
        let n = notes.len();
        for (incident, rem) in notes {
            let (event, title) = reminder_text(&incident, &rem);
            self.s
                .notifications()
                .notify_entity(&mut tx, &incident, event, &title, now)
                .await?;
            self.s
                .notifications()
                .notify_handlers(&mut tx, &incident, event, &title, now)
                .await?;
        }
        upsert_mark(&mut tx, "deadlines", now).await?;
        tx.commit().await?;
        Ok(n)
    }

    async fn set_mark(self, name: &str, at: Micros) -> Result<()> {
        let mut tx = self.s.db.begin_write().await?;
        upsert_mark(&mut tx, name, at).await?;
        tx.commit().await
    }
}

fn facts_of(
    incident: &Incident,
    submissions: Vec<(String, jiff::Timestamp)>,
    csirt_requests: Vec<(String, jiff::Timestamp)>,
) -> CaseFacts {
    CaseFacts {
        detected_at: ts(incident.detected_at),
        interruption_minutes: incident.interruption_minutes.and_then(|m| u32::try_from(m).ok()),
        submissions,
        csirt_requests,
        closed_at: incident.closed_at.map(ts),
    }
}

/// The deadlines of one incident from its facts (pure: the engine, in the entity's zone).
fn deadlines_from(incident: &Incident, facts: &CaseFacts, now: Micros) -> Deadlines {
    let Some(p) = incident.profile_id.as_deref().and_then(profile) else {
        return Deadlines {
            profile_id: None,
            profile_name_es: None,
            profile_name_en: None,
            applicable: false,
            state: DeadlineState::NotApplicable,
            stages: Vec::new(),
        };
    };
    let tz = jiff::tz::TimeZone::get(&incident.time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
    let s = baluarte_deadlines::schedule(p, facts, &tz, calendar(), ts(now));
    let stages = s
        .stages
        .iter()
        .map(|st| {
            let def = p.stage(&st.stage_id);
            StageDeadline {
                stage_id: st.stage_id.clone(),
                name_es: def.map(|d| d.name_es.clone()).unwrap_or_default(),
                name_en: def.map(|d| d.name_en.clone()).unwrap_or_default(),
                occurrence: st.occurrence,
                due_at: st.due_at.map(|t| t.as_microsecond()),
                submitted_at: st.submitted_at.map(|t| t.as_microsecond()),
                state: st.state.into(),
            }
        })
        .collect();
    Deadlines {
        profile_id: Some(p.id.clone()),
        profile_name_es: Some(p.name_es.clone()),
        profile_name_en: Some(p.name_en.clone()),
        applicable: s.applicable,
        state: s.worst().into(),
        stages,
    }
}

fn reminder_text(incident: &Incident, rem: &baluarte_deadlines::Reminder) -> (&'static str, String) {
    match rem.kind {
        baluarte_deadlines::ReminderKind::Missed => (
            "deadline.missed",
            format!(
                "{} · {}: plazo vencido / deadline missed",
                incident.reference, rem.stage_id
            ),
        ),
        baluarte_deadlines::ReminderKind::Approaching { hours_before } => (
            "deadline.approaching",
            format!(
                "{} · {}: vence en {hours_before} h / due in {hours_before} h",
                incident.reference, rem.stage_id
            ),
        ),
    }
}

async fn upsert_mark(tx: &mut crate::db::WriteTx, name: &str, at: Micros) -> Result<()> {
    sqlx::query("INSERT INTO worker_marks (name, at) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET at = $2")
        .bind(name)
        .bind(at)
        .execute(tx.conn())
        .await?;
    Ok(())
}
