//! The guided report form: a blank form in the entity's zone, and the intake of a filed report (multipart,
//! with an optional first attachment), its refusals shown next to their fields.

use super::uploads::{read_multipart, Upload};
use super::vocab::{pap_choices, rsit_groups, severity_options, tlp_choices, Choice, ClassGroup};
use crate::auth::SignedIn;
use crate::i18n::Tr;
use crate::pages::kit::{
    entity_picker, non_empty, render, EntityNames, FormErrors, Layout, Opt, OrPage, PageError, DEFAULT_ZONE,
};
use crate::AppState;
use askama::Template;
use axum::extract::{Multipart, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use baluarte_core::incident::{Pap, Severity};
use baluarte_core::model::Tlp;
use baluarte_core::policy::{Action, Resource};
use baluarte_core::service::access;
use baluarte_core::service::{ObservableInput, ReportInput, MAX_ATTACHMENT};
use baluarte_core::time;
use baluarte_core::FieldCode;
use baluarte_core::{CoreError, FieldError};
use serde::Deserialize;

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

    /// The report for `entity_id` (the entity the form acts for: [`access::entity_for`]).
    fn input(&self, entity_id: String) -> Result<(ReportInput, Vec<usize>), CoreError> {
        let mut errors = Vec::new();
        let (class, kind) = self.rsit.split_once('/').unwrap_or(("", ""));
        let severity = Severity::parse(self.severity.trim());
        let tlp = Tlp::parse(self.tlp.trim());
        let pap = Pap::parse(self.pap.trim());
        if severity.is_none() {
            errors.push(FieldError::new("severity", FieldCode::Required));
        }
        if tlp.is_none() {
            errors.push(FieldError::new("tlp", FieldCode::Required));
        }
        if pap.is_none() {
            errors.push(FieldError::new("pap", FieldCode::Required));
        }
        let (observables, lines) = self.observable_lines();
        if !errors.is_empty() {
            return Err(CoreError::Invalid(errors));
        }
        let input = ReportInput {
            entity_id: Some(entity_id),
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
    let mut out = FormErrors::default();
    let mut obs: Vec<String> = Vec::new();
    let mut rsit = false;
    for e in errors {
        if let Some(i) = e
            .field
            .strip_prefix("observables[")
            .and_then(|r| r.strip_suffix(']'))
            .and_then(|n| n.parse::<usize>().ok())
        {
            let line = lines.get(i).copied().unwrap_or(i + 1);
            obs.push(format!("{} {line}: {}", t.t("report.line"), t.error(&e)));
            continue;
        }
        match e.field.as_str() {
            "rsit_class" | "rsit_type" => rsit = true,
            "observables" => obs.push(t.error(&e)),
            _ => out.push_text(e.field.clone(), t.error(&e)),
        }
    }
    if rsit {
        out.push_text("rsit", t.t("report.rsit_invalid"));
    }
    if !obs.is_empty() {
        out.push_text("observables", obs.join(" · "));
    }
    out
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
pub(super) struct NewQuery {
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

pub(super) async fn new_form(
    State(state): State<AppState>,
    s: SignedIn,
    Query(q): Query<NewQuery>,
) -> Result<Response, PageError> {
    let lang = s.ctx.lang;
    let actor = s.actor();
    let entity_id = access::entity_for(actor, q.entity_id.as_deref());
    access::permits(actor, Resource::Incident, Action::Create, Some(&entity_id)).page(lang)?;
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
pub(super) async fn file_report(State(state): State<AppState>, s: SignedIn, mp: Multipart) -> Response {
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
    // The form shows back the entity the report is filed for: the actor's own unless it works across
    // entities.
    form.entity_id = access::entity_for(actor, Some(&form.entity_id));
    let page_err = |e: PageError| e.into_response();
    if let Some(u) = &upload {
        if u.bytes.len() > MAX_ATTACHMENT {
            let errors = FormErrors::one(
                t,
                FieldError::new("attachment", FieldCode::FileTooLarge)
                    .with("size", u.bytes.len())
                    .with("max_mib", MAX_ATTACHMENT / 1024 / 1024),
            );
            return Err(report_page(state, s, form, String::new(), errors)
                .await
                .unwrap_or_else(page_err));
        }
    }
    let (input, lines) = match form.input(form.entity_id.clone()) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observable_errors_name_their_line() {
        let t = Tr::new(crate::i18n::Lang::Es);
        let f = ReportForm {
            observables: "198.51.100.7\n\n   \nnot an indicator\n".into(),
            ..Default::default()
        };
        let (inputs, lines) = f.observable_lines();
        assert_eq!(inputs.len(), 2);
        assert_eq!(lines, vec![1, 4]);
        let errors = form_errors(
            t,
            vec![FieldError::new("observables[1]", FieldCode::ObservableUnrecognised).with("value", "not an indicator")],
            &lines,
        );
        let msg = errors.get("observables").unwrap_or_default();
        assert!(msg.starts_with("línea 4: «not an indicator»"), "{msg}");
    }
}
