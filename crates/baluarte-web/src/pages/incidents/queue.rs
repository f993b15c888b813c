//! The queue of incidents the reader may see, with its filters, and its CSV export.

use super::vocab::{class_options, deadline_label, severity_key, severity_options, status_key, when};
use crate::auth::SignedIn;
use crate::i18n::Tr;
use crate::pages::kit::{non_empty, page_request, render, sector_options, Layout, Opt, OrPage, PageError, Pager};
use crate::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use baluarte_core::incident::{rsit_label, Severity, Status};
use baluarte_core::model::PageRequest;
use baluarte_core::policy::Resource;
use baluarte_core::service::access;
use baluarte_core::service::{IncidentFilter, IncidentListItem};
use baluarte_core::time::{self, local_display};
use serde::Deserialize;

// ----- the queue -----

/// The queue's filters, as text so that a stray value falls back instead of failing.
#[derive(Debug, Deserialize, Default, Clone)]
#[serde(default)]
pub(super) struct QueueQuery {
    pub status: String,
    pub severity: String,
    pub sector: String,
    pub class: String,
    pub mine: String,
    pub q: String,
    pub entity: String,
    pub campaign: String,
    pub page: Option<String>,
    pub per_page: Option<String>,
}

impl QueueQuery {
    fn status(&self) -> &str {
        let s = self.status.trim();
        match s {
            "open" | "closed" | "all" => s,
            _ if Status::parse(s).is_some() => s,
            _ => "open",
        }
    }

    fn filter(&self, national: bool) -> IncidentFilter {
        IncidentFilter {
            status: Some(self.status().to_string()),
            severity: Severity::parse(self.severity.trim()),
            entity_id: non_empty(&self.entity).filter(|_| national),
            sector_id: non_empty(&self.sector).filter(|_| national),
            rsit_class: non_empty(&self.class),
            campaign_id: non_empty(&self.campaign),
            mine: !self.mine.trim().is_empty(),
            q: non_empty(&self.q),
        }
    }

    /// The filters as query pairs (for the pager and the CSV link).
    fn pairs(&self) -> Vec<(&'static str, String)> {
        vec![
            ("status", self.status().to_string()),
            ("severity", self.severity.trim().to_string()),
            ("sector", self.sector.trim().to_string()),
            ("class", self.class.trim().to_string()),
            (
                "mine",
                if self.mine.trim().is_empty() {
                    String::new()
                } else {
                    "1".into()
                },
            ),
            ("q", self.q.trim().to_string()),
            ("entity", self.entity.trim().to_string()),
            ("campaign", self.campaign.trim().to_string()),
        ]
    }
}

/// One line of the queue, ready to show.
#[derive(Debug, Clone)]
pub(super) struct IncidentRow {
    pub id: String,
    pub reference: String,
    pub title: String,
    pub entity: String,
    pub class_label: String,
    pub type_label: String,
    pub severity: &'static str,
    pub severity_label: String,
    pub tlp: &'static str,
    pub status: &'static str,
    pub status_label: String,
    pub deadline: &'static str,
    pub deadline_label: String,
    pub next_due: String,
    pub assignee: String,
    pub reported: String,
}

pub(super) fn incident_row(t: Tr, item: &IncidentListItem) -> IncidentRow {
    let i = &item.incident;
    let lang = t.lang.code();
    IncidentRow {
        id: i.id.clone(),
        reference: i.reference.clone(),
        title: i.title.clone(),
        entity: i.entity_name.clone(),
        class_label: rsit_label(&i.rsit_class, None, lang),
        type_label: rsit_label(&i.rsit_class, Some(&i.rsit_type), lang),
        severity: i.severity.as_str(),
        severity_label: t.t(severity_key(i.severity)).to_string(),
        tlp: i.tlp.as_str(),
        status: i.status.as_str(),
        status_label: t.t(status_key(i.status)).to_string(),
        deadline: item.deadline_state.as_str(),
        deadline_label: deadline_label(t, item.deadline_state),
        next_due: when(item.next_due_at, &i.time_zone),
        assignee: i.assignee_name.clone().unwrap_or_default(),
        reported: local_display(i.created_at, &i.time_zone),
    }
}

#[derive(Template)]
#[template(path = "incidents_list.html")]
struct QueuePage {
    l: Layout,
    national: bool,
    handler: bool,
    can_report: bool,
    q: String,
    mine: bool,
    statuses: Vec<Opt>,
    severities: Vec<Opt>,
    sectors: Vec<Opt>,
    classes: Vec<Opt>,
    rows: Vec<IncidentRow>,
    pager: Pager,
    csv_href: String,
}

fn status_filter_options(t: Tr, selected: &str) -> Vec<Opt> {
    let mut v = vec![
        Opt::new("open", t.t("incidents.filter_open"), selected),
        Opt::new("closed", t.t("incidents.filter_closed"), selected),
        Opt::new("all", t.t("incidents.filter_all"), selected),
    ];
    v.extend(
        Status::ALL
            .iter()
            .map(|s| Opt::new(s.as_str(), t.t(status_key(*s)), selected)),
    );
    v
}

pub(super) async fn queue(
    State(state): State<AppState>,
    s: SignedIn,
    Query(q): Query<QueueQuery>,
) -> Result<Response, PageError> {
    let lang = s.ctx.lang;
    let actor = s.actor();
    let national = access::sees_all(actor, Resource::Incident);
    let page = state
        .services
        .incidents()
        .list_incidents(actor, &q.filter(national), page_request(&q.page, &q.per_page))
        .await
        .page(lang)?;
    let l = Layout::signed_in(&s, "incidents.title", "incidents", "/incidents");
    let sectors = if national {
        let all = state.services.registry().list_sectors(actor).await.page(lang)?;
        sector_options(&all, q.sector.trim(), lang)
    } else {
        Vec::new()
    };
    let rows = page.items.iter().map(|i| incident_row(l.t, i)).collect();
    let pairs = q.pairs();
    let borrowed: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let pager = Pager::new("/incidents", &borrowed, &page);
    let csv_query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(borrowed.iter().filter(|(_, v)| !v.is_empty()))
        .finish();
    let page = QueuePage {
        national,
        handler: access::may_list(actor, Resource::Campaign),
        can_report: l.nav.report,
        q: q.q.trim().to_string(),
        mine: !q.mine.trim().is_empty(),
        statuses: status_filter_options(l.t, q.status()),
        severities: severity_options(l.t, q.severity.trim()),
        sectors,
        classes: class_options(lang, q.class.trim()),
        rows,
        pager,
        csv_href: format!("/incidents.csv?{csv_query}"),
        l,
    };
    Ok(render(page))
}

/// A CSV cell: quoted when needed, and a leading `= + - @` (or tab, carriage return) defused with an
/// apostrophe so that a spreadsheet does not run it as a formula.
pub(super) fn csv_cell(v: &str) -> String {
    let v = if v.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{v}")
    } else {
        v.to_string()
    };
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v
    }
}

fn csv_line(cells: &[&str]) -> String {
    let mut line = cells.iter().map(|c| csv_cell(c)).collect::<Vec<_>>().join(",");
    line.push_str("\r\n");
    line
}

const CSV_HEADER: &[&str] = &[
    "reference",
    "title",
    "entity",
    "rsit_class",
    "rsit_type",
    "severity",
    "tlp",
    "pap",
    "status",
    "deadline_state",
    "next_due",
    "assignee",
    "detected_at",
    "reported_at",
];

pub(super) async fn queue_csv(
    State(state): State<AppState>,
    s: SignedIn,
    Query(q): Query<QueueQuery>,
) -> Result<Response, PageError> {
    let lang = s.ctx.lang;
    let actor = s.actor();
    let national = access::sees_all(actor, Resource::Incident);
    let filter = q.filter(national);
    let mut out = csv_line(CSV_HEADER);
    let mut page_no = 1;
    loop {
        let page = state
            .services
            .incidents()
            .list_incidents(
                actor,
                &filter,
                PageRequest::new(Some(page_no), Some(PageRequest::MAX_PER_PAGE)),
            )
            .await
            .page(lang)?;
        for item in &page.items {
            let i = &item.incident;
            out.push_str(&csv_line(&[
                &i.reference,
                &i.title,
                &i.entity_name,
                &i.rsit_class,
                &i.rsit_type,
                i.severity.as_str(),
                i.tlp.as_str(),
                i.pap.as_str(),
                i.status.as_str(),
                item.deadline_state.as_str(),
                &when(item.next_due_at, &i.time_zone),
                i.assignee_name.as_deref().unwrap_or(""),
                &local_display(i.detected_at, &i.time_zone),
                &local_display(i.created_at, &i.time_zone),
            ]));
        }
        if page.items.is_empty() || page_no * page.per_page >= page.total {
            break;
        }
        page_no += 1;
    }
    let filename = format!(
        "incidentes-{}.csv",
        time::to_timestamp(state.services.now()).strftime("%Y%m%d-%H%M")
    );
    let mut res = out.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_are_quoted_and_formulas_defused() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("+52 55"), "'+52 55");
        assert_eq!(csv_cell("-1"), "'-1");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_cell("line\nbreak"), "\"line\nbreak\"");
    }

    #[test]
    fn stray_filters_fall_back() {
        let q = QueueQuery {
            status: "<script>".into(),
            severity: "huge".into(),
            ..Default::default()
        };
        let f = q.filter(true);
        assert_eq!(f.status.as_deref(), Some("open"));
        assert!(f.severity.is_none());
    }
}
