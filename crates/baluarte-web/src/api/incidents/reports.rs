//! Incidents as the reporting side sees them: filing a report (idempotent with `Idempotency-Key`), lists,
//! the case file, the exact report and its signed receipt, later stages, answers, attachments; and the
//! server's public key for checking receipts.

use crate::api::PageParams;
use crate::auth::ApiCaller;
use crate::error::{ApiError, ApiResult, Problem};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use baluarte_core::incident::{Attachment, CaseFile, Severity};
use baluarte_core::model::Page;
use baluarte_core::receipt::Receipt;
use baluarte_core::service::{
    Board, Filed, IncidentFilter, IncidentListItem, ObservableLookup, ReportInput, StageInput, MAX_ATTACHMENT,
};
use baluarte_core::CoreError;
use baluarte_core::FieldCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Largest attachment request body: the attachment limit and a little room.
pub const ATTACHMENT_BODY_LIMIT: usize = MAX_ATTACHMENT + 64 * 1024;

/// The header that makes a report submission idempotent.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// Raw bytes in a request or response body (for the OpenAPI document only).
#[derive(Debug, ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct Binary(#[allow(dead_code)] Vec<u8>);

/// Filed report: the incident and the receipt of its first stage.
#[utoipa::path(post, path = "/incidents", tag = "incidents", request_body = ReportInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeat-safe submission: the same key and report return the first incident (200); the same key with another report is 409.")),
    responses((status = 201, body = Filed, description = "A new incident"), (status = 200, body = Filed, description = "A replay of an earlier request with the same Idempotency-Key"),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 413, body = Problem), (status = 422, body = Problem)))]
pub async fn file_report(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    headers: HeaderMap,
    Json(input): Json<ReportInput>,
) -> ApiResult<(StatusCode, Json<Filed>)> {
    let key = match headers.get(IDEMPOTENCY_KEY) {
        Some(v) => Some(
            v.to_str()
                .map_err(|_| CoreError::invalid("Idempotency-Key", FieldCode::NotIdempotencyKey))?,
        ),
        None => None,
    };
    let filed = state
        .services
        .incidents()
        .file_report(&actor, input, "api", key)
        .await?;
    let status = if filed.replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(filed)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IncidentQuery {
    /// `open` (default), `closed`, `all`, or one status.
    #[param(schema_with = status_filter)]
    status: Option<String>,
    severity: Option<Severity>,
    entity_id: Option<String>,
    /// Sector or subsector id (a sector includes its subsectors).
    sector_id: Option<String>,
    /// RSIT class.
    rsit_class: Option<String>,
    campaign_id: Option<String>,
    /// Only incidents assigned to the caller.
    #[serde(default)]
    mine: bool,
    /// Search in the reference and the title.
    q: Option<String>,
    page: Option<i64>,
    per_page: Option<i64>,
}

/// The `status` filter: `open`, `closed`, `all` (or blank), or one status.
fn status_filter() -> utoipa::openapi::Object {
    let mut names = vec!["open", "closed", "all", ""];
    names.extend(baluarte_core::incident::Status::ALL.iter().map(|s| s.as_str()));
    baluarte_core::service::schema::one_of(&names, "`open` (default), `closed`, `all` (or blank), or one status")
}

/// Incidents the caller may see, newest first: all for the national CSIRT, one's own entity's otherwise.
#[utoipa::path(get, path = "/incidents", tag = "incidents", params(IncidentQuery),
    responses((status = 200, body = Page<IncidentListItem>), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn list_incidents(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Query(q): Query<IncidentQuery>,
) -> ApiResult<Json<Page<IncidentListItem>>> {
    let filter = IncidentFilter {
        status: q.status,
        severity: q.severity,
        entity_id: q.entity_id,
        sector_id: q.sector_id,
        rsit_class: q.rsit_class,
        campaign_id: q.campaign_id,
        mine: q.mine,
        q: q.q,
    };
    let page = PageParams {
        page: q.page,
        per_page: q.per_page,
    }
    .request();
    Ok(Json(
        state.services.incidents().list_incidents(&actor, &filter, page).await?,
    ))
}

/// Counts for the incident board: open by severity, sector and class, deadlines missed, response times.
#[utoipa::path(get, path = "/incidents/board", tag = "incidents",
    responses((status = 200, body = Board), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn board(State(state): State<AppState>, ApiCaller(actor): ApiCaller) -> ApiResult<Json<Board>> {
    Ok(Json(state.services.incidents().incident_board(&actor).await?))
}

/// The case file: the incident, its deadlines, submissions, observables, correlations, attachments,
/// requests and the journal (tasks and internal notes only for the national CSIRT).
#[utoipa::path(get, path = "/incidents/{id}", tag = "incidents", params(("id" = String, Path)),
    responses((status = 200, body = CaseFile), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn case_file(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path(id): Path<String>,
) -> ApiResult<Json<CaseFile>> {
    Ok(Json(state.services.incidents().case_file(&actor, &id).await?))
}

/// `attachment; filename="…"; filename*=UTF-8''…` (RFC 6266): an ASCII fallback and the exact name.
pub fn content_disposition(filename: &str) -> HeaderValue {
    let ascii: String = filename
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for b in filename.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    HeaderValue::from_str(&format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

/// A download: the exact bytes, the media type, and always `attachment` (never rendered inline).
fn download(bytes: Vec<u8>, media_type: &'static str, filename: &str) -> Response {
    let mut res = (StatusCode::OK, bytes).into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(media_type));
    h.insert(header::CONTENT_DISPOSITION, content_disposition(filename));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    res
}

/// Keep stage ids and references to safe file-name characters.
fn file_part(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

async fn submission(
    state: &AppState,
    actor: &baluarte_core::policy::Actor,
    id: &str,
    sid: &str,
) -> ApiResult<(String, String, Receipt)> {
    let (report, receipt_text) = state.services.incidents().submission_files(actor, id, sid).await?;
    let receipt: Receipt = serde_json::from_str(&receipt_text)
        .map_err(|e| ApiError::Core(CoreError::internal_from(format!("stored receipt of {sid}"), e)))?;
    Ok((report, receipt_text, receipt))
}

/// The report of one submission, byte for byte as the platform stored and signed it.
#[utoipa::path(get, path = "/incidents/{id}/submissions/{submission_id}/report", tag = "incidents",
    params(("id" = String, Path), ("submission_id" = String, Path)),
    responses((status = 200, content_type = "application/json", body = Object, description = "The exact report bytes (attachment `<reference>-<stage>.json`)"),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn submission_report(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path((id, sid)): Path<(String, String)>,
) -> ApiResult<Response> {
    let (report, _, r) = submission(&state, &actor, &id, &sid).await?;
    let name = format!("{}-{}.json", file_part(&r.reference), file_part(&r.stage_id));
    Ok(download(report.into_bytes(), "application/json", &name))
}

/// The signed receipt of one submission, byte for byte (check it with the report and the public key).
#[utoipa::path(get, path = "/incidents/{id}/submissions/{submission_id}/receipt", tag = "incidents",
    params(("id" = String, Path), ("submission_id" = String, Path)),
    responses((status = 200, content_type = "application/json", body = Receipt, description = "The receipt file (attachment `<reference>-<stage>.receipt.json`)"),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn submission_receipt(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path((id, sid)): Path<(String, String)>,
) -> ApiResult<Response> {
    let (_, text, r) = submission(&state, &actor, &id, &sid).await?;
    let name = format!("{}-{}.receipt.json", file_part(&r.reference), file_part(&r.stage_id));
    Ok(download(text.into_bytes(), "application/json", &name))
}

/// Send a later stage (update, final report); the answer is its signed receipt.
#[utoipa::path(post, path = "/incidents/{id}/stages", tag = "incidents", params(("id" = String, Path)), request_body = StageInput,
    responses((status = 201, body = Receipt), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn submit_stage(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path(id): Path<String>,
    Json(input): Json<StageInput>,
) -> ApiResult<(StatusCode, Json<Receipt>)> {
    Ok((
        StatusCode::CREATED,
        Json(state.services.incidents().submit_stage(&actor, &id, input).await?),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerInput {
    #[schema(schema_with = baluarte_core::service::schema::block::<1, 20_000>)]
    pub answer: String,
}

/// Answer the national CSIRT's request for information.
#[utoipa::path(post, path = "/incidents/{id}/requests/{request_id}/answer", tag = "incidents",
    params(("id" = String, Path), ("request_id" = String, Path)), request_body = AnswerInput,
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn answer_request(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path((id, request_id)): Path<(String, String)>,
    Json(input): Json<AnswerInput>,
) -> ApiResult<StatusCode> {
    state
        .services
        .incidents()
        .answer_request(&actor, &id, &request_id, &input.answer)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// The file's name as the uploader knows it.
    filename: String,
}

/// Attach a file: the raw bytes as the body, its media type as Content-Type (10 MiB at most).
#[utoipa::path(post, path = "/incidents/{id}/attachments", tag = "incidents", params(("id" = String, Path), UploadQuery),
    request_body(content = Binary, content_type = "application/octet-stream", description = "The file's bytes; Content-Type is stored as its media type"),
    responses((status = 201, body = Attachment), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 413, body = Problem), (status = 422, body = Problem)))]
pub async fn add_attachment(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path(id): Path<String>,
    Query(q): Query<UploadQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Attachment>)> {
    if body.len() > MAX_ATTACHMENT {
        return Err(ApiError::Http(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("attachments are limited to {} MiB", MAX_ATTACHMENT / 1024 / 1024),
        ));
    }
    let media_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream");
    let att = state
        .services
        .incidents()
        .add_attachment(&actor, &id, &q.filename, media_type, &body)
        .await?;
    Ok((StatusCode::CREATED, Json(att)))
}

/// Download an attachment: always as `application/octet-stream` and `attachment`, never rendered.
#[utoipa::path(get, path = "/incidents/{id}/attachments/{attachment_id}", tag = "incidents",
    params(("id" = String, Path), ("attachment_id" = String, Path)),
    responses((status = 200, content_type = "application/octet-stream", body = Binary), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_attachment(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path((id, aid)): Path<(String, String)>,
) -> ApiResult<Response> {
    let (att, bytes) = state.services.incidents().attachment(&actor, &id, &aid).await?;
    let mut res = download(bytes, "application/octet-stream", &att.filename);
    if let Ok(v) = HeaderValue::from_str(&att.sha256) {
        res.headers_mut().insert("x-content-sha256", v);
    }
    Ok(res)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LookupQuery {
    /// An IP address, network, domain, URL, e-mail address, hash, CVE or ASN, in any usual spelling.
    value: String,
}

/// Where else an observable was reported, as far as the caller may know.
#[utoipa::path(get, path = "/observables/lookup", tag = "incidents", params(LookupQuery),
    responses((status = 200, body = ObservableLookup), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn lookup_observable(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Query(q): Query<LookupQuery>,
) -> ApiResult<Json<ObservableLookup>> {
    Ok(Json(
        state.services.incidents().lookup_observable(&actor, &q.value).await?,
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PublicKey {
    /// Always `Ed25519`.
    pub algorithm: &'static str,
    /// The server's public key, hex.
    pub public_key: String,
}

/// The key receipts are signed with; anyone may fetch it to check a receipt.
#[utoipa::path(get, path = "/receipts/public-key", tag = "incidents", security(()), responses((status = 200, body = PublicKey)))]
pub async fn public_key(State(state): State<AppState>) -> Json<PublicKey> {
    Json(PublicKey {
        algorithm: "Ed25519",
        public_key: state.services.server_key().public_hex(),
    })
}
