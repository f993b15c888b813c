//! Entities as other pages show them: names and zones, and the picker of "new …" forms.

use super::forms::non_empty;
use super::layout::{OrPage, PageError};
use super::options::Opt;
use crate::auth::SignedIn;
use crate::AppState;
use baluarte_core::model::{Entity, PageRequest};
use baluarte_core::policy::{Action, Actor, Resource};
use baluarte_core::service::access;
use baluarte_core::service::EntityFilter;
use baluarte_core::CoreError;
use std::collections::HashMap;

/// The zone for times that belong to no entity.
pub const DEFAULT_ZONE: &str = "America/Mexico_City";

/// Name and time zone of entities, looked up once per page through the service (so only the visible
/// ones are named).
#[derive(Debug, Default)]
pub struct EntityNames(HashMap<String, Option<(String, String)>>);

impl EntityNames {
    /// `(name, time zone)`, or None when the entity is not visible to the actor (or `id` is empty).
    pub async fn get(
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
async fn entity_choices(state: &AppState, actor: &Actor, search: &str, selected: &str) -> Result<Vec<Opt>, CoreError> {
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

/// The entity choices of a "new …" form (`_entity_select.html`): a list for national users, who act
/// for any entity; None for others, whose own entity is fixed.
pub async fn entity_picker(
    state: &AppState,
    s: &SignedIn,
    entity_q: &str,
    selected: &str,
) -> Result<Option<Vec<Opt>>, PageError> {
    if !s.actor().national() {
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
pub fn new_link(actor: &Actor, resource: Resource, base: &str, entity_id: &str) -> Option<String> {
    let target = if entity_id.is_empty() {
        actor.entity_id()
    } else {
        entity_id
    };
    access::permits(actor, resource, Action::Create, Some(target)).ok()?;
    Some(if entity_id.is_empty() {
        base.to_string()
    } else {
        format!(
            "{base}?entity_id={}",
            url::form_urlencoded::byte_serialize(entity_id.as_bytes()).collect::<String>()
        )
    })
}
