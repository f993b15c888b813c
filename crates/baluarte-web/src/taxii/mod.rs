//! TAXII 2.1 server (read-only), mounted at `/taxii2/`: discovery, one API root, and the collections the
//! service layer publishes (one per TLP audience) with their objects, manifests and objects' versions.
//!
//! - Every response, errors included, is `application/taxii+json;version=2.1`; errors are TAXII error
//!   messages (`title`, `description`, `http_status`).
//! - `Accept` is read leniently: `application/taxii+json` (any or no version 2.1 parameter),
//!   `application/*` and `*/*` are served; anything else is 406.
//! - Credentials: `Authorization: Bearer <token>`, or HTTP Basic whose password is the token (what TAXII
//!   clients send); the token is an API token (`blt_…`) or a full session token (`bls_…`), resolved to the
//!   same actor as for the JSON API. Without credentials: 401 with `WWW-Authenticate: Basic`.
//! - Which collections a caller may read, and what is in them, the service layer decides.
//! - Objects and manifests page by an opaque `next` cursor (the service pages in SQL); `limit` counts STIX
//!   objects. Filters of TAXII 2.1 §3.4 (`query`): `added_after` (an object is added when its incident
//!   last changed), `match[id]`, `match[type]`, `match[version]` (`last`, `first`, `all` or timestamps;
//!   one version of each object is kept) and `match[spec_version]`. A value the server cannot read is a
//!   400 whose description starts with the parameter's name.
//! - Every collection is read-only (`can_write` false): adding objects is 403 (§5.4), after the same
//!   authentication and the same 404 for a collection the caller cannot see.
//! - Discovery names the API root at the configured public address (`public_url`,
//!   `BALUARTE_PUBLIC_URL`), else as a relative URL; never from the request's `Host`, which a client
//!   chooses.

mod query;

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
use baluarte_core::service::{taxii_object_version, Collection, ObjectPage, SessionStage};
use baluarte_core::time::{self, Micros};
use baluarte_core::CoreError;
use base64::Engine;
use query::{page_args, PageArgs};
use serde::Serialize;
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
            tracing::error!(error = %err.chain(), "TAXII request failed");
        }
        let description = match &err {
            CoreError::Invalid(fields) => fields
                .iter()
                .map(|f| format!("{}: {}", f.field, crate::i18n::english().error(f)))
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
            return Ok(TaxiiCaller(state.services.tokens().authenticate_token(&secret).await?));
        }
        let s = state.services.accounts().session(&secret).await?;
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
        .route("/api/collections/{id}/objects/", get(objects).post(add_objects))
        .route("/api/collections/{id}/objects/{object_id}/", get(object))
        .route(
            "/api/collections/{id}/objects/{object_id}/versions/",
            get(object_versions),
        )
        .route("/api/collections/{id}/manifest/", get(manifest))
        .fallback(|| async { TaxiiError::new(StatusCode::NOT_FOUND, "no such TAXII resource") })
        .layer(axum::middleware::from_fn(taxii_envelope))
}

/// The API root's URL: under the configured public address, else relative (TAXII 2.1 §4.1.1 allows a
/// relative URL, which a client resolves against the discovery URL it asked). Never the `Host` header:
/// a client chooses it, and discovery would hand other clients an address of its choosing.
fn api_root_url(state: &AppState) -> String {
    let base = state
        .services
        .settings()
        .public_url
        .as_deref()
        .unwrap_or("")
        .trim_end_matches('/');
    format!("{base}/taxii2/api/")
}

async fn discovery(State(state): State<AppState>, _caller: TaxiiCaller) -> TaxiiResult<Taxii> {
    let root = api_root_url(&state);
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
        .incidents()
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
    let c = state.services.incidents().taxii_collection(&actor, &id)?;
    Ok(Taxii::new(collection_json(&c)))
}

/// Date-added headers and the envelope's paging fields.
fn paged(mut body: serde_json::Map<String, Value>, page: &ObjectPage, items: Vec<Value>) -> Taxii {
    body.insert("more".into(), Value::Bool(page.more));
    if let Some(n) = &page.next {
        body.insert("next".into(), Value::String(n.encode()));
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
        .incidents()
        .taxii_objects(actor, id, &args.filter, args.limit, args.next.as_ref())
        .await?)
}

async fn objects(
    State(state): State<AppState>,
    TaxiiCaller(actor): TaxiiCaller,
    Path(id): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
) -> TaxiiResult<Taxii> {
    let args = page_args(q)?;
    let page = fetch(&state, &actor, &id, &args).await?;
    let items = page.objects.clone();
    Ok(paged(serde_json::Map::new(), &page, items))
}

/// One manifest record: the object's id, when it was added, its version and media type.
fn manifest_entry(object: &Value, added: Micros) -> Value {
    json!({
        "id": object.get("id").cloned().unwrap_or(Value::Null),
        "date_added": time::rfc3339(added),
        "version": taxii_object_version(object, added),
        "media_type": STIX_MEDIA_TYPE,
    })
}

async fn manifest(
    State(state): State<AppState>,
    TaxiiCaller(actor): TaxiiCaller,
    Path(id): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
) -> TaxiiResult<Taxii> {
    let args = page_args(q)?;
    let page = fetch(&state, &actor, &id, &args).await?;
    let items = page
        .objects
        .iter()
        .zip(&page.added)
        .map(|(o, added)| manifest_entry(o, *added))
        .collect();
    Ok(paged(serde_json::Map::new(), &page, items))
}

/// The objects page of one object (`match[id]` set to it), for [`object`] and [`object_versions`]:
/// 404 once the whole collection was looked through without finding it. `every_version`: the
/// request's `match[version]` does not apply (the versions endpoint lists them all).
async fn one_object(
    state: &AppState,
    actor: &Actor,
    collection: &str,
    object_id: String,
    q: Vec<(String, String)>,
    every_version: bool,
) -> TaxiiResult<ObjectPage> {
    let mut args = page_args(q)?;
    args.filter.ids = vec![object_id];
    if every_version {
        args.filter.versions = None;
    }
    let page = fetch(state, actor, collection, &args).await?;
    if page.objects.is_empty() && !page.more {
        return Err(TaxiiError::new(
            StatusCode::NOT_FOUND,
            "no such object in this collection",
        ));
    }
    Ok(page)
}

/// Get An Object (TAXII 2.1 §5.6): the objects page with `match[id]` set to the path's id, so it takes
/// the same `limit`, `next`, `added_after` and `match[version]`. No index maps STIX ids to incidents, so
/// one request looks through at most `TAXII_SCAN_BUDGET` incidents: when the object is further on, the
/// answer is an empty envelope with `more` and `next`; 404 once the whole collection was looked through.
async fn object(
    State(state): State<AppState>,
    TaxiiCaller(actor): TaxiiCaller,
    Path((id, object_id)): Path<(String, String)>,
    Query(q): Query<Vec<(String, String)>>,
) -> TaxiiResult<Taxii> {
    let page = one_object(&state, &actor, &id, object_id, q, false).await?;
    let items = page.objects.clone();
    Ok(paged(serde_json::Map::new(), &page, items))
}

/// Get Object Versions (TAXII 2.1 §5.8): the versions of one object, read like [`object`] (the same
/// `added_after`, `limit` and `next`, the same scan budget and 404). Each object has one version, its
/// `modified` (else `created`, else when it was added), so the list holds one timestamp.
async fn object_versions(
    State(state): State<AppState>,
    TaxiiCaller(actor): TaxiiCaller,
    Path((id, object_id)): Path<(String, String)>,
    Query(q): Query<Vec<(String, String)>>,
) -> TaxiiResult<Taxii> {
    let page = one_object(&state, &actor, &id, object_id, q, true).await?;
    let versions: Vec<Value> = page
        .objects
        .iter()
        .zip(&page.added)
        .map(|(o, added)| Value::String(taxii_object_version(o, *added)))
        .collect();
    let mut body = serde_json::Map::new();
    if !versions.is_empty() {
        body.insert("versions".into(), Value::Array(versions));
    }
    Ok(paged(body, &page, Vec::new()))
}

/// Add Objects (TAXII 2.1 §5.4): no collection accepts writes (`can_write` is false), so the answer is
/// 403 once the caller is known and the collection is one it can see (404 otherwise). The body is not
/// read.
async fn add_objects(
    State(state): State<AppState>,
    TaxiiCaller(actor): TaxiiCaller,
    Path(id): Path<String>,
) -> TaxiiResult<Taxii> {
    let c = state.services.incidents().taxii_collection(&actor, &id)?;
    debug_assert!(!c.can_write);
    Err(TaxiiError::new(
        StatusCode::FORBIDDEN,
        format!("the collection {} is read-only (can_write is false)", c.title),
    ))
}
