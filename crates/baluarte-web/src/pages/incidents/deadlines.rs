//! The regulation deadline profiles, in words, and who they apply to (entities, sectors, kinds).

use crate::auth::SignedIn;
use crate::i18n::{Lang, Tr};
use crate::pages::kit::{
    entity_picker, non_empty, render, sector_options, EntityNames, FormErrors, Layout, Opt, OrPage, PageError,
};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use baluarte_core::model::EntityKind;
use baluarte_core::policy::{Action, Resource};
use baluarte_core::service::access;
use baluarte_core::service::{deadline_profiles, DeadlineAssignment};
use baluarte_core::CoreError;
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/deadlines", get(deadlines).post(assign))
        .route("/deadlines/{id}/remove", post(remove))
}

#[derive(Debug, Clone)]
struct StageWords {
    name: String,
    rule: String,
    reminders: String,
    repeat: String,
}

#[derive(Debug, Clone)]
struct ProfileView {
    id: String,
    name: String,
    description: String,
    applies: String,
    stages: Vec<StageWords>,
}

/// "24 horas", "5 días hábiles", "1 mes", from the profile's `due` (`{"hours": 24}`…).
fn due_words(t: Tr, due: &serde_json::Value) -> String {
    let Some((unit, n)) = due
        .as_object()
        .and_then(|m| m.iter().next())
        .and_then(|(k, v)| v.as_u64().map(|n| (k.clone(), n)))
    else {
        return due.to_string();
    };
    let key = match (unit.as_str(), n == 1) {
        ("hours", true) => "due.hour",
        ("hours", false) => "due.hours",
        ("business_days", true) => "due.business_day",
        ("business_days", false) => "due.business_days",
        ("months", true) => "due.month",
        ("months", false) => "due.months",
        _ => return format!("{n} {unit}"),
    };
    t.t(key).replace("{n}", &n.to_string())
}

fn anchor_words(t: Tr, anchor: &str) -> String {
    let key = match anchor {
        "detection" => "anchor.detection",
        "previous_stage" => "anchor.previous_stage",
        "csirt_request" => "anchor.csirt_request",
        other => return other.to_string(),
    };
    t.t(key).to_string()
}

fn profile_views(t: Tr) -> Vec<ProfileView> {
    let en = t.lang == Lang::En;
    deadline_profiles()
        .iter()
        .map(|p| ProfileView {
            id: p.id.clone(),
            name: if en { p.name_en.clone() } else { p.name_es.clone() },
            description: if en {
                p.description_en.clone()
            } else {
                p.description_es.clone()
            },
            applies: p
                .applies
                .min_interruption_minutes
                .map(|m| t.t("deadlines.applies_min").replace("{n}", &m.to_string()))
                .unwrap_or_default(),
            stages: p
                .stages
                .iter()
                .map(|st| StageWords {
                    name: if en { st.name_en.clone() } else { st.name_es.clone() },
                    rule: format!(
                        "{} {}",
                        due_words(t, &serde_json::to_value(st.due).unwrap_or_default()),
                        anchor_words(t, st.anchor.as_str())
                    ),
                    reminders: if st.reminders_hours_before.is_empty() {
                        String::new()
                    } else {
                        let hs: Vec<String> = st.reminders_hours_before.iter().map(|h| format!("{h} h")).collect();
                        t.t("deadlines.reminders").replace("{list}", &hs.join(", "))
                    },
                    repeat: st
                        .repeat_every_hours
                        .map(|h| t.t("deadlines.repeat").replace("{n}", &h.to_string()))
                        .unwrap_or_default(),
                })
                .collect(),
        })
        .collect()
}

#[derive(Debug, Clone)]
struct AssignRow {
    id: String,
    profile: String,
    target_kind: String,
    target: String,
}

#[derive(Debug, Deserialize, Default, Clone)]
#[serde(default)]
struct AssignForm {
    profile_id: String,
    entity_id: String,
    sector_id: String,
    entity_kind: String,
}

#[derive(Template)]
#[template(path = "board_deadlines.html")]
struct DeadlinesPage {
    l: Layout,
    profiles: Vec<ProfileView>,
    rows: Vec<AssignRow>,
    can_manage: bool,
    profile_opts: Vec<Opt>,
    entities: Option<Vec<Opt>>,
    entity_q: String,
    sectors: Vec<Opt>,
    kinds: Vec<Opt>,
    errors: FormErrors,
}

#[derive(Debug, Deserialize, Default)]
struct DeadlinesQuery {
    done: Option<String>,
    entity_q: Option<String>,
}

fn kind_label(t: Tr, k: EntityKind) -> String {
    t.t(&format!("kind.{}", k.as_str())).to_string()
}

async fn deadlines_page(
    state: &AppState,
    s: &SignedIn,
    done: Option<&str>,
    entity_q: String,
    form: AssignForm,
    errors: FormErrors,
) -> Result<Response, PageError> {
    let lang = s.ctx.lang;
    let actor = s.actor();
    let assignments = state
        .services
        .incidents()
        .list_deadline_assignments(actor)
        .await
        .page(lang)?;
    let sectors = state.services.registry().list_sectors(actor).await.page(lang)?;
    let mut l = Layout::signed_in(s, "deadlines.title", "deadlines", "/deadlines");
    match done {
        Some("assigned") => l = l.with_flash("flash.deadline_assigned"),
        Some("removed") => l = l.with_flash("flash.deadline_removed"),
        _ => {}
    }
    let t = l.t;
    let profiles = profile_views(t);
    let profile_name = |id: &str| {
        profiles
            .iter()
            .find(|p| p.id == id)
            .map(|p| p.name.clone())
            .unwrap_or_else(|| id.to_string())
    };
    let sector_name = |id: &str| {
        sectors
            .iter()
            .find(|x| x.id == id)
            .map(|x| {
                if lang == Lang::En {
                    x.name_en.clone()
                } else {
                    x.name_es.clone()
                }
            })
            .unwrap_or_else(|| id.to_string())
    };
    let mut names = EntityNames::default();
    let mut rows = Vec::with_capacity(assignments.len());
    for a in &assignments {
        let (target_kind, target) = if let Some(e) = &a.entity_id {
            let name = names
                .get(state, actor, e)
                .await
                .page(lang)?
                .map(|(n, _)| n)
                .unwrap_or_else(|| e.clone());
            (t.t("field.entity").to_string(), name)
        } else if let Some(sec) = &a.sector_id {
            (t.t("field.sector").to_string(), sector_name(sec))
        } else if let Some(k) = a.entity_kind {
            (t.t("field.kind").to_string(), kind_label(t, k))
        } else {
            (String::new(), String::new())
        };
        rows.push(AssignRow {
            id: a.id.clone(),
            profile: profile_name(&a.profile_id),
            target_kind,
            target,
        });
    }
    let can_manage = access::can(actor, Resource::DeadlineAssignment, Action::Create, None);
    let entities = if can_manage {
        entity_picker(state, s, &entity_q, &form.entity_id).await?
    } else {
        None
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = DeadlinesPage {
        profile_opts: profiles
            .iter()
            .map(|p| Opt::new(&p.id, p.name.clone(), &form.profile_id))
            .collect(),
        sectors: sector_options(&sectors, &form.sector_id, lang),
        kinds: EntityKind::ALL
            .iter()
            .map(|k| Opt::new(k.as_str(), kind_label(t, *k), &form.entity_kind))
            .collect(),
        profiles,
        rows,
        can_manage,
        entities,
        entity_q,
        errors,
        l,
    };
    let mut res = render(page);
    *res.status_mut() = status;
    Ok(res)
}

async fn deadlines(
    State(state): State<AppState>,
    s: SignedIn,
    Query(q): Query<DeadlinesQuery>,
) -> Result<Response, PageError> {
    deadlines_page(
        &state,
        &s,
        q.done.as_deref(),
        q.entity_q.unwrap_or_default(),
        AssignForm::default(),
        FormErrors::default(),
    )
    .await
}

async fn assign(
    State(state): State<AppState>,
    s: SignedIn,
    Form(form): Form<AssignForm>,
) -> Result<Response, PageError> {
    let input = DeadlineAssignment {
        id: String::new(),
        profile_id: form.profile_id.trim().to_string(),
        entity_id: non_empty(&form.entity_id),
        sector_id: non_empty(&form.sector_id),
        entity_kind: EntityKind::parse(form.entity_kind.trim()),
    };
    match state
        .services
        .incidents()
        .assign_deadline_profile(s.actor(), input)
        .await
    {
        Ok(_) => Ok(Redirect::to("/deadlines?done=assigned").into_response()),
        Err(CoreError::Invalid(errors)) => {
            deadlines_page(&state, &s, None, String::new(), form, FormErrors::new(s.tr(), &errors)).await
        }
        Err(e) => Err(e).page(s.ctx.lang),
    }
}

async fn remove(State(state): State<AppState>, s: SignedIn, Path(id): Path<String>) -> Result<Response, PageError> {
    state
        .services
        .incidents()
        .remove_deadline_assignment(s.actor(), &id)
        .await
        .page(s.ctx.lang)?;
    Ok(Redirect::to("/deadlines?done=removed").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_read_as_words() {
        let t = Tr::new(Lang::Es);
        assert_eq!(due_words(t, &serde_json::json!({"hours": 24})), "24 horas");
        assert_eq!(due_words(t, &serde_json::json!({"business_days": 5})), "5 días hábiles");
        assert_eq!(due_words(t, &serde_json::json!({"months": 1})), "1 mes");
        let views = profile_views(Tr::new(Lang::En));
        let Some(apf) = views.iter().find(|p| p.id == "apf") else {
            panic!("the APF profile ships")
        };
        assert_eq!(apf.stages[0].rule, "24 hours after detection");
        assert_eq!(
            apf.stages[1].rule,
            "5 business days after the national CSIRT requests it"
        );
    }
}
