//! The indicator search: where else was this address, domain, URL or hash reported? Any spelling works
//! (defanged, mixed case, IDNA); what the reader learns follows TLP, as in the case file.

use super::vocab::status_key;
use crate::auth::SignedIn;
use crate::pages::kit::{render, Layout, OrPage, PageError};
use crate::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use baluarte_core::service::ObservableLookup;
use baluarte_core::CoreError;
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new().route("/observables", get(search))
}

#[derive(Debug, Deserialize, Default)]
struct SearchQuery {
    value: Option<String>,
}

#[derive(Debug)]
struct Hit {
    id: String,
    reference: String,
    entity: String,
    title: String,
    status: String,
}

#[derive(Template)]
#[template(path = "observables.html")]
struct SearchPage {
    l: Layout,
    value: String,
    error: Option<String>,
    found: Option<ObservableLookup>,
    hits: Vec<Hit>,
}

async fn search(
    State(state): State<AppState>,
    s: SignedIn,
    Query(q): Query<SearchQuery>,
) -> Result<Response, PageError> {
    let l = Layout::signed_in(&s, "observables.title", "observables", "/observables");
    let value = q.value.unwrap_or_default().trim().to_string();
    let (mut found, mut error) = (None, None);
    if !value.is_empty() {
        match state.services.incidents().lookup_observable(s.actor(), &value).await {
            Ok(r) => found = Some(r),
            Err(CoreError::Invalid(fields)) => error = fields.first().map(|f| s.tr().error(f)),
            Err(e) => return Err(e).page(s.ctx.lang),
        }
    }
    let hits = found
        .as_ref()
        .map(|f| {
            f.incidents
                .iter()
                .map(|i| Hit {
                    id: i.id.clone(),
                    reference: i.reference.clone(),
                    entity: i.entity_name.clone(),
                    title: i.title.clone(),
                    status: l.t.t(status_key(i.status)).to_string(),
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(render(SearchPage {
        l,
        value,
        error,
        found,
        hits,
    }))
}
