//! The acts on an incident: each is one small form of the case file that posts here and comes back to
//! the case file with a confirmation, or with its errors next to its fields and its input kept. Also the
//! downloads (report, signed receipt, attachments) and the multipart uploads.
//!
//! Uploads are multipart, which the CSRF middleware cannot read (it parses urlencoded forms and caps
//! bodies at the form limit). They are mounted outside it ([`upload_routes`]) with their own body limit,
//! and check the session and the `_csrf` field themselves: the token must be the first part of the body,
//! before any file is read.

use super::incidents::{case_page, file_report};
use super::{error_page, FormErrors, OrPage, PageError};
use crate::auth::{PageSession, SignedIn, CSRF_FIELD, LANG_COOKIE, SESSION_COOKIE};
use crate::i18n::{Lang, Tr};
use crate::AppState;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use axum_extra::extract::cookie::CookieJar;
use baluarte_core::incident::{Severity, Status};
use baluarte_core::model::{PageRequest, Tlp};
use baluarte_core::service::{CloseInput, IncidentFilter, SessionStage, StageInput, TriageInput, MAX_ATTACHMENT};
use baluarte_core::{CoreError, FieldError};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/incidents/{id}/status", post(set_status))
        .route("/incidents/{id}/triage", post(triage))
        .route("/incidents/{id}/assign", post(assign))
        .route("/incidents/{id}/tasks", post(add_task))
        .route("/incidents/{id}/tasks/{task}", post(task_done))
        .route("/incidents/{id}/notes", post(add_note))
        .route("/incidents/{id}/requests", post(request_info))
        .route("/incidents/{id}/requests/{rid}/answer", post(answer))
        .route("/incidents/{id}/request-stage", post(request_stage))
        .route("/incidents/{id}/stages", post(send_stage))
        .route("/incidents/{id}/merge", post(merge))
        .route("/incidents/{id}/campaign", post(campaign))
        .route("/incidents/{id}/close", post(close))
        .route("/incidents/{id}/reject", post(reject))
        .route("/incidents/{id}/submissions/{sid}/report", get(report_file))
        .route("/incidents/{id}/submissions/{sid}/receipt", get(receipt_file))
        .route("/incidents/{id}/attachments/{aid}", get(attachment_file))
}

/// Multipart posts: the report form (with its optional first attachment) and attachments.
pub fn upload_routes() -> Router<AppState> {
    Router::new()
        .route("/incidents", post(file_report))
        .route("/incidents/{id}/attachments", post(upload_attachment))
        .layer(DefaultBodyLimit::max(MAX_ATTACHMENT + 64 * 1024))
}

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
async fn after(
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
            errors: FormErrors(errors),
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

async fn set_status(
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
        None => Err(CoreError::invalid("status", "is required")),
    };
    after(&state, &s, &id, "status", f, result, "status", "handling").await
}

async fn triage(
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
        (None, _) => Err(CoreError::invalid("severity", "is required")),
        (_, None) => Err(CoreError::invalid("tlp", "is required")),
    };
    let result = result.map_err(|e| match e {
        // The class and the type are one select on the page.
        CoreError::Invalid(errors) => CoreError::Invalid(
            errors
                .into_iter()
                .map(|e| match e.field.as_str() {
                    "rsit_class" | "rsit_type" => FieldError::new("rsit", e.message),
                    _ => e,
                })
                .collect(),
        ),
        other => other,
    });
    after(&state, &s, &id, "triage", f, result, "triaged", "handling").await
}

async fn assign(
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

async fn add_task(
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

async fn task_done(
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

async fn add_note(
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

async fn request_info(
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

async fn answer(
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

async fn request_stage(
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

async fn send_stage(
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
            errors.push(FieldError::new(field, "must be a whole number of zero or more"));
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
        return Err(CoreError::invalid("into", "is required"));
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
        .ok_or_else(|| CoreError::invalid("into", "no such incident"))
}

async fn merge(
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

async fn campaign(
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

async fn close(
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

async fn reject(
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

// ----- downloads -----

/// `attachment; filename="…"` with an ASCII fallback and the exact name in `filename*` (RFC 6266).
fn disposition(filename: &str) -> HeaderValue {
    let ascii: String = filename
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let exact: String = url::form_urlencoded::byte_serialize(filename.as_bytes())
        .collect::<String>()
        .replace('+', "%20");
    HeaderValue::from_str(&format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{exact}"))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

pub(super) fn download(body: Vec<u8>, content_type: &'static str, filename: &str) -> Response {
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CONTENT_DISPOSITION, disposition(filename));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// `BAL-2026-000123-initial`, from the receipt, to name the two files of a submission.
fn submission_stem(receipt: &str, sid: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(receipt).unwrap_or_default();
    match (v["reference"].as_str(), v["stage_id"].as_str()) {
        (Some(r), Some(st)) => format!("{r}-{st}"),
        _ => sid.to_string(),
    }
}

/// The exact report bytes of a submission (`which` = "report") or its signed receipt, as a download.
async fn submission_file(
    state: &AppState,
    s: &SignedIn,
    id: &str,
    sid: &str,
    which: &str,
) -> Result<Response, PageError> {
    let (report, receipt) = state
        .services
        .incidents()
        .submission_files(s.actor(), id, sid)
        .await
        .page(s.ctx.lang)?;
    let name = format!("{}-{which}.json", submission_stem(&receipt, sid));
    let bytes = if which == "report" { report } else { receipt };
    Ok(download(bytes.into_bytes(), "application/json", &name))
}

async fn report_file(
    State(state): State<AppState>,
    s: SignedIn,
    Path((id, sid)): Path<(String, String)>,
) -> Result<Response, PageError> {
    submission_file(&state, &s, &id, &sid, "report").await
}

async fn receipt_file(
    State(state): State<AppState>,
    s: SignedIn,
    Path((id, sid)): Path<(String, String)>,
) -> Result<Response, PageError> {
    submission_file(&state, &s, &id, &sid, "receipt").await
}

async fn attachment_file(
    State(state): State<AppState>,
    s: SignedIn,
    Path((id, aid)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let (att, content) = state
        .services
        .incidents()
        .attachment(s.actor(), &id, &aid)
        .await
        .page(s.ctx.lang)?;
    Ok(download(content, "application/octet-stream", &att.filename))
}

// ----- multipart uploads -----

/// A file sent with a form.
#[derive(Debug, Clone)]
pub(super) struct Upload {
    pub filename: String,
    pub media_type: String,
    pub bytes: Vec<u8>,
}

/// The signed-in person of an upload, found as [`crate::auth::load_session`] finds it for other pages.
pub(super) async fn upload_session(state: &AppState, jar: &CookieJar) -> Result<SignedIn, Response> {
    let secret = jar.get(SESSION_COOKIE).map(|c| c.value().to_string());
    let info = match &secret {
        Some(sec) => state.services.accounts().session(sec).await.ok(),
        None => None,
    };
    let Some(info) = info else {
        return Err(Redirect::to("/login").into_response());
    };
    match info.stage {
        SessionStage::Full => {}
        SessionStage::Totp => return Err(Redirect::to("/login/totp").into_response()),
        SessionStage::Enrol => return Err(Redirect::to("/account/totp").into_response()),
    }
    let lang = Lang::parse(&info.user.lang)
        .or_else(|| jar.get(LANG_COOKIE).and_then(|c| Lang::parse(c.value())))
        .unwrap_or_default();
    let unread = state
        .services
        .notifications()
        .unread_notifications(&info.actor)
        .await
        .ok();
    let ctx = PageSession {
        session: Some(info.clone()),
        secret,
        csrf: info.csrf.clone(),
        lang,
        unread,
    };
    Ok(SignedIn { info, ctx })
}

/// The text fields and the file of a multipart form. The first part must be the session's `_csrf`
/// token; nothing else is read before it matches.
pub(super) async fn read_multipart(
    mut mp: Multipart,
    s: &SignedIn,
) -> Result<(Vec<(String, String)>, Option<Upload>), Response> {
    let lang = s.ctx.lang;
    let forged = || error_page(lang, StatusCode::FORBIDDEN, "error.csrf");
    let bad = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            error_page(lang, StatusCode::PAYLOAD_TOO_LARGE, "error.file_too_large")
        } else {
            error_page(lang, StatusCode::BAD_REQUEST, "error.invalid")
        }
    };
    let mut pairs = Vec::new();
    let mut upload = None;
    let mut checked = false;
    while let Some(field) = mp.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or_default().to_string();
        if !checked {
            if name != CSRF_FIELD || field.file_name().is_some() {
                return Err(forged());
            }
            let sent = field.text().await.map_err(bad)?;
            if !baluarte_core::crypto::same_secret(&sent, &s.ctx.csrf) {
                return Err(forged());
            }
            checked = true;
            continue;
        }
        match field.file_name().map(str::to_string) {
            Some(filename) => {
                let media_type = field.content_type().unwrap_or("application/octet-stream").to_string();
                let bytes = field.bytes().await.map_err(bad)?;
                // A file input left empty still sends a part, with no name and no content.
                if filename.is_empty() && bytes.is_empty() {
                    continue;
                }
                upload = Some(Upload {
                    filename,
                    media_type,
                    bytes: bytes.to_vec(),
                });
            }
            None => pairs.push((name, field.text().await.map_err(bad)?)),
        }
    }
    if !checked {
        return Err(forged());
    }
    Ok((pairs, upload))
}

async fn upload_attachment(
    State(state): State<AppState>,
    jar: CookieJar,
    Path(id): Path<String>,
    mp: Multipart,
) -> Response {
    let s = match upload_session(&state, &jar).await {
        Ok(s) => s,
        Err(res) => return res,
    };
    let (pairs, upload) = match read_multipart(mp, &s).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    let result = match upload {
        Some(u) => state
            .services
            .incidents()
            .add_attachment(s.actor(), &id, &u.filename, &u.media_type, &u.bytes)
            .await
            .map(|_| ()),
        None => Err(CoreError::invalid(
            "file",
            Tr::new(s.ctx.lang).t("attach.choose_file").to_string(),
        )),
    };
    match after(&state, &s, &id, "attach", pairs, result, "attached", "attachments").await {
        Ok(res) => res,
        Err(e) => e.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn download_names_keep_utf8_and_stay_in_ascii_headers() {
        let h = disposition("informe técnico \"final\".pdf");
        let text = h.to_str().unwrap_or_default();
        assert!(
            text.starts_with("attachment; filename=\"informe t_cnico _final_.pdf\""),
            "{text}"
        );
        assert!(
            text.contains("filename*=UTF-8''informe%20t%C3%A9cnico%20%22final%22.pdf"),
            "{text}"
        );
    }

    #[test]
    fn a_retry_belongs_to_its_form() {
        let r = ActRetry {
            form: "close".into(),
            errors: FormErrors(vec![FieldError::new("resolution", "is required")]),
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
