//! The signed-in person's notices (in-app notifications) and the unread count in the navigation.

use crate::auth::SignedIn;
use crate::pages::kit::{render, DoneQuery, EntityNames, Layout, OrPage, PageError, DEFAULT_ZONE};
use crate::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use baluarte_core::time::local_display;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/notifications", get(list))
        .route("/notifications/read", post(mark_read))
}

impl crate::pages::kit::Nav {
    pub fn unread_count(&self) -> i64 {
        self.unread.unwrap_or(0)
    }
}

#[derive(Debug, Clone)]
struct NoticeRow {
    title: String,
    kind: String,
    at: String,
    href: Option<String>,
    read: bool,
}

#[derive(Template)]
#[template(path = "notices.html")]
struct NoticesPage {
    l: Layout,
    rows: Vec<NoticeRow>,
    unread: usize,
}

fn kind_key(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "incident.reported" => "notice.incident_reported",
        "incident.assigned" => "notice.incident_assigned",
        "incident.request" => "notice.incident_request",
        "incident.answer" => "notice.incident_answer",
        "incident.stage" => "notice.incident_stage",
        "incident.stage_requested" => "notice.incident_stage_requested",
        "incident.closed" => "notice.incident_closed",
        "deadline.approaching" => "notice.deadline_approaching",
        "deadline.missed" => "notice.deadline_missed",
        _ => return None,
    })
}

async fn list(State(state): State<AppState>, s: SignedIn, Query(q): Query<DoneQuery>) -> Result<Response, PageError> {
    let lang = s.ctx.lang;
    let notices = state
        .services
        .notifications()
        .notifications(s.actor(), false)
        .await
        .page(lang)?;
    let mut l = Layout::signed_in(&s, "notices.title", "notices", "/notifications");
    if q.done.as_deref() == Some("read") {
        l = l.with_flash("flash.notices_read");
    }
    let zone = EntityNames::default()
        .get(&state, s.actor(), s.actor().entity_id())
        .await
        .page(lang)?
        .map(|(_, z)| z)
        .unwrap_or_else(|| DEFAULT_ZONE.to_string());
    let rows: Vec<NoticeRow> = notices
        .iter()
        .map(|n| NoticeRow {
            title: n.title.clone(),
            kind: kind_key(&n.kind)
                .map(|k| l.t.t(k).to_string())
                .unwrap_or_else(|| n.kind.clone()),
            at: local_display(n.created_at, &zone),
            href: n.incident_id.as_ref().map(|id| format!("/incidents/{id}")),
            read: n.read,
        })
        .collect();
    let unread = rows.iter().filter(|r| !r.read).count();
    Ok(render(NoticesPage { l, rows, unread }))
}

async fn mark_read(State(state): State<AppState>, s: SignedIn) -> Result<Response, PageError> {
    state
        .services
        .notifications()
        .mark_notifications_read(s.actor())
        .await
        .page(s.ctx.lang)?;
    Ok(Redirect::to("/notifications?done=read").into_response())
}
