//! The registry pages: entities and their contacts, the 24/7 directory, sectors.
//!
//! The bottom of this file holds the small pieces the other administration pages (users, tokens,
//! audit) share: the pager, confirmations after a redirect, entity names and an object's history.

use super::{render, FormErrors, Layout, OrPage, PageError};
use crate::auth::SignedIn;
use crate::i18n::{Lang, Tr};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use baluarte_core::model::{AuditEntry, Contact, Entity, EntityKind, Page, PageRequest, Sector, Tlp};
use baluarte_core::policy::{self, Action, Actor, Resource};
use baluarte_core::service::{ContactInput, EntityFilter, EntityInput, SectorInput};
use baluarte_core::time::local_display;
use baluarte_core::{CoreError, FieldError};
use serde::Deserialize;
use std::collections::HashMap;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/entities", get(list).post(create))
        .route("/entities/new", get(new_form))
        .route("/entities/{id}", get(show).post(update))
        .route("/entities/{id}/edit", get(edit_form))
        .route("/entities/{id}/deactivate", post(deactivate))
        .route("/entities/{id}/reactivate", post(reactivate))
        .route("/entities/{id}/contacts", post(add_contact))
        .route("/contacts/{id}/edit", get(contact_form))
        .route("/contacts/{id}", post(update_contact))
        .route("/contacts/{id}/deactivate", post(deactivate_contact))
        .route("/contacts/{id}/reactivate", post(reactivate_contact))
        .route("/directory", get(directory))
        .route("/sectors", get(sectors).post(create_sector))
}

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

fn kind_key(k: EntityKind) -> &'static str {
    match k {
        EntityKind::Federal => "kind.federal",
        EntityKind::State => "kind.state",
        EntityKind::Municipal => "kind.municipal",
        EntityKind::Autonomous => "kind.autonomous",
        EntityKind::Private => "kind.private",
    }
}

fn sector_label(s: &Sector, lang: Lang) -> &str {
    if lang == Lang::En {
        &s.name_en
    } else {
        &s.name_es
    }
}

fn sector_name(sectors: &[Sector], id: Option<&str>, lang: Lang) -> String {
    id.and_then(|id| sectors.iter().find(|s| s.id == id))
        .map(|s| sector_label(s, lang).to_string())
        .unwrap_or_default()
}

/// Sectors for a select, subsectors under their sector.
fn sector_options(sectors: &[Sector], selected: &str, lang: Lang) -> Vec<Opt> {
    sectors
        .iter()
        .map(|s| {
            let label = match s.parent_id {
                Some(_) => format!("\u{2014} {}", sector_label(s, lang)),
                None => sector_label(s, lang).to_string(),
            };
            Opt::new(&s.id, label, selected)
        })
        .collect()
}

fn kind_options(t: Tr, selected: &str) -> Vec<Opt> {
    EntityKind::ALL
        .iter()
        .map(|k| Opt::new(k.as_str(), t.t(kind_key(*k)), selected))
        .collect()
}

/// TLP markings a contact may carry (RED needs named recipients and is refused for contacts).
fn tlp_options(selected: &str) -> Vec<Opt> {
    [Tlp::Clear, Tlp::Green, Tlp::Amber, Tlp::AmberStrict]
        .iter()
        .map(|m| Opt::new(m.as_str(), format!("TLP:{m}"), selected))
        .collect()
}

fn non_empty(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

fn status_with<T: IntoResponse>(status: StatusCode, page: T) -> Response {
    let mut res = page.into_response();
    *res.status_mut() = status;
    res
}

fn invalid_status(errors: &FormErrors) -> StatusCode {
    if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    }
}

// ----- entities: list -----

#[derive(Debug, Deserialize, Default)]
struct ListQuery {
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

async fn list(State(state): State<AppState>, s: SignedIn, Query(q): Query<ListQuery>) -> Result<Response, PageError> {
    let lang = s.ctx.lang;
    let actor = s.actor();
    let title = if actor.national {
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
        national: actor.national,
        can_create: policy::check(actor, Resource::Entity, Action::Create, None).is_ok(),
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
struct EntityForm {
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
        let kind = EntityKind::parse(self.kind.trim()).ok_or_else(|| CoreError::invalid("kind", "is required"))?;
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
        action,
        cancel,
        form,
        zones: ZONES,
        errors,
        l,
    };
    Ok(status_with(status, render(page)))
}

async fn new_form(State(state): State<AppState>, s: SignedIn) -> Result<Response, PageError> {
    policy::check(s.actor(), Resource::Entity, Action::Create, None).page(s.ctx.lang)?;
    entity_form_page(&state, &s, None, EntityForm::blank(), FormErrors::default()).await
}

async fn create(
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
        Err(CoreError::Invalid(errors)) => entity_form_page(&state, &s, None, form, FormErrors(errors)).await,
        Err(e) => Err(e).page(s.ctx.lang),
    }
}

async fn edit_form(State(state): State<AppState>, s: SignedIn, Path(id): Path<String>) -> Result<Response, PageError> {
    let lang = s.ctx.lang;
    let e = state.services.registry().get_entity(s.actor(), &id).await.page(lang)?;
    policy::check(s.actor(), Resource::Entity, Action::Update, Some(&id)).page(lang)?;
    entity_form_page(&state, &s, Some(&id), EntityForm::of(&e), FormErrors::default()).await
}

async fn update(
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
        Err(CoreError::Invalid(errors)) => entity_form_page(&state, &s, Some(&id), form, FormErrors(errors)).await,
        Err(e) => Err(e).page(s.ctx.lang),
    }
}

async fn deactivate(State(state): State<AppState>, s: SignedIn, Path(id): Path<String>) -> Result<Response, PageError> {
    state
        .services
        .registry()
        .set_entity_active(s.actor(), &id, false)
        .await
        .page(s.ctx.lang)?;
    Ok(Redirect::to(&format!("/entities/{id}?done=entity_deactivated")).into_response())
}

async fn reactivate(State(state): State<AppState>, s: SignedIn, Path(id): Path<String>) -> Result<Response, PageError> {
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

#[derive(Debug)]
struct ContactRow {
    id: String,
    name: String,
    title: String,
    email: String,
    phone: String,
    is_24_7: bool,
    tlp: &'static str,
    active: bool,
}

impl ContactRow {
    fn of(c: &Contact) -> Self {
        ContactRow {
            id: c.id.clone(),
            name: c.name.clone(),
            title: c.title.clone(),
            email: c.email.clone(),
            phone: c.phone.clone(),
            is_24_7: c.is_24_7,
            tlp: c.tlp.as_str(),
            active: c.active,
        }
    }
}

#[derive(Debug, Deserialize, Clone)]
#[serde(default)]
struct ContactForm {
    name: String,
    title: String,
    email: String,
    phone: String,
    is_24_7: Option<String>,
    tlp: String,
}

impl Default for ContactForm {
    fn default() -> Self {
        ContactForm {
            name: String::new(),
            title: String::new(),
            email: String::new(),
            phone: String::new(),
            is_24_7: Some("on".into()),
            tlp: Tlp::Amber.as_str().into(),
        }
    }
}

impl ContactForm {
    fn of(c: &Contact) -> Self {
        ContactForm {
            name: c.name.clone(),
            title: c.title.clone(),
            email: c.email.clone(),
            phone: c.phone.clone(),
            is_24_7: c.is_24_7.then(|| "on".to_string()),
            tlp: c.tlp.as_str().into(),
        }
    }

    fn input(&self) -> Result<ContactInput, CoreError> {
        let tlp = Tlp::parse(self.tlp.trim()).ok_or_else(|| CoreError::invalid("tlp", "is required"))?;
        Ok(ContactInput {
            name: self.name.clone(),
            title: self.title.clone(),
            email: self.email.clone(),
            phone: self.phone.clone(),
            is_24_7: self.is_24_7.is_some(),
            tlp,
        })
    }
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

#[derive(Debug, Deserialize, Default)]
struct DoneQuery {
    done: Option<String>,
}

async fn show(
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
    let allowed = |r: Resource, a: Action| policy::check(actor, r, a, Some(id)).is_ok();
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
        tlps: tlp_options(&form.tlp),
        form,
        errors,
        history,
        l,
    };
    Ok(status_with(status, render(page)))
}

async fn add_contact(
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
        Err(CoreError::Invalid(errors)) => entity_page(&state, &s, &id, None, form, FormErrors(errors)).await,
        Err(e) => Err(e).page(s.ctx.lang),
    }
}

// ----- contacts -----

#[derive(Template)]
#[template(path = "registry_contact_form.html")]
struct ContactFormPage {
    l: Layout,
    contact_id: String,
    entity_id: String,
    entity_name: String,
    active: bool,
    can_deactivate: bool,
    form: ContactForm,
    tlps: Vec<Opt>,
    errors: FormErrors,
}

async fn contact_form_page(
    state: &AppState,
    s: &SignedIn,
    c: &Contact,
    form: ContactForm,
    errors: FormErrors,
) -> Result<Response, PageError> {
    let lang = s.ctx.lang;
    let actor = s.actor();
    let entity_name = EntityNames::default()
        .get(state, actor, &c.entity_id)
        .await
        .page(lang)?
        .map(|(n, _)| n)
        .unwrap_or_default();
    let l = Layout::signed_in(s, "contact.edit_title", "entities", &format!("/contacts/{}/edit", c.id));
    let status = invalid_status(&errors);
    let page = ContactFormPage {
        contact_id: c.id.clone(),
        entity_id: c.entity_id.clone(),
        entity_name,
        active: c.active,
        can_deactivate: policy::check(actor, Resource::Contact, Action::Deactivate, Some(&c.entity_id)).is_ok(),
        tlps: tlp_options(&form.tlp),
        form,
        errors,
        l,
    };
    Ok(status_with(status, render(page)))
}

async fn contact_form(
    State(state): State<AppState>,
    s: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let lang = s.ctx.lang;
    let c = state.services.registry().get_contact(s.actor(), &id).await.page(lang)?;
    policy::check(s.actor(), Resource::Contact, Action::Update, Some(&c.entity_id)).page(lang)?;
    contact_form_page(&state, &s, &c, ContactForm::of(&c), FormErrors::default()).await
}

async fn update_contact(
    State(state): State<AppState>,
    s: SignedIn,
    Path(id): Path<String>,
    Form(form): Form<ContactForm>,
) -> Result<Response, PageError> {
    let lang = s.ctx.lang;
    let result = match form.input() {
        Ok(input) => state.services.registry().update_contact(s.actor(), &id, input).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(c) => Ok(Redirect::to(&format!("/entities/{}?done=contact_saved#contacts", c.entity_id)).into_response()),
        Err(CoreError::Invalid(errors)) => {
            let c = state.services.registry().get_contact(s.actor(), &id).await.page(lang)?;
            contact_form_page(&state, &s, &c, form, FormErrors(errors)).await
        }
        Err(e) => Err(e).page(lang),
    }
}

async fn deactivate_contact(
    State(state): State<AppState>,
    s: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let c = state
        .services
        .registry()
        .set_contact_active(s.actor(), &id, false)
        .await
        .page(s.ctx.lang)?;
    Ok(Redirect::to(&format!("/entities/{}?done=contact_deactivated#contacts", c.entity_id)).into_response())
}

async fn reactivate_contact(
    State(state): State<AppState>,
    s: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let c = state
        .services
        .registry()
        .set_contact_active(s.actor(), &id, true)
        .await
        .page(s.ctx.lang)?;
    Ok(Redirect::to(&format!("/entities/{}?done=contact_reactivated#contacts", c.entity_id)).into_response())
}

// ----- the 24/7 directory -----

#[derive(Debug, Deserialize, Default)]
struct DirectoryQuery {
    q: Option<String>,
    page: Option<String>,
    per_page: Option<String>,
}

#[derive(Debug)]
struct DirectoryRow {
    contact: ContactRow,
    entity_id: String,
    /// None when the entity itself is not visible (a GREEN contact of another entity).
    entity_name: Option<String>,
}

#[derive(Template)]
#[template(path = "registry_directory.html")]
struct DirectoryPage {
    l: Layout,
    q: String,
    rows: Vec<DirectoryRow>,
    pager: Pager,
}

async fn directory(
    State(state): State<AppState>,
    s: SignedIn,
    Query(q): Query<DirectoryQuery>,
) -> Result<Response, PageError> {
    let lang = s.ctx.lang;
    let actor = s.actor();
    let query = q.q.as_deref().map(str::trim).unwrap_or_default().to_string();
    let page = state
        .services
        .registry()
        .contact_directory(actor, non_empty(&query).as_deref(), page_request(&q.page, &q.per_page))
        .await
        .page(lang)?;
    let mut names = EntityNames::default();
    let mut rows = Vec::with_capacity(page.items.len());
    for c in &page.items {
        let entity_name = names.get(&state, actor, &c.entity_id).await.page(lang)?.map(|(n, _)| n);
        rows.push(DirectoryRow {
            contact: ContactRow::of(c),
            entity_id: c.entity_id.clone(),
            entity_name,
        });
    }
    let pager = Pager::new("/directory", &[("q", &query)], &page);
    let l = Layout::signed_in(&s, "directory.title", "directory", "/directory");
    Ok(render(DirectoryPage {
        l,
        q: query,
        rows,
        pager,
    }))
}

// ----- sectors -----

#[derive(Debug)]
struct SectorGroup {
    id: String,
    name: String,
    subsectors: Vec<(String, String)>,
}

#[derive(Debug, Deserialize, Default, Clone)]
#[serde(default)]
struct SectorForm {
    id: String,
    parent_id: String,
    name_es: String,
    name_en: String,
}

#[derive(Template)]
#[template(path = "registry_sectors.html")]
struct SectorsPage {
    l: Layout,
    groups: Vec<SectorGroup>,
    can_create: bool,
    form: SectorForm,
    parents: Vec<Opt>,
    errors: FormErrors,
}

fn sector_groups(sectors: &[Sector], lang: Lang) -> Vec<SectorGroup> {
    let known = |id: &str| sectors.iter().any(|s| s.id == id && s.parent_id.is_none());
    let mut groups: Vec<SectorGroup> = sectors
        .iter()
        .filter(|s| s.parent_id.as_deref().is_none_or(|p| !known(p)))
        .map(|s| SectorGroup {
            id: s.id.clone(),
            name: sector_label(s, lang).to_string(),
            subsectors: vec![],
        })
        .collect();
    for s in sectors {
        if let Some(g) = s
            .parent_id
            .as_deref()
            .and_then(|p| groups.iter_mut().find(|g| g.id == p))
        {
            g.subsectors.push((s.id.clone(), sector_label(s, lang).to_string()));
        }
    }
    groups
}

async fn sectors_page(
    state: &AppState,
    s: &SignedIn,
    done: Option<&str>,
    form: SectorForm,
    errors: FormErrors,
) -> Result<Response, PageError> {
    let lang = s.ctx.lang;
    let sectors = state.services.registry().list_sectors(s.actor()).await.page(lang)?;
    let l = Layout::signed_in(s, "sectors.title", "sectors", "/sectors").with_done(done);
    let parents = sectors
        .iter()
        .filter(|x| x.parent_id.is_none())
        .map(|x| Opt::new(&x.id, sector_label(x, lang), &form.parent_id))
        .collect();
    let status = invalid_status(&errors);
    let page = SectorsPage {
        groups: sector_groups(&sectors, lang),
        can_create: policy::check(s.actor(), Resource::Sector, Action::Create, None).is_ok(),
        form,
        parents,
        errors,
        l,
    };
    Ok(status_with(status, render(page)))
}

async fn sectors(
    State(state): State<AppState>,
    s: SignedIn,
    Query(q): Query<DoneQuery>,
) -> Result<Response, PageError> {
    sectors_page(
        &state,
        &s,
        q.done.as_deref(),
        SectorForm::default(),
        FormErrors::default(),
    )
    .await
}

async fn create_sector(
    State(state): State<AppState>,
    s: SignedIn,
    Form(form): Form<SectorForm>,
) -> Result<Response, PageError> {
    let input = SectorInput {
        id: form.id.clone(),
        parent_id: non_empty(&form.parent_id),
        name_es: form.name_es.clone(),
        name_en: form.name_en.clone(),
    };
    match state.services.registry().create_sector(s.actor(), input).await {
        Ok(_) => Ok(Redirect::to("/sectors?done=sector_created").into_response()),
        Err(CoreError::Invalid(errors)) => sectors_page(&state, &s, None, form, FormErrors(errors)).await,
        Err(e) => Err(e).page(s.ctx.lang),
    }
}

// ----- shared by the registry, users, tokens and audit pages -----

/// The zone for times that belong to no entity.
pub(super) const DEFAULT_ZONE: &str = "America/Mexico_City";

/// One option of a select.
#[derive(Debug, Clone)]
pub(super) struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

impl Opt {
    pub(super) fn new(value: &str, label: impl Into<String>, selected: &str) -> Self {
        Opt {
            value: value.to_string(),
            label: label.into(),
            selected: value == selected,
        }
    }
}

/// Paging parameters, taken as text so that a stray value falls back to the default instead of failing.
pub(super) fn page_request(page: &Option<String>, per_page: &Option<String>) -> PageRequest {
    let num = |v: &Option<String>| v.as_deref().and_then(|s| s.trim().parse::<i64>().ok());
    PageRequest::new(num(page), num(per_page))
}

/// "Page X of Y" with links to the previous and next pages that keep the filters.
#[derive(Debug, Clone)]
pub(super) struct Pager {
    pub page: i64,
    pub pages: i64,
    pub total: i64,
    pub prev: Option<String>,
    pub next: Option<String>,
}

impl Pager {
    /// `filters` with an empty value are left out of the links.
    pub(super) fn new<T>(path: &str, filters: &[(&str, &str)], p: &Page<T>) -> Self {
        let per_page = p.per_page.max(1);
        let pages = ((p.total + per_page - 1) / per_page).max(1);
        let href = |n: i64| {
            let mut q = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in filters.iter().filter(|(_, v)| !v.is_empty()) {
                q.append_pair(k, v);
            }
            if n > 1 {
                q.append_pair("page", &n.to_string());
            }
            if per_page != PageRequest::default().per_page {
                q.append_pair("per_page", &per_page.to_string());
            }
            let q = q.finish();
            if q.is_empty() {
                path.to_string()
            } else {
                format!("{path}?{q}")
            }
        };
        Pager {
            page: p.page,
            pages,
            total: p.total,
            prev: (p.page > 1).then(|| href((p.page - 1).min(pages))),
            next: (p.page < pages).then(|| href(p.page + 1)),
        }
    }
}

/// The confirmation shown after a redirect, named by `?done=`; unknown names show nothing.
fn done_key(code: &str) -> Option<&'static str> {
    Some(match code {
        "entity_created" => "flash.entity_created",
        "entity_saved" => "flash.entity_saved",
        "entity_deactivated" => "flash.entity_deactivated",
        "entity_reactivated" => "flash.entity_reactivated",
        "contact_created" => "flash.contact_created",
        "contact_saved" => "flash.contact_saved",
        "contact_deactivated" => "flash.contact_deactivated",
        "contact_reactivated" => "flash.contact_reactivated",
        "sector_created" => "flash.sector_created",
        "user_created" => "flash.user_created",
        "user_saved" => "flash.user_saved",
        "user_deactivated" => "flash.user_deactivated",
        "user_reactivated" => "flash.user_reactivated",
        "token_revoked" => "flash.token_revoked",
        _ => return None,
    })
}

impl Layout {
    pub(super) fn with_done(self, done: Option<&str>) -> Self {
        match done.and_then(done_key) {
            Some(key) => self.with_flash(key),
            None => self,
        }
    }
}

/// Name and time zone of entities, looked up once per page through the service (so only the visible
/// ones are named).
#[derive(Debug, Default)]
pub(super) struct EntityNames(HashMap<String, Option<(String, String)>>);

impl EntityNames {
    /// `(name, time zone)`, or None when the entity is not visible to the actor (or `id` is empty).
    pub(super) async fn get(
        &mut self,
        state: &AppState,
        actor: &Actor,
        id: &str,
    ) -> Result<Option<(String, String)>, CoreError> {
        if id.is_empty() {
            return Ok(None);
        }
        if let Some(v) = self.0.get(id) {
            return Ok(v.clone());
        }
        let v = match state.services.registry().get_entity(actor, id).await {
            Ok(e) => Some((e.name, e.time_zone)),
            Err(CoreError::NotFound | CoreError::Forbidden(_)) => None,
            Err(e) => return Err(e),
        };
        self.0.insert(id.to_string(), v.clone());
        Ok(v)
    }
}

/// Entities a national person may pick in a form: up to 200, narrowed by a search.
pub(super) async fn entity_choices(
    state: &AppState,
    actor: &Actor,
    search: &str,
    selected: &str,
) -> Result<Vec<Opt>, CoreError> {
    let filter = EntityFilter {
        q: non_empty(search),
        ..Default::default()
    };
    let page = state
        .services
        .registry()
        .list_entities(
            actor,
            &filter,
            PageRequest::new(Some(1), Some(PageRequest::MAX_PER_PAGE)),
        )
        .await?;
    let mut opts: Vec<Opt> = page
        .items
        .iter()
        .map(|e| Opt::new(&e.id, entity_label(e), selected))
        .collect();
    if !selected.is_empty() && !opts.iter().any(|o| o.selected) {
        if let Ok(e) = state.services.registry().get_entity(actor, selected).await {
            opts.insert(0, Opt::new(&e.id, entity_label(&e), selected));
        }
    }
    Ok(opts)
}

fn entity_label(e: &Entity) -> String {
    match &e.acronym {
        Some(a) => format!("{} ({a})", e.name),
        None => e.name.clone(),
    }
}

/// One entry of an object's history.
#[derive(Debug, Clone)]
pub(super) struct HistoryRow {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub changes: String,
}

/// The translated name of an audited action; an unknown one is shown as recorded.
pub(super) fn action_label(t: Tr, action: &str) -> String {
    let key = match action {
        "create" => "action.create",
        "update" => "action.update",
        "deactivate" => "action.deactivate",
        "reactivate" => "action.reactivate",
        "revoke" => "action.revoke",
        "reset_password" => "action.reset_password",
        "reset_password_and_totp" => "action.reset_password_and_totp",
        "login" => "action.login",
        "login_password_step" => "action.login_password_step",
        "logout" => "action.logout",
        "change_password" => "action.change_password",
        "enrol_totp" => "action.enrol_totp",
        other => return other.to_string(),
    };
    t.t(key).to_string()
}

/// The changed fields recorded with an entry (a JSON list), as "a, b, c".
pub(super) fn changed_fields(changes: &str) -> String {
    serde_json::from_str::<Vec<String>>(changes)
        .map(|v| v.join(", "))
        .unwrap_or_default()
}

pub(super) fn history_row(t: Tr, e: &AuditEntry, zone: &str) -> HistoryRow {
    HistoryRow {
        at: local_display(e.at, zone),
        actor: e.actor_label.clone(),
        action: action_label(t, &e.action),
        changes: changed_fields(&e.changes),
    }
}

/// The object's history, newest first, or None when the actor may not read it.
pub(super) async fn history(
    state: &AppState,
    s: &SignedIn,
    object_type: &str,
    id: &str,
    zone: &str,
) -> Result<Option<Vec<HistoryRow>>, PageError> {
    let lang = s.ctx.lang;
    match state.services.audit().object_history(s.actor(), object_type, id).await {
        Ok(entries) => Ok(Some(
            entries.iter().map(|e| history_row(Tr::new(lang), e, zone)).collect(),
        )),
        Err(CoreError::NotFound | CoreError::Forbidden(_)) => Ok(None),
        Err(e) => Err(e).page(lang),
    }
}

/// A page that shows a secret once: never stored by the browser or a proxy.
/// The entity choices of a "new …" form (`_entity_select.html`): a list for national users, who act
/// for any entity; None for others, whose own entity is fixed.
pub(super) async fn entity_picker(
    state: &AppState,
    s: &SignedIn,
    entity_q: &str,
    selected: &str,
) -> Result<Option<Vec<Opt>>, PageError> {
    if !s.actor().national {
        return Ok(None);
    }
    Ok(Some(
        entity_choices(state, s.actor(), entity_q, selected)
            .await
            .page(s.ctx.lang)?,
    ))
}

/// The "new …" link of a list page, when the actor may create there: `base` (e.g. `/users/new`),
/// keeping the entity the list is filtered on.
pub(super) fn new_link(actor: &Actor, resource: Resource, base: &str, entity_id: &str) -> Option<String> {
    let target = if entity_id.is_empty() {
        actor.entity_id.as_str()
    } else {
        entity_id
    };
    policy::check(actor, resource, Action::Create, Some(target)).ok()?;
    Some(if entity_id.is_empty() {
        base.to_string()
    } else {
        format!(
            "{base}?entity_id={}",
            url::form_urlencoded::byte_serialize(entity_id.as_bytes()).collect::<String>()
        )
    })
}

pub(super) fn no_store(mut res: Response) -> Response {
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// A form error set by the page itself (a value the service could not even be asked about).
pub(super) fn field_error(field: &str, message: &str) -> CoreError {
    CoreError::Invalid(vec![FieldError::new(field, message)])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(total: i64, page: i64, per_page: i64) -> Page<()> {
        Page {
            items: vec![],
            total,
            page,
            per_page,
        }
    }

    #[test]
    fn pager_keeps_filters_and_counts_pages() {
        let p = Pager::new("/entities", &[("q", "salud y más"), ("kind", "")], &page(120, 2, 50));
        assert_eq!((p.page, p.pages), (2, 3));
        assert_eq!(p.prev.as_deref(), Some("/entities?q=salud+y+m%C3%A1s"));
        assert_eq!(p.next.as_deref(), Some("/entities?q=salud+y+m%C3%A1s&page=3"));
        let p = Pager::new("/directory", &[], &page(0, 1, 20));
        assert_eq!((p.pages, p.prev, p.next), (1, None, None));
        let p = Pager::new("/x", &[], &page(10, 1, 5));
        assert_eq!(p.next.as_deref(), Some("/x?page=2&per_page=5"));
    }

    #[test]
    fn unknown_confirmations_show_nothing() {
        assert_eq!(done_key("entity_saved"), Some("flash.entity_saved"));
        assert_eq!(done_key("<script>"), None);
    }

    #[test]
    fn subsectors_are_grouped_under_their_sector() {
        let s = |id: &str, parent: Option<&str>| Sector {
            id: id.into(),
            parent_id: parent.map(Into::into),
            name_es: id.into(),
            name_en: id.into(),
        };
        let groups = sector_groups(
            &[
                s("energia", None),
                s("electricidad", Some("energia")),
                s("huerfano", Some("nada")),
            ],
            Lang::Es,
        );
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].subsectors.len(), 1);
    }
}
