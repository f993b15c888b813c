//! The signed-in person's own account: profile, password, second factor.

use crate::auth::{AnyStage, SignedIn};
use crate::pages::kit::{render, FormErrors, Layout, OrPage, PageError};
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use baluarte_core::service::SessionStage;
use baluarte_core::CoreError;
use baluarte_core::FieldCode;
use baluarte_core::FieldError;
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/account", get(show))
        .route("/account/password", post(change_password))
        .route("/account/totp", get(enrol_form).post(enrol))
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    l: Layout,
    email: String,
    role_label: String,
    totp_enabled: bool,
    errors: FormErrors,
}

fn account_page(s: &SignedIn, errors: FormErrors, flash: Option<&str>) -> Response {
    let mut l = Layout::signed_in(s, "account.title", "account", "/account");
    if let Some(key) = flash {
        l = l.with_flash(key);
    }
    let role_label = l.t.t(&format!("role.{}", s.info.user.role)).to_string();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let mut res = render(AccountPage {
        email: s.info.user.email.clone(),
        role_label,
        totp_enabled: s.info.user.totp_enabled,
        errors,
        l,
    });
    *res.status_mut() = status;
    res
}

async fn show(s: SignedIn) -> Response {
    account_page(&s, FormErrors::default(), None)
}

#[derive(Debug, Deserialize)]
struct PasswordForm {
    current_password: String,
    new_password: String,
    confirm_password: String,
}

async fn change_password(
    State(state): State<AppState>,
    s: SignedIn,
    Form(form): Form<PasswordForm>,
) -> Result<Response, PageError> {
    if form.new_password != form.confirm_password {
        return Ok(account_page(
            &s,
            FormErrors::one(s.tr(), FieldError::new("confirm_password", FieldCode::PasswordMismatch)),
            None,
        ));
    }
    match state
        .services
        .accounts()
        .change_own_password(
            s.actor(),
            &form.current_password,
            &form.new_password,
            s.ctx.secret.as_deref(),
        )
        .await
    {
        Ok(()) => Ok(account_page(
            &s,
            FormErrors::default(),
            Some("account.password_changed"),
        )),
        Err(CoreError::Invalid(errors)) => Ok(account_page(&s, FormErrors::new(s.tr(), &errors), None)),
        Err(e) => Err(e).page(s.ctx.lang),
    }
}

#[derive(Template)]
#[template(path = "totp_enrol.html")]
struct EnrolPage {
    l: Layout,
    required: bool,
    secret: String,
    qr_svg: String,
    message: Option<String>,
}

/// The QR code of an otpauth URL as inline SVG (no external image, allowed by the CSP).
fn qr_svg(url: &str) -> String {
    match qrcode::QrCode::new(url.as_bytes()) {
        Ok(code) => {
            let svg = code
                .render::<qrcode::render::svg::Color<'_>>()
                .min_dimensions(220, 220)
                .build();
            // Drop the XML declaration: the SVG is embedded in HTML.
            match svg.find("<svg") {
                Some(i) => svg[i..].to_string(),
                None => svg,
            }
        }
        Err(_) => String::new(),
    }
}

async fn enrol_page(state: &AppState, s: &AnyStage, message: Option<String>) -> Result<Response, PageError> {
    let lang = s.ctx.lang;
    let enrolment = state
        .services
        .accounts()
        .begin_totp_enrolment(&s.info.actor)
        .await
        .page(lang)?;
    let l = Layout::anonymous(&s.ctx, "enrol.title");
    let failed = message.is_some();
    let mut res = render(EnrolPage {
        required: s.info.stage == SessionStage::Enrol,
        qr_svg: qr_svg(&enrolment.url),
        secret: enrolment.secret,
        message,
        l,
    });
    if failed {
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(res)
}

async fn enrol_form(State(state): State<AppState>, s: AnyStage) -> Result<Response, PageError> {
    if s.info.user.totp_enabled {
        return Ok(Redirect::to("/account").into_response());
    }
    if s.info.stage == SessionStage::Totp {
        return Ok(Redirect::to("/login/totp").into_response());
    }
    enrol_page(&state, &s, None).await
}

#[derive(Debug, Deserialize)]
struct CodeForm {
    code: String,
}

async fn enrol(State(state): State<AppState>, s: AnyStage, Form(form): Form<CodeForm>) -> Result<Response, PageError> {
    if s.info.stage == SessionStage::Totp {
        return Ok(Redirect::to("/login/totp").into_response());
    }
    match state
        .services
        .accounts()
        .confirm_totp_enrolment(&s.info.actor, s.ctx.secret.as_deref(), &form.code)
        .await
    {
        Ok(()) => Ok(Redirect::to("/account").into_response()),
        Err(CoreError::Invalid(_)) => {
            // The pending secret is replaced by a new one: the person scans again.
            let message = Some(crate::i18n::Tr::new(s.ctx.lang).t("totp.failed").to_string());
            enrol_page(&state, &s, message).await
        }
        Err(e) => Err(e).page(s.ctx.lang),
    }
}
