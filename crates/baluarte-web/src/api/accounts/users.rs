//! Users of the platform.

use crate::auth::ApiCaller;
use crate::error::{ApiResult, Problem};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use baluarte_core::model::{Page, PageRequest, User};
use baluarte_core::service::{NewUser, UserFilter, UserInput, UserPatch};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserQuery {
    entity_id: Option<String>,
    /// Search in name and e-mail.
    q: Option<String>,
    #[serde(default)]
    include_inactive: bool,
    page: Option<i64>,
    per_page: Option<i64>,
}

/// Users the caller may manage or audit.
#[utoipa::path(get, path = "/users", tag = "users", params(UserQuery),
    responses((status = 200, body = Page<User>), (status = 403, body = Problem), (status = 404, body = Problem, description = "`entity_id` names no entity the caller may see")))]
pub async fn list_users(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Query(q): Query<UserQuery>,
) -> ApiResult<Json<Page<User>>> {
    let filter = UserFilter {
        entity_id: q.entity_id,
        q: q.q,
        include_inactive: q.include_inactive,
    };
    Ok(Json(
        state
            .services
            .users()
            .list_users(&actor, &filter, PageRequest::new(q.page, q.per_page))
            .await?,
    ))
}

/// Create a user; without a password, a temporary one is returned once.
#[utoipa::path(post, path = "/users", tag = "users", request_body = UserInput,
    responses((status = 201, body = NewUser), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn create_user(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Json(input): Json<UserInput>,
) -> ApiResult<(StatusCode, Json<NewUser>)> {
    Ok((
        StatusCode::CREATED,
        Json(state.services.users().create_user(&actor, input).await?),
    ))
}

/// One user.
#[utoipa::path(get, path = "/users/{id}", tag = "users", params(("id" = String, Path)), responses((status = 200, body = User), (status = 404, body = Problem)))]
pub async fn get_user(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path(id): Path<String>,
) -> ApiResult<Json<User>> {
    Ok(Json(state.services.users().get_user(&actor, &id).await?))
}

/// Change a user's name, role or language.
#[utoipa::path(patch, path = "/users/{id}", tag = "users", params(("id" = String, Path)), request_body = UserPatch,
    responses((status = 200, body = User), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update_user(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path(id): Path<String>,
    Json(patch): Json<UserPatch>,
) -> ApiResult<Json<User>> {
    Ok(Json(state.services.users().update_user(&actor, &id, patch).await?))
}

/// Deactivate a user; their sessions end.
#[utoipa::path(post, path = "/users/{id}/deactivate", tag = "users", params(("id" = String, Path)),
    responses((status = 200, body = User), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn deactivate_user(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path(id): Path<String>,
) -> ApiResult<Json<User>> {
    Ok(Json(state.services.users().set_user_active(&actor, &id, false).await?))
}

/// Reactivate a user.
#[utoipa::path(post, path = "/users/{id}/reactivate", tag = "users", params(("id" = String, Path)),
    responses((status = 200, body = User), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn reactivate_user(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path(id): Path<String>,
) -> ApiResult<Json<User>> {
    Ok(Json(state.services.users().set_user_active(&actor, &id, true).await?))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetRequest {
    /// Also remove the second factor (lost phone).
    #[serde(default)]
    reset_totp: bool,
}

#[derive(Serialize, ToSchema)]
pub struct TemporaryPassword {
    /// Shown this once.
    temporary_password: String,
}

/// Set a temporary password (administrators); the user's sessions end.
#[utoipa::path(post, path = "/users/{id}/reset-password", tag = "users", params(("id" = String, Path)), request_body = ResetRequest,
    responses((status = 200, body = TemporaryPassword), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn reset_password(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path(id): Path<String>,
    Json(req): Json<ResetRequest>,
) -> ApiResult<Json<TemporaryPassword>> {
    let temporary_password = state
        .services
        .users()
        .reset_password(&actor, &id, req.reset_totp)
        .await?;
    Ok(Json(TemporaryPassword { temporary_password }))
}
