//! Campaigns: the national CSIRT groups related incidents under one name (its own analysis).

use super::queue::{incident_row, IncidentRow};
use crate::auth::SignedIn;
use crate::pages::kit::{render, tlp_options, DoneQuery, FormErrors, Layout, Opt, OrPage, PageError, DEFAULT_ZONE};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use baluarte_core::model::{PageRequest, Tlp};
use baluarte_core::policy::{Action, Resource};
use baluarte_core::service::access;
use baluarte_core::service::{CampaignInput, IncidentFilter};
use baluarte_core::time::local_display;
use baluarte_core::CoreError;
use baluarte_core::FieldCode;
use baluarte_core::FieldError;
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/campaigns", get(list).post(create))
        .route("/campaigns/{id}", get(show))
}

#[derive(Debug, Clone)]
struct CampaignRow {
    id: String,
    name: String,
    tlp: &'static str,
    incidents: i64,
    created: String,
}

#[derive(Debug, Deserialize, Default, Clone)]
#[serde(default)]
struct CampaignForm {
    name: String,
    description: String,
    tlp: String,
}

#[derive(Template)]
#[template(path = "campaigns.html")]
struct CampaignsPage {
    l: Layout,
    rows: Vec<CampaignRow>,
    can_create: bool,
    form: CampaignForm,
    tlps: Vec<Opt>,
    errors: FormErrors,
}

async fn list_page(
    state: &AppState,
    s: &SignedIn,
    done: Option<&str>,
    form: CampaignForm,
    errors: FormErrors,
) -> Result<Response, PageError> {
    let lang = s.ctx.lang;
    let campaigns = state.services.incidents().list_campaigns(s.actor()).await.page(lang)?;
    let mut l = Layout::signed_in(s, "campaigns.title", "campaigns", "/campaigns");
    if done == Some("created") {
        l = l.with_flash("flash.campaign_created");
    }
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = CampaignsPage {
        rows: campaigns
            .iter()
            .map(|c| CampaignRow {
                id: c.id.clone(),
                name: c.name.clone(),
                tlp: c.tlp.as_str(),
                incidents: c.incident_count,
                created: local_display(c.created_at, DEFAULT_ZONE),
            })
            .collect(),
        can_create: access::can(s.actor(), Resource::Campaign, Action::Create, None),
        tlps: tlp_options(
            if form.tlp.is_empty() {
                Tlp::Amber.as_str()
            } else {
                &form.tlp
            },
            true,
        ),
        form,
        errors,
        l,
    };
    let mut res = render(page);
    *res.status_mut() = status;
    Ok(res)
}

async fn list(State(state): State<AppState>, s: SignedIn, Query(q): Query<DoneQuery>) -> Result<Response, PageError> {
    list_page(
        &state,
        &s,
        q.done.as_deref(),
        CampaignForm::default(),
        FormErrors::default(),
    )
    .await
}

async fn create(
    State(state): State<AppState>,
    s: SignedIn,
    Form(form): Form<CampaignForm>,
) -> Result<Response, PageError> {
    let Some(tlp) = Tlp::parse(form.tlp.trim()) else {
        let errors = FormErrors::one(s.tr(), FieldError::new("tlp", FieldCode::Required));
        return list_page(&state, &s, None, form, errors).await;
    };
    let input = CampaignInput {
        name: form.name.clone(),
        description: form.description.clone(),
        tlp,
    };
    match state.services.incidents().create_campaign(s.actor(), input).await {
        Ok(c) => Ok(Redirect::to(&format!("/campaigns/{}?done=created", c.id)).into_response()),
        Err(CoreError::Invalid(errors)) => list_page(&state, &s, None, form, FormErrors::new(s.tr(), &errors)).await,
        Err(e) => Err(e).page(s.ctx.lang),
    }
}

#[derive(Template)]
#[template(path = "campaign_show.html")]
struct CampaignPage {
    l: Layout,
    id: String,
    name: String,
    description: String,
    tlp: &'static str,
    created: String,
    rows: Vec<IncidentRow>,
    total: i64,
}

async fn show(
    State(state): State<AppState>,
    s: SignedIn,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Result<Response, PageError> {
    let lang = s.ctx.lang;
    let c = state
        .services
        .incidents()
        .get_campaign(s.actor(), &id)
        .await
        .page(lang)?;
    let filter = IncidentFilter {
        status: Some("all".into()),
        campaign_id: Some(c.id.clone()),
        ..Default::default()
    };
    let page = state
        .services
        .incidents()
        .list_incidents(
            s.actor(),
            &filter,
            PageRequest::new(Some(1), Some(PageRequest::MAX_PER_PAGE)),
        )
        .await
        .page(lang)?;
    let mut l =
        Layout::signed_in(&s, "campaigns.title", "campaigns", &format!("/campaigns/{id}")).with_title(c.name.clone());
    if q.done.as_deref() == Some("created") {
        l = l.with_flash("flash.campaign_created");
    }
    let rows = page.items.iter().map(|i| incident_row(l.t, i)).collect();
    Ok(render(CampaignPage {
        id: c.id,
        name: c.name,
        description: c.description,
        tlp: c.tlp.as_str(),
        created: local_display(c.created_at, DEFAULT_ZONE),
        rows,
        total: page.total,
        l,
    }))
}
