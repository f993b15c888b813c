//! Correlation: the same observable in reports of several entities (and in partner bundles). The
//! national CSIRT sees every match; an entity learns only about reports whose TLP lets it know.

use super::relations::sees_incident_of;
use super::Incidents;
use crate::error::{CoreError, Result};
use crate::incident::{CorrelationHint, Incident, RelatedIncident, Status};
use crate::model::Tlp;
use crate::policy::{self, Action, Actor, Resource};
use baluarte_observables::{detect, Observable};
use serde::Serialize;
use sqlx::Row;
use std::collections::BTreeSet;
use utoipa::ToSchema;

/// Most matching rows examined per observable: a hint says "500+" rather than scanning a hot indicator.
const MATCH_CAP: i64 = 500;

/// One stored observable that matched, with what the reader needs to decide and show.
#[derive(Debug, Clone)]
struct Hit {
    incident_id: Option<String>,
    entity_id: String,
    tlp: Tlp,
    reference: Option<String>,
    title: Option<String>,
    status: Option<String>,
    entity_name: String,
}

/// The answer to "where else was this seen?".
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ObservableLookup {
    pub kind: String,
    pub value: String,
    pub reports: i64,
    pub entities: i64,
    pub incidents: Vec<RelatedIncident>,
}

fn visible(actor: &Actor, h: &Hit) -> bool {
    policy::sees_marking(actor, &h.entity_id, h.tlp, &[], &[])
}

impl Incidents<'_> {
    async fn hits(self, o: &Observable, exclude_incident: &str) -> Result<Vec<Hit>> {
        let key = o.key();
        let related = o.related_keys().into_iter().next().unwrap_or_else(|| key.clone());
        let base = "SELECT o.incident_id, o.entity_id, o.tlp, i.reference, i.title, i.status, e.name AS entity_name FROM observables o LEFT JOIN incidents i ON i.id = o.incident_id JOIN entities e ON e.id = o.entity_id";
        let mut rows = sqlx::query(&format!(
            "{base} WHERE (o.corr_key = $1 OR o.related_key = $1 OR o.corr_key = $2) AND (o.incident_id IS NULL OR o.incident_id <> $3) LIMIT $4"
        ))
        .bind(&key)
        .bind(&related)
        .bind(exclude_incident)
        .bind(MATCH_CAP)
        .fetch_all(self.s.db.pool())
        .await?;
        if let Some((lo, hi)) = o.ip_range() {
            // An address inside a reported network, or a network holding reported addresses.
            let sql = if lo == hi {
                format!("{base} WHERE o.kind = 'cidr' AND o.ip_lo <= $1 AND o.ip_hi >= $2 AND (o.incident_id IS NULL OR o.incident_id <> $3) LIMIT $4")
            } else {
                format!("{base} WHERE o.ip_lo >= $1 AND o.ip_lo <= $2 AND o.corr_key <> '' AND (o.incident_id IS NULL OR o.incident_id <> $3) LIMIT $4")
            };
            let (a, b) = if lo == hi { (lo.clone(), lo) } else { (lo, hi) };
            let mut more = sqlx::query(&sql)
                .bind(a)
                .bind(b)
                .bind(exclude_incident)
                .bind(MATCH_CAP)
                .fetch_all(self.s.db.pool())
                .await?;
            rows.append(&mut more);
        }
        rows.iter()
            .map(|r| {
                Ok(Hit {
                    incident_id: r.try_get("incident_id")?,
                    entity_id: r.try_get("entity_id")?,
                    tlp: Tlp::parse(&r.try_get::<String, _>("tlp")?).unwrap_or(Tlp::AmberStrict),
                    reference: r.try_get("reference")?,
                    title: r.try_get("title")?,
                    status: r.try_get("status")?,
                    entity_name: r.try_get("entity_name")?,
                })
            })
            .collect()
    }

    /// For each observable of the incident, the other reports the reader may know about.
    pub(crate) async fn correlation_hints(self, actor: &Actor, incident: &Incident) -> Result<Vec<CorrelationHint>> {
        let national = policy::check(actor, Resource::Incident, Action::Handle, Some(&incident.entity_id)).is_ok();
        let rows = sqlx::query("SELECT kind, value FROM observables WHERE incident_id = $1 ORDER BY kind, value")
            .bind(&incident.id)
            .fetch_all(self.s.db.pool())
            .await?;
        let mut hints = Vec::new();
        for r in rows {
            let (kind, value): (String, String) = (r.try_get("kind")?, r.try_get("value")?);
            let Some(o) =
                baluarte_observables::Kind::parse(&kind).and_then(|k| baluarte_observables::normalise(k, &value).ok())
            else {
                continue;
            };
            let hits: Vec<Hit> = self
                .hits(&o, &incident.id)
                .await?
                .into_iter()
                // An entity hears of other entities' reports; the national authority of all of them.
                .filter(|h| h.entity_id != incident.entity_id || national || actor.national())
                // A report is counted when the caller may read it, or when its marking lets it know.
                .filter(|h| sees_incident_of(actor, &h.entity_id) || visible(actor, h))
                .collect();
            if hits.is_empty() {
                continue;
            }
            hints.push(summarise(format!("{kind}:{value}"), &hits, &incident.entity_id, actor));
        }
        Ok(hints)
    }

    /// Search every report for one observable (any spelling of it).
    pub async fn lookup_observable(self, actor: &Actor, raw: &str) -> Result<ObservableLookup> {
        policy::list_scope(actor, Resource::Incident)?;
        let o = detect(raw).map_err(|e| CoreError::invalid_field(super::intake::observable_error("value", raw, &e)))?;
        let national = policy::check(actor, Resource::Campaign, Action::Read, None).is_ok();
        let hits: Vec<Hit> = self
            .hits(&o, "")
            .await?
            .into_iter()
            .filter(|h| national || h.entity_id == actor.entity_id || visible(actor, h))
            .collect();
        let hint = summarise(o.key(), &hits, "", actor);
        let incidents = hits
            .iter()
            .filter(|h| sees_incident_of(actor, &h.entity_id))
            .filter_map(related)
            .collect::<Vec<_>>();
        Ok(ObservableLookup {
            kind: o.kind.as_str().into(),
            value: o.value,
            reports: hint.other_reports,
            entities: hint.other_entities,
            incidents,
        })
    }
}

fn related(h: &Hit) -> Option<RelatedIncident> {
    Some(RelatedIncident {
        id: h.incident_id.clone()?,
        reference: h.reference.clone()?,
        entity_name: h.entity_name.clone(),
        title: h.title.clone().unwrap_or_default(),
        status: h.status.as_deref().and_then(Status::parse).unwrap_or(Status::New),
    })
}

/// What the hits of one observable say: how many other reports and entities (within the caller's
/// TLP), and the incidents among them that `actor` may read (the rule of every relation).
fn summarise(observable: String, hits: &[Hit], own_entity: &str, actor: &Actor) -> CorrelationHint {
    let reports: BTreeSet<&str> = hits.iter().filter_map(|h| h.incident_id.as_deref()).collect();
    let partner_bundles = hits.iter().filter(|h| h.incident_id.is_none()).count();
    let entities: BTreeSet<&str> = hits
        .iter()
        .map(|h| h.entity_id.as_str())
        .filter(|e| *e != own_entity)
        .collect();
    let mut incidents: Vec<RelatedIncident> = hits
        .iter()
        .filter(|h| sees_incident_of(actor, &h.entity_id))
        .filter_map(related)
        .collect();
    incidents.sort_by(|a, b| a.id.cmp(&b.id));
    incidents.dedup_by(|a, b| a.id == b.id);
    incidents.truncate(20);
    CorrelationHint {
        observable,
        other_reports: (reports.len() + partner_bundles) as i64,
        other_entities: entities.len() as i64,
        incidents,
    }
}
