//! The JSON API under `/api/v1`. One file per endpoint group; the OpenAPI 3.1 document is generated
//! from the handlers' annotations and served at `/api/v1/openapi.json` (a test keeps the committed
//! copy `openapi.json` in sync).

mod audit;
mod campaigns;
mod deadlines;
mod handling;
mod incidents;
mod notices;
mod registry;
mod session;
mod sharing;
mod tokens;
mod users;

use crate::AppState;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use std::sync::Arc;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoParams, Modify, OpenApi};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

/// JSON bodies are small; anything larger is refused with 413 before parsing.
pub const JSON_LIMIT: usize = 1024 * 1024;

#[derive(OpenApi)]
#[openapi(
    info(title = "Baluarte API", version = "1", description = "National cybersecurity coordination platform. Errors are RFC 9457 problem+json; lists paginate with `page` and `per_page`."),
    servers((url = "/api/v1")),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    components(schemas(crate::error::Problem))
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API token (blt_…) or a session token (bls_…) from POST /session",
                    ))
                    .build(),
            ),
        );
    }
}

/// Page parameters shared by every list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// 1-based page number.
    pub page: Option<i64>,
    /// Items per page, 1 to 200 (default 50).
    pub per_page: Option<i64>,
}

impl PageParams {
    pub fn request(&self) -> baluarte_core::model::PageRequest {
        baluarte_core::model::PageRequest::new(self.page, self.per_page)
    }
}

/// The routes and their OpenAPI document.
pub fn routes() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(session::login, session::logout))
        .routes(routes!(session::me, session::update_me))
        .routes(routes!(session::change_password))
        .routes(routes!(session::begin_totp))
        .routes(routes!(session::confirm_totp))
        .routes(routes!(registry::list_sectors, registry::create_sector))
        .routes(routes!(registry::list_entities, registry::create_entity))
        .routes(routes!(registry::get_entity, registry::update_entity))
        .routes(routes!(registry::deactivate_entity))
        .routes(routes!(registry::reactivate_entity))
        .routes(routes!(registry::list_entity_contacts, registry::create_contact))
        .routes(routes!(registry::contact_directory))
        .routes(routes!(registry::get_contact, registry::update_contact))
        .routes(routes!(registry::deactivate_contact))
        .routes(routes!(users::list_users, users::create_user))
        .routes(routes!(users::get_user, users::update_user))
        .routes(routes!(users::deactivate_user))
        .routes(routes!(users::reactivate_user))
        .routes(routes!(users::reset_password))
        .routes(routes!(tokens::list_tokens, tokens::create_token))
        .routes(routes!(tokens::get_token))
        .routes(routes!(tokens::revoke_token))
        .routes(routes!(audit::list_audit))
        .routes(routes!(audit::object_history))
        .routes(routes!(audit::verify))
        .routes(routes!(incidents::list_incidents, incidents::file_report))
        .routes(routes!(incidents::board))
        .routes(routes!(incidents::case_file))
        .routes(routes!(incidents::submission_report))
        .routes(routes!(incidents::submission_receipt))
        .routes(routes!(incidents::submit_stage))
        .routes(routes!(incidents::answer_request))
        .routes(routes!(incidents::add_attachment).layer(DefaultBodyLimit::max(incidents::ATTACHMENT_BODY_LIMIT)))
        .routes(routes!(incidents::get_attachment))
        .routes(routes!(incidents::lookup_observable))
        .routes(routes!(incidents::public_key))
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
        .routes(routes!(notices::list_notifications))
        .routes(routes!(notices::mark_read))
        .routes(routes!(notices::list_webhooks, notices::create_webhook))
        .routes(routes!(notices::deactivate_webhook))
        .routes(routes!(sharing::incident_stix))
        .routes(routes!(sharing::campaign_stix))
        .routes(routes!(sharing::import).layer(DefaultBodyLimit::max(sharing::IMPORT_LIMIT)))
        .split_for_parts()
}

/// The OpenAPI document as served.
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes().1
}

pub fn router(_state: AppState) -> Router<AppState> {
    let (router, doc) = routes();
    let doc = Arc::new(doc);
    router
        .route("/openapi.json", get(move || async move { Json(doc.as_ref().clone()) }))
        .fallback(|| async {
            crate::error::Problem::new(
                axum::http::StatusCode::NOT_FOUND,
                "not-found",
                Some("no such API route".to_string()),
            )
        })
        .layer(DefaultBodyLimit::max(JSON_LIMIT))
        .layer(axum::middleware::from_fn(crate::auth::problem_for_plain_errors))
}

#[cfg(test)]
mod tests {
    /// The committed `openapi.json` is what the routes generate. Regenerate with
    /// `UPDATE_OPENAPI=1 cargo test -p baluarte-web openapi`.
    #[test]
    fn openapi_document_is_in_sync() {
        let generated = super::openapi().to_pretty_json().unwrap_or_default();
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json");
        if std::env::var_os("UPDATE_OPENAPI").is_some() {
            std::fs::write(path, &generated).unwrap_or_else(|e| panic!("{path}: {e}"));
        }
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            committed == generated,
            "openapi.json is stale: run UPDATE_OPENAPI=1 cargo test -p baluarte-web openapi"
        );
        let doc: serde_json::Value = serde_json::from_str(&generated).unwrap_or_default();
        assert_eq!(doc["openapi"], "3.1.0");
    }
}
