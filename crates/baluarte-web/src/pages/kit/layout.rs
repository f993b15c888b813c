//! The frame of every page, the rendering of templates, and error pages.

use crate::auth::{PageSession, SignedIn};
use crate::i18n::{Lang, Tr};
use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use baluarte_core::policy::{Action, Resource};
use baluarte_core::service::access;
use baluarte_core::CoreError;

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
            users: access::may_list(actor, Resource::User),
            tokens: access::may_list(actor, Resource::ApiToken),
            audit: access::may_list(actor, Resource::Audit),
            incidents: access::may_list(actor, Resource::Incident),
            report: access::can(actor, Resource::Incident, Action::Create, Some(actor.entity_id())),
            board: access::sees_all(actor, Resource::Incident),
            campaigns: access::may_list(actor, Resource::Campaign),
            deadlines: access::may_list(actor, Resource::DeadlineAssignment),
            unread: s.ctx.unread,
        };
        let user = UserBar {
            name: s.info.user.name.clone(),
            role_label: t.t(&format!("role.{}", s.info.user.role)).to_string(),
            entity_name: s.info.entity_name.clone(),
            national: actor.national(),
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
    pub lang: Lang,
    pub err: CoreError,
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

/// The confirmation shown after a redirect, named by `?done=`; unknown names show nothing.
fn done_key(code: &str) -> Option<&'static str> {
    Some(match code {
        "entity_created" => "flash.entity_created",
        "entity_saved" => "flash.entity_saved",
        "entity_deactivated" => "flash.entity_deactivated",
        "entity_reactivated" => "flash.entity_reactivated",
        "contact_created" => "flash.contact_created",
        "contact_saved" => "flash.contact_saved",
        "contact_deactivated" => "flash.contact_deactivated",
        "contact_reactivated" => "flash.contact_reactivated",
        "sector_created" => "flash.sector_created",
        "user_created" => "flash.user_created",
        "user_saved" => "flash.user_saved",
        "user_deactivated" => "flash.user_deactivated",
        "user_reactivated" => "flash.user_reactivated",
        "token_revoked" => "flash.token_revoked",
        _ => return None,
    })
}

impl Layout {
    /// With the confirmation named by `?done=`, if it is one of the registry's and people's.
    pub fn with_done(self, done: Option<&str>) -> Self {
        match done.and_then(done_key) {
            Some(key) => self.with_flash(key),
            None => self,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_confirmations_show_nothing() {
        assert_eq!(done_key("entity_saved"), Some("flash.entity_saved"));
        assert_eq!(done_key("<script>"), None);
    }
}
