//! The signed-in person's notices (in-app notifications) and the unread count in the navigation.

use super::{render, Layout, OrPage, PageError};
use crate::auth::SignedIn;
use crate::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use baluarte_core::time::local_display;
use serde::Deserialize;

use super::registry::{EntityNames, DEFAULT_ZONE};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/notifications", get(list))
        .route("/notifications/read", post(mark_read))
        .route("/notifications/badge.svg", get(badge))
}

impl super::Nav {
    /// Whether the page looked the unread count up (else the navigation shows the badge image).
    pub fn unread_known(&self) -> bool {
        self.unread.is_some()
    }
    pub fn unread_count(&self) -> i64 {
        self.unread.unwrap_or(0)
    }
}

impl Layout {
    /// Look up the unread count for the navigation badge (pages that do not show it as text fall back
    /// to the badge image).
    pub(super) async fn with_unread(mut self, state: &AppState, s: &SignedIn) -> Self {
        self.nav.unread = state.services.unread_notifications(s.actor()).await.ok();
        self
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

#[derive(Debug, Deserialize, Default)]
struct DoneQuery {
    done: Option<String>,
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
    let notices = state.services.notifications(s.actor(), false).await.page(lang)?;
    let mut l = Layout::signed_in(&s, "notices.title", "notices", "/notifications")
        .with_unread(&state, &s)
        .await;
    if q.done.as_deref() == Some("read") {
        l = l.with_flash("flash.notices_read");
    }
    let zone = EntityNames::default()
        .get(&state, s.actor(), &s.actor().entity_id)
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
        .mark_notifications_read(s.actor())
        .await
        .page(s.ctx.lang)?;
    Ok(Redirect::to("/notifications?done=read").into_response())
}

/// The unread count as a small SVG, for the navigation of pages that did not look it up.
async fn badge(State(state): State<AppState>, s: SignedIn) -> Response {
    let n = state.services.unread_notifications(s.actor()).await.unwrap_or(0);
    let svg = if n <= 0 {
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="1" height="20" viewBox="0 0 1 20"></svg>"#.to_string()
    } else {
        let text = if n > 99 { "99+".to_string() } else { n.to_string() };
        let w = 12 + 8 * text.len();
        format!(
            r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="20" viewBox="0 0 {w} 20"><rect width="{w}" height="20" rx="10" fill="#b42318"/><text x="{x}" y="14.5" font-family="system-ui, sans-serif" font-size="12" font-weight="700" fill="#fff" text-anchor="middle">{text}</text></svg>"##,
            x = w / 2
        )
    };
    let mut res = svg.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/svg+xml"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}
