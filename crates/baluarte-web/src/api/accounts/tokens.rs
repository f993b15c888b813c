//! API tokens.

use crate::auth::ApiCaller;
use crate::error::{ApiResult, Problem};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use baluarte_core::model::{ApiToken, Page, PageRequest};
use baluarte_core::service::{NewToken, TokenInput};
use serde::Deserialize;
use utoipa::IntoParams;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TokenQuery {
    entity_id: Option<String>,
    page: Option<i64>,
    per_page: Option<i64>,
}

/// Tokens of the caller's entity (all entities for national administrators and auditors).
#[utoipa::path(get, path = "/tokens", tag = "tokens", params(TokenQuery),
    responses((status = 200, body = Page<ApiToken>), (status = 403, body = Problem), (status = 404, body = Problem, description = "`entity_id` names no entity the caller may see")))]
pub async fn list_tokens(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Query(q): Query<TokenQuery>,
) -> ApiResult<Json<Page<ApiToken>>> {
    Ok(Json(
        state
            .services
            .tokens()
            .list_tokens(&actor, q.entity_id.as_deref(), PageRequest::new(q.page, q.per_page))
            .await?,
    ))
}

/// Create a token; its secret is in this response only.
#[utoipa::path(post, path = "/tokens", tag = "tokens", request_body = TokenInput,
    responses((status = 201, body = NewToken), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn create_token(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Json(input): Json<TokenInput>,
) -> ApiResult<(StatusCode, Json<NewToken>)> {
    Ok((
        StatusCode::CREATED,
        Json(state.services.tokens().create_token(&actor, input).await?),
    ))
}

/// One token's metadata.
#[utoipa::path(get, path = "/tokens/{id}", tag = "tokens", params(("id" = String, Path)), responses((status = 200, body = ApiToken), (status = 404, body = Problem)))]
pub async fn get_token(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path(id): Path<String>,
) -> ApiResult<Json<ApiToken>> {
    Ok(Json(state.services.tokens().get_token(&actor, &id).await?))
}

/// Revoke a token at once.
#[utoipa::path(post, path = "/tokens/{id}/revoke", tag = "tokens", params(("id" = String, Path)),
    responses((status = 200, body = ApiToken), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn revoke_token(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path(id): Path<String>,
) -> ApiResult<Json<ApiToken>> {
    Ok(Json(state.services.tokens().revoke_token(&actor, &id).await?))
}
