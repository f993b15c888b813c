//! Server-rendered pages, one folder per capability as in the service layer: `registry`, `accounts`,
//! `incidents`, `audit`, `notifications`. Each folder's `routes()` holds its pages; `kit` holds what every
//! page shares. Each page is an askama template struct that carries a [`Layout`]. Pages work without
//! JavaScript; every form carries the CSRF token checked by
//! [`auth::load_session`](crate::auth::load_session).

mod accounts;
mod audit;
mod incidents;
mod kit;
mod notifications;
mod registry;

pub use kit::{error_page, render, FormErrors, Layout, Nav, OrPage, PageError, UserBar};

use crate::auth::{CsrfInMultipart, PageSession, FORM_LIMIT, LANG_COOKIE};
use crate::i18n::Lang;
use crate::AppState;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Router};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use kit::safe_next;
use serde::Deserialize;

pub fn router(state: AppState) -> Router<AppState> {
    let pages = Router::new()
        .route("/lang", post(switch_lang))
        .merge(registry::routes())
        .merge(accounts::routes())
        .merge(incidents::routes())
        .merge(audit::routes())
        .merge(notifications::routes())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::auth::load_session,
        ))
        .layer(DefaultBodyLimit::max(FORM_LIMIT));
    // Multipart uploads: the same session loader, told to leave the body to the handler, which checks
    // the `_csrf` part before it reads any file (see incidents::uploads).
    let uploads = incidents::upload_routes()
        .layer(axum::middleware::from_fn_with_state(state, crate::auth::load_session))
        .layer(Extension(CsrfInMultipart));
    Router::new()
        .merge(pages)
        .merge(uploads)
        .route("/static/baluarte.css", get(css))
}

async fn css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/baluarte.css"),
    )
        .into_response()
}

#[derive(Debug, Deserialize)]
struct LangForm {
    lang: String,
    #[serde(default)]
    next: String,
}

async fn switch_lang(
    State(state): State<AppState>,
    ctx: PageSession,
    jar: CookieJar,
    Form(form): Form<LangForm>,
) -> Response {
    let Some(lang) = Lang::parse(&form.lang) else {
        return error_page(ctx.lang, StatusCode::UNPROCESSABLE_ENTITY, "error.invalid");
    };
    if let Some(s) = &ctx.session {
        if let Err(e) = state.services.accounts().set_own_lang(&s.actor, lang.code()).await {
            return PageError { lang: ctx.lang, err: e }.into_response();
        }
    }
    let cookie = Cookie::build((LANG_COOKIE, lang.code()))
        .same_site(SameSite::Strict)
        .secure(state.config.cookie_secure)
        .path("/")
        .permanent()
        .build();
    let mut res = (jar.add(cookie), Redirect::to(safe_next(&form.next))).into_response();
    res.headers_mut()
        .insert(header::CONTENT_LANGUAGE, HeaderValue::from_static(lang.html()));
    res
}
