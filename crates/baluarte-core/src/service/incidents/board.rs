//! The coordinator's board: open incidents by severity, sector and class, overdue reports, and the mean
//! times to acknowledge and to resolve, over the incidents the reader may list.

use super::cases::{incident_from_row, IncidentFilter, INCIDENT_SELECT};
use super::Incidents;
use crate::error::{CoreError, Result};
use crate::incident::DeadlineState;
use crate::policy::Actor;
use crate::policy::{self, ListScope, Resource};
use crate::time;
use serde::Serialize;
use sqlx::Row;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// One bar of a chart: a key (a severity, a sector id, a class id, a month) and its count.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Count {
    pub key: String,
    pub label_es: String,
    pub label_en: String,
    pub count: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Board {
    pub open: i64,
    pub open_by_severity: Vec<Count>,
    pub open_by_sector: Vec<Count>,
    pub open_by_class: Vec<Count>,
    /// Open incidents with a stage past its deadline and not sent.
    pub overdue: i64,
    /// Stages sent late, over all incidents.
    pub late: i64,
    /// Mean time from report to acknowledgement, in hours, over acknowledged incidents.
    pub mean_hours_to_acknowledge: Option<f64>,
    /// Mean time from report to closure, in hours, over closed incidents.
    pub mean_hours_to_resolve: Option<f64>,
    /// Incidents reported per month, the last 12 months.
    pub reported_by_month: Vec<Count>,
}

fn counts(map: BTreeMap<String, (String, String, i64)>) -> Vec<Count> {
    let mut v: Vec<Count> = map
        .into_iter()
        .map(|(key, (es, en, count))| Count {
            key,
            label_es: es,
            label_en: en,
            count,
        })
        .collect();
    v.sort_by(|a, b| b.count.cmp(&a.count).then(a.key.cmp(&b.key)));
    v
}

impl Incidents<'_> {
    /// The national picture, for the national roles that list every entity's incidents; others are
    /// refused (the API's [`Incidents::incident_board`] gives an entity its own figures).
    pub async fn national_incident_board(self, actor: &Actor) -> Result<Board> {
        if policy::list_scope(actor, Resource::Incident)? != ListScope::All {
            return Err(CoreError::forbidden("the national incident board"));
        }
        self.incident_board(actor).await
    }

    /// The board over the incidents the actor may list: every entity's for national roles, its own for
    /// an entity.
    pub async fn incident_board(self, actor: &Actor) -> Result<Board> {
        let filter = IncidentFilter {
            status: Some("all".into()),
            ..Default::default()
        };
        let f = self.incident_filter(actor, &filter)?;
        let rows = f
            .bind(sqlx::query(&format!(
                "{INCIDENT_SELECT}{} ORDER BY i.created_at",
                f.where_sql()
            )))
            .fetch_all(self.s.db.pool())
            .await?;
        let sectors: BTreeMap<String, (String, String, Option<String>)> =
            sqlx::query("SELECT id, name_es, name_en, parent_id FROM sectors")
                .fetch_all(self.s.db.pool())
                .await?
                .iter()
                .map(|r| {
                    Ok((
                        r.try_get::<String, _>("id")?,
                        (r.try_get("name_es")?, r.try_get("name_en")?, r.try_get("parent_id")?),
                    ))
                })
                .collect::<Result<_>>()?;
        let entity_sector: BTreeMap<String, Option<String>> = sqlx::query("SELECT id, sector_id FROM entities")
            .fetch_all(self.s.db.pool())
            .await?
            .iter()
            .map(|r| Ok((r.try_get::<String, _>("id")?, r.try_get("sector_id")?)))
            .collect::<Result<_>>()?;
        let now = self.s.now();
        let month_floor = now - 365 * time::DAY;
        let mut by_sev = BTreeMap::new();
        let mut by_sector = BTreeMap::new();
        let mut by_class = BTreeMap::new();
        let mut by_month: BTreeMap<String, (String, String, i64)> = BTreeMap::new();
        let (mut open, mut overdue, mut late) = (0, 0, 0);
        let (mut ack_sum, mut ack_n, mut res_sum, mut res_n) = (0i64, 0i64, 0i64, 0i64);
        let incidents: Vec<crate::incident::Incident> = rows.iter().map(incident_from_row).collect::<Result<_, _>>()?;
        let deadlines = self.deadlines_many(&incidents, now).await?;
        for (i, d) in incidents.iter().zip(&deadlines) {
            if i.created_at >= month_floor {
                let m = time::to_timestamp(i.created_at)
                    .to_zoned(jiff::tz::TimeZone::get(&i.time_zone).unwrap_or(jiff::tz::TimeZone::UTC))
                    .strftime("%Y-%m")
                    .to_string();
                by_month.entry(m.clone()).or_insert((m.clone(), m, 0)).2 += 1;
            }
            if let Some(a) = i.acknowledged_at {
                ack_sum += a - i.created_at;
                ack_n += 1;
            }
            if let (Some(c), crate::incident::Status::Closed) = (i.closed_at, i.status) {
                res_sum += c - i.created_at;
                res_n += 1;
            }
            late += d.stages.iter().filter(|s| s.state == DeadlineState::MetLate).count() as i64;
            if !i.status.is_open() {
                continue;
            }
            open += 1;
            if d.stages.iter().any(|s| s.state == DeadlineState::Overdue) {
                overdue += 1;
            }
            let sev = i.severity.as_str().to_string();
            by_sev.entry(sev.clone()).or_insert((sev.clone(), sev, 0)).2 += 1;
            let top = top_sector(entity_sector.get(&i.entity_id).cloned().flatten(), &sectors);
            let (es, en) = sectors
                .get(&top)
                .map(|s| (s.0.clone(), s.1.clone()))
                .unwrap_or_else(|| ("Sin sector".into(), "No sector".into()));
            by_sector.entry(top).or_insert((es, en, 0)).2 += 1;
            let (ces, cen) = (
                crate::incident::rsit_label(&i.rsit_class, None, "es"),
                crate::incident::rsit_label(&i.rsit_class, None, "en"),
            );
            by_class.entry(i.rsit_class.clone()).or_insert((ces, cen, 0)).2 += 1;
        }
        let hours = |sum: i64, n: i64| (n > 0).then(|| sum as f64 / n as f64 / time::HOUR as f64);
        let mut open_by_severity = counts(by_sev);
        open_by_severity.sort_by_key(|c| {
            std::cmp::Reverse(crate::incident::Severity::parse(&c.key).map(|s| s.rank()).unwrap_or(0))
        });
        let mut reported_by_month = counts(by_month);
        reported_by_month.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(Board {
            open,
            open_by_severity,
            open_by_sector: counts(by_sector),
            open_by_class: counts(by_class),
            overdue,
            late,
            mean_hours_to_acknowledge: hours(ack_sum, ack_n),
            mean_hours_to_resolve: hours(res_sum, res_n),
            reported_by_month,
        })
    }
}

/// The top-level sector of a (sub)sector, so the chart has one bar per sector.
fn top_sector(sector: Option<String>, sectors: &BTreeMap<String, (String, String, Option<String>)>) -> String {
    let Some(mut s) = sector else { return String::new() };
    for _ in 0..4 {
        match sectors.get(&s).and_then(|x| x.2.clone()) {
            Some(parent) => s = parent,
            None => break,
        }
    }
    s
}
