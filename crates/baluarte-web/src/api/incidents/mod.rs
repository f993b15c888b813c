//! Incidents over the API: reports as the reporting side files and follows them (`reports`), the
//! national CSIRT's handling, campaigns, reporting deadlines, and STIX sharing.

mod campaigns;
mod deadlines;
mod handling;
mod reports;
mod sharing;

use crate::AppState;
use axum::extract::DefaultBodyLimit;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

/// The routes of this capability and their OpenAPI document.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(reports::list_incidents, reports::file_report))
        .routes(routes!(reports::board))
        .routes(routes!(reports::case_file))
        .routes(routes!(reports::submission_report))
        .routes(routes!(reports::submission_receipt))
        .routes(routes!(reports::submit_stage))
        .routes(routes!(reports::answer_request))
        .routes(routes!(reports::add_attachment).layer(DefaultBodyLimit::max(reports::ATTACHMENT_BODY_LIMIT)))
        .routes(routes!(reports::get_attachment))
        .routes(routes!(reports::lookup_observable))
        .routes(routes!(reports::public_key))
        .routes(routes!(handling::set_status))
        .routes(routes!(handling::triage))
        .routes(routes!(handling::assign))
        .routes(routes!(handling::add_note))
        .routes(routes!(handling::add_task))
        .routes(routes!(handling::set_task_done))
        .routes(routes!(handling::request_info))
        .routes(routes!(handling::request_stage))
        .routes(routes!(handling::close))
        .routes(routes!(handling::reject))
        .routes(routes!(handling::merge))
        .routes(routes!(handling::set_campaign))
        .routes(routes!(campaigns::list_campaigns, campaigns::create_campaign))
        .routes(routes!(campaigns::get_campaign))
        .routes(routes!(deadlines::list_profiles))
        .routes(routes!(deadlines::list_assignments, deadlines::create_assignment))
        .routes(routes!(deadlines::delete_assignment))
        .routes(routes!(sharing::incident_stix))
        .routes(routes!(sharing::campaign_stix))
        .routes(routes!(sharing::import).layer(DefaultBodyLimit::max(sharing::IMPORT_LIMIT)))
}
