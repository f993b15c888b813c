//! The audit trail: entries the person may read and, for national auditors and administrators, the
//! verification of the whole hash chain.

use crate::auth::SignedIn;
use crate::i18n::Tr;
use crate::pages::kit::{action_label, changed_fields, page_request, EntityNames, Opt, Pager, DEFAULT_ZONE};
use crate::pages::kit::{render, Layout, OrPage, PageError};
use crate::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use baluarte_core::policy::Resource;
use baluarte_core::service::access;
use baluarte_core::time::local_display;
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/audit", get(list))
        .route("/audit/verify", post(verify))
}

/// The kinds of audited objects, with their label.
const OBJECT_TYPES: &[&str] = &["entity", "contact", "sector", "user", "api_token"];

fn object_type_label(t: Tr, object_type: &str) -> String {
    let key = match object_type {
        "entity" => "object.entity",
        "contact" => "object.contact",
        "sector" => "object.sector",
        "user" => "object.user",
        "api_token" => "object.api_token",
        other => return other.to_string(),
    };
    t.t(key).to_string()
}

/// Where an audited object can be seen, if it has a page.
fn object_href(object_type: &str, id: &str) -> Option<String> {
    match object_type {
        "entity" => Some(format!("/entities/{id}")),
        "user" => Some(format!("/users/{id}")),
        _ => None,
    }
}

fn verifies_whole_trail(s: &SignedIn) -> bool {
    access::sees_all(s.actor(), Resource::Audit)
}

#[derive(Debug, Deserialize, Default)]
struct ListQuery {
    object_type: Option<String>,
    entity_id: Option<String>,
    page: Option<String>,
    per_page: Option<String>,
}

#[derive(Debug)]
struct AuditRow {
    seq: i64,
    at: String,
    actor: String,
    action: String,
    object_type: String,
    object_id: String,
    object_href: Option<String>,
    entity_id: String,
    entity: String,
    changes: String,
}

#[derive(Template)]
#[template(path = "audit_list.html")]
struct AuditPage {
    l: Layout,
    types: Vec<Opt>,
    entity_id: String,
    entity_name: String,
    can_verify: bool,
    rows: Vec<AuditRow>,
    pager: Pager,
}

async fn list(State(state): State<AppState>, s: SignedIn, Query(q): Query<ListQuery>) -> Result<Response, PageError> {
    let lang = s.ctx.lang;
    let actor = s.actor();
    let text = |v: &Option<String>| v.as_deref().map(str::trim).unwrap_or_default().to_string();
    let (object_type, entity_id) = (text(&q.object_type), text(&q.entity_id));
    let page = state
        .services
        .audit()
        .list_audit(
            actor,
            (!entity_id.is_empty()).then_some(entity_id.as_str()),
            (!object_type.is_empty()).then_some(object_type.as_str()),
            page_request(&q.page, &q.per_page),
        )
        .await
        .page(lang)?;
    let l = Layout::signed_in(&s, "audit.title", "audit", "/audit");
    let mut names = EntityNames::default();
    let mut rows = Vec::with_capacity(page.items.len());
    for e in &page.items {
        let (entity, zone) = names
            .get(&state, actor, &e.entity_id)
            .await
            .page(lang)?
            .unwrap_or_else(|| (String::new(), DEFAULT_ZONE.to_string()));
        rows.push(AuditRow {
            seq: e.seq,
            at: local_display(e.at, &zone),
            actor: e.actor_label.clone(),
            action: action_label(l.t, &e.action),
            object_type: object_type_label(l.t, &e.object_type),
            object_href: object_href(&e.object_type, &e.object_id),
            object_id: e.object_id.clone(),
            entity_id: e.entity_id.clone(),
            entity,
            changes: changed_fields(&e.changes),
        });
    }
    let entity_name = names
        .get(&state, actor, &entity_id)
        .await
        .page(lang)?
        .map(|(n, _)| n)
        .unwrap_or_default();
    let types = OBJECT_TYPES
        .iter()
        .map(|t| Opt::new(t, object_type_label(l.t, t), &object_type))
        .collect();
    let pager = Pager::new(
        "/audit",
        &[("object_type", &object_type), ("entity_id", &entity_id)],
        &page,
    );
    Ok(render(AuditPage {
        can_verify: verifies_whole_trail(&s),
        l,
        types,
        entity_id,
        entity_name,
        rows,
        pager,
    }))
}

#[derive(Template)]
#[template(path = "audit_verify.html")]
struct VerifyPage {
    l: Layout,
    entries: i64,
    checkpoints: i64,
    file_checkpoints: Option<i64>,
    head_seq: i64,
    covered_seq: i64,
    not_yet_covered: i64,
    broken: Option<(i64, String)>,
}

async fn verify(State(state): State<AppState>, s: SignedIn) -> Result<Response, PageError> {
    let report = state.services.audit().verify_audit(s.actor()).await.page(s.ctx.lang)?;
    let l = Layout::signed_in(&s, "audit.verify_title", "audit", "/audit");
    let broken = report.broken.map(|b| (b.seq, b.reason));
    Ok(render(VerifyPage {
        l,
        entries: report.entries,
        checkpoints: report.checkpoints,
        file_checkpoints: report.file_checkpoints,
        head_seq: report.head_seq,
        covered_seq: report.covered_seq,
        not_yet_covered: report.not_yet_covered,
        broken,
    }))
}
