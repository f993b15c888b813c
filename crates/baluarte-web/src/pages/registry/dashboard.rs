//! The dashboard: the registry at a glance, with charts.

use crate::auth::SignedIn;
use crate::charts;
use crate::pages::kit::{render, Layout, OrPage, PageError};
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::response::Response;

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    l: Layout,
    total_entities: i64,
    by_kind: Vec<(String, i64)>,
    by_zone: Vec<(String, i64)>,
    sector_chart: String,
    kind_chart: String,
    zone_chart: String,
}

pub async fn show(State(state): State<AppState>, s: SignedIn) -> Result<Response, PageError> {
    let lang = s.ctx.lang;
    let l = Layout::signed_in(&s, "dash.title", "dashboard", "/");
    let counts = state.services.registry().registry_counts(s.actor()).await.page(lang)?;
    let sectors = state.services.registry().list_sectors(s.actor()).await.page(lang)?;
    let sector_name = |id: &str| {
        sectors
            .iter()
            .find(|x| x.id == id)
            .map(|x| {
                if lang == crate::i18n::Lang::En {
                    x.name_en.clone()
                } else {
                    x.name_es.clone()
                }
            })
            .unwrap_or_else(|| l.t.t("dash.no_sector").to_string())
    };
    let by_sector: Vec<(String, i64)> = counts.by_sector.iter().map(|(k, n)| (sector_name(k), *n)).collect();
    let by_kind: Vec<(String, i64)> = counts
        .by_kind
        .iter()
        .map(|(k, n)| (l.t.t(&format!("kind.{k}")).to_string(), *n))
        .collect();
    let total_entities = by_kind.iter().map(|r| r.1).sum();
    let page = DashboardPage {
        sector_chart: charts::bars(l.t.t("dash.by_sector"), &by_sector),
        kind_chart: charts::bars(l.t.t("dash.by_kind"), &by_kind),
        zone_chart: charts::bars(l.t.t("dash.by_zone"), &counts.by_zone),
        total_entities,
        by_kind,
        by_zone: counts.by_zone,
        l,
    };
    Ok(render(page))
}
