//! The registry pages: the dashboard, entities and their contacts, the 24/7 directory, sectors.

mod contacts;
mod dashboard;
mod entities;
mod sectors;

use crate::i18n::{Lang, Tr};
use crate::pages::kit::{sector_label, Opt};
use crate::AppState;
use axum::routing::{get, post};
use axum::Router;
use baluarte_core::model::{Contact, EntityKind, Sector, Tlp};
use baluarte_core::service::ContactInput;
use baluarte_core::CoreError;
use baluarte_core::FieldCode;
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(dashboard::show))
        .route("/entities", get(entities::list).post(entities::create))
        .route("/entities/new", get(entities::new_form))
        .route("/entities/{id}", get(entities::show).post(entities::update))
        .route("/entities/{id}/edit", get(entities::edit_form))
        .route("/entities/{id}/deactivate", post(entities::deactivate))
        .route("/entities/{id}/reactivate", post(entities::reactivate))
        .route("/entities/{id}/contacts", post(entities::add_contact))
        .route("/contacts/{id}/edit", get(contacts::contact_form))
        .route("/contacts/{id}", post(contacts::update_contact))
        .route("/contacts/{id}/deactivate", post(contacts::deactivate_contact))
        .route("/contacts/{id}/reactivate", post(contacts::reactivate_contact))
        .route("/directory", get(contacts::directory))
        .route("/sectors", get(sectors::sectors).post(sectors::create_sector))
}

fn kind_key(k: EntityKind) -> &'static str {
    match k {
        EntityKind::Federal => "kind.federal",
        EntityKind::State => "kind.state",
        EntityKind::Municipal => "kind.municipal",
        EntityKind::Autonomous => "kind.autonomous",
        EntityKind::Private => "kind.private",
    }
}

fn sector_name(sectors: &[Sector], id: Option<&str>, lang: Lang) -> String {
    id.and_then(|id| sectors.iter().find(|s| s.id == id))
        .map(|s| sector_label(s, lang).to_string())
        .unwrap_or_default()
}

/// Sectors for a select, subsectors under their sector.
fn kind_options(t: Tr, selected: &str) -> Vec<Opt> {
    EntityKind::ALL
        .iter()
        .map(|k| Opt::new(k.as_str(), t.t(kind_key(*k)), selected))
        .collect()
}

/// TLP markings a contact may carry (RED needs named recipients and is refused for contacts).

// ----- contacts, in the entity page and on their own -----

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
        let tlp = Tlp::parse(self.tlp.trim()).ok_or_else(|| CoreError::invalid("tlp", FieldCode::Required))?;
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
