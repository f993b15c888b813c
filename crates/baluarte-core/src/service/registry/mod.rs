//! Registry: sectors, entities and their 24/7 contacts ([`Registry`], `services.registry()`), with the
//! dashboard's counts and the operator's platform gauges.

mod contacts;
mod entities;
mod sectors;

pub(crate) use contacts::insert_contact;
pub use contacts::ContactInput;
pub(crate) use entities::insert_entity;
#[cfg(test)]
pub(crate) use entities::state_code;
pub use entities::{EntityFilter, EntityInput};
pub(crate) use sectors::insert_sector;
pub use sectors::SectorInput;

use super::kit::sql::Filter;
use super::kit::tenancy;
use super::Services;
use crate::error::Result;
use crate::policy::{Actor, Resource};
use sqlx::Row;
use utoipa::ToSchema;

/// Sectors, entities and contacts: `services.registry()`.
#[derive(Debug, Clone, Copy)]
pub struct Registry<'a> {
    pub(in crate::service) s: &'a Services,
}

impl Registry<'_> {
    /// Count of active entities per top-level sector and per kind, for the dashboard.
    pub async fn registry_counts(self, actor: &Actor) -> Result<RegistryCounts> {
        let mut f = Filter::default();
        f.and("e.active = 1", vec![]);
        tenancy::scope(&mut f, actor, Resource::Entity, "e.id", None)?;
        let where_sql = f.where_sql();
        let by = |sql: String| {
            let f = &f;
            async move {
                let rows = f.bind(sqlx::query(&sql)).fetch_all(self.s.db.pool()).await?;
                rows.iter()
                    .map(|r| Ok((r.try_get::<String, _>("k")?, r.try_get::<i64, _>("n")?)))
                    .collect::<Result<Vec<_>, sqlx::Error>>()
            }
        };
        let by_sector = by(format!(
            "SELECT COALESCE(s.parent_id, s.id, '-') AS k, COUNT(*) AS n FROM entities e LEFT JOIN sectors s ON s.id = e.sector_id\
             {where_sql} GROUP BY COALESCE(s.parent_id, s.id, '-') ORDER BY n DESC"
        ))
        .await?;
        let by_kind = by(format!(
            "SELECT e.kind AS k, COUNT(*) AS n FROM entities e{where_sql} GROUP BY e.kind ORDER BY n DESC"
        ))
        .await?;
        let by_zone = by(format!(
            "SELECT e.time_zone AS k, COUNT(*) AS n FROM entities e{where_sql} GROUP BY e.time_zone ORDER BY n DESC"
        ))
        .await?;
        Ok(RegistryCounts {
            by_sector,
            by_kind,
            by_zone,
        })
    }

    /// Platform-wide sizes for the operator's metrics (no record contents): active entities, active
    /// users, audit entries.
    pub async fn platform_gauges(self) -> Result<Vec<(&'static str, &'static str, i64)>> {
        let mut out = Vec::new();
        for (name, help, sql) in [
            (
                "baluarte_entities",
                "Active entities.",
                "SELECT COUNT(*) AS n FROM entities WHERE active = 1",
            ),
            (
                "baluarte_users",
                "Active users.",
                "SELECT COUNT(*) AS n FROM users WHERE active = 1",
            ),
            (
                "baluarte_audit_entries",
                "Entries in the audit trail.",
                "SELECT seq AS n FROM audit_head WHERE id = 1",
            ),
        ] {
            let n: i64 = sqlx::query(sql).fetch_one(self.s.db.pool()).await?.try_get("n")?;
            out.push((name, help, n));
        }
        Ok(out)
    }
}

#[derive(Debug, Clone, serde::Serialize, ToSchema)]
pub struct RegistryCounts {
    pub by_sector: Vec<(String, i64)>,
    pub by_kind: Vec<(String, i64)>,
    pub by_zone: Vec<(String, i64)>,
}
