//! Sharing from the browser: STIX 2.1 bundles of an incident or a campaign as downloads, and the import
//! of a partner's bundle (multipart, so mounted beside the form middleware like the other uploads).

use super::files::download;
use super::uploads::read_multipart;
use crate::auth::SignedIn;
use crate::pages::kit::{render, Layout, OrPage, PageError};
use crate::AppState;
use askama::Template;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use baluarte_core::model::Tlp;
use baluarte_core::service::ImportSummary;
use baluarte_core::CoreError;

/// Partner bundles up to this size are accepted, as by the API.
const MAX_BUNDLE: usize = 10 * 1024 * 1024;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/incidents/{id}/stix.json", get(incident_bundle))
        .route("/campaigns/{id}/stix.json", get(campaign_bundle))
        .route("/stix/import", get(import_form))
}

pub fn upload_routes() -> Router<AppState> {
    Router::new()
        .route("/stix/import", post(import))
        .layer(DefaultBodyLimit::max(MAX_BUNDLE + 64 * 1024))
}

fn bundle_download(bundle: &serde_json::Value, name: &str) -> Response {
    let body = serde_json::to_vec_pretty(bundle).unwrap_or_default();
    download(body, "application/stix+json;version=2.1", &format!("{name}.stix.json"))
}

async fn incident_bundle(
    State(state): State<AppState>,
    s: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let bundle = state
        .services
        .incidents()
        .export_incident_stix(s.actor(), &id)
        .await
        .page(s.ctx.lang)?;
    let incident = state
        .services
        .incidents()
        .get_incident(s.actor(), &id)
        .await
        .page(s.ctx.lang)?;
    Ok(bundle_download(&bundle, &incident.reference))
}

async fn campaign_bundle(
    State(state): State<AppState>,
    s: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let bundle = state
        .services
        .incidents()
        .export_campaign_stix(s.actor(), &id)
        .await
        .page(s.ctx.lang)?;
    Ok(bundle_download(&bundle, &format!("campaign-{id}")))
}

#[derive(Template)]
#[template(path = "stix_import.html")]
struct ImportPage {
    l: Layout,
    error: Option<String>,
    summary: Option<ImportSummary>,
    source: String,
    tlp: String,
}

fn page(s: &SignedIn, error: Option<String>, summary: Option<ImportSummary>, source: String, tlp: String) -> Response {
    let l = Layout::signed_in(s, "stix.import_title", "campaigns", "/stix/import");
    let failed = error.is_some();
    let mut res = render(ImportPage {
        l,
        error,
        summary,
        source,
        tlp,
    });
    if failed {
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    res
}

async fn import_form(s: SignedIn) -> Response {
    page(&s, None, None, String::new(), "AMBER".into())
}

async fn import(State(state): State<AppState>, s: SignedIn, mp: Multipart) -> Response {
    let (pairs, upload) = match read_multipart(mp, &s).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    let field = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    let (source, tlp_text) = (field("source"), field("tlp"));
    let Some(tlp) = Tlp::parse(&tlp_text) else {
        return page(
            &s,
            Some(format!("tlp: unknown marking `{tlp_text}`")),
            None,
            source,
            tlp_text,
        );
    };
    let Some(upload) = upload else {
        let t = crate::i18n::Tr::new(s.ctx.lang);
        return page(&s, Some(t.t("stix.choose_file").to_string()), None, source, tlp_text);
    };
    let source_name = if source.is_empty() {
        upload.filename.clone()
    } else {
        source.clone()
    };
    match state
        .services
        .incidents()
        .import_stix(s.actor(), &upload.bytes, &source_name, tlp)
        .await
    {
        Ok(summary) => page(&s, None, Some(summary), source, tlp_text),
        Err(CoreError::Invalid(fields)) => {
            let msg = fields.iter().map(|f| s.tr().error(f)).collect::<Vec<_>>().join("; ");
            page(&s, Some(msg), None, source, tlp_text)
        }
        Err(e) => Err::<Response, _>(e).page(s.ctx.lang).into_response(),
    }
}
