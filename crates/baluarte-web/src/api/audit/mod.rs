//! The audit trail.

use crate::auth::ApiCaller;
use crate::error::{ApiResult, Problem};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::Json;
use baluarte_core::audit::VerifyReport;
use baluarte_core::model::{AuditEntry, Page, PageRequest};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The routes of this capability and their OpenAPI document.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_audit))
        .routes(routes!(object_history))
        .routes(routes!(verify))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    entity_id: Option<String>,
    /// entity, contact, user, api_token, sector.
    object_type: Option<String>,
    page: Option<i64>,
    per_page: Option<i64>,
}

/// Audit entries, newest first.
#[utoipa::path(get, path = "/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, body = Page<AuditEntry>), (status = 403, body = Problem), (status = 404, body = Problem, description = "`entity_id` names no entity the caller may see")))]
pub async fn list_audit(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Query(q): Query<AuditQuery>,
) -> ApiResult<Json<Page<AuditEntry>>> {
    let page = PageRequest::new(q.page, q.per_page);
    Ok(Json(
        state
            .services
            .audit()
            .list_audit(&actor, q.entity_id.as_deref(), q.object_type.as_deref(), page)
            .await?,
    ))
}

/// The history of one object: for whoever may read the object and the audit trail it belongs to (its
/// entity's; for a record of no entity, such as a sector, a campaign or a sector's deadline rule, the
/// national authority's).
#[utoipa::path(get, path = "/audit/history/{object_type}/{object_id}", tag = "audit",
    params(("object_type" = String, Path), ("object_id" = String, Path)),
    responses((status = 200, body = Vec<AuditEntry>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn object_history(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path((object_type, object_id)): Path<(String, String)>,
) -> ApiResult<Json<Vec<AuditEntry>>> {
    Ok(Json(
        state
            .services
            .audit()
            .object_history(&actor, &object_type, &object_id)
            .await?,
    ))
}

/// Verify the whole hash chain, its signed checkpoints (in the database and in the checkpoint file) and
/// that no entry older than two checkpoint intervals lacks a checkpoint (national auditors and
/// administrators).
#[utoipa::path(get, path = "/audit/verify", tag = "audit", responses((status = 200, body = VerifyReport), (status = 403, body = Problem)))]
pub async fn verify(State(state): State<AppState>, ApiCaller(actor): ApiCaller) -> ApiResult<Json<VerifyReport>> {
    Ok(Json(state.services.audit().verify_audit(&actor).await?))
}
