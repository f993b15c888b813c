//! Sessions over the API and the caller's own account.

use crate::auth::{ApiPerson, ClientIp};
use crate::error::{ApiError, ApiResult, Problem};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use baluarte_core::model::User;
use baluarte_core::service::{SessionStage, TotpEnrolment};
use baluarte_core::time;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    email: String,
    password: String,
    /// Required when the account has a second factor.
    totp_code: Option<String>,
}

impl std::fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginRequest")
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize, ToSchema)]
pub struct SessionToken {
    /// Bearer token for later calls (`Authorization: Bearer bls_…`).
    token: String,
    /// `full`, or `enrol` when the role requires a second factor not yet set up (then only
    /// `/me/totp` accepts the token).
    stage: SessionStage,
    expires_at: String,
}

/// Open a session with e-mail, password and, if enrolled, the TOTP code.
#[utoipa::path(post, path = "/session", tag = "session", security(()), request_body = LoginRequest,
    responses((status = 201, body = SessionToken), (status = 401, body = Problem), (status = 429, body = Problem)))]
pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Json(req): Json<LoginRequest>,
) -> ApiResult<(StatusCode, Json<SessionToken>)> {
    let outcome = state.services.accounts().login(&req.email, &req.password, &ip).await?;
    let mut stage = outcome.stage;
    if stage == SessionStage::Totp {
        let Some(code) = req.totp_code.as_deref() else {
            state.services.accounts().logout(&outcome.secret).await?;
            return Err(ApiError::Http(
                StatusCode::UNAUTHORIZED,
                "this account requires totp_code".into(),
            ));
        };
        if let Err(e) = state
            .services
            .accounts()
            .complete_totp(&outcome.secret, code, &ip)
            .await
        {
            state.services.accounts().logout(&outcome.secret).await?;
            return Err(e.into());
        }
        stage = SessionStage::Full;
    }
    Ok((
        StatusCode::CREATED,
        Json(SessionToken {
            token: outcome.secret,
            stage,
            expires_at: time::rfc3339(outcome.expires_at),
        }),
    ))
}

/// End the session of the presented token.
#[utoipa::path(delete, path = "/session", tag = "session", responses((status = 204), (status = 401, body = Problem)))]
pub async fn logout(State(state): State<AppState>, p: ApiPerson) -> ApiResult<StatusCode> {
    state.services.accounts().logout(&p.secret).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    user: User,
    entity_name: String,
    national: bool,
    stage: SessionStage,
}

/// The person behind the session.
#[utoipa::path(get, path = "/me", tag = "session", responses((status = 200, body = Me), (status = 401, body = Problem)))]
pub async fn me(p: ApiPerson) -> Json<Me> {
    Json(Me {
        national: p.info.actor.national(),
        entity_name: p.info.entity_name,
        stage: p.info.stage,
        user: p.info.user,
    })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MePatch {
    /// `es` or `en`.
    #[schema(schema_with = baluarte_core::service::schema::lang)]
    lang: String,
}

/// Change one's interface language.
#[utoipa::path(patch, path = "/me", tag = "session", request_body = MePatch, responses((status = 204), (status = 422, body = Problem)))]
pub async fn update_me(
    State(state): State<AppState>,
    p: ApiPerson,
    Json(patch): Json<MePatch>,
) -> ApiResult<StatusCode> {
    full(&p)?;
    state
        .services
        .accounts()
        .set_own_lang(&p.info.actor, &patch.lang)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    current_password: String,
    #[schema(schema_with = baluarte_core::service::schema::password)]
    new_password: String,
}

/// Change one's password; other sessions end.
#[utoipa::path(post, path = "/me/password", tag = "session", request_body = PasswordChange, responses((status = 204), (status = 422, body = Problem)))]
pub async fn change_password(
    State(state): State<AppState>,
    p: ApiPerson,
    Json(req): Json<PasswordChange>,
) -> ApiResult<StatusCode> {
    full(&p)?;
    state
        .services
        .accounts()
        .change_own_password(&p.info.actor, &req.current_password, &req.new_password, Some(&p.secret))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

fn full(p: &ApiPerson) -> ApiResult<()> {
    if p.info.stage != SessionStage::Full {
        return Err(ApiError::Http(
            StatusCode::FORBIDDEN,
            "finish the second factor first".into(),
        ));
    }
    Ok(())
}

/// Start TOTP enrolment: a new secret and its `otpauth://` URL.
#[utoipa::path(post, path = "/me/totp", tag = "session", responses((status = 201, body = TotpEnrolment), (status = 409, body = Problem)))]
pub async fn begin_totp(State(state): State<AppState>, p: ApiPerson) -> ApiResult<(StatusCode, Json<TotpEnrolment>)> {
    Ok((
        StatusCode::CREATED,
        Json(state.services.accounts().begin_totp_enrolment(&p.info.actor).await?),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TotpCode {
    code: String,
}

/// Confirm enrolment with a current code; the session becomes full.
#[utoipa::path(post, path = "/me/totp/confirm", tag = "session", request_body = TotpCode,
    responses((status = 204), (status = 409, body = Problem, description = "No enrolment was started, or a second factor is already enrolled"), (status = 422, body = Problem)))]
pub async fn confirm_totp(
    State(state): State<AppState>,
    p: ApiPerson,
    Json(req): Json<TotpCode>,
) -> ApiResult<StatusCode> {
    state
        .services
        .accounts()
        .confirm_totp_enrolment(&p.info.actor, Some(&p.secret), &req.code)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
