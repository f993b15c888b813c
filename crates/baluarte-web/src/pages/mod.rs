//! Server-rendered pages. Each area has one file; each page is an askama template struct that carries a
//! [`Layout`]. Pages work without JavaScript; every form carries the CSRF token checked by
//! [`auth::load_session`](crate::auth::load_session).

mod access;
mod account;
mod audit;
mod board;
mod campaigns;
mod dashboard;
mod incident_actions;
mod incidents;
mod notices;
mod observables;
mod registry;
mod sharing;
mod tokens;
mod users;

use crate::auth::{PageSession, SignedIn, FORM_LIMIT, LANG_COOKIE};
use crate::i18n::{Lang, Tr};
use crate::AppState;
use askama::Template;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use baluarte_core::policy::{self, Action, Resource};
use baluarte_core::{CoreError, FieldError};
use serde::Deserialize;

pub fn router(state: AppState) -> Router<AppState> {
    let pages = Router::new()
        .route("/", get(dashboard::show))
        .route("/lang", post(switch_lang))
        .merge(access::routes())
        .merge(account::routes())
        .merge(registry::routes())
        .merge(users::routes())
        .merge(tokens::routes())
        .merge(audit::routes())
        .merge(incidents::routes())
        .merge(incident_actions::routes())
        .merge(board::routes())
        .merge(campaigns::routes())
        .merge(notices::routes())
        .merge(observables::routes())
        .merge(sharing::routes())
        .layer(axum::middleware::from_fn_with_state(state, crate::auth::load_session))
        .layer(DefaultBodyLimit::max(FORM_LIMIT));
    Router::new()
        .merge(pages)
        // Multipart uploads check the session and the CSRF field themselves (see incident_actions).
        .merge(incident_actions::upload_routes())
        .merge(sharing::upload_routes())
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

/// Which navigation entries the caller's role can use (asked of the policy, not decided here).
#[derive(Debug, Clone, Default)]
pub struct Nav {
    pub users: bool,
    pub tokens: bool,
    pub audit: bool,
    pub incidents: bool,
    pub report: bool,
    pub board: bool,
    pub campaigns: bool,
    pub deadlines: bool,
    /// Unread notifications, when the page looked them up; otherwise the badge is an image.
    pub unread: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct UserBar {
    pub name: String,
    pub role_label: String,
    pub entity_name: String,
    pub national: bool,
}

/// What every page's frame needs.
#[derive(Debug, Clone)]
pub struct Layout {
    pub t: Tr,
    pub csrf: String,
    pub title: String,
    pub active: &'static str,
    pub user: Option<UserBar>,
    pub nav: Nav,
    /// The current path, for the language switch to come back to.
    pub path: String,
    pub flash: Vec<String>,
}

impl Layout {
    pub fn anonymous(ctx: &PageSession, title_key: &str) -> Self {
        let t = Tr::new(ctx.lang);
        Layout {
            t,
            csrf: ctx.csrf.clone(),
            title: t.t(title_key).to_string(),
            active: "",
            user: None,
            nav: Nav::default(),
            path: "/".into(),
            flash: vec![],
        }
    }

    pub fn signed_in(s: &SignedIn, title_key: &str, active: &'static str, path: &str) -> Self {
        let t = Tr::new(s.ctx.lang);
        let actor = s.actor();
        let nav = Nav {
            users: policy::list_scope(actor, Resource::User).is_ok(),
            tokens: policy::list_scope(actor, Resource::ApiToken).is_ok(),
            audit: policy::list_scope(actor, Resource::Audit).is_ok(),
            incidents: policy::list_scope(actor, Resource::Incident).is_ok(),
            report: policy::check(actor, Resource::Incident, Action::Create, Some(&actor.entity_id)).is_ok(),
            board: matches!(
                policy::list_scope(actor, Resource::Incident),
                Ok(policy::ListScope::All)
            ),
            campaigns: policy::list_scope(actor, Resource::Campaign).is_ok(),
            deadlines: policy::list_scope(actor, Resource::DeadlineAssignment).is_ok(),
            unread: s.ctx.unread,
        };
        let user = UserBar {
            name: s.info.user.name.clone(),
            role_label: t.t(&format!("role.{}", s.info.user.role)).to_string(),
            entity_name: s.info.entity_name.clone(),
            national: actor.national,
        };
        Layout {
            t,
            csrf: s.ctx.csrf.clone(),
            title: t.t(title_key).to_string(),
            active,
            user: Some(user),
            nav,
            path: path.to_string(),
            flash: vec![],
        }
    }

    pub fn with_title(mut self, title: impl Into<String>) -> Self {
        self.title = title.into();
        self
    }

    pub fn with_flash(mut self, key: &str) -> Self {
        self.flash.push(self.t.t(key).to_string());
        self
    }
}

/// Field errors of a submitted form, for inline display next to each input.
#[derive(Debug, Clone, Default)]
pub struct FormErrors(pub Vec<FieldError>);

impl FormErrors {
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.iter().find(|e| e.field == field).map(|e| e.message.as_str())
    }
    pub fn has(&self, field: &str) -> bool {
        self.get(field).is_some()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Render a template, or a plain 500 if the template itself fails (logged).
pub fn render(page: impl Template) -> Response {
    match page.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    l: Layout,
    message: String,
}

/// An error page in the caller's language.
pub fn error_page(lang: Lang, status: StatusCode, key: &str) -> Response {
    let t = Tr::new(lang);
    let title = status.canonical_reason().unwrap_or("Error");
    let l = Layout {
        t,
        csrf: String::new(),
        title: format!("{} {}", status.as_u16(), title),
        active: "",
        user: None,
        nav: Nav::default(),
        path: "/".into(),
        flash: vec![],
    };
    let mut res = render(ErrorPage {
        l,
        message: t.t(key).to_string(),
    });
    *res.status_mut() = status;
    res
}

/// A service-layer error shown as a page.
#[derive(Debug)]
pub struct PageError {
    lang: Lang,
    err: CoreError,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, _, _) = crate::error::classify(&self.err);
        if status.is_server_error() {
            tracing::error!(error = %self.err, "page failed");
        }
        let key = match status.as_u16() {
            404 => "error.not_found",
            403 => "error.forbidden",
            401 => return Redirect::to("/login").into_response(),
            409 => "error.conflict",
            422 => "error.invalid",
            429 => "error.too_many",
            _ => "error.internal",
        };
        error_page(self.lang, status, key)
    }
}

/// `result.page(&s)?` turns a service error into the error page in the caller's language.
pub trait OrPage<T> {
    fn page(self, lang: Lang) -> Result<T, PageError>;
}

impl<T> OrPage<T> for Result<T, CoreError> {
    fn page(self, lang: Lang) -> Result<T, PageError> {
        self.map_err(|err| PageError { lang, err })
    }
}

/// Only same-site relative paths are followed after a form, never another host.
pub fn safe_next(next: &str) -> &str {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') {
        next
    } else {
        "/"
    }
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
