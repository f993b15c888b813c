//! Incidents: the queue (and its CSV export), the guided report form, the case file and its printable
//! report. The acts on an incident (the small forms of the case file) live in `incident_actions`.

use super::incident_actions::{read_multipart, upload_session, ActRetry, Upload};
use super::registry::{entity_picker, EntityNames, Opt, Pager, DEFAULT_ZONE};
use super::{render, FormErrors, Layout, OrPage, PageError};
use crate::auth::SignedIn;
use crate::i18n::{Lang, Tr};
use crate::AppState;
use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use axum_extra::extract::cookie::CookieJar;
use baluarte_core::incident::{rsit, rsit_label, CaseFile, Incident, Pap, Severity, Status};
use baluarte_core::model::{PageRequest, Sector, Tlp};
use baluarte_core::policy::{self, Action, Actor, ListScope, Resource};
use baluarte_core::service::{
    deadline_profile, IncidentFilter, IncidentListItem, ObservableInput, ReportInput, MAX_ATTACHMENT,
};
use baluarte_core::time::{self, local_display, Micros};
use baluarte_core::{CoreError, FieldError};
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/incidents", get(queue))
        .route("/incidents.csv", get(queue_csv))
        .route("/incidents/new", get(new_form))
        .route("/incidents/{id}", get(show))
        .route("/incidents/{id}/print", get(print))
}

// ----- vocabularies shown on the pages -----

pub(super) fn severity_key(s: Severity) -> &'static str {
    match s {
        Severity::Low => "sev.low",
        Severity::Medium => "sev.medium",
        Severity::High => "sev.high",
        Severity::Critical => "sev.critical",
    }
}

pub(super) fn status_key(s: Status) -> &'static str {
    match s {
        Status::New => "istatus.new",
        Status::Triage => "istatus.triage",
        Status::InProgress => "istatus.in_progress",
        Status::Containment => "istatus.containment",
        Status::Eradication => "istatus.eradication",
        Status::Recovery => "istatus.recovery",
        Status::Closed => "istatus.closed",
        Status::Rejected => "istatus.rejected",
        Status::Merged => "istatus.merged",
    }
}

/// The label of a deadline state (`pending`, `due_soon`, …); an unknown one is shown as it is.
pub(super) fn deadline_label(t: Tr, state: &str) -> String {
    let key = match state {
        "waiting" => "dl.waiting",
        "pending" => "dl.pending",
        "due_soon" => "dl.due_soon",
        "overdue" => "dl.overdue",
        "met_on_time" => "dl.met_on_time",
        "met_late" => "dl.met_late",
        "not_applicable" => "dl.not_applicable",
        other => return other.to_string(),
    };
    t.t(key).to_string()
}

fn tlp_hint_key(m: Tlp) -> &'static str {
    match m {
        Tlp::Red => "tlp.hint_red",
        Tlp::AmberStrict => "tlp.hint_amber_strict",
        Tlp::Amber => "tlp.hint_amber",
        Tlp::Green => "tlp.hint_green",
        Tlp::Clear => "tlp.hint_clear",
    }
}

fn pap_hint_key(p: Pap) -> &'static str {
    match p {
        Pap::Red => "pap.hint_red",
        Pap::Amber => "pap.hint_amber",
        Pap::Green => "pap.hint_green",
        Pap::Clear => "pap.hint_clear",
    }
}

/// One radio button with its explanation.
#[derive(Debug, Clone)]
pub(super) struct Choice {
    pub id: String,
    pub value: String,
    pub label: String,
    pub hint: String,
    pub checked: bool,
}

pub(super) fn tlp_choices(t: Tr, selected: &str) -> Vec<Choice> {
    [Tlp::Clear, Tlp::Green, Tlp::Amber, Tlp::AmberStrict, Tlp::Red]
        .iter()
        .enumerate()
        .map(|(i, m)| Choice {
            id: format!("tlp-{i}"),
            value: m.as_str().to_string(),
            label: format!("TLP:{m}"),
            hint: t.t(tlp_hint_key(*m)).to_string(),
            checked: m.as_str() == selected,
        })
        .collect()
}

fn pap_choices(t: Tr, selected: &str) -> Vec<Choice> {
    [Pap::Clear, Pap::Green, Pap::Amber, Pap::Red]
        .iter()
        .enumerate()
        .map(|(i, p)| Choice {
            id: format!("pap-{i}"),
            value: p.as_str().to_string(),
            label: format!("PAP:{p}"),
            hint: t.t(pap_hint_key(*p)).to_string(),
            checked: p.as_str() == selected,
        })
        .collect()
}

pub(super) fn tlp_options(selected: &str) -> Vec<Opt> {
    [Tlp::Clear, Tlp::Green, Tlp::Amber, Tlp::AmberStrict, Tlp::Red]
        .iter()
        .map(|m| Opt::new(m.as_str(), format!("TLP:{m}"), selected))
        .collect()
}

pub(super) fn severity_options(t: Tr, selected: &str) -> Vec<Opt> {
    Severity::ALL
        .iter()
        .map(|s| Opt::new(s.as_str(), t.t(severity_key(*s)), selected))
        .collect()
}

/// An RSIT class and its types, for one `<optgroup>`; option values are `class/type`.
#[derive(Debug, Clone)]
pub(super) struct ClassGroup {
    pub label: String,
    pub opts: Vec<Opt>,
}

pub(super) fn rsit_groups(lang: Lang, selected: &str) -> Vec<ClassGroup> {
    let es = lang != Lang::En;
    rsit()
        .iter()
        .map(|c| ClassGroup {
            label: if es { c.es.clone() } else { c.en.clone() },
            opts: c
                .types
                .iter()
                .map(|ty| {
                    let label = if es { ty.es.clone() } else { ty.en.clone() };
                    Opt::new(&format!("{}/{}", c.id, ty.id), label, selected)
                })
                .collect(),
        })
        .collect()
}

fn class_options(lang: Lang, selected: &str) -> Vec<Opt> {
    rsit()
        .iter()
        .map(|c| {
            Opt::new(
                &c.id,
                if lang == Lang::En { c.en.clone() } else { c.es.clone() },
                selected,
            )
        })
        .collect()
}

fn sector_label(s: &Sector, lang: Lang) -> String {
    if lang == Lang::En {
        s.name_en.clone()
    } else {
        s.name_es.clone()
    }
}

pub(super) fn sector_options(sectors: &[Sector], selected: &str, lang: Lang) -> Vec<Opt> {
    sectors
        .iter()
        .map(|s| {
            let label = match s.parent_id {
                Some(_) => format!("\u{2014} {}", sector_label(s, lang)),
                None => sector_label(s, lang),
            };
            Opt::new(&s.id, label, selected)
        })
        .collect()
}

fn non_empty(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

pub(super) fn encode(v: &str) -> String {
    url::form_urlencoded::byte_serialize(v.as_bytes()).collect()
}

fn when(us: Option<Micros>, zone: &str) -> String {
    us.map(|u| local_display(u, zone)).unwrap_or_default()
}

/// Whether the actor works the national CSIRT's side of this incident (the page shows those forms).
pub(super) fn handles(actor: &Actor, entity_id: &str) -> bool {
    policy::check(actor, Resource::Incident, Action::Handle, Some(entity_id)).is_ok()
}

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
    pub deadline: String,
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
        deadline: item.deadline_state.clone(),
        deadline_label: deadline_label(t, &item.deadline_state),
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

async fn queue(State(state): State<AppState>, s: SignedIn, Query(q): Query<QueueQuery>) -> Result<Response, PageError> {
    let lang = s.ctx.lang;
    let actor = s.actor();
    let national = matches!(policy::list_scope(actor, Resource::Incident), Ok(ListScope::All));
    let page = state
        .services
        .incidents()
        .list_incidents(
            actor,
            &q.filter(national),
            super::registry::page_request(&q.page, &q.per_page),
        )
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
        handler: policy::list_scope(actor, Resource::Campaign).is_ok(),
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

async fn queue_csv(
    State(state): State<AppState>,
    s: SignedIn,
    Query(q): Query<QueueQuery>,
) -> Result<Response, PageError> {
    let lang = s.ctx.lang;
    let actor = s.actor();
    let national = matches!(policy::list_scope(actor, Resource::Incident), Ok(ListScope::All));
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
                &item.deadline_state,
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

// ----- the report form -----

#[derive(Debug, Clone, Default)]
pub(super) struct ReportForm {
    pub entity_id: String,
    pub title: String,
    pub description: String,
    pub detected_at: String,
    pub occurred_at: String,
    /// `class/type`.
    pub rsit: String,
    pub severity: String,
    pub tlp: String,
    pub pap: String,
    pub affected_services: String,
    pub affected_systems: String,
    pub interruption_minutes: String,
    pub people_affected: String,
    pub data_compromised: bool,
    pub personal_data: bool,
    /// One observable per line.
    pub observables: String,
}

/// A whole number typed in a form: empty is none; anything else that is not a number is sent as -1 so
/// that the service names the field ("a whole number of zero or more") with the other errors.
fn count_field(v: &str) -> Option<i64> {
    let v = v.trim();
    if v.is_empty() {
        return None;
    }
    Some(v.parse::<i64>().unwrap_or(-1))
}

impl ReportForm {
    fn blank(entity_id: String, zone: &str, now: time::Micros) -> Self {
        let tz = jiff::tz::TimeZone::get(zone).unwrap_or(jiff::tz::TimeZone::UTC);
        let now = time::to_timestamp(now)
            .to_zoned(tz)
            .strftime("%Y-%m-%dT%H:%M")
            .to_string();
        ReportForm {
            entity_id,
            detected_at: now,
            severity: Severity::Medium.as_str().into(),
            tlp: Tlp::AmberStrict.as_str().into(),
            pap: Pap::Amber.as_str().into(),
            ..Default::default()
        }
    }

    fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        let mut f = ReportForm::default();
        for (k, v) in pairs {
            match k.as_str() {
                "entity_id" => f.entity_id = v,
                "title" => f.title = v,
                "description" => f.description = v,
                "detected_at" => f.detected_at = v,
                "occurred_at" => f.occurred_at = v,
                "rsit" => f.rsit = v,
                "severity" => f.severity = v,
                "tlp" => f.tlp = v,
                "pap" => f.pap = v,
                "affected_services" => f.affected_services = v,
                "affected_systems" => f.affected_systems = v,
                "interruption_minutes" => f.interruption_minutes = v,
                "people_affected" => f.people_affected = v,
                "data_compromised" => f.data_compromised = true,
                "personal_data" => f.personal_data = true,
                "observables" => f.observables = v,
                _ => {}
            }
        }
        f
    }

    /// The observables, one per non-empty line, with the line number each came from.
    fn observable_lines(&self) -> (Vec<ObservableInput>, Vec<usize>) {
        let mut inputs = Vec::new();
        let mut lines = Vec::new();
        for (n, line) in self.observables.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            inputs.push(ObservableInput {
                kind: None,
                value: line.trim().to_string(),
            });
            lines.push(n + 1);
        }
        (inputs, lines)
    }

    fn input(&self, national: bool) -> Result<(ReportInput, Vec<usize>), CoreError> {
        let mut errors = Vec::new();
        let (class, kind) = self.rsit.split_once('/').unwrap_or(("", ""));
        let severity = Severity::parse(self.severity.trim());
        let tlp = Tlp::parse(self.tlp.trim());
        let pap = Pap::parse(self.pap.trim());
        if severity.is_none() {
            errors.push(FieldError::new("severity", "is required"));
        }
        if tlp.is_none() {
            errors.push(FieldError::new("tlp", "is required"));
        }
        if pap.is_none() {
            errors.push(FieldError::new("pap", "is required"));
        }
        let (observables, lines) = self.observable_lines();
        if !errors.is_empty() {
            return Err(CoreError::Invalid(errors));
        }
        let input = ReportInput {
            entity_id: national
                .then(|| self.entity_id.trim().to_string())
                .filter(|e| !e.is_empty()),
            title: self.title.clone(),
            description: self.description.clone(),
            detected_at: self.detected_at.clone(),
            occurred_at: non_empty(&self.occurred_at),
            rsit_class: class.to_string(),
            rsit_type: kind.to_string(),
            severity: severity.unwrap_or(Severity::Medium),
            tlp: tlp.unwrap_or(Tlp::AmberStrict),
            pap: pap.unwrap_or(Pap::Amber),
            affected_services: self.affected_services.clone(),
            affected_systems: self.affected_systems.clone(),
            interruption_minutes: count_field(&self.interruption_minutes),
            people_affected: count_field(&self.people_affected),
            data_compromised: self.data_compromised,
            personal_data: self.personal_data,
            observables,
        };
        Ok((input, lines))
    }
}

/// The service's field errors as the form shows them: RSIT class and type belong to the one select, and
/// each observable's error names its line ("línea 3: …") under the textarea.
fn form_errors(t: Tr, errors: Vec<FieldError>, lines: &[usize]) -> FormErrors {
    let mut out: Vec<FieldError> = Vec::new();
    let mut obs: Vec<String> = Vec::new();
    for e in errors {
        if let Some(i) = e
            .field
            .strip_prefix("observables[")
            .and_then(|r| r.strip_suffix(']'))
            .and_then(|n| n.parse::<usize>().ok())
        {
            let line = lines.get(i).copied().unwrap_or(i + 1);
            obs.push(format!(
                "{} {line}: {}",
                t.t("report.line"),
                observable_error(t, &e.message)
            ));
            continue;
        }
        match e.field.as_str() {
            "rsit_class" | "rsit_type" => {
                if !out.iter().any(|x| x.field == "rsit") {
                    out.push(FieldError::new("rsit", t.t("report.rsit_invalid")));
                }
            }
            "observables" => obs.push(t.field_error(&e.message).into_owned()),
            _ => out.push(e),
        }
    }
    if !obs.is_empty() {
        out.push(FieldError::new("observables", obs.join(" · ")));
    }
    FormErrors(out)
}

/// An observable's error (`` `value`: reason ``) in the page's language, the technical reason kept.
fn observable_error(t: Tr, message: &str) -> String {
    let (value, reason) = match message.strip_prefix('`').and_then(|m| m.split_once("`: ")) {
        Some((v, r)) => (v, r),
        None => ("", message),
    };
    let what = if reason.starts_with("cannot tell what kind") {
        t.t("report.obs_unknown").to_string()
    } else if reason.starts_with("input is empty") {
        t.t("report.obs_empty").to_string()
    } else {
        format!("{} ({reason})", t.t("report.obs_invalid"))
    };
    if value.is_empty() {
        what
    } else {
        format!("«{value}» {what}")
    }
}

#[derive(Template)]
#[template(path = "incident_new.html")]
struct ReportPage {
    l: Layout,
    form: ReportForm,
    entities: Option<Vec<Opt>>,
    entity_q: String,
    own_entity: String,
    zone: String,
    groups: Vec<ClassGroup>,
    severities: Vec<Opt>,
    tlps: Vec<Choice>,
    paps: Vec<Choice>,
    errors: FormErrors,
    max_mb: usize,
}

#[derive(Debug, Deserialize, Default)]
struct NewQuery {
    entity_id: Option<String>,
    entity_q: Option<String>,
}

async fn report_page(
    state: &AppState,
    s: &SignedIn,
    form: ReportForm,
    entity_q: String,
    errors: FormErrors,
) -> Result<Response, PageError> {
    let lang = s.ctx.lang;
    let entities = entity_picker(state, s, &entity_q, &form.entity_id).await?;
    let zone = EntityNames::default()
        .get(state, s.actor(), &form.entity_id)
        .await
        .page(lang)?
        .map(|(_, z)| z)
        .unwrap_or_else(|| DEFAULT_ZONE.to_string());
    let l = Layout::signed_in(s, "report.title", "report", "/incidents/new");
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = ReportPage {
        own_entity: s.info.entity_name.clone(),
        entities,
        entity_q,
        zone,
        groups: rsit_groups(lang, &form.rsit),
        severities: severity_options(l.t, &form.severity),
        tlps: tlp_choices(l.t, &form.tlp),
        paps: pap_choices(l.t, &form.pap),
        form,
        errors,
        max_mb: MAX_ATTACHMENT / 1024 / 1024,
        l,
    };
    let mut res = render(page);
    *res.status_mut() = status;
    Ok(res)
}

async fn new_form(
    State(state): State<AppState>,
    s: SignedIn,
    Query(q): Query<NewQuery>,
) -> Result<Response, PageError> {
    let lang = s.ctx.lang;
    let actor = s.actor();
    let entity_id = q
        .entity_id
        .filter(|e| !e.trim().is_empty() && actor.national)
        .unwrap_or_else(|| actor.entity_id.clone());
    policy::check(actor, Resource::Incident, Action::Create, Some(&entity_id)).page(lang)?;
    let zone = EntityNames::default()
        .get(&state, actor, &entity_id)
        .await
        .page(lang)?
        .map(|(_, z)| z)
        .unwrap_or_else(|| DEFAULT_ZONE.to_string());
    let form = ReportForm::blank(entity_id, &zone, state.services.now());
    report_page(&state, &s, form, q.entity_q.unwrap_or_default(), FormErrors::default()).await
}

/// `POST /incidents` (multipart, so that the first attachment can come with the report).
pub(super) async fn file_report(State(state): State<AppState>, jar: CookieJar, mp: Multipart) -> Response {
    let s = match upload_session(&state, &jar).await {
        Ok(s) => s,
        Err(res) => return res,
    };
    let (pairs, upload) = match read_multipart(mp, &s).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    match file_report_as(&state, &s, pairs, upload).await {
        Ok(res) | Err(res) => res,
    }
}

async fn file_report_as(
    state: &AppState,
    s: &SignedIn,
    pairs: Vec<(String, String)>,
    upload: Option<Upload>,
) -> Result<Response, Response> {
    let lang = s.ctx.lang;
    let t = Tr::new(lang);
    let actor = s.actor();
    let mut form = ReportForm::from_pairs(pairs);
    if !actor.national {
        form.entity_id = actor.entity_id.clone();
    }
    let page_err = |e: PageError| e.into_response();
    if let Some(u) = &upload {
        if u.bytes.len() > MAX_ATTACHMENT {
            let errors = FormErrors(vec![FieldError::new("attachment", t.t("report.file_too_large"))]);
            return Err(report_page(state, s, form, String::new(), errors)
                .await
                .unwrap_or_else(page_err));
        }
    }
    let (input, lines) = match form.input(actor.national) {
        Ok(v) => v,
        Err(CoreError::Invalid(errors)) => {
            let errors = form_errors(t, errors, &[]);
            return Err(report_page(state, s, form, String::new(), errors)
                .await
                .unwrap_or_else(page_err));
        }
        Err(e) => return Err(page_err(PageError { lang, err: e })),
    };
    let filed = match state.services.incidents().file_report(actor, input, "web", None).await {
        Ok(f) => f,
        Err(CoreError::Invalid(errors)) => {
            let errors = form_errors(t, errors, &lines);
            return Err(report_page(state, s, form, String::new(), errors)
                .await
                .unwrap_or_else(page_err));
        }
        Err(e) => return Err(page_err(PageError { lang, err: e })),
    };
    let id = filed.incident.id;
    let mut done = "filed";
    if let Some(u) = upload {
        if let Err(e) = state
            .services
            .incidents()
            .add_attachment(actor, &id, &u.filename, &u.media_type, &u.bytes)
            .await
        {
            tracing::warn!(error = %e, incident = %id, "first attachment refused");
            done = "filed_no_attachment";
        }
    }
    Ok(Redirect::to(&format!("/incidents/{id}?done={done}")).into_response())
}

// ----- the case file -----

#[derive(Debug, Clone)]
pub(super) struct CaseView {
    pub id: String,
    pub reference: String,
    pub title: String,
    pub description: String,
    pub entity_name: String,
    pub reported_by: String,
    pub channel: String,
    pub status: &'static str,
    pub status_label: String,
    pub open: bool,
    pub severity: &'static str,
    pub severity_label: String,
    pub tlp: &'static str,
    /// `amber-strict`…, for the print page's named page (the marking in every page's margins).
    pub tlp_slug: String,
    pub tlp_hint: String,
    pub pap: &'static str,
    pub class_label: String,
    pub type_label: String,
    pub rsit_value: String,
    pub detected: String,
    pub occurred: String,
    pub reported: String,
    pub acknowledged: String,
    pub closed: String,
    pub assignee: String,
    pub affected_services: String,
    pub affected_systems: String,
    pub interruption: String,
    pub people: String,
    pub data_compromised: bool,
    pub personal_data: bool,
    pub resolution: String,
    pub lessons: String,
    pub merged_into: Option<String>,
    pub campaign_id: String,
    pub campaign: Option<String>,
    pub zone: String,
}

fn case_view(t: Tr, i: &Incident, campaign: Option<String>) -> CaseView {
    let lang = t.lang.code();
    let z = &i.time_zone;
    CaseView {
        id: i.id.clone(),
        reference: i.reference.clone(),
        title: i.title.clone(),
        description: i.description.clone(),
        entity_name: i.entity_name.clone(),
        reported_by: i.reported_by_label.clone(),
        channel: i.channel.clone(),
        status: i.status.as_str(),
        status_label: t.t(status_key(i.status)).to_string(),
        open: i.status.is_open(),
        severity: i.severity.as_str(),
        severity_label: t.t(severity_key(i.severity)).to_string(),
        tlp: i.tlp.as_str(),
        tlp_slug: i.tlp.as_str().to_ascii_lowercase().replace('+', "-"),
        tlp_hint: t.t(tlp_hint_key(i.tlp)).to_string(),
        pap: i.pap.as_str(),
        class_label: rsit_label(&i.rsit_class, None, lang),
        type_label: rsit_label(&i.rsit_class, Some(&i.rsit_type), lang),
        rsit_value: format!("{}/{}", i.rsit_class, i.rsit_type),
        detected: local_display(i.detected_at, z),
        occurred: when(i.occurred_at, z),
        reported: local_display(i.created_at, z),
        acknowledged: when(i.acknowledged_at, z),
        closed: when(i.closed_at, z),
        assignee: i.assignee_name.clone().unwrap_or_default(),
        affected_services: i.affected_services.clone(),
        affected_systems: i.affected_systems.clone(),
        interruption: i.interruption_minutes.map(|m| m.to_string()).unwrap_or_default(),
        people: i.people_affected.map(|m| m.to_string()).unwrap_or_default(),
        data_compromised: i.data_compromised,
        personal_data: i.personal_data,
        resolution: i.resolution.clone().unwrap_or_default(),
        lessons: i.lessons_learned.clone().unwrap_or_default(),
        merged_into: i.merged_into.clone(),
        campaign_id: i.campaign_id.clone().unwrap_or_default(),
        campaign,
        zone: z.clone(),
    }
}

#[derive(Debug, Clone)]
pub(super) struct StageRow {
    pub name: String,
    pub due: String,
    pub submitted: String,
    pub state: String,
    pub label: String,
}

#[derive(Debug, Clone)]
pub(super) struct DeadlineView {
    pub profile: String,
    pub applicable: bool,
    pub state: String,
    pub label: String,
    pub stages: Vec<StageRow>,
}

fn deadline_view(t: Tr, cf: &CaseFile) -> DeadlineView {
    let d = &cf.deadlines;
    let en = t.lang == Lang::En;
    let z = &cf.incident.time_zone;
    DeadlineView {
        profile: if en {
            d.profile_name_en.clone()
        } else {
            d.profile_name_es.clone()
        }
        .unwrap_or_default(),
        applicable: d.applicable,
        state: d.state.clone(),
        label: deadline_label(t, &d.state),
        stages: d
            .stages
            .iter()
            .map(|st| {
                let mut name = if en { st.name_en.clone() } else { st.name_es.clone() };
                if name.is_empty() {
                    name = st.stage_id.clone();
                }
                if st.occurrence > 1 {
                    name = format!("{name} ({})", st.occurrence);
                }
                StageRow {
                    name,
                    due: when(st.due_at, z),
                    submitted: when(st.submitted_at, z),
                    state: st.state.clone(),
                    label: deadline_label(t, &st.state),
                }
            })
            .collect(),
    }
}

/// The name of a stage of the incident's profile, in the page's language.
pub(super) fn stage_name(lang: Lang, profile_id: Option<&str>, stage_id: &str) -> String {
    profile_id
        .and_then(deadline_profile)
        .and_then(|p| p.stage(stage_id))
        .map(|st| {
            if lang == Lang::En {
                st.name_en.clone()
            } else {
                st.name_es.clone()
            }
        })
        .unwrap_or_else(|| stage_id.to_string())
}

#[derive(Debug, Clone)]
pub(super) struct RelRow {
    pub id: String,
    pub reference: String,
    pub entity: String,
    pub title: String,
    pub status_label: String,
}

#[derive(Debug, Clone)]
pub(super) struct ObsRow {
    pub kind: String,
    pub value: String,
    /// "También reportado por 3 instituciones", as far as the reader may know; empty when alone.
    pub hint: String,
    /// The first related incidents (the CSIRT only); the rest under "more".
    pub related: Vec<RelRow>,
    pub more: Vec<RelRow>,
}

/// Related incidents shown at once next to an observable; the rest fold away.
const RELATED_SHOWN: usize = 5;

/// The correlation hint of an observable in words.
fn hint_words(t: Tr, reports: i64, entities: i64) -> String {
    let (key, n) = match (reports, entities) {
        (_, 1) => ("obs.other_entity_one", 1),
        (_, e) if e > 1 => ("obs.other_entities", e),
        (1, _) => ("obs.other_report_one", 1),
        (r, _) if r > 1 => ("obs.other_reports", r),
        _ => return String::new(),
    };
    t.t(key).replace("{n}", &n.to_string())
}

#[derive(Debug, Clone)]
pub(super) struct SubRow {
    pub id: String,
    pub stage: String,
    pub at: String,
    pub by: String,
    pub digest: String,
}

#[derive(Debug, Clone)]
pub(super) struct AttRow {
    pub id: String,
    pub filename: String,
    pub size: String,
    pub sha256: String,
    pub by: String,
    pub at: String,
}

#[derive(Debug, Clone)]
pub(super) struct TaskRow {
    pub id: String,
    pub title: String,
    pub done: bool,
}

#[derive(Debug, Clone)]
pub(super) struct JournalRow {
    pub at: String,
    pub who: String,
    pub kind: String,
    pub body: String,
    pub shared: bool,
}

#[derive(Debug, Clone)]
pub(super) struct RequestRow {
    pub id: String,
    /// The name of its answer form (`answer-<id>`).
    pub form: String,
    pub question: String,
    pub asked_by: String,
    pub asked_at: String,
    pub answer: Option<String>,
    pub answered_by: String,
    pub answered_at: String,
}

fn journal_kind(t: Tr, kind: &str) -> String {
    let key = match kind {
        "reported" => "jk.reported",
        "note" => "jk.note",
        "status" => "jk.status",
        "assignment" => "jk.assignment",
        "request" => "jk.request",
        "answer" => "jk.answer",
        "stage" => "jk.stage",
        "stage_request" => "jk.stage_request",
        "merge" => "jk.merge",
        "close" => "jk.close",
        "reject" => "jk.reject",
        "campaign" => "jk.campaign",
        "triage" => "jk.triage",
        "task" => "jk.task",
        "attachment" => "jk.attachment",
        other => return other.to_string(),
    };
    t.t(key).to_string()
}

fn human_size(n: i64) -> String {
    if n >= 1024 * 1024 {
        format!("{:.1} MiB", n as f64 / 1024.0 / 1024.0)
    } else if n >= 1024 {
        format!("{:.1} KiB", n as f64 / 1024.0)
    } else {
        format!("{n} B")
    }
}

/// Everything of the case file the reader may see, ready to show (the case page and the print page).
pub(super) struct CaseParts {
    pub c: CaseView,
    pub dl: DeadlineView,
    pub obs: Vec<ObsRow>,
    pub subs: Vec<SubRow>,
    pub atts: Vec<AttRow>,
    pub tasks: Vec<TaskRow>,
    pub journal: Vec<JournalRow>,
    pub requests: Vec<RequestRow>,
    pub merged: Vec<RelRow>,
}

fn rel_row(t: Tr, r: &baluarte_core::incident::RelatedIncident) -> RelRow {
    RelRow {
        id: r.id.clone(),
        reference: r.reference.clone(),
        entity: r.entity_name.clone(),
        title: r.title.clone(),
        status_label: t.t(status_key(r.status)).to_string(),
    }
}

async fn case_parts(state: &AppState, s: &SignedIn, cf: &CaseFile) -> Result<CaseParts, PageError> {
    let t = Tr::new(s.ctx.lang);
    let lang = s.ctx.lang;
    let i = &cf.incident;
    let z = &i.time_zone;
    let campaign = match &i.campaign_id {
        Some(c) if handles(s.actor(), &i.entity_id) => state
            .services
            .incidents()
            .get_campaign(s.actor(), c)
            .await
            .ok()
            .map(|c| c.name),
        _ => None,
    };
    let obs = cf
        .observables
        .iter()
        .map(|o| {
            let key = format!("{}:{}", o.kind, o.value);
            let hint = cf.correlations.iter().find(|h| h.observable == key);
            let mut related: Vec<RelRow> = hint
                .map(|h| h.incidents.iter().map(|r| rel_row(t, r)).collect())
                .unwrap_or_default();
            let more = related.split_off(related.len().min(RELATED_SHOWN));
            ObsRow {
                kind: o.kind.clone(),
                value: o.value.clone(),
                hint: hint
                    .map(|h| hint_words(t, h.other_reports, h.other_entities))
                    .unwrap_or_default(),
                related,
                more,
            }
        })
        .collect();
    Ok(CaseParts {
        c: case_view(t, i, campaign),
        dl: deadline_view(t, cf),
        obs,
        subs: cf
            .submissions
            .iter()
            .map(|sub| SubRow {
                id: sub.id.clone(),
                stage: stage_name(lang, i.profile_id.as_deref(), &sub.stage_id),
                at: local_display(sub.submitted_at, z),
                by: sub.submitted_by.clone(),
                digest: sub.digest.clone(),
            })
            .collect(),
        atts: cf
            .attachments
            .iter()
            .map(|a| AttRow {
                id: a.id.clone(),
                filename: a.filename.clone(),
                size: human_size(a.size),
                sha256: a.sha256.clone(),
                by: a.uploaded_by.clone(),
                at: local_display(a.created_at, z),
            })
            .collect(),
        tasks: cf
            .tasks
            .iter()
            .map(|task| TaskRow {
                id: task.id.clone(),
                title: task.title.clone(),
                done: task.done,
            })
            .collect(),
        journal: cf
            .journal
            .iter()
            .rev()
            .map(|j| JournalRow {
                at: local_display(j.at, z),
                who: j.author_label.clone(),
                kind: journal_kind(t, &j.kind),
                body: j.body.clone(),
                shared: j.shared,
            })
            .collect(),
        requests: cf
            .requests
            .iter()
            .map(|r| RequestRow {
                id: r.id.clone(),
                form: format!("answer-{}", r.id),
                question: r.question.clone(),
                asked_by: r.asked_by.clone(),
                asked_at: local_display(r.asked_at, z),
                answer: r.answer.clone(),
                answered_by: r.answered_by.clone().unwrap_or_default(),
                answered_at: when(r.answered_at, z),
            })
            .collect(),
        merged: cf.merged.iter().map(|r| rel_row(t, r)).collect(),
    })
}

/// What the reader may do here, as the policy answers (the service still decides every write).
#[derive(Debug, Clone, Default)]
pub(super) struct CaseCan {
    pub handle: bool,
    pub contribute: bool,
}

/// Choices of the case file's forms.
#[derive(Debug, Clone, Default)]
pub(super) struct CaseChoices {
    pub statuses: Vec<Opt>,
    pub severities: Vec<Opt>,
    pub tlps: Vec<Opt>,
    pub groups: Vec<ClassGroup>,
    pub assignees: Vec<Opt>,
    pub campaigns: Vec<Opt>,
    /// Stages the CSIRT may still request (anchored on its request, not yet requested).
    pub requestable: Vec<Opt>,
    /// Stages the reporting side may send.
    pub stages: Vec<Opt>,
}

async fn case_choices(state: &AppState, s: &SignedIn, cf: &CaseFile, can: &CaseCan) -> Result<CaseChoices, PageError> {
    let t = Tr::new(s.ctx.lang);
    let lang = s.ctx.lang;
    let i = &cf.incident;
    let actor = s.actor();
    let mut ch = CaseChoices::default();
    let profile = i.profile_id.as_deref().and_then(deadline_profile);
    let stage_ids: Vec<String> = match profile {
        Some(p) => p.stages.iter().map(|st| st.id.clone()).collect(),
        None => vec!["initial".into(), "update".into(), "final".into()],
    };
    if can.contribute {
        let default = cf
            .deadlines
            .stages
            .iter()
            .find(|st| matches!(st.state.as_str(), "pending" | "due_soon" | "overdue"))
            .map(|st| st.stage_id.clone())
            .unwrap_or_default();
        ch.stages = stage_ids
            .iter()
            .map(|id| Opt::new(id, stage_name(lang, i.profile_id.as_deref(), id), &default))
            .collect();
    }
    if !can.handle {
        return Ok(ch);
    }
    ch.statuses = Status::WORKING
        .iter()
        .map(|st| Opt::new(st.as_str(), t.t(status_key(*st)), i.status.as_str()))
        .collect();
    ch.severities = severity_options(t, i.severity.as_str());
    ch.tlps = tlp_options(i.tlp.as_str());
    ch.groups = rsit_groups(lang, &format!("{}/{}", i.rsit_class, i.rsit_type));
    if let Some(p) = profile {
        ch.requestable = p
            .stages
            .iter()
            .filter(|st| st.anchor.as_str() == "csirt_request")
            .filter(|st| {
                cf.deadlines
                    .stages
                    .iter()
                    .any(|d| d.stage_id == st.id && d.state == "waiting")
            })
            .map(|st| {
                Opt::new(
                    &st.id,
                    if lang == Lang::En {
                        st.name_en.clone()
                    } else {
                        st.name_es.clone()
                    },
                    "",
                )
            })
            .collect();
    }
    let selected = i.assignee_id.clone().unwrap_or_default();
    let users = state
        .services
        .users()
        .list_users(
            actor,
            &baluarte_core::service::UserFilter {
                entity_id: Some(actor.entity_id.clone()),
                q: None,
                include_inactive: false,
            },
            PageRequest::new(Some(1), Some(PageRequest::MAX_PER_PAGE)),
        )
        .await;
    // A handler whose role may not list users still sees (and may clear) the current assignee.
    if let Ok(users) = users {
        use baluarte_core::model::Role;
        ch.assignees = users
            .items
            .iter()
            .filter(|u| u.active && matches!(u.role, Role::CsirtAnalyst | Role::Coordinator))
            .map(|u| {
                Opt::new(
                    &u.id,
                    format!("{} ({})", u.name, t.t(&format!("role.{}", u.role))),
                    &selected,
                )
            })
            .collect();
    }
    if !selected.is_empty() && !ch.assignees.iter().any(|o| o.selected) {
        ch.assignees.insert(
            0,
            Opt::new(
                &selected,
                i.assignee_name.clone().unwrap_or_else(|| selected.clone()),
                &selected,
            ),
        );
    }
    let current = i.campaign_id.clone().unwrap_or_default();
    ch.campaigns = state
        .services
        .incidents()
        .list_campaigns(actor)
        .await
        .page(lang)?
        .iter()
        .map(|c| Opt::new(&c.id, c.name.clone(), &current))
        .collect();
    Ok(ch)
}

fn done_key(code: &str) -> Option<&'static str> {
    Some(match code {
        "filed_no_attachment" => "flash.filed_no_attachment",
        "status" => "flash.incident_status",
        "triaged" => "flash.incident_triaged",
        "assigned" => "flash.incident_assigned",
        "task_added" => "flash.task_added",
        "task_done" => "flash.task_done",
        "note_added" => "flash.note_added",
        "requested" => "flash.info_requested",
        "answered" => "flash.request_answered",
        "stage_requested" => "flash.stage_requested",
        "stage_sent" => "flash.stage_sent",
        "attached" => "flash.attached",
        "merged" => "flash.incident_merged",
        "campaign" => "flash.incident_campaign",
        "closed" => "flash.incident_closed",
        "rejected" => "flash.incident_rejected",
        _ => return None,
    })
}

#[derive(Template)]
#[template(path = "incident_show.html")]
struct CasePage {
    l: Layout,
    p: CaseParts,
    can: CaseCan,
    ch: CaseChoices,
    /// The first submission, for the confirmation after filing.
    filed: Option<SubRow>,
    retry: ActRetry,
    max_mb: usize,
}

#[derive(Debug, Deserialize, Default)]
struct DoneQuery {
    done: Option<String>,
}

async fn show(
    State(state): State<AppState>,
    s: SignedIn,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Result<Response, PageError> {
    case_page(&state, &s, &id, q.done.as_deref(), ActRetry::default()).await
}

/// The case file page; `retry` carries a refused form's errors and input back to it.
pub(super) async fn case_page(
    state: &AppState,
    s: &SignedIn,
    id: &str,
    done: Option<&str>,
    retry: ActRetry,
) -> Result<Response, PageError> {
    let lang = s.ctx.lang;
    let actor = s.actor();
    let cf = state.services.incidents().case_file(actor, id).await.page(lang)?;
    let entity = cf.incident.entity_id.clone();
    let can = CaseCan {
        handle: handles(actor, &entity),
        contribute: policy::check(actor, Resource::Incident, Action::Contribute, Some(&entity)).is_ok(),
    };
    let ch = case_choices(state, s, &cf, &can).await?;
    let p = case_parts(state, s, &cf).await?;
    let mut l = Layout::signed_in(s, "incidents.title", "incidents", &format!("/incidents/{id}"))
        .with_title(format!("{} · {}", p.c.reference, p.c.title));
    if let Some(key) = done.and_then(done_key) {
        l = l.with_flash(key);
    }
    let filed = (done == Some("filed") || done == Some("filed_no_attachment"))
        .then(|| p.subs.first().cloned())
        .flatten();
    let status = retry.status();
    let mut res = render(CasePage {
        l,
        p,
        can,
        ch,
        filed,
        retry,
        max_mb: MAX_ATTACHMENT / 1024 / 1024,
    });
    *res.status_mut() = status;
    Ok(res)
}

#[derive(Template)]
#[template(path = "incident_print.html")]
struct PrintPage {
    l: Layout,
    p: CaseParts,
    handler: bool,
    generated: String,
    generated_by: String,
}

async fn print(State(state): State<AppState>, s: SignedIn, Path(id): Path<String>) -> Result<Response, PageError> {
    let lang = s.ctx.lang;
    let cf = state.services.incidents().case_file(s.actor(), &id).await.page(lang)?;
    let handler = handles(s.actor(), &cf.incident.entity_id);
    let p = case_parts(&state, &s, &cf).await?;
    let l = Layout::signed_in(&s, "print.title", "incidents", &format!("/incidents/{id}/print"))
        .with_title(format!("{} · {}", p.c.reference, p.c.title));
    let generated = local_display(state.services.now(), &p.c.zone);
    let page = PrintPage {
        l,
        handler,
        generated,
        generated_by: s.info.user.name.clone(),
        p,
    };
    let mut res = render(page);
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
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
    fn observable_errors_name_their_line() {
        let t = Tr::new(Lang::Es);
        let f = ReportForm {
            observables: "198.51.100.7\n\n   \nnot an indicator\n".into(),
            ..Default::default()
        };
        let (inputs, lines) = f.observable_lines();
        assert_eq!(inputs.len(), 2);
        assert_eq!(lines, vec![1, 4]);
        let errors = form_errors(
            t,
            vec![FieldError::new(
                "observables[1]",
                "`not an indicator`: cannot tell what kind of observable this is: x",
            )],
            &lines,
        );
        let msg = errors.get("observables").unwrap_or_default();
        assert!(msg.starts_with("línea 4: «not an indicator»"), "{msg}");
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
