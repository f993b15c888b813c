//! Contacts: editing one, and the 24/7 directory.

use super::{ContactForm, ContactRow};
use crate::auth::SignedIn;
use crate::pages::kit::{
    invalid_status, non_empty, page_request, render, status_with, tlp_options, EntityNames, FormErrors, Layout, Opt,
    OrPage, PageError, Pager,
};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use baluarte_core::model::Contact;
use baluarte_core::policy::{Action, Resource};
use baluarte_core::service::access;
use baluarte_core::CoreError;
use serde::Deserialize;

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
        can_deactivate: access::can(actor, Resource::Contact, Action::Deactivate, Some(&c.entity_id)),
        tlps: tlp_options(&form.tlp, false),
        form,
        errors,
        l,
    };
    Ok(status_with(status, render(page)))
}

pub(super) async fn contact_form(
    State(state): State<AppState>,
    s: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let lang = s.ctx.lang;
    let c = state.services.registry().get_contact(s.actor(), &id).await.page(lang)?;
    access::permits(s.actor(), Resource::Contact, Action::Update, Some(&c.entity_id)).page(lang)?;
    contact_form_page(&state, &s, &c, ContactForm::of(&c), FormErrors::default()).await
}

pub(super) async fn update_contact(
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
            contact_form_page(&state, &s, &c, form, FormErrors::new(s.tr(), &errors)).await
        }
        Err(e) => Err(e).page(lang),
    }
}

pub(super) async fn deactivate_contact(
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

pub(super) async fn reactivate_contact(
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
pub(super) struct DirectoryQuery {
    q: Option<String>,
    page: Option<String>,
    per_page: Option<String>,
}

#[derive(Debug)]
struct DirectoryRow {
    contact: ContactRow,
    entity_id: String,
    entity_name: String,
    /// Whether the reader may open the entity's page (not another entity's, for an entity's officer).
    opens: bool,
}

#[derive(Template)]
#[template(path = "registry_directory.html")]
struct DirectoryPage {
    l: Layout,
    q: String,
    rows: Vec<DirectoryRow>,
    pager: Pager,
}

pub(super) async fn directory(
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
    let rows: Vec<DirectoryRow> = page
        .items
        .iter()
        .map(|e| DirectoryRow {
            contact: ContactRow::of(&e.contact),
            entity_id: e.contact.entity_id.clone(),
            entity_name: e.entity_name.clone(),
            opens: access::can(actor, Resource::Entity, Action::Read, Some(&e.contact.entity_id)),
        })
        .collect();
    let pager = Pager::new("/directory", &[("q", &query)], &page);
    let l = Layout::signed_in(&s, "directory.title", "directory", "/directory");
    Ok(render(DirectoryPage {
        l,
        q: query,
        rows,
        pager,
    }))
}
