//! Campaigns: the national CSIRT's groups of related incidents.

use crate::auth::ApiCaller;
use crate::error::{ApiResult, Problem};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use baluarte_core::incident::Campaign;
use baluarte_core::service::CampaignInput;

/// All campaigns, newest first.
#[utoipa::path(get, path = "/campaigns", tag = "campaigns",
    responses((status = 200, body = Vec<Campaign>), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn list_campaigns(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
) -> ApiResult<Json<Vec<Campaign>>> {
    Ok(Json(state.services.incidents().list_campaigns(&actor).await?))
}

/// Start a campaign.
#[utoipa::path(post, path = "/campaigns", tag = "campaigns", request_body = CampaignInput,
    responses((status = 201, body = Campaign), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create_campaign(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Json(input): Json<CampaignInput>,
) -> ApiResult<(StatusCode, Json<Campaign>)> {
    Ok((
        StatusCode::CREATED,
        Json(state.services.incidents().create_campaign(&actor, input).await?),
    ))
}

/// One campaign.
#[utoipa::path(get, path = "/campaigns/{id}", tag = "campaigns", params(("id" = String, Path)),
    responses((status = 200, body = Campaign), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_campaign(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path(id): Path<String>,
) -> ApiResult<Json<Campaign>> {
    Ok(Json(state.services.incidents().get_campaign(&actor, &id).await?))
}
