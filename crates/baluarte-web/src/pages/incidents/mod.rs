//! Incidents: the guided report form and its intake, the queue (and its CSV export), the case file and
//! its printable report, the acts on an incident, downloads and uploads; the coordinator's board, the
//! deadline profiles, campaigns, STIX sharing and the indicator search.
//!
//! Uploads are multipart, which the CSRF middleware cannot read (it parses urlencoded forms and caps
//! bodies at the form limit). They are mounted beside it ([`upload_routes`]) with their own body limit;
//! the same session loader resolves who is calling, and the handler checks the `_csrf` field itself: the
//! token must be the first part of the body, before any file is read (see `uploads`).

mod actions;
mod board;
mod campaigns;
mod case;
mod case_parts;
mod deadlines;
mod files;
mod observables;
mod print;
mod queue;
mod report;
mod sharing;
mod uploads;
mod vocab;

use crate::AppState;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use baluarte_core::service::MAX_ATTACHMENT;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/incidents", get(queue::queue))
        .route("/incidents.csv", get(queue::queue_csv))
        .route("/incidents/new", get(report::new_form))
        .route("/incidents/{id}", get(case::show))
        .route("/incidents/{id}/print", get(print::print))
        .route("/incidents/{id}/status", post(actions::set_status))
        .route("/incidents/{id}/triage", post(actions::triage))
        .route("/incidents/{id}/assign", post(actions::assign))
        .route("/incidents/{id}/tasks", post(actions::add_task))
        .route("/incidents/{id}/tasks/{task}", post(actions::task_done))
        .route("/incidents/{id}/notes", post(actions::add_note))
        .route("/incidents/{id}/requests", post(actions::request_info))
        .route("/incidents/{id}/requests/{rid}/answer", post(actions::answer))
        .route("/incidents/{id}/request-stage", post(actions::request_stage))
        .route("/incidents/{id}/stages", post(actions::send_stage))
        .route("/incidents/{id}/merge", post(actions::merge))
        .route("/incidents/{id}/campaign", post(actions::campaign))
        .route("/incidents/{id}/close", post(actions::close))
        .route("/incidents/{id}/reject", post(actions::reject))
        .route("/incidents/{id}/submissions/{sid}/report", get(files::report_file))
        .route("/incidents/{id}/submissions/{sid}/receipt", get(files::receipt_file))
        .route("/incidents/{id}/attachments/{aid}", get(files::attachment_file))
        .merge(board::routes())
        .merge(deadlines::routes())
        .merge(campaigns::routes())
        .merge(observables::routes())
        .merge(sharing::routes())
}

/// Multipart posts: the report form (with its optional first attachment), attachments, and the import of
/// a partner's STIX bundle.
pub fn upload_routes() -> Router<AppState> {
    Router::new()
        .route("/incidents", post(report::file_report))
        .route("/incidents/{id}/attachments", post(uploads::upload_attachment))
        .layer(DefaultBodyLimit::max(MAX_ATTACHMENT + 64 * 1024))
        .merge(sharing::upload_routes())
}
