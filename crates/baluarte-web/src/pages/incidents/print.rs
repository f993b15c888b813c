//! The printable report of a case file (never stored by the browser).

use super::case_parts::{case_parts, CaseParts};
use super::vocab::handles;
use crate::auth::SignedIn;
use crate::pages::kit::{render, Layout, OrPage, PageError};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::Response;
use baluarte_core::time::local_display;

#[derive(Template)]
#[template(path = "incident_print.html")]
struct PrintPage {
    l: Layout,
    p: CaseParts,
    handler: bool,
    generated: String,
    generated_by: String,
}

pub(super) async fn print(
    State(state): State<AppState>,
    s: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let lang = s.ctx.lang;
    let cf = state.services.incidents().case_file(s.actor(), &id).await.page(lang)?;
    let handler = handles(s.actor(), &cf.incident.entity_id);
    let p = case_parts(&state, &s, &cf).await?;
    let l = Layout::signed_in(&s, "print.title", "incidents", &format!("/incidents/{id}/print"))
        .with_title(format!("{} · {}", p.c.reference, p.c.title));
    let generated = local_display(state.services.now(), &p.c.zone);
    let page = PrintPage {
        l,
        handler,
        generated,
        generated_by: s.info.user.name.clone(),
        p,
    };
    let mut res = render(page);
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}
