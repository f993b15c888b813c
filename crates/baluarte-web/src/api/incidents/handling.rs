//! The national CSIRT's work on an incident: status, triage, assignment, journal notes, tasks, requests
//! to the reporting entity, close, reject, merge and campaign.

use crate::auth::ApiCaller;
use crate::error::{ApiResult, Problem};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use baluarte_core::incident::{Incident, Status};
use baluarte_core::service::{CloseInput, TriageInput};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The id of what a request created.
#[derive(Debug, Serialize, ToSchema)]
pub struct Created {
    pub id: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusInput {
    /// A working status: `new`, `triage`, `in_progress`, `containment`, `eradication`, `recovery`
    /// (setting one on a closed or rejected incident reopens it).
    #[schema(schema_with = working_status)]
    pub status: Status,
}

/// The statuses `set_status` takes: the working ones (`Status::WORKING`).
fn working_status() -> utoipa::openapi::Object {
    let names: Vec<&str> = Status::WORKING.iter().map(|s| s.as_str()).collect();
    baluarte_core::service::schema::one_of(
        &names,
        "A working status; closing, rejecting and merging have their own acts",
    )
}

/// Move an incident to another working status.
#[utoipa::path(post, path = "/incidents/{id}/status", tag = "handling", params(("id" = String, Path)), request_body = StatusInput,
    responses((status = 200, body = Incident), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn set_status(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path(id): Path<String>,
    Json(input): Json<StatusInput>,
) -> ApiResult<Json<Incident>> {
    Ok(Json(
        state.services.incidents().set_status(&actor, &id, input.status).await?,
    ))
}

/// Classify: RSIT class and type, severity, TLP.
#[utoipa::path(post, path = "/incidents/{id}/triage", tag = "handling", params(("id" = String, Path)), request_body = TriageInput,
    responses((status = 200, body = Incident), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn triage(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path(id): Path<String>,
    Json(input): Json<TriageInput>,
) -> ApiResult<Json<Incident>> {
    Ok(Json(state.services.incidents().triage(&actor, &id, input).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignInput {
    /// A CSIRT analyst or coordinator of the national authority; `null` unassigns.
    pub assignee_id: Option<String>,
}

/// Assign the incident to a CSIRT analyst or coordinator, or unassign it.
#[utoipa::path(post, path = "/incidents/{id}/assign", tag = "handling", params(("id" = String, Path)), request_body = AssignInput,
    responses((status = 200, body = Incident), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn assign(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path(id): Path<String>,
    Json(input): Json<AssignInput>,
) -> ApiResult<Json<Incident>> {
    Ok(Json(
        state
            .services
            .incidents()
            .assign(&actor, &id, input.assignee_id.as_deref())
            .await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteInput {
    #[schema(schema_with = baluarte_core::service::schema::block::<1, 20_000>)]
    pub body: String,
    /// Visible to the reporting entity.
    #[serde(default)]
    pub shared: bool,
}

/// Add a note to the incident's journal.
#[utoipa::path(post, path = "/incidents/{id}/notes", tag = "handling", params(("id" = String, Path)), request_body = NoteInput,
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn add_note(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path(id): Path<String>,
    Json(input): Json<NoteInput>,
) -> ApiResult<StatusCode> {
    state
        .services
        .incidents()
        .add_note(&actor, &id, &input.body, input.shared)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskInput {
    #[schema(schema_with = baluarte_core::service::schema::line::<2, 300>)]
    pub title: String,
    /// An active CSIRT analyst or coordinator of the national authority, as for the incident's assignment.
    #[serde(default)]
    pub assignee_id: Option<String>,
}

/// Add a task to an open incident.
#[utoipa::path(post, path = "/incidents/{id}/tasks", tag = "handling", params(("id" = String, Path)), request_body = TaskInput,
    responses((status = 201, body = Created), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn add_task(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path(id): Path<String>,
    Json(input): Json<TaskInput>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let id = state
        .services
        .incidents()
        .add_task(&actor, &id, &input.title, input.assignee_id.as_deref())
        .await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskPatch {
    pub done: bool,
}

/// Mark a task done or not done.
#[utoipa::path(patch, path = "/incidents/{id}/tasks/{task_id}", tag = "handling",
    params(("id" = String, Path), ("task_id" = String, Path)), request_body = TaskPatch,
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn set_task_done(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path((id, task_id)): Path<(String, String)>,
    Json(input): Json<TaskPatch>,
) -> ApiResult<StatusCode> {
    state
        .services
        .incidents()
        .set_task_done(&actor, &id, &task_id, input.done)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuestionInput {
    #[schema(schema_with = baluarte_core::service::schema::block::<3, 5000>)]
    pub question: String,
}

/// Ask the reporting entity for information; it is notified and answers on the incident.
#[utoipa::path(post, path = "/incidents/{id}/requests", tag = "handling", params(("id" = String, Path)), request_body = QuestionInput,
    responses((status = 201, body = Created), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn request_info(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path(id): Path<String>,
    Json(input): Json<QuestionInput>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let id = state
        .services
        .incidents()
        .request_info(&actor, &id, &input.question)
        .await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StageRequestInput {
    /// A stage of the incident's deadline profile whose clock starts at the CSIRT's request.
    pub stage_id: String,
}

/// Request a stage from the reporting entity (its deadline starts now).
#[utoipa::path(post, path = "/incidents/{id}/stage-requests", tag = "handling", params(("id" = String, Path)), request_body = StageRequestInput,
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn request_stage(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path(id): Path<String>,
    Json(input): Json<StageRequestInput>,
) -> ApiResult<StatusCode> {
    state
        .services
        .incidents()
        .request_stage(&actor, &id, &input.stage_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Close the incident with its resolution.
#[utoipa::path(post, path = "/incidents/{id}/close", tag = "handling", params(("id" = String, Path)), request_body = CloseInput,
    responses((status = 200, body = Incident), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn close(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path(id): Path<String>,
    Json(input): Json<CloseInput>,
) -> ApiResult<Json<Incident>> {
    Ok(Json(
        state.services.incidents().close_incident(&actor, &id, input).await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectInput {
    #[schema(schema_with = baluarte_core::service::schema::block::<3, 5000>)]
    pub reason: String,
}

/// Reject the report (not an incident, out of scope…), with the reason.
#[utoipa::path(post, path = "/incidents/{id}/reject", tag = "handling", params(("id" = String, Path)), request_body = RejectInput,
    responses((status = 200, body = Incident), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn reject(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path(id): Path<String>,
    Json(input): Json<RejectInput>,
) -> ApiResult<Json<Incident>> {
    Ok(Json(
        state
            .services
            .incidents()
            .reject_incident(&actor, &id, &input.reason)
            .await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeInput {
    /// The incident this one duplicates.
    pub into: String,
}

/// Merge the incident into another it duplicates; it closes as `merged`.
#[utoipa::path(post, path = "/incidents/{id}/merge", tag = "handling", params(("id" = String, Path)), request_body = MergeInput,
    responses((status = 200, body = Incident), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn merge(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path(id): Path<String>,
    Json(input): Json<MergeInput>,
) -> ApiResult<Json<Incident>> {
    Ok(Json(
        state
            .services
            .incidents()
            .merge_incident(&actor, &id, &input.into)
            .await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CampaignLink {
    /// The campaign; `null` takes the incident out of its campaign.
    pub campaign_id: Option<String>,
}

/// Put the incident in a campaign, or take it out.
#[utoipa::path(post, path = "/incidents/{id}/campaign", tag = "handling", params(("id" = String, Path)), request_body = CampaignLink,
    responses((status = 200, body = Incident), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn set_campaign(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path(id): Path<String>,
    Json(input): Json<CampaignLink>,
) -> ApiResult<Json<Incident>> {
    Ok(Json(
        state
            .services
            .incidents()
            .set_campaign(&actor, &id, input.campaign_id.as_deref())
            .await?,
    ))
}
