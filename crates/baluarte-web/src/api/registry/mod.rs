//! Sectors, entities and contacts.

use super::PageParams;
use crate::auth::ApiCaller;
use crate::error::{ApiResult, Problem};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use baluarte_core::model::{Contact, DirectoryEntry, Entity, EntityKind, Page, Sector};
use baluarte_core::service::{ContactInput, EntityFilter, EntityInput, SectorInput};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The routes of this capability and their OpenAPI document.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_sectors, create_sector))
        .routes(routes!(list_entities, create_entity))
        .routes(routes!(get_entity, update_entity))
        .routes(routes!(deactivate_entity))
        .routes(routes!(reactivate_entity))
        .routes(routes!(list_entity_contacts, create_contact))
        .routes(routes!(contact_directory))
        .routes(routes!(get_contact, update_contact))
        .routes(routes!(deactivate_contact))
}

/// All sectors and subsectors.
#[utoipa::path(get, path = "/sectors", tag = "registry", responses((status = 200, body = Vec<Sector>), (status = 401, body = Problem)))]
pub async fn list_sectors(State(state): State<AppState>, ApiCaller(actor): ApiCaller) -> ApiResult<Json<Vec<Sector>>> {
    Ok(Json(state.services.registry().list_sectors(&actor).await?))
}

/// Add a sector or subsector (administrators and coordinators).
#[utoipa::path(post, path = "/sectors", tag = "registry", request_body = SectorInput,
    responses((status = 201, body = Sector), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create_sector(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Json(input): Json<SectorInput>,
) -> ApiResult<(StatusCode, Json<Sector>)> {
    Ok((
        StatusCode::CREATED,
        Json(state.services.registry().create_sector(&actor, input).await?),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EntityQuery {
    /// Search in name and acronym.
    q: Option<String>,
    /// Sector or subsector id (a sector includes its subsectors).
    sector: Option<String>,
    kind: Option<EntityKind>,
    /// ISO 3166-2 state code, e.g. MX-JAL.
    state: Option<String>,
    #[serde(default)]
    include_inactive: bool,
    page: Option<i64>,
    per_page: Option<i64>,
}

/// Entities the caller may see: all for national roles, one's own otherwise.
#[utoipa::path(get, path = "/entities", tag = "registry", params(EntityQuery), responses((status = 200, body = Page<Entity>), (status = 401, body = Problem)))]
pub async fn list_entities(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Query(q): Query<EntityQuery>,
) -> ApiResult<Json<Page<Entity>>> {
    let filter = EntityFilter {
        q: q.q,
        sector_id: q.sector,
        kind: q.kind,
        state_code: q.state,
        include_inactive: q.include_inactive,
    };
    let page = PageParams {
        page: q.page,
        per_page: q.per_page,
    }
    .request();
    Ok(Json(
        state.services.registry().list_entities(&actor, &filter, page).await?,
    ))
}

/// Register an entity (administrators and coordinators).
#[utoipa::path(post, path = "/entities", tag = "registry", request_body = EntityInput,
    responses((status = 201, body = Entity), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create_entity(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Json(input): Json<EntityInput>,
) -> ApiResult<(StatusCode, Json<Entity>)> {
    Ok((
        StatusCode::CREATED,
        Json(state.services.registry().create_entity(&actor, input).await?),
    ))
}

/// One entity.
#[utoipa::path(get, path = "/entities/{id}", tag = "registry", params(("id" = String, Path)),
    responses((status = 200, body = Entity), (status = 404, body = Problem)))]
pub async fn get_entity(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path(id): Path<String>,
) -> ApiResult<Json<Entity>> {
    Ok(Json(state.services.registry().get_entity(&actor, &id).await?))
}

/// Replace an entity's details.
#[utoipa::path(put, path = "/entities/{id}", tag = "registry", params(("id" = String, Path)), request_body = EntityInput,
    responses((status = 200, body = Entity), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update_entity(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path(id): Path<String>,
    Json(input): Json<EntityInput>,
) -> ApiResult<Json<Entity>> {
    Ok(Json(state.services.registry().update_entity(&actor, &id, input).await?))
}

/// Deactivate an entity: its people can no longer sign in; nothing is deleted.
#[utoipa::path(post, path = "/entities/{id}/deactivate", tag = "registry", params(("id" = String, Path)),
    responses((status = 200, body = Entity), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn deactivate_entity(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path(id): Path<String>,
) -> ApiResult<Json<Entity>> {
    Ok(Json(
        state.services.registry().set_entity_active(&actor, &id, false).await?,
    ))
}

/// Reactivate an entity.
#[utoipa::path(post, path = "/entities/{id}/reactivate", tag = "registry", params(("id" = String, Path)),
    responses((status = 200, body = Entity), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn reactivate_entity(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path(id): Path<String>,
) -> ApiResult<Json<Entity>> {
    Ok(Json(
        state.services.registry().set_entity_active(&actor, &id, true).await?,
    ))
}

/// An entity's contacts, as far as TLP lets the caller see them.
#[utoipa::path(get, path = "/entities/{id}/contacts", tag = "registry", params(("id" = String, Path)),
    responses((status = 200, body = Vec<Contact>), (status = 404, body = Problem)))]
pub async fn list_entity_contacts(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<Contact>>> {
    Ok(Json(state.services.registry().list_contacts(&actor, &id).await?))
}

/// Add a contact to an entity.
#[utoipa::path(post, path = "/entities/{id}/contacts", tag = "registry", params(("id" = String, Path)), request_body = ContactInput,
    responses((status = 201, body = Contact), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn create_contact(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path(id): Path<String>,
    Json(input): Json<ContactInput>,
) -> ApiResult<(StatusCode, Json<Contact>)> {
    Ok((
        StatusCode::CREATED,
        Json(state.services.registry().create_contact(&actor, &id, input).await?),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DirectoryQuery {
    /// Search in name, title and e-mail.
    q: Option<String>,
    page: Option<i64>,
    per_page: Option<i64>,
}

/// The 24/7 directory: every contact the caller may see under TLP, across entities.
#[utoipa::path(get, path = "/contacts", tag = "registry", params(DirectoryQuery), responses((status = 200, body = Page<DirectoryEntry>), (status = 401, body = Problem)))]
pub async fn contact_directory(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Query(q): Query<DirectoryQuery>,
) -> ApiResult<Json<Page<DirectoryEntry>>> {
    let page = PageParams {
        page: q.page,
        per_page: q.per_page,
    }
    .request();
    Ok(Json(
        state
            .services
            .registry()
            .contact_directory(&actor, q.q.as_deref(), page)
            .await?,
    ))
}

/// One contact.
#[utoipa::path(get, path = "/contacts/{id}", tag = "registry", params(("id" = String, Path)), responses((status = 200, body = Contact), (status = 404, body = Problem)))]
pub async fn get_contact(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path(id): Path<String>,
) -> ApiResult<Json<Contact>> {
    Ok(Json(state.services.registry().get_contact(&actor, &id).await?))
}

/// Replace a contact's details.
#[utoipa::path(put, path = "/contacts/{id}", tag = "registry", params(("id" = String, Path)), request_body = ContactInput,
    responses((status = 200, body = Contact), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update_contact(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path(id): Path<String>,
    Json(input): Json<ContactInput>,
) -> ApiResult<Json<Contact>> {
    Ok(Json(
        state.services.registry().update_contact(&actor, &id, input).await?,
    ))
}

/// Deactivate a contact.
#[utoipa::path(post, path = "/contacts/{id}/deactivate", tag = "registry", params(("id" = String, Path)),
    responses((status = 200, body = Contact), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn deactivate_contact(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path(id): Path<String>,
) -> ApiResult<Json<Contact>> {
    Ok(Json(
        state.services.registry().set_contact_active(&actor, &id, false).await?,
    ))
}
