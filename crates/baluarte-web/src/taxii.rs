//! TAXII 2.1 server (read-only), mounted at `/taxii2/`: discovery, one API root, and the collections the
//! service layer publishes (one per TLP audience) with their objects and manifests.
//!
//! - Every response, errors included, is `application/taxii+json;version=2.1`; errors are TAXII error
//!   messages (`title`, `description`, `http_status`).
//! - `Accept` is read leniently: `application/taxii+json` (any or no version 2.1 parameter),
//!   `application/*` and `*/*` are served; anything else is 406.
//! - Credentials: `Authorization: Bearer <token>`, or HTTP Basic whose password is the token (what TAXII
//!   clients send); the token is an API token (`blt_…`) or a full session token (`bls_…`), resolved to the
//!   same actor as for the JSON API. Without credentials: 401 with `WWW-Authenticate: Basic`.
//! - Which collections a caller may read, and what is in them, the service layer decides.

use crate::AppState;
use axum::body::to_bytes;
use axum::extract::{FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use baluarte_core::policy::Actor;
use baluarte_core::service::{Collection, ObjectPage, SessionStage};
use baluarte_core::time::{self, Micros};
use baluarte_core::CoreError;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// The one media type of TAXII 2.1.
pub const TAXII_MEDIA_TYPE: &str = "application/taxii+json;version=2.1";
/// STIX objects inside TAXII envelopes.
const STIX_MEDIA_TYPE: &str = "application/stix+json;version=2.1";
/// Largest page of objects.
const MAX_PAGE: usize = 1000;
/// Default page size when the client names none.
const DEFAULT_PAGE: usize = 100;
/// The API root accepts no writes; this is the request size it would refuse beyond.
const MAX_CONTENT_LENGTH: u64 = 10 * 1024 * 1024;

/// A TAXII error message.
#[derive(Debug)]
pub struct TaxiiError {
    status: StatusCode,
    description: String,
}

impl TaxiiError {
    pub fn new(status: StatusCode, description: impl Into<String>) -> Self {
        TaxiiError {
            status,
            description: description.into(),
        }
    }
}

impl From<CoreError> for TaxiiError {
    fn from(err: CoreError) -> Self {
        let (status, _, detail) = crate::error::classify(&err);
        if status.is_server_error() {
            tracing::error!(error = %err, "TAXII request failed");
        }
        let description = match &err {
            CoreError::Invalid(fields) => fields
                .iter()
                .map(|f| format!("{}: {}", f.field, f.message))
                .collect::<Vec<_>>()
                .join("; "),
            CoreError::Unauthenticated => "credentials are required: HTTP Basic with the API token as password, \
                                           or Authorization: Bearer <token>"
                .into(),
            _ => detail.unwrap_or_default(),
        };
        TaxiiError::new(status, description)
    }
}

impl IntoResponse for TaxiiError {
    fn into_response(self) -> Response {
        let body = json!({
            "title": self.status.canonical_reason().unwrap_or("Error"),
            "description": self.description,
            "http_status": self.status.as_u16().to_string(),
        });
        let mut res = (self.status, body.to_string()).into_response();
        let h = res.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(TAXII_MEDIA_TYPE));
        if self.status == StatusCode::UNAUTHORIZED {
            h.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"baluarte\", charset=\"UTF-8\""),
            );
        }
        res
    }
}

type TaxiiResult<T> = Result<T, TaxiiError>;

/// A TAXII resource: JSON with the TAXII media type and optional extra headers.
struct Taxii {
    body: Value,
    headers: Vec<(&'static str, String)>,
}

impl Taxii {
    fn new(body: Value) -> Self {
        Taxii {
            body,
            headers: Vec::new(),
        }
    }
}

impl IntoResponse for Taxii {
    fn into_response(self) -> Response {
        let mut res = (StatusCode::OK, self.body.to_string()).into_response();
        let h = res.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(TAXII_MEDIA_TYPE));
        for (name, value) in self.headers {
            if let Ok(v) = HeaderValue::from_str(&value) {
                h.insert(name, v);
            }
        }
        res
    }
}

/// The secret from `Authorization`: a bearer token, or the password (else the user name) of Basic.
fn credential(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, rest) = value.split_once(' ')?;
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        return Some(rest.to_string()).filter(|s| !s.is_empty());
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD.decode(rest).ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (user, password) = text.split_once(':').unwrap_or((text.as_str(), ""));
        let secret = if password.is_empty() { user } else { password };
        return Some(secret.trim().to_string()).filter(|s| !s.is_empty());
    }
    None
}

/// The TAXII caller, as the JSON API would see it.
#[derive(Debug, Clone)]
pub struct TaxiiCaller(pub Actor);

impl FromRequestParts<AppState> for TaxiiCaller {
    type Rejection = TaxiiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let secret = credential(&parts.headers).ok_or(CoreError::Unauthenticated)?;
        if secret.starts_with("blt_") {
            return Ok(TaxiiCaller(state.services.authenticate_token(&secret).await?));
        }
        let s = state.services.session(&secret).await?;
        if s.stage != SessionStage::Full {
            return Err(TaxiiError::new(
                StatusCode::FORBIDDEN,
                "finish the second factor first, or use an API token",
            ));
        }
        Ok(TaxiiCaller(s.actor))
    }
}

/// Whether the `Accept` header admits TAXII 2.1 JSON.
fn acceptable(headers: &HeaderMap) -> bool {
    let Some(accept) = headers.get(header::ACCEPT) else {
        return true;
    };
    let Ok(accept) = accept.to_str() else {
        return false;
    };
    if accept.trim().is_empty() {
        return true;
    }
    accept.split(',').any(|range| {
        let mut parts = range.split(';').map(str::trim);
        let media = parts.next().unwrap_or("").to_ascii_lowercase();
        let params: Vec<(String, String)> = parts
            .filter_map(|p| p.split_once('='))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().trim_matches('"').to_string()))
            .collect();
        if params
            .iter()
            .any(|(k, v)| k == "q" && v.parse::<f32>().is_ok_and(|q| q <= 0.0))
        {
            return false;
        }
        match media.as_str() {
            "*/*" | "application/*" => true,
            "application/taxii+json" => params.iter().all(|(k, v)| k != "version" || v == "2.1"),
            _ => false,
        }
    })
}

/// Middleware of the TAXII router: refuse unacceptable `Accept` with 406, and turn whatever axum
/// answered by itself (unknown route, wrong method) into a TAXII error.
async fn taxii_envelope(req: Request, next: Next) -> Response {
    if !acceptable(req.headers()) {
        return TaxiiError::new(
            StatusCode::NOT_ACCEPTABLE,
            format!("this server speaks {TAXII_MEDIA_TYPE}"),
        )
        .into_response();
    }
    let res = next.run(req).await;
    let is_taxii = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes() == TAXII_MEDIA_TYPE.as_bytes());
    let status = res.status();
    if (status.is_client_error() || status.is_server_error()) && !is_taxii {
        let detail = match to_bytes(res.into_body(), 4096).await {
            Ok(b) if !b.is_empty() => String::from_utf8_lossy(&b).into_owned(),
            _ => status.canonical_reason().unwrap_or("error").to_string(),
        };
        return TaxiiError::new(status, detail).into_response();
    }
    res
}

/// The TAXII routes, to be nested at `/taxii2`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(discovery))
        .route("/api/", get(api_root))
        .route("/api/collections/", get(collections))
        .route("/api/collections/{id}/", get(collection))
        .route("/api/collections/{id}/objects/", get(objects))
        .route("/api/collections/{id}/objects/{object_id}/", get(object))
        .route("/api/collections/{id}/manifest/", get(manifest))
        .fallback(|| async { TaxiiError::new(StatusCode::NOT_FOUND, "no such TAXII resource") })
        .layer(axum::middleware::from_fn(taxii_envelope))
}

/// `https://host` as the client reached us, when the `Host` header is plausible; else nothing (the
/// URLs are then absolute paths).
fn origin(state: &AppState, headers: &HeaderMap) -> String {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).filter(|h| {
        !h.is_empty()
            && h.len() <= 255
            && h.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
    });
    let forwarded_https = state.config.trust_forwarded
        && headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|p| p.trim().eq_ignore_ascii_case("https"));
    let scheme = if state.config.cookie_secure || forwarded_https {
        "https"
    } else {
        "http"
    };
    host.map(|h| format!("{scheme}://{h}")).unwrap_or_default()
}

async fn discovery(State(state): State<AppState>, _caller: TaxiiCaller, headers: HeaderMap) -> TaxiiResult<Taxii> {
    let root = format!("{}/taxii2/api/", origin(&state, &headers));
    Ok(Taxii::new(json!({
        "title": "Baluarte TAXII 2.1",
        "description": "Indicadores e incidentes publicados por el CSIRT nacional / indicators and incidents published by the national CSIRT",
        "default": root,
        "api_roots": [root],
    })))
}

async fn api_root(_caller: TaxiiCaller) -> TaxiiResult<Taxii> {
    Ok(Taxii::new(json!({
        "title": "Baluarte",
        "description": "Colecciones por audiencia TLP / one collection per TLP audience",
        "versions": [TAXII_MEDIA_TYPE],
        "max_content_length": MAX_CONTENT_LENGTH,
    })))
}

#[derive(Serialize)]
struct CollectionResource<'a> {
    id: &'a str,
    title: &'a str,
    description: &'a str,
    can_read: bool,
    can_write: bool,
    media_types: &'a [&'static str],
}

fn collection_json(c: &Collection) -> Value {
    serde_json::to_value(CollectionResource {
        id: c.id,
        title: c.title,
        description: c.description,
        can_read: c.can_read,
        can_write: c.can_write,
        media_types: &c.media_types,
    })
    .unwrap_or_default()
}

async fn collections(State(state): State<AppState>, TaxiiCaller(actor): TaxiiCaller) -> TaxiiResult<Taxii> {
    let list: Vec<Value> = state
        .services
        .taxii_collections(&actor)
        .iter()
        .map(collection_json)
        .collect();
    Ok(Taxii::new(json!({ "collections": list })))
}

async fn collection(
    State(state): State<AppState>,
    TaxiiCaller(actor): TaxiiCaller,
    Path(id): Path<String>,
) -> TaxiiResult<Taxii> {
    let c = state.services.taxii_collection(&actor, &id)?;
    Ok(Taxii::new(collection_json(&c)))
}

#[derive(Debug, Deserialize)]
struct PageQuery {
    limit: Option<String>,
    next: Option<String>,
    added_after: Option<String>,
}

/// Parsed page parameters.
struct PageArgs {
    limit: usize,
    next: Option<String>,
    added_after: Option<Micros>,
}

fn page_args(q: PageQuery) -> TaxiiResult<PageArgs> {
    let limit = match q.limit.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => DEFAULT_PAGE,
        Some(s) => match s.parse::<u64>() {
            Ok(n) if n >= 1 => usize::try_from(n).unwrap_or(MAX_PAGE).min(MAX_PAGE),
            _ => {
                return Err(TaxiiError::new(
                    StatusCode::BAD_REQUEST,
                    "limit must be a positive whole number",
                ))
            }
        },
    };
    let added_after = match q.added_after.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(
            s.parse::<jiff::Timestamp>()
                .map_err(|_| {
                    TaxiiError::new(
                        StatusCode::BAD_REQUEST,
                        "added_after must be an RFC 3339 timestamp such as 2026-01-01T00:00:00.000Z",
                    )
                })?
                .as_microsecond(),
        ),
    };
    let next = q.next.filter(|n| !n.is_empty());
    if next
        .as_deref()
        .is_some_and(|n| n.len() > 64 || n.parse::<u64>().is_err())
    {
        return Err(TaxiiError::new(
            StatusCode::BAD_REQUEST,
            "next is not a cursor this server gave",
        ));
    }
    Ok(PageArgs {
        limit,
        next,
        added_after,
    })
}

/// Date-added headers and the envelope's paging fields.
fn paged(mut body: serde_json::Map<String, Value>, page: &ObjectPage, items: Vec<Value>) -> Taxii {
    body.insert("more".into(), Value::Bool(page.more));
    if let Some(n) = &page.next {
        body.insert("next".into(), Value::String(n.clone()));
    }
    if !items.is_empty() {
        body.insert("objects".into(), Value::Array(items));
    }
    let mut t = Taxii::new(Value::Object(body));
    if let Some(first) = page.first_added {
        t.headers.push(("x-taxii-date-added-first", time::rfc3339(first)));
    }
    if let Some(last) = page.last_added {
        t.headers.push(("x-taxii-date-added-last", time::rfc3339(last)));
    }
    t
}

async fn fetch(state: &AppState, actor: &Actor, id: &str, args: &PageArgs) -> TaxiiResult<ObjectPage> {
    Ok(state
        .services
        .taxii_objects(actor, id, args.added_after, args.limit, args.next.as_deref())
        .await?)
}

async fn objects(
    State(state): State<AppState>,
    TaxiiCaller(actor): TaxiiCaller,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> TaxiiResult<Taxii> {
    let args = page_args(q)?;
    let page = fetch(&state, &actor, &id, &args).await?;
    let items = page.objects.clone();
    Ok(paged(serde_json::Map::new(), &page, items))
}

/// One manifest record: the object's id, when it was added, its version and media type.
fn manifest_entry(object: &Value, added: Option<Micros>) -> Value {
    let date_added = added.map(time::rfc3339);
    let version = object
        .get("modified")
        .or_else(|| object.get("created"))
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| date_added.clone());
    json!({
        "id": object.get("id").cloned().unwrap_or(Value::Null),
        "date_added": date_added,
        "version": version,
        "media_type": STIX_MEDIA_TYPE,
    })
}

async fn manifest(
    State(state): State<AppState>,
    TaxiiCaller(actor): TaxiiCaller,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> TaxiiResult<Taxii> {
    let args = page_args(q)?;
    let page = fetch(&state, &actor, &id, &args).await?;
    let items = page
        .objects
        .iter()
        .enumerate()
        .map(|(i, o)| manifest_entry(o, page.added.get(i).copied()))
        .collect();
    Ok(paged(serde_json::Map::new(), &page, items))
}

async fn object(
    State(state): State<AppState>,
    TaxiiCaller(actor): TaxiiCaller,
    Path((id, object_id)): Path<(String, String)>,
) -> TaxiiResult<Taxii> {
    let mut args = PageArgs {
        limit: MAX_PAGE,
        next: None,
        added_after: None,
    };
    loop {
        let page = fetch(&state, &actor, &id, &args).await?;
        if let Some((i, o)) = page
            .objects
            .iter()
            .enumerate()
            .find(|(_, o)| o.get("id").and_then(Value::as_str) == Some(object_id.as_str()))
        {
            let added = page.added.get(i).copied();
            let found = ObjectPage {
                objects: vec![o.clone()],
                added: added.into_iter().collect(),
                more: false,
                next: None,
                first_added: added,
                last_added: added,
            };
            let items = found.objects.clone();
            return Ok(paged(serde_json::Map::new(), &found, items));
        }
        match page.next {
            Some(n) if page.more => args.next = Some(n),
            _ => {
                return Err(TaxiiError::new(
                    StatusCode::NOT_FOUND,
                    "no such object in this collection",
                ))
            }
        }
    }
}
