//! Notifications in the application, and entities' webhooks.

use crate::auth::ApiCaller;
use crate::error::{ApiResult, Problem};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use baluarte_core::incident::Notification;
use baluarte_core::service::{NewWebhook, Webhook, WebhookInput};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The routes of this capability and their OpenAPI document.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_notifications))
        .routes(routes!(mark_read))
        .routes(routes!(list_webhooks, create_webhook))
        .routes(routes!(deactivate_webhook))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NotificationQuery {
    /// Only those not yet read.
    #[serde(default)]
    unread: bool,
}

/// The caller's latest notifications (people only), newest first.
#[utoipa::path(get, path = "/notifications", tag = "notifications", params(NotificationQuery),
    responses((status = 200, body = Vec<Notification>), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn list_notifications(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Query(q): Query<NotificationQuery>,
) -> ApiResult<Json<Vec<Notification>>> {
    Ok(Json(
        state.services.notifications().notifications(&actor, q.unread).await?,
    ))
}

/// Mark all of the caller's notifications read.
#[utoipa::path(post, path = "/notifications/read", tag = "notifications",
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn mark_read(State(state): State<AppState>, ApiCaller(actor): ApiCaller) -> ApiResult<StatusCode> {
    state.services.notifications().mark_notifications_read(&actor).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An entity's webhooks (without their secrets).
#[utoipa::path(get, path = "/entities/{id}/webhooks", tag = "notifications", params(("id" = String, Path)),
    responses((status = 200, body = Vec<Webhook>), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn list_webhooks(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<Webhook>>> {
    Ok(Json(state.services.notifications().list_webhooks(&actor, &id).await?))
}

/// Register a webhook; its signing secret is in this response only.
#[utoipa::path(post, path = "/entities/{id}/webhooks", tag = "notifications", params(("id" = String, Path)), request_body = WebhookInput,
    responses((status = 201, body = NewWebhook), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn create_webhook(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path(id): Path<String>,
    Json(input): Json<WebhookInput>,
) -> ApiResult<(StatusCode, Json<NewWebhook>)> {
    Ok((
        StatusCode::CREATED,
        Json(
            state
                .services
                .notifications()
                .create_webhook(&actor, &id, input)
                .await?,
        ),
    ))
}

/// Stop a webhook; nothing more is sent to it.
#[utoipa::path(post, path = "/webhooks/{id}/deactivate", tag = "notifications", params(("id" = String, Path)),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn deactivate_webhook(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state.services.notifications().deactivate_webhook(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
