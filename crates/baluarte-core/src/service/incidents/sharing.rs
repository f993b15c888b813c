//! Sharing: STIX 2.1 bundles of incidents and campaigns, the TAXII 2.1 collections (one per TLP
//! audience) and the import of partners' bundles. The codec is the pure `baluarte-stix` crate; this file
//! decides what may leave and who may read it.

use super::cases::{incident_from_row, INCIDENT_SELECT};
use super::taxii::{ObjectPage, TaxiiCursor, TaxiiFilter, View};
use super::Incidents;
use crate::audit::{self, Change};
use crate::error::{CoreError, Result};
use crate::incident::Incident;
use crate::model::Tlp;
use crate::policy::{self, Action, Actor, Resource};
use crate::service::kit::new_id;
use crate::time;
use baluarte_stix as stix;
use serde::Serialize;
use serde_json::Value;
use sqlx::Row;
use utoipa::ToSchema;

/// A TAXII collection: the objects published for one TLP audience.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Collection {
    pub id: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    #[serde(skip)]
    pub tlp: Tlp,
    pub can_read: bool,
    pub can_write: bool,
    pub media_types: Vec<&'static str>,
}

/// Fixed collection ids, so partners can configure them once.
const COLLECTIONS: &[(&str, Tlp, &str)] = &[
    ("1f6f2d2e-6a3c-4d1e-9f55-0c1a5b6e0001", Tlp::Clear, "TLP:CLEAR"),
    ("1f6f2d2e-6a3c-4d1e-9f55-0c1a5b6e0002", Tlp::Green, "TLP:GREEN"),
    ("1f6f2d2e-6a3c-4d1e-9f55-0c1a5b6e0003", Tlp::Amber, "TLP:AMBER"),
    (
        "1f6f2d2e-6a3c-4d1e-9f55-0c1a5b6e0004",
        Tlp::AmberStrict,
        "TLP:AMBER+STRICT",
    ),
];

/// What an import stored.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImportSummary {
    pub id: String,
    pub bundle_id: String,
    pub objects: usize,
    pub incidents: usize,
    pub indicators: usize,
    pub observables: usize,
    /// Objects left out, each with its reason.
    pub skipped: Vec<String>,
}

pub(crate) fn stix_tlp(t: Tlp) -> stix::Tlp {
    match t {
        Tlp::Clear => stix::Tlp::Clear,
        Tlp::Green => stix::Tlp::Green,
        Tlp::Amber => stix::Tlp::Amber,
        Tlp::AmberStrict => stix::Tlp::AmberStrict,
        Tlp::Red => stix::Tlp::Red,
    }
}

fn from_stix_tlp(t: stix::Tlp) -> Tlp {
    match t {
        stix::Tlp::Clear => Tlp::Clear,
        stix::Tlp::Green => Tlp::Green,
        stix::Tlp::Amber => Tlp::Amber,
        stix::Tlp::AmberStrict => Tlp::AmberStrict,
        stix::Tlp::Red => Tlp::Red,
    }
}

/// Who may read a collection: CLEAR and GREEN any reader of indicators; AMBER the national CSIRT, and
/// an entity for its own incidents; AMBER+STRICT the national CSIRT only.
fn may_read(actor: &Actor, tlp: Tlp) -> bool {
    let national = policy::check(actor, Resource::Incident, Action::Export, None).is_ok();
    let reader = national || actor.purposes.contains(&crate::model::Purpose::IndicatorsRead);
    match tlp {
        Tlp::Clear | Tlp::Green | Tlp::Amber => reader,
        Tlp::AmberStrict => national,
        Tlp::Red => false,
    }
}

impl Incidents<'_> {
    pub(crate) async fn producer(self) -> Result<stix::Org> {
        let row = sqlx::query("SELECT id, name FROM entities WHERE national_authority = 1 ORDER BY created_at LIMIT 1")
            .fetch_optional(self.s.db.pool())
            .await?;
        Ok(match row {
            Some(r) => stix::Org {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                sectors: vec!["government-national".into()],
            },
            None => stix::Org {
                id: "baluarte".into(),
                name: "Baluarte".into(),
                sectors: vec![],
            },
        })
    }

    pub(crate) async fn incident_export(self, i: &Incident) -> Result<stix::IncidentExport> {
        let obs =
            sqlx::query("SELECT kind, value, created_at FROM observables WHERE incident_id = $1 ORDER BY kind, value")
                .bind(&i.id)
                .fetch_all(self.s.db.pool())
                .await?;
        let observables = obs
            .iter()
            .map(|r| {
                Ok(stix::ObservableExport {
                    kind: r.try_get("kind")?,
                    value: r.try_get("value")?,
                    first_seen: time::to_timestamp(r.try_get("created_at")?),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let sector: Option<String> = sqlx::query("SELECT sector_id FROM entities WHERE id = $1")
            .bind(&i.entity_id)
            .fetch_one(self.s.db.pool())
            .await?
            .try_get("sector_id")?;
        Ok(stix::IncidentExport {
            id: i.id.clone(),
            reference: i.reference.clone(),
            title: i.title.clone(),
            description: i.description.clone(),
            created: time::to_timestamp(i.created_at),
            modified: time::to_timestamp(i.updated_at),
            detected_at: time::to_timestamp(i.detected_at),
            status: i.status.as_str().into(),
            severity: i.severity.as_str().into(),
            rsit_class: i.rsit_class.clone(),
            rsit_type: i.rsit_type.clone(),
            tlp: stix_tlp(i.tlp),
            pap: Some(i.pap.as_str().into()),
            reporter: stix::Org {
                id: i.entity_id.clone(),
                name: i.entity_name.clone(),
                sectors: sector.map(|s| stix_sector(&s)).into_iter().flatten().collect(),
            },
            impact: stix::Impact {
                service_interruption_minutes: i.interruption_minutes.and_then(|m| u32::try_from(m).ok()),
                people_affected: i.people_affected.and_then(|p| u64::try_from(p).ok()),
                data_compromised: i.data_compromised,
                personal_data: i.personal_data,
            },
            observables,
            resolution: i.resolution.clone(),
        })
    }

    /// An incident as a STIX 2.1 bundle. TLP:RED never leaves the platform.
    pub async fn export_incident_stix(self, actor: &Actor, id: &str) -> Result<Value> {
        let i = self.incident_for(actor, id, Action::Export).await?;
        if i.tlp == Tlp::Red {
            return Err(CoreError::forbidden("TLP:RED incidents are not exported"));
        }
        let producer = self.producer().await?;
        let export = self.incident_export(&i).await?;
        let mut tx = self.s.db.begin_write().await?;
        audit::append(&mut tx, actor, Change::act("export_stix", "incident", id, &i.entity_id)).await?;
        tx.commit().await?;
        Ok(stix::export_incident(&producer, &export))
    }

    pub async fn export_campaign_stix(self, actor: &Actor, id: &str) -> Result<Value> {
        policy::check(actor, Resource::Campaign, Action::Export, None)?;
        let c = self.get_campaign(actor, id).await?;
        let rows = sqlx::query(&format!(
            "{INCIDENT_SELECT} WHERE i.campaign_id = $1 AND i.tlp <> 'RED' ORDER BY i.created_at"
        ))
        .bind(id)
        .fetch_all(self.s.db.pool())
        .await?;
        let mut incidents = Vec::new();
        for r in &rows {
            incidents.push(self.incident_export(&incident_from_row(r)?).await?);
        }
        let producer = self.producer().await?;
        let export = stix::CampaignExport {
            id: c.id.clone(),
            name: c.name,
            description: c.description,
            created: time::to_timestamp(c.created_at),
            modified: time::to_timestamp(c.created_at),
            tlp: stix_tlp(c.tlp),
            incidents,
        };
        let mut tx = self.s.db.begin_write().await?;
        audit::append(&mut tx, actor, Change::act("export_stix", "campaign", id, "")).await?;
        tx.commit().await?;
        Ok(stix::export_campaign(&producer, &export))
    }

    // ----- TAXII -----

    pub fn taxii_collections(self, actor: &Actor) -> Vec<Collection> {
        COLLECTIONS
            .iter()
            .map(|(id, tlp, title)| Collection {
                id,
                title,
                description: "Incidentes e indicadores publicados por el CSIRT nacional / incidents and indicators published by the national CSIRT",
                tlp: *tlp,
                can_read: may_read(actor, *tlp),
                can_write: false,
                media_types: vec!["application/stix+json;version=2.1"],
            })
            .collect()
    }

    pub fn taxii_collection(self, actor: &Actor, id: &str) -> Result<Collection> {
        self.taxii_collections(actor)
            .into_iter()
            .find(|c| c.id == id)
            .ok_or(CoreError::NotFound)
    }

    /// One page of a collection's objects (TAXII Get Objects and Get Object Manifests), oldest change
    /// first, from the cursor `next` on. Published: incidents the CSIRT has triaged (not rejected or
    /// merged) with the collection's TLP; an entity reading AMBER gets its own. Each incident stands for
    /// the STIX objects of its export, shared objects once; `limit` counts objects. See
    /// [`super::taxii`] for the paging.
    pub async fn taxii_objects(
        self,
        actor: &Actor,
        collection_id: &str,
        filter: &TaxiiFilter,
        limit: usize,
        next: Option<&TaxiiCursor>,
    ) -> Result<ObjectPage> {
        let c = self.taxii_collection(actor, collection_id)?;
        if !c.can_read {
            return Err(CoreError::forbidden(format!("collection {}", c.title)));
        }
        let national = policy::check(actor, Resource::Incident, Action::Export, None).is_ok();
        let view = View {
            tlp: c.tlp,
            entity: (c.tlp == Tlp::Amber && !national).then(|| actor.entity_id.clone()),
            added_after: filter.added_after,
        };
        self.taxii_page(&view, filter, limit.clamp(1, 1000), next).await
    }

    // ----- import -----

    /// Import a partner's bundle: its incidents and indicators become correlatable observables, kept
    /// with the bundle's provenance. Malformed bundles are refused whole; odd objects are skipped with
    /// their reason.
    pub async fn import_stix(
        self,
        actor: &Actor,
        bytes: &[u8],
        source: &str,
        default_tlp: Tlp,
    ) -> Result<ImportSummary> {
        policy::check(actor, Resource::Incident, Action::Handle, None)?;
        let imported = stix::parse_bundle(bytes, &stix::Limits::default())
            .map_err(|e| CoreError::malformed("bundle", e.to_string()))?;
        let mut observables: Vec<(baluarte_observables::Observable, Tlp)> = Vec::new();
        let mut skipped: Vec<String> = imported.skipped.iter().map(|s| s.to_string()).collect();
        let candidates = imported
            .observables
            .iter()
            .map(|o| (o.kind.clone(), o.value.clone(), o.tlp))
            .chain(imported.indicators.iter().flat_map(|ind| {
                ind.observables
                    .iter()
                    .map(move |(k, v)| (k.clone(), v.clone(), ind.tlp))
            }));
        for (kind, value, tlp) in candidates {
            let tlp = tlp.map(from_stix_tlp).unwrap_or(default_tlp);
            match stix_kind(&kind).and_then(|k| baluarte_observables::normalise(k, &value).ok()) {
                Some(o) if !observables.iter().any(|(x, _)| *x == o) => observables.push((o, tlp)),
                Some(_) => {}
                None => skipped.push(format!("observable {kind} `{value}`: not a supported or valid value")),
            }
        }
        let now = self.s.now();
        let id = new_id();
        let summary = ImportSummary {
            id: id.clone(),
            bundle_id: imported.bundle_id.clone(),
            objects: imported.object_count,
            incidents: imported.incidents.len(),
            indicators: imported.indicators.len(),
            observables: observables.len(),
            skipped,
        };
        let mut tx = self.s.db.begin_write().await?;
        sqlx::query("INSERT INTO stix_imports (id, bundle_id, source, imported_by, imported_at, entity_id, tlp, objects, summary) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
            .bind(&id)
            .bind(&imported.bundle_id)
            .bind(source.chars().take(200).collect::<String>())
            .bind(&actor.label)
            .bind(now)
            .bind(&actor.entity_id)
            .bind(default_tlp.as_str())
            .bind(imported.object_count as i64)
            .bind(serde_json::to_string(&summary).unwrap_or_default())
            .execute(tx.conn())
            .await?;
        for (o, tlp) in &observables {
            super::intake::insert_observables(
                &mut tx,
                None,
                Some(&id),
                &actor.entity_id,
                *tlp,
                std::slice::from_ref(o),
                now,
            )
            .await?;
        }
        audit::append(
            &mut tx,
            actor,
            Change::created("stix_import", &id, &actor.entity_id, &summary),
        )
        .await?;
        tx.commit().await?;
        Ok(summary)
    }
}

/// Our observable kinds from the STIX codec's names (the codec speaks ours already; unknown → None).
fn stix_kind(kind: &str) -> Option<baluarte_observables::Kind> {
    baluarte_observables::Kind::parse(kind)
}

/// STIX industry-sector-ov values for our sector slugs, where one fits.
fn stix_sector(sector: &str) -> Option<String> {
    let s = match sector {
        s if s.starts_with("energia") || s.contains("electric") || s.contains("hidrocarburos") => "energy",
        s if s.starts_with("finan") || s.contains("banca") => "financial-services",
        s if s.starts_with("salud") => "healthcare",
        s if s.starts_with("telecom") => "telecommunications",
        s if s.starts_with("transporte") => "transportation",
        s if s.starts_with("agua") => "utilities",
        s if s.starts_with("gobierno") || s.starts_with("seguridad") || s.starts_with("defensa") => {
            "government-national"
        }
        s if s.starts_with("educacion") => "education",
        _ => return None,
    };
    Some(s.to_string())
}
