//! Entities: the list, the form (new and edit), and an entity's page with its contacts and history.

use super::{kind_key, kind_options, sector_name, ContactForm, ContactRow};
use crate::auth::SignedIn;
use crate::pages::kit::{
    history, invalid_status, non_empty, page_request, render, sector_options, status_with, tlp_options, DoneQuery,
    EntityNames, FormErrors, HistoryRow, Layout, Opt, OrPage, PageError, Pager, DEFAULT_ZONE,
};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use baluarte_core::model::{Entity, EntityKind};
use baluarte_core::policy::{Action, Resource};
use baluarte_core::service::access;
use baluarte_core::service::{EntityFilter, EntityInput};
use baluarte_core::time::local_display;
use baluarte_core::CoreError;
use baluarte_core::FieldCode;
use serde::Deserialize;

/// Mexico's IANA zones, offered as suggestions in the entity form (any IANA zone is accepted).
const ZONES: &[&str] = &[
    "America/Mexico_City",
    "America/Cancun",
    "America/Merida",
    "America/Monterrey",
    "America/Matamoros",
    "America/Chihuahua",
    "America/Ciudad_Juarez",
    "America/Ojinaga",
    "America/Mazatlan",
    "America/Bahia_Banderas",
    "America/Hermosillo",
    "America/Tijuana",
];

// ----- entities: list -----

#[derive(Debug, Deserialize, Default)]
pub(super) struct ListQuery {
    q: Option<String>,
    sector: Option<String>,
    kind: Option<String>,
    state: Option<String>,
    inactive: Option<String>,
    page: Option<String>,
    per_page: Option<String>,
    done: Option<String>,
}

#[derive(Debug)]
struct EntityRow {
    id: String,
    name: String,
    acronym: String,
    kind: String,
    sector: String,
    state: String,
    zone: String,
    active: bool,
}

#[derive(Template)]
#[template(path = "registry_entities.html")]
struct EntitiesPage {
    l: Layout,
    national: bool,
    can_create: bool,
    q: String,
    state: String,
    inactive: bool,
    sectors: Vec<Opt>,
    kinds: Vec<Opt>,
    rows: Vec<EntityRow>,
    pager: Pager,
}

pub(super) async fn list(
    State(state): State<AppState>,
    s: SignedIn,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    let lang = s.ctx.lang;
    let actor = s.actor();
    let title = if actor.national() {
        "entities.title"
    } else {
        "entities.own_title"
    };
    let l = Layout::signed_in(&s, title, "entities", "/entities").with_done(q.done.as_deref());
    let text = |v: &Option<String>| v.as_deref().map(str::trim).unwrap_or_default().to_string();
    let (query, sector, kind, st) = (text(&q.q), text(&q.sector), text(&q.kind), text(&q.state));
    let inactive = q.inactive.is_some();
    let filter = EntityFilter {
        q: non_empty(&query),
        sector_id: non_empty(&sector),
        kind: EntityKind::parse(&kind),
        state_code: non_empty(&st).map(|s| s.to_uppercase()),
        include_inactive: inactive,
    };
    let page = state
        .services
        .registry()
        .list_entities(actor, &filter, page_request(&q.page, &q.per_page))
        .await
        .page(lang)?;
    let sectors = state.services.registry().list_sectors(actor).await.page(lang)?;
    let rows = page
        .items
        .iter()
        .map(|e| EntityRow {
            id: e.id.clone(),
            name: e.name.clone(),
            acronym: e.acronym.clone().unwrap_or_default(),
            kind: l.t.t(kind_key(e.kind)).to_string(),
            sector: sector_name(&sectors, e.sector_id.as_deref(), lang),
            state: e.state_code.clone().unwrap_or_default(),
            zone: e.time_zone.clone(),
            active: e.active,
        })
        .collect();
    let inactive_flag = if inactive { "1" } else { "" };
    let pager = Pager::new(
        "/entities",
        &[
            ("q", &query),
            ("sector", &sector),
            ("kind", &kind),
            ("state", &st),
            ("inactive", inactive_flag),
        ],
        &page,
    );
    let kinds = kind_options(l.t, &kind);
    let page = EntitiesPage {
        national: actor.national(),
        can_create: access::can(actor, Resource::Entity, Action::Create, None),
        q: query,
        state: st,
        inactive,
        sectors: sector_options(&sectors, &sector, lang),
        kinds,
        rows,
        pager,
        l,
    };
    Ok(render(page))
}

// ----- entities: create and edit -----

#[derive(Debug, Deserialize, Default, Clone)]
#[serde(default)]
pub(super) struct EntityForm {
    name: String,
    acronym: String,
    kind: String,
    parent_id: String,
    sector_id: String,
    state_code: String,
    time_zone: String,
}

impl EntityForm {
    fn blank() -> Self {
        EntityForm {
            kind: EntityKind::Federal.as_str().into(),
            time_zone: DEFAULT_ZONE.into(),
            ..Default::default()
        }
    }

    fn of(e: &Entity) -> Self {
        EntityForm {
            name: e.name.clone(),
            acronym: e.acronym.clone().unwrap_or_default(),
            kind: e.kind.as_str().into(),
            parent_id: e.parent_id.clone().unwrap_or_default(),
            sector_id: e.sector_id.clone().unwrap_or_default(),
            state_code: e.state_code.clone().unwrap_or_default(),
            time_zone: e.time_zone.clone(),
        }
    }

    fn input(&self) -> Result<EntityInput, CoreError> {
        let kind =
            EntityKind::parse(self.kind.trim()).ok_or_else(|| CoreError::invalid("kind", FieldCode::Required))?;
        Ok(EntityInput {
            name: self.name.clone(),
            acronym: non_empty(&self.acronym),
            kind,
            parent_id: non_empty(&self.parent_id),
            sector_id: non_empty(&self.sector_id),
            state_code: non_empty(&self.state_code),
            time_zone: self.time_zone.clone(),
        })
    }
}

#[derive(Template)]
#[template(path = "registry_entity_form.html")]
struct EntityFormPage {
    l: Layout,
    /// Where the form posts; also tells a new entity (`/entities`) from an edit.
    action: String,
    cancel: String,
    editing: bool,
    form: EntityForm,
    kinds: Vec<Opt>,
    sectors: Vec<Opt>,
    zones: &'static [&'static str],
    errors: FormErrors,
    /// Whether kind, sector and parent may be changed here (the national authority's roles); for an
    /// entity's officer they are shown, and sent back as they are.
    classify: bool,
}

async fn entity_form_page(
    state: &AppState,
    s: &SignedIn,
    id: Option<&str>,
    form: EntityForm,
    errors: FormErrors,
) -> Result<Response, PageError> {
    let lang = s.ctx.lang;
    let sectors = state.services.registry().list_sectors(s.actor()).await.page(lang)?;
    let (title, action, cancel, path) = match id {
        Some(id) => (
            "entities.edit_title",
            format!("/entities/{id}"),
            format!("/entities/{id}"),
            format!("/entities/{id}/edit"),
        ),
        None => (
            "entities.new_title",
            "/entities".to_string(),
            "/entities".to_string(),
            "/entities/new".to_string(),
        ),
    };
    let l = Layout::signed_in(s, title, "entities", &path);
    let status = invalid_status(&errors);
    let page = EntityFormPage {
        kinds: kind_options(l.t, &form.kind),
        sectors: sector_options(&sectors, &form.sector_id, lang),
        editing: id.is_some(),
        classify: id.is_none() || access::may_classify_entities(s.actor()),
        action,
        cancel,
        form,
        zones: ZONES,
        errors,
        l,
    };
    Ok(status_with(status, render(page)))
}

pub(super) async fn new_form(State(state): State<AppState>, s: SignedIn) -> Result<Response, PageError> {
    access::permits(s.actor(), Resource::Entity, Action::Create, None).page(s.ctx.lang)?;
    entity_form_page(&state, &s, None, EntityForm::blank(), FormErrors::default()).await
}

pub(super) async fn create(
    State(state): State<AppState>,
    s: SignedIn,
    Form(form): Form<EntityForm>,
) -> Result<Response, PageError> {
    let result = match form.input() {
        Ok(input) => state.services.registry().create_entity(s.actor(), input).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(e) => Ok(Redirect::to(&format!("/entities/{}?done=entity_created", e.id)).into_response()),
        Err(CoreError::Invalid(errors)) => {
            entity_form_page(&state, &s, None, form, FormErrors::new(s.tr(), &errors)).await
        }
        Err(e) => Err(e).page(s.ctx.lang),
    }
}

pub(super) async fn edit_form(
    State(state): State<AppState>,
    s: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let lang = s.ctx.lang;
    let e = state.services.registry().get_entity(s.actor(), &id).await.page(lang)?;
    access::permits(s.actor(), Resource::Entity, Action::Update, Some(&id)).page(lang)?;
    entity_form_page(&state, &s, Some(&id), EntityForm::of(&e), FormErrors::default()).await
}

pub(super) async fn update(
    State(state): State<AppState>,
    s: SignedIn,
    Path(id): Path<String>,
    Form(form): Form<EntityForm>,
) -> Result<Response, PageError> {
    let result = match form.input() {
        Ok(input) => state.services.registry().update_entity(s.actor(), &id, input).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/entities/{id}?done=entity_saved")).into_response()),
        Err(CoreError::Invalid(errors)) => {
            entity_form_page(&state, &s, Some(&id), form, FormErrors::new(s.tr(), &errors)).await
        }
        Err(e) => Err(e).page(s.ctx.lang),
    }
}

pub(super) async fn deactivate(
    State(state): State<AppState>,
    s: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    state
        .services
        .registry()
        .set_entity_active(s.actor(), &id, false)
        .await
        .page(s.ctx.lang)?;
    Ok(Redirect::to(&format!("/entities/{id}?done=entity_deactivated")).into_response())
}

pub(super) async fn reactivate(
    State(state): State<AppState>,
    s: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    state
        .services
        .registry()
        .set_entity_active(s.actor(), &id, true)
        .await
        .page(s.ctx.lang)?;
    Ok(Redirect::to(&format!("/entities/{id}?done=entity_reactivated")).into_response())
}

// ----- entities: detail, with contacts -----

#[derive(Debug)]
struct EntityView {
    id: String,
    name: String,
    acronym: String,
    kind: String,
    parent: Option<(String, String)>,
    sector: String,
    state: String,
    zone: String,
    national_authority: bool,
    active: bool,
    created: String,
    updated: String,
}

/// What the signed-in person may do here, as the policy answers (the service still enforces).
#[derive(Debug, Default)]
struct EntityCan {
    edit: bool,
    deactivate: bool,
    reactivate: bool,
    add_contact: bool,
    edit_contacts: bool,
    users: bool,
    tokens: bool,
    audit: bool,
}

#[derive(Template)]
#[template(path = "registry_entity.html")]
struct EntityPage {
    l: Layout,
    e: EntityView,
    can: EntityCan,
    contacts: Vec<ContactRow>,
    form: ContactForm,
    tlps: Vec<Opt>,
    errors: FormErrors,
    history: Option<Vec<HistoryRow>>,
}

pub(super) async fn show(
    State(state): State<AppState>,
    s: SignedIn,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Result<Response, PageError> {
    entity_page(
        &state,
        &s,
        &id,
        q.done.as_deref(),
        ContactForm::default(),
        FormErrors::default(),
    )
    .await
}

async fn entity_page(
    state: &AppState,
    s: &SignedIn,
    id: &str,
    done: Option<&str>,
    form: ContactForm,
    errors: FormErrors,
) -> Result<Response, PageError> {
    let lang = s.ctx.lang;
    let actor = s.actor();
    let e = state.services.registry().get_entity(actor, id).await.page(lang)?;
    let contacts = state.services.registry().list_contacts(actor, id).await.page(lang)?;
    let sectors = state.services.registry().list_sectors(actor).await.page(lang)?;
    let mut names = EntityNames::default();
    let parent = match &e.parent_id {
        Some(p) => names
            .get(state, actor, p)
            .await
            .page(lang)?
            .map(|(name, _)| (p.clone(), name)),
        None => None,
    };
    let allowed = |r: Resource, a: Action| access::can(actor, r, a, Some(id));
    let may_deactivate = allowed(Resource::Entity, Action::Deactivate);
    let can = EntityCan {
        edit: allowed(Resource::Entity, Action::Update),
        deactivate: may_deactivate && e.active && !e.national_authority,
        reactivate: may_deactivate && !e.active,
        add_contact: allowed(Resource::Contact, Action::Create),
        edit_contacts: allowed(Resource::Contact, Action::Update),
        users: allowed(Resource::User, Action::Read),
        tokens: allowed(Resource::ApiToken, Action::Read),
        audit: allowed(Resource::Audit, Action::Read),
    };
    let history = history(state, s, "entity", id, &e.time_zone).await?;
    let l = Layout::signed_in(s, "entities.title", "entities", &format!("/entities/{id}"))
        .with_title(e.name.clone())
        .with_done(done);
    let view = EntityView {
        id: e.id.clone(),
        acronym: e.acronym.clone().unwrap_or_default(),
        kind: l.t.t(kind_key(e.kind)).to_string(),
        parent,
        sector: sector_name(&sectors, e.sector_id.as_deref(), lang),
        state: e.state_code.clone().unwrap_or_default(),
        national_authority: e.national_authority,
        active: e.active,
        created: local_display(e.created_at, &e.time_zone),
        updated: local_display(e.updated_at, &e.time_zone),
        zone: e.time_zone,
        name: e.name,
    };
    let status = invalid_status(&errors);
    let page = EntityPage {
        e: view,
        can,
        contacts: contacts.iter().map(ContactRow::of).collect(),
        tlps: tlp_options(&form.tlp, false),
        form,
        errors,
        history,
        l,
    };
    Ok(status_with(status, render(page)))
}

pub(super) async fn add_contact(
    State(state): State<AppState>,
    s: SignedIn,
    Path(id): Path<String>,
    Form(form): Form<ContactForm>,
) -> Result<Response, PageError> {
    let result = match form.input() {
        Ok(input) => state.services.registry().create_contact(s.actor(), &id, input).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/entities/{id}?done=contact_created#contacts")).into_response()),
        Err(CoreError::Invalid(errors)) => {
            entity_page(&state, &s, &id, None, form, FormErrors::new(s.tr(), &errors)).await
        }
        Err(e) => Err(e).page(s.ctx.lang),
    }
}
