//! Sharing: STIX 2.1 bundles out (an incident, a campaign) and partners' bundles in.

use crate::auth::ApiCaller;
use crate::error::{ApiResult, Problem};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use baluarte_core::model::Tlp;
use baluarte_core::service::ImportSummary;
use baluarte_core::CoreError;
use baluarte_core::FieldCode;
use baluarte_core::FieldError;
use serde::Deserialize;
use utoipa::IntoParams;

/// STIX 2.1 bundles.
pub const STIX_MEDIA_TYPE: &str = "application/stix+json;version=2.1";
/// Largest bundle accepted for import.
pub const IMPORT_LIMIT: usize = 10 * 1024 * 1024;

fn bundle(value: &serde_json::Value, filename: &str) -> Response {
    let mut res = (StatusCode::OK, value.to_string()).into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(STIX_MEDIA_TYPE));
    h.insert(
        header::CONTENT_DISPOSITION,
        super::reports::content_disposition(filename),
    );
    res
}

/// An incident as a STIX 2.1 bundle (the national CSIRT; TLP:RED never leaves).
#[utoipa::path(get, path = "/incidents/{id}/stix", tag = "sharing", params(("id" = String, Path)),
    responses((status = 200, content_type = "application/stix+json;version=2.1", body = Object, description = "A STIX 2.1 bundle"),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn incident_stix(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let b = state.services.incidents().export_incident_stix(&actor, &id).await?;
    Ok(bundle(&b, &format!("incident-{id}.stix.json")))
}

/// A campaign and its incidents as a STIX 2.1 bundle.
#[utoipa::path(get, path = "/campaigns/{id}/stix", tag = "sharing", params(("id" = String, Path)),
    responses((status = 200, content_type = "application/stix+json;version=2.1", body = Object, description = "A STIX 2.1 bundle"),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn campaign_stix(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let b = state.services.incidents().export_campaign_stix(&actor, &id).await?;
    Ok(bundle(&b, &format!("campaign-{id}.stix.json")))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// TLP for objects the bundle does not mark: CLEAR, GREEN, AMBER (default), AMBER+STRICT or RED, in
    /// any case; `AMBER STRICT` (a `+` read as a space) too; blank for the default.
    #[param(schema_with = import_tlp)]
    tlp: Option<String>,
    /// Where the bundle came from (a partner CSIRT, a feed), kept as provenance.
    source: Option<String>,
}

/// The `tlp` of an import, as `import` reads it: trimmed, any case, `+` or a space in AMBER+STRICT.
fn import_tlp() -> utoipa::openapi::Object {
    fn any_case(word: &str) -> String {
        word.chars()
            .map(|c| format!("[{}{}]", c.to_ascii_uppercase(), c.to_ascii_lowercase()))
            .collect()
    }
    let names = [
        any_case("clear"),
        any_case("green"),
        format!("{}(?:[+ ]{})?", any_case("amber"), any_case("strict")),
        any_case("red"),
    ];
    let ws = r"[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*";
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .pattern(Some(format!("^{ws}(?:{})?{ws}$", names.join("|"))))
        .description(Some(
            "CLEAR, GREEN, AMBER, AMBER+STRICT or RED, in any case; blank for AMBER",
        ))
        .build()
}

/// Import a partner's STIX 2.1 bundle (the raw bundle as the body, 10 MiB at most): its observables
/// become correlatable. A malformed bundle is refused whole (422 naming what is wrong).
#[utoipa::path(post, path = "/stix/import", tag = "sharing", params(ImportQuery),
    request_body(content = Object, content_type = "application/stix+json", description = "A STIX 2.1 bundle"),
    responses((status = 201, body = ImportSummary), (status = 401, body = Problem), (status = 403, body = Problem), (status = 413, body = Problem), (status = 422, body = Problem)))]
pub async fn import(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Query(q): Query<ImportQuery>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<ImportSummary>)> {
    // `+` in a query string reads as a space: accept `AMBER STRICT` for `AMBER+STRICT`.
    let tlp = match q.tlp.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        None => Tlp::Amber,
        Some(t) => Tlp::parse(&t.to_ascii_uppercase().replace(' ', "+")).ok_or_else(|| {
            CoreError::invalid_field(
                FieldError::new("tlp", FieldCode::NotOneOf).with("choices", "CLEAR, GREEN, AMBER, AMBER+STRICT, RED"),
            )
        })?,
    };
    let source = q.source.unwrap_or_else(|| format!("api:{}", actor.label()));
    let summary = state
        .services
        .incidents()
        .import_stix(&actor, &body, &source, tlp)
        .await?;
    Ok((StatusCode::CREATED, Json(summary)))
}
