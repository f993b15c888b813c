//! The coordinator's incident board (national roles): counts and charts that link to the queue.

use super::vocab::severity_key;
use crate::auth::SignedIn;
use crate::charts;
use crate::i18n::Lang;
use crate::pages::kit::{encode, render, Layout, OrPage, PageError};
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use baluarte_core::incident::Severity;
use baluarte_core::service::Count;

pub fn routes() -> Router<AppState> {
    Router::new().route("/board", get(board))
}

/// One bar of a chart as a link to the queue filtered on it.
#[derive(Debug, Clone)]
struct BarLink {
    label: String,
    count: i64,
    href: Option<String>,
}

#[derive(Template)]
#[template(path = "board.html")]
struct BoardPage {
    l: Layout,
    open: i64,
    overdue: i64,
    late: i64,
    ack: String,
    resolve: String,
    severity_chart: String,
    sector_chart: String,
    class_chart: String,
    month_chart: String,
    by_severity: Vec<BarLink>,
    by_sector: Vec<BarLink>,
    by_class: Vec<BarLink>,
}

fn hours(h: Option<f64>) -> String {
    h.map(|h| format!("{h:.1} h")).unwrap_or_else(|| "—".to_string())
}

fn label(c: &Count, lang: Lang) -> String {
    if lang == Lang::En {
        c.label_en.clone()
    } else {
        c.label_es.clone()
    }
}

fn links(rows: &[(String, i64)], counts: &[Count], param: &str) -> Vec<BarLink> {
    rows.iter()
        .zip(counts)
        .map(|((label, n), c)| BarLink {
            label: label.clone(),
            count: *n,
            href: (!c.key.is_empty()).then(|| format!("/incidents?{param}={}", encode(&c.key))),
        })
        .collect()
}

async fn board(State(state): State<AppState>, s: SignedIn) -> Result<Response, PageError> {
    let lang = s.ctx.lang;
    let actor = s.actor();
    let b = state
        .services
        .incidents()
        .national_incident_board(actor)
        .await
        .page(lang)?;
    let l = Layout::signed_in(&s, "board.title", "board", "/board");
    let t = l.t;
    let sev_rows: Vec<(String, i64)> = b
        .open_by_severity
        .iter()
        .map(|c| {
            let name = Severity::parse(&c.key)
                .map(|sv| t.t(severity_key(sv)).to_string())
                .unwrap_or_else(|| c.key.clone());
            (name, c.count)
        })
        .collect();
    let sector_rows: Vec<(String, i64)> = b.open_by_sector.iter().map(|c| (label(c, lang), c.count)).collect();
    let class_rows: Vec<(String, i64)> = b.open_by_class.iter().map(|c| (label(c, lang), c.count)).collect();
    let month_rows: Vec<(String, i64)> = b.reported_by_month.iter().map(|c| (c.key.clone(), c.count)).collect();
    let page = BoardPage {
        open: b.open,
        overdue: b.overdue,
        late: b.late,
        ack: hours(b.mean_hours_to_acknowledge),
        resolve: hours(b.mean_hours_to_resolve),
        severity_chart: charts::bars(t.t("board.by_severity"), &sev_rows),
        sector_chart: charts::bars(t.t("board.by_sector"), &sector_rows),
        class_chart: charts::bars(t.t("board.by_class"), &class_rows),
        month_chart: charts::bars(t.t("board.by_month"), &month_rows),
        by_severity: links(&sev_rows, &b.open_by_severity, "severity"),
        by_sector: links(&sector_rows, &b.open_by_sector, "sector"),
        by_class: links(&class_rows, &b.open_by_class, "class"),
        l,
    };
    Ok(render(page))
}
