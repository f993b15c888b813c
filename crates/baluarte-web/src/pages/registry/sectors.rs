//! Sectors and their subsectors.

use crate::auth::SignedIn;
use crate::i18n::Lang;
use crate::pages::kit::{
    invalid_status, non_empty, render, sector_label, status_with, DoneQuery, FormErrors, Layout, Opt, OrPage, PageError,
};
use crate::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use baluarte_core::model::Sector;
use baluarte_core::policy::{Action, Resource};
use baluarte_core::service::access;
use baluarte_core::service::SectorInput;
use baluarte_core::CoreError;
use serde::Deserialize;

// ----- sectors -----

#[derive(Debug)]
struct SectorGroup {
    id: String,
    name: String,
    subsectors: Vec<(String, String)>,
}

#[derive(Debug, Deserialize, Default, Clone)]
#[serde(default)]
pub(super) struct SectorForm {
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
        can_create: access::can(s.actor(), Resource::Sector, Action::Create, None),
        form,
        parents,
        errors,
        l,
    };
    Ok(status_with(status, render(page)))
}

pub(super) async fn sectors(
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

pub(super) async fn create_sector(
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
        Err(CoreError::Invalid(errors)) => sectors_page(&state, &s, None, form, FormErrors::new(s.tr(), &errors)).await,
        Err(e) => Err(e).page(s.ctx.lang),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
