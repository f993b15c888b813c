//! Reporting deadlines: the shipped regulation profiles and which applies to whom.

use crate::auth::ApiCaller;
use crate::error::{ApiResult, Problem};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use baluarte_core::model::EntityKind;
use baluarte_core::service::DeadlineAssignment;
use serde::Deserialize;
use utoipa::ToSchema;

/// The regulation profiles (APF, NIS2-like, financial…): their stages, anchors and due times.
#[utoipa::path(get, path = "/deadline-profiles", tag = "deadlines",
    responses((status = 200, body = Vec<Object>, description = "Profiles: id, names, applicability and stages (anchor, due, reminders)"), (status = 401, body = Problem)))]
pub async fn list_profiles(_caller: ApiCaller) -> Response {
    Json(baluarte_core::service::deadline_profiles()).into_response()
}

/// Which profile applies to which entity, sector or kind of entity.
#[utoipa::path(get, path = "/deadline-assignments", tag = "deadlines",
    responses((status = 200, body = Vec<DeadlineAssignment>), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn list_assignments(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
) -> ApiResult<Json<Vec<DeadlineAssignment>>> {
    Ok(Json(
        state.services.incidents().list_deadline_assignments(&actor).await?,
    ))
}

/// A new assignment: the profile and exactly one target.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignmentInput {
    #[schema(schema_with = profile_id)]
    pub profile_id: String,
    #[serde(default)]
    pub entity_id: Option<String>,
    #[serde(default)]
    pub sector_id: Option<String>,
    #[serde(default)]
    pub entity_kind: Option<EntityKind>,
}

/// The shipped profiles' ids.
fn profile_id() -> utoipa::openapi::Object {
    let ids: Vec<&str> = baluarte_core::service::deadline_profiles()
        .iter()
        .map(|p| p.id.as_str())
        .collect();
    baluarte_core::service::schema::one_of(&ids, "A regulation profile's id")
}

/// Apply a profile to exactly one of an entity, a sector or a kind of entity (replacing what that
/// target had). It governs incidents reported from now on.
#[utoipa::path(post, path = "/deadline-assignments", tag = "deadlines", request_body = AssignmentInput,
    responses((status = 201, body = DeadlineAssignment), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create_assignment(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Json(input): Json<AssignmentInput>,
) -> ApiResult<(StatusCode, Json<DeadlineAssignment>)> {
    let input = DeadlineAssignment {
        id: String::new(),
        profile_id: input.profile_id,
        entity_id: input.entity_id,
        sector_id: input.sector_id,
        entity_kind: input.entity_kind,
    };
    Ok((
        StatusCode::CREATED,
        Json(
            state
                .services
                .incidents()
                .assign_deadline_profile(&actor, input)
                .await?,
        ),
    ))
}

/// Remove an assignment.
#[utoipa::path(delete, path = "/deadline-assignments/{id}", tag = "deadlines", params(("id" = String, Path)),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn delete_assignment(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state
        .services
        .incidents()
        .remove_deadline_assignment(&actor, &id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
