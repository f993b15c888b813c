//! The acts on an incident: each is one small form of the case file that posts here and comes back to
//! the case file with a confirmation, or with its errors next to its fields and its input kept.

use super::case::case_page;
use crate::auth::SignedIn;
use crate::pages::kit::{FormErrors, OrPage, PageError};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use baluarte_core::incident::{Severity, Status};
use baluarte_core::model::{PageRequest, Tlp};
use baluarte_core::service::{CloseInput, IncidentFilter, StageInput, TriageInput};
use baluarte_core::FieldCode;
use baluarte_core::{CoreError, FieldError};

// ----- a refused form, shown again -----

/// A form of the case file that the service refused: its name, errors and input, or the conflict that
/// stopped it.
#[derive(Debug, Clone, Default)]
pub(super) struct ActRetry {
    pub form: String,
    pub errors: FormErrors,
    pub values: Vec<(String, String)>,
    pub problem: Option<String>,
}

impl ActRetry {
    pub fn is(&self, form: &str) -> bool {
        self.form == form
    }
    pub fn err(&self, form: &str, field: &str) -> Option<&str> {
        if self.is(form) {
            self.errors.get(field)
        } else {
            None
        }
    }
    pub fn has(&self, form: &str, field: &str) -> bool {
        self.err(form, field).is_some()
    }
    pub fn val(&self, form: &str, field: &str) -> &str {
        if !self.is(form) {
            return "";
        }
        self.values
            .iter()
            .find(|(k, _)| k == field)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }
    pub fn status(&self) -> StatusCode {
        if self.problem.is_some() {
            StatusCode::CONFLICT
        } else if self.errors.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        }
    }
}

fn value<'a>(pairs: &'a [(String, String)], name: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

/// Back to the case file: with a confirmation on success, or with the form's errors kept.
#[allow(clippy::too_many_arguments)]
pub(super) async fn after(
    state: &AppState,
    s: &SignedIn,
    id: &str,
    form: &str,
    values: Vec<(String, String)>,
    result: Result<(), CoreError>,
    done: &str,
    anchor: &str,
) -> Result<Response, PageError> {
    let retry = match result {
        Ok(()) => return Ok(Redirect::to(&format!("/incidents/{id}?done={done}#{anchor}")).into_response()),
        Err(CoreError::Invalid(errors)) => ActRetry {
            form: form.to_string(),
            errors: FormErrors::new(s.tr(), &errors),
            values,
            problem: None,
        },
        Err(CoreError::Conflict(msg)) => ActRetry {
            form: form.to_string(),
            errors: FormErrors::default(),
            values,
            problem: Some(msg),
        },
        Err(e) => return Err(e).page(s.ctx.lang),
    };
    case_page(state, s, id, None, retry).await
}

type Pairs = Form<Vec<(String, String)>>;

pub(super) async fn set_status(
    State(state): State<AppState>,
    s: SignedIn,
    Path(id): Path<String>,
    Form(f): Pairs,
) -> Result<Response, PageError> {
    let result = match Status::parse(value(&f, "status")) {
        Some(st) => state
            .services
            .incidents()
            .set_status(s.actor(), &id, st)
            .await
            .map(|_| ()),
        None => Err(CoreError::invalid("status", FieldCode::Required)),
    };
    after(&state, &s, &id, "status", f, result, "status", "handling").await
}

pub(super) async fn triage(
    State(state): State<AppState>,
    s: SignedIn,
    Path(id): Path<String>,
    Form(f): Pairs,
) -> Result<Response, PageError> {
    let (class, kind) = value(&f, "rsit").split_once('/').unwrap_or(("", ""));
    let result = match (Severity::parse(value(&f, "severity")), Tlp::parse(value(&f, "tlp"))) {
        (Some(severity), Some(tlp)) => {
            let input = TriageInput {
                rsit_class: class.to_string(),
                rsit_type: kind.to_string(),
                severity,
                tlp,
            };
            state
                .services
                .incidents()
                .triage(s.actor(), &id, input)
                .await
                .map(|_| ())
        }
        (None, _) => Err(CoreError::invalid("severity", FieldCode::Required)),
        (_, None) => Err(CoreError::invalid("tlp", FieldCode::Required)),
    };
    let result = result.map_err(|e| match e {
        // The class and the type are one select on the page.
        CoreError::Invalid(errors) => CoreError::Invalid(
            errors
                .into_iter()
                .map(|e| match e.field.as_str() {
                    "rsit_class" | "rsit_type" => e.renamed("rsit"),
                    _ => e,
                })
                .collect(),
        ),
        other => other,
    });
    after(&state, &s, &id, "triage", f, result, "triaged", "handling").await
}

pub(super) async fn assign(
    State(state): State<AppState>,
    s: SignedIn,
    Path(id): Path<String>,
    Form(f): Pairs,
) -> Result<Response, PageError> {
    let who = value(&f, "assignee_id").trim();
    let who = (!who.is_empty()).then_some(who);
    let result = state.services.incidents().assign(s.actor(), &id, who).await.map(|_| ());
    after(&state, &s, &id, "assign", f.clone(), result, "assigned", "handling").await
}

pub(super) async fn add_task(
    State(state): State<AppState>,
    s: SignedIn,
    Path(id): Path<String>,
    Form(f): Pairs,
) -> Result<Response, PageError> {
    let result = state
        .services
        .incidents()
        .add_task(s.actor(), &id, value(&f, "title"), None)
        .await
        .map(|_| ());
    after(&state, &s, &id, "task", f.clone(), result, "task_added", "tasks").await
}

pub(super) async fn task_done(
    State(state): State<AppState>,
    s: SignedIn,
    Path((id, task)): Path<(String, String)>,
    Form(f): Pairs,
) -> Result<Response, PageError> {
    let done = value(&f, "done") == "1";
    let result = state
        .services
        .incidents()
        .set_task_done(s.actor(), &id, &task, done)
        .await;
    after(&state, &s, &id, "task", f, result, "task_done", "tasks").await
}

pub(super) async fn add_note(
    State(state): State<AppState>,
    s: SignedIn,
    Path(id): Path<String>,
    Form(f): Pairs,
) -> Result<Response, PageError> {
    let shared = !value(&f, "shared").is_empty();
    let result = state
        .services
        .incidents()
        .add_note(s.actor(), &id, value(&f, "body"), shared)
        .await;
    after(&state, &s, &id, "note", f.clone(), result, "note_added", "timeline").await
}

pub(super) async fn request_info(
    State(state): State<AppState>,
    s: SignedIn,
    Path(id): Path<String>,
    Form(f): Pairs,
) -> Result<Response, PageError> {
    let result = state
        .services
        .incidents()
        .request_info(s.actor(), &id, value(&f, "question"))
        .await
        .map(|_| ());
    after(&state, &s, &id, "request", f.clone(), result, "requested", "requests").await
}

pub(super) async fn answer(
    State(state): State<AppState>,
    s: SignedIn,
    Path((id, rid)): Path<(String, String)>,
    Form(f): Pairs,
) -> Result<Response, PageError> {
    let result = state
        .services
        .incidents()
        .answer_request(s.actor(), &id, &rid, value(&f, "answer"))
        .await;
    let form = format!("answer-{rid}");
    after(&state, &s, &id, &form, f.clone(), result, "answered", "requests").await
}

pub(super) async fn request_stage(
    State(state): State<AppState>,
    s: SignedIn,
    Path(id): Path<String>,
    Form(f): Pairs,
) -> Result<Response, PageError> {
    let result = state
        .services
        .incidents()
        .request_stage(s.actor(), &id, value(&f, "stage_id"))
        .await;
    after(
        &state,
        &s,
        &id,
        "request_stage",
        f.clone(),
        result,
        "stage_requested",
        "deadlines",
    )
    .await
}

/// A whole number typed in a form: empty is none, anything else not a number is -1 (refused by the
/// service with the field named).
fn count(v: &str) -> Option<i64> {
    let v = v.trim();
    (!v.is_empty()).then(|| v.parse::<i64>().unwrap_or(-1))
}

pub(super) async fn send_stage(
    State(state): State<AppState>,
    s: SignedIn,
    Path(id): Path<String>,
    Form(f): Pairs,
) -> Result<Response, PageError> {
    let minutes = count(value(&f, "interruption_minutes"));
    let people = count(value(&f, "people_affected"));
    let mut errors = Vec::new();
    for (field, v) in [("interruption_minutes", minutes), ("people_affected", people)] {
        if v.is_some_and(|n| n < 0) {
            errors.push(FieldError::new(field, FieldCode::NotCount));
        }
    }
    let result = if errors.is_empty() {
        let input = StageInput {
            stage_id: value(&f, "stage_id").to_string(),
            summary: value(&f, "summary").to_string(),
            severity: Severity::parse(value(&f, "severity")),
            interruption_minutes: minutes,
            people_affected: people,
        };
        state
            .services
            .incidents()
            .submit_stage(s.actor(), &id, input)
            .await
            .map(|_| ())
    } else {
        Err(CoreError::Invalid(errors))
    };
    after(&state, &s, &id, "stage", f.clone(), result, "stage_sent", "submissions").await
}

/// The incident named by a reference (`BAL-2026-000123`) or an id.
async fn resolve_incident(state: &AppState, s: &SignedIn, into: &str) -> Result<String, CoreError> {
    let into = into.trim();
    if into.is_empty() {
        return Err(CoreError::invalid("into", FieldCode::Required));
    }
    if !into.to_ascii_uppercase().starts_with("BAL-") {
        return Ok(into.to_string());
    }
    let filter = IncidentFilter {
        status: Some("all".into()),
        q: Some(into.to_string()),
        ..Default::default()
    };
    let page = state
        .services
        .incidents()
        .list_incidents(s.actor(), &filter, PageRequest::new(Some(1), Some(20)))
        .await?;
    page.items
        .iter()
        .find(|i| i.incident.reference.eq_ignore_ascii_case(into))
        .map(|i| i.incident.id.clone())
        .ok_or_else(|| CoreError::invalid("into", FieldCode::UnknownIncident))
}

pub(super) async fn merge(
    State(state): State<AppState>,
    s: SignedIn,
    Path(id): Path<String>,
    Form(f): Pairs,
) -> Result<Response, PageError> {
    let result = match resolve_incident(&state, &s, value(&f, "into")).await {
        Ok(into) => state
            .services
            .incidents()
            .merge_incident(s.actor(), &id, &into)
            .await
            .map(|_| ()),
        Err(e) => Err(e),
    };
    after(&state, &s, &id, "merge", f.clone(), result, "merged", "handling").await
}

pub(super) async fn campaign(
    State(state): State<AppState>,
    s: SignedIn,
    Path(id): Path<String>,
    Form(f): Pairs,
) -> Result<Response, PageError> {
    let c = value(&f, "campaign_id").trim();
    let c = (!c.is_empty()).then_some(c);
    let result = state
        .services
        .incidents()
        .set_campaign(s.actor(), &id, c)
        .await
        .map(|_| ());
    after(&state, &s, &id, "campaign", f.clone(), result, "campaign", "handling").await
}

pub(super) async fn close(
    State(state): State<AppState>,
    s: SignedIn,
    Path(id): Path<String>,
    Form(f): Pairs,
) -> Result<Response, PageError> {
    let input = CloseInput {
        resolution: value(&f, "resolution").to_string(),
        lessons_learned: value(&f, "lessons_learned").to_string(),
    };
    let result = state
        .services
        .incidents()
        .close_incident(s.actor(), &id, input)
        .await
        .map(|_| ());
    after(&state, &s, &id, "close", f, result, "closed", "top").await
}

pub(super) async fn reject(
    State(state): State<AppState>,
    s: SignedIn,
    Path(id): Path<String>,
    Form(f): Pairs,
) -> Result<Response, PageError> {
    let result = state
        .services
        .incidents()
        .reject_incident(s.actor(), &id, value(&f, "reason"))
        .await
        .map(|_| ());
    after(&state, &s, &id, "reject", f.clone(), result, "rejected", "top").await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_retry_belongs_to_its_form() {
        let r = ActRetry {
            form: "close".into(),
            errors: FormErrors::one(
                crate::i18n::Tr::default(),
                FieldError::new("resolution", FieldCode::Required),
            ),
            values: vec![("lessons_learned".into(), "parchar".into())],
            problem: None,
        };
        assert!(r.has("close", "resolution"));
        assert!(!r.has("reject", "resolution"));
        assert_eq!(r.val("close", "lessons_learned"), "parchar");
        assert_eq!(r.val("reject", "lessons_learned"), "");
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
}
