//! The JSON API under `/api/v1`, one folder per capability as in the service layer (`accounts`,
//! `registry`, `audit`, `incidents`, `notifications`), each with its `router()` merged here. The OpenAPI
//! 3.1 document is generated from the handlers' annotations and served at `/api/v1/openapi.json` (a
//! test keeps the committed copy `openapi.json` in sync).

mod accounts;
mod audit;
mod doc;
mod incidents;
mod notifications;
mod registry;
#[cfg(test)]
mod schema_tests;

use crate::AppState;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use std::sync::Arc;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoParams, Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

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

/// The routes and their OpenAPI document: each capability's router, merged.
pub fn routes() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, mut doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(accounts::router())
        .merge(registry::router())
        .merge(audit::router())
        .merge(incidents::router())
        .merge(notifications::router())
        .split_for_parts();
    doc::standard_errors(&mut doc);
    (router, doc)
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
