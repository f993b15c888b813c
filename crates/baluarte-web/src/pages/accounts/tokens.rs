//! API tokens: list, creation (the secret is shown once) and revocation.

use crate::auth::SignedIn;
use crate::i18n::Tr;
use crate::pages::kit::{
    encode, entity_picker, new_link, no_store, page_request, render, EntityNames, FormErrors, Layout, Opt, OrPage,
    PageError, Pager, DEFAULT_ZONE,
};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use baluarte_core::model::{ApiToken, Purpose};
use baluarte_core::policy::{Action, Resource};
use baluarte_core::service::access;
use baluarte_core::service::TokenInput;
use baluarte_core::time::{self, local_display};
use baluarte_core::CoreError;
use baluarte_core::FieldCode;
use baluarte_core::FieldError;
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/tokens", get(list).post(create))
        .route("/tokens/new", get(new_form))
        .route("/tokens/{id}/revoke", post(revoke))
}

fn purpose_key(p: Purpose) -> &'static str {
    match p {
        Purpose::RegistryRead => "purpose.registry_read",
        Purpose::IncidentsWrite => "purpose.incidents_write",
        Purpose::EventsWrite => "purpose.events_write",
        Purpose::AdvisoriesRead => "purpose.advisories_read",
        Purpose::IndicatorsRead => "purpose.indicators_read",
    }
}

fn purposes_text(t: Tr, purposes: &[Purpose]) -> String {
    purposes
        .iter()
        .map(|p| t.t(purpose_key(*p)))
        .collect::<Vec<_>>()
        .join(", ")
}

// ----- list -----

#[derive(Debug, Deserialize, Default)]
struct ListQuery {
    entity_id: Option<String>,
    page: Option<String>,
    per_page: Option<String>,
    done: Option<String>,
}

#[derive(Debug)]
struct TokenRow {
    id: String,
    name: String,
    prefix: String,
    purposes: String,
    entity_id: String,
    entity: String,
    created_by: String,
    created: String,
    expires: String,
    last_used: String,
    /// `active`, `revoked` or `expired`.
    status: &'static str,
    status_label: String,
    can_revoke: bool,
}

#[derive(Template)]
#[template(path = "tokens_list.html")]
struct TokensPage {
    l: Layout,
    national: bool,
    entity_id: String,
    entity_name: String,
    new_href: Option<String>,
    rows: Vec<TokenRow>,
    pager: Pager,
}

fn token_row(t: Tr, tok: &ApiToken, entity: String, zone: &str, now: time::Micros, can_revoke: bool) -> TokenRow {
    let status = if tok.revoked_at.is_some() {
        "revoked"
    } else if tok.expires_at <= now {
        "expired"
    } else {
        "active"
    };
    let status_label = match status {
        "revoked" => t.t("tokens.revoked"),
        "expired" => t.t("tokens.expired"),
        _ => t.t("status.active"),
    };
    TokenRow {
        id: tok.id.clone(),
        name: tok.name.clone(),
        prefix: tok.prefix.clone(),
        purposes: purposes_text(t, &tok.purposes),
        entity_id: tok.entity_id.clone(),
        entity,
        created_by: tok.created_by.clone(),
        created: local_display(tok.created_at, zone),
        expires: local_display(tok.expires_at, zone),
        last_used: tok
            .last_used_at
            .map(|u| local_display(u, zone))
            .unwrap_or_else(|| t.t("tokens.never_used").to_string()),
        status,
        status_label: status_label.to_string(),
        can_revoke: can_revoke && status == "active",
    }
}

async fn list(State(state): State<AppState>, s: SignedIn, Query(q): Query<ListQuery>) -> Result<Response, PageError> {
    let lang = s.ctx.lang;
    let actor = s.actor();
    let entity_id = q.entity_id.as_deref().map(str::trim).unwrap_or_default().to_string();
    let filter = (!entity_id.is_empty()).then_some(entity_id.as_str());
    let page = state
        .services
        .tokens()
        .list_tokens(actor, filter, page_request(&q.page, &q.per_page))
        .await
        .page(lang)?;
    let l = Layout::signed_in(&s, "tokens.title", "tokens", "/tokens").with_done(q.done.as_deref());
    let now = state.services.now();
    let mut names = EntityNames::default();
    let mut rows = Vec::with_capacity(page.items.len());
    for tok in &page.items {
        let (entity, zone) = names
            .get(&state, actor, &tok.entity_id)
            .await
            .page(lang)?
            .unwrap_or_else(|| (String::new(), DEFAULT_ZONE.to_string()));
        let can_revoke = access::can(actor, Resource::ApiToken, Action::Deactivate, Some(&tok.entity_id));
        rows.push(token_row(l.t, tok, entity, &zone, now, can_revoke));
    }
    let entity_name = names
        .get(&state, actor, &entity_id)
        .await
        .page(lang)?
        .map(|(n, _)| n)
        .unwrap_or_default();
    let new_href = new_link(actor, Resource::ApiToken, "/tokens/new", &entity_id);
    let pager = Pager::new("/tokens", &[("entity_id", &entity_id)], &page);
    Ok(render(TokensPage {
        l,
        national: actor.national(),
        entity_id,
        entity_name,
        new_href,
        rows,
        pager,
    }))
}

// ----- creation -----

#[derive(Debug, Clone, Default)]
struct TokenForm {
    entity_id: String,
    name: String,
    purposes: Vec<String>,
    days: String,
}

impl TokenForm {
    /// From the posted pairs: `purposes` repeats, one per checked box.
    fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        let mut f = TokenForm::default();
        for (k, v) in pairs {
            match k.as_str() {
                "entity_id" => f.entity_id = v,
                "name" => f.name = v,
                "purposes" => f.purposes.push(v),
                "expires_in_days" => f.days = v,
                _ => {}
            }
        }
        f
    }

    fn input(&self) -> Result<TokenInput, CoreError> {
        let days = self.days.trim().parse::<i64>().map_err(|_| {
            CoreError::invalid_field(
                FieldError::new("expires_in_days", FieldCode::OutOfRange)
                    .with("min", 1)
                    .with("max", 365),
            )
        })?;
        Ok(TokenInput {
            entity_id: self.entity_id.clone(),
            name: self.name.clone(),
            purposes: self.purposes.iter().filter_map(|p| Purpose::parse(p)).collect(),
            expires_in_days: Some(days),
        })
    }
}

#[derive(Debug)]
struct PurposeBox {
    id: String,
    value: &'static str,
    label: String,
    checked: bool,
}

#[derive(Debug, Deserialize, Default)]
struct NewQuery {
    entity_id: Option<String>,
    entity_q: Option<String>,
}

#[derive(Template)]
#[template(path = "tokens_new.html")]
struct NewTokenPage {
    l: Layout,
    form: TokenForm,
    entities: Option<Vec<Opt>>,
    entity_q: String,
    own_entity: String,
    purposes: Vec<PurposeBox>,
    errors: FormErrors,
}

async fn new_token_page(
    state: &AppState,
    s: &SignedIn,
    form: TokenForm,
    entity_q: String,
    errors: FormErrors,
) -> Result<Response, PageError> {
    let entities = entity_picker(state, s, &entity_q, &form.entity_id).await?;
    let l = Layout::signed_in(s, "tokens.new_title", "tokens", "/tokens/new");
    let purposes = Purpose::ALL
        .iter()
        .enumerate()
        .map(|(i, p)| PurposeBox {
            id: format!("purpose-{i}"),
            value: p.as_str(),
            label: l.t.t(purpose_key(*p)).to_string(),
            checked: form.purposes.iter().any(|x| x == p.as_str()),
        })
        .collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let mut res = render(NewTokenPage {
        own_entity: s.info.entity_name.clone(),
        entities,
        entity_q,
        purposes,
        form,
        errors,
        l,
    });
    *res.status_mut() = status;
    Ok(res)
}

async fn new_form(
    State(state): State<AppState>,
    s: SignedIn,
    Query(q): Query<NewQuery>,
) -> Result<Response, PageError> {
    let actor = s.actor();
    let entity_id = access::entity_for(actor, q.entity_id.as_deref());
    access::permits(actor, Resource::ApiToken, Action::Create, Some(&entity_id)).page(s.ctx.lang)?;
    let form = TokenForm {
        entity_id,
        days: "90".into(),
        ..Default::default()
    };
    new_token_page(&state, &s, form, q.entity_q.unwrap_or_default(), FormErrors::default()).await
}

#[derive(Template)]
#[template(path = "tokens_created.html")]
struct CreatedPage {
    l: Layout,
    name: String,
    prefix: String,
    purposes: String,
    expires: String,
    entity_id: String,
    secret: String,
}

async fn create(
    State(state): State<AppState>,
    s: SignedIn,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let lang = s.ctx.lang;
    let actor = s.actor();
    let mut form = TokenForm::from_pairs(pairs);
    form.entity_id = access::entity_for(actor, Some(&form.entity_id));
    let result = match form.input() {
        Ok(input) => state.services.tokens().create_token(actor, input).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(created) => {
            let zone = EntityNames::default()
                .get(&state, actor, &created.token.entity_id)
                .await
                .page(lang)?
                .map(|(_, z)| z)
                .unwrap_or_else(|| DEFAULT_ZONE.to_string());
            let l = Layout::signed_in(&s, "tokens.created_title", "tokens", "/tokens");
            let tok = created.token;
            let page = CreatedPage {
                purposes: purposes_text(l.t, &tok.purposes),
                expires: local_display(tok.expires_at, &zone),
                name: tok.name,
                prefix: tok.prefix,
                entity_id: tok.entity_id,
                secret: created.secret,
                l,
            };
            Ok(no_store(render(page)))
        }
        Err(CoreError::Invalid(errors)) => {
            new_token_page(&state, &s, form, String::new(), FormErrors::new(s.tr(), &errors)).await
        }
        Err(e) => Err(e).page(lang),
    }
}

async fn revoke(State(state): State<AppState>, s: SignedIn, Path(id): Path<String>) -> Result<Response, PageError> {
    let tok = state
        .services
        .tokens()
        .revoke_token(s.actor(), &id)
        .await
        .page(s.ctx.lang)?;
    let target = if s.actor().national() {
        format!("/tokens?entity_id={}&done=token_revoked", encode(&tok.entity_id))
    } else {
        "/tokens?done=token_revoked".to_string()
    };
    Ok(Redirect::to(&target).into_response())
}
