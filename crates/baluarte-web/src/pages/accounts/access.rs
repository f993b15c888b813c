//! Signing in and out: password, then the TOTP code when the account has one.

use crate::auth::{removal, session_cookie, AnyStage, ClientIp, PageSession, SESSION_COOKIE};
use crate::pages::kit::{render, safe_next, Layout};
use crate::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use axum_extra::extract::cookie::CookieJar;
use baluarte_core::service::SessionStage;
use baluarte_core::CoreError;
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_form).post(login))
        .route("/login/totp", get(totp_form).post(totp))
        .route("/logout", post(logout))
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    l: Layout,
    next: String,
    email: String,
    message: Option<String>,
}

#[derive(Debug, Deserialize)]
struct NextQuery {
    #[serde(default)]
    next: String,
}

async fn login_form(ctx: PageSession, Query(q): Query<NextQuery>) -> Response {
    if ctx.session.as_ref().is_some_and(|s| s.stage == SessionStage::Full) {
        return Redirect::to(safe_next(&q.next)).into_response();
    }
    render(LoginPage {
        l: Layout::anonymous(&ctx, "login.title"),
        next: safe_next(&q.next).to_string(),
        email: String::new(),
        message: None,
    })
}

#[derive(Debug, Deserialize)]
struct LoginForm {
    email: String,
    password: String,
    #[serde(default)]
    next: String,
}

async fn login(
    State(state): State<AppState>,
    ctx: PageSession,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    Form(form): Form<LoginForm>,
) -> Response {
    let l = Layout::anonymous(&ctx, "login.title");
    let outcome = match state.services.accounts().login(&form.email, &form.password, &ip).await {
        Ok(o) => o,
        Err(e) => {
            let key = match e {
                CoreError::TooManyAttempts { .. } => "login.throttled",
                CoreError::Unauthenticated => "login.failed",
                _ => "error.internal",
            };
            let message = Some(l.t.t(key).to_string());
            let mut res = render(LoginPage {
                l,
                next: safe_next(&form.next).to_string(),
                email: form.email,
                message,
            });
            *res.status_mut() = StatusCode::UNAUTHORIZED;
            throttled(&mut res, &e);
            return res;
        }
    };
    let target = match outcome.stage {
        SessionStage::Full => safe_next(&form.next).to_string(),
        SessionStage::Totp => "/login/totp".to_string(),
        SessionStage::Enrol => "/account/totp".to_string(),
    };
    // A new session replaces any old one in this browser.
    if let Some(old) = ctx.secret {
        let _ = state.services.accounts().logout(&old).await;
    }
    (
        jar.add(session_cookie(state.config.cookie_secure, outcome.secret)),
        Redirect::to(&target),
    )
        .into_response()
}

#[derive(Template)]
#[template(path = "login_totp.html")]
struct TotpPage {
    l: Layout,
    message: Option<String>,
}

async fn totp_form(s: AnyStage) -> Response {
    if s.info.stage != SessionStage::Totp {
        return Redirect::to("/").into_response();
    }
    render(TotpPage {
        l: Layout::anonymous(&s.ctx, "totp.title"),
        message: None,
    })
}

#[derive(Debug, Deserialize)]
struct CodeForm {
    code: String,
}

async fn totp(
    State(state): State<AppState>,
    s: AnyStage,
    ClientIp(ip): ClientIp,
    Form(form): Form<CodeForm>,
) -> Response {
    let secret = s.ctx.secret.clone().unwrap_or_default();
    match state.services.accounts().complete_totp(&secret, &form.code, &ip).await {
        Ok(()) => Redirect::to("/").into_response(),
        Err(e) => {
            let l = Layout::anonymous(&s.ctx, "totp.title");
            let key = if matches!(e, CoreError::TooManyAttempts { .. }) {
                "login.throttled"
            } else {
                "totp.failed"
            };
            let message = Some(l.t.t(key).to_string());
            let mut res = render(TotpPage { l, message });
            *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            throttled(&mut res, &e);
            res
        }
    }
}

/// A refusal for too many attempts is a 429 with the time until the lockout lifts, as in the API.
fn throttled(res: &mut Response, e: &CoreError) {
    if let CoreError::TooManyAttempts { retry_after_secs } = e {
        *res.status_mut() = StatusCode::TOO_MANY_REQUESTS;
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
    }
}

async fn logout(State(state): State<AppState>, ctx: PageSession, jar: CookieJar) -> Response {
    if let Some(secret) = &ctx.secret {
        if let Err(e) = state.services.accounts().logout(secret).await {
            tracing::warn!(error = %e, "logout failed");
        }
    }
    (jar.remove(removal(SESSION_COOKIE)), Redirect::to("/login")).into_response()
}
