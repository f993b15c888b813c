//! Who is calling: session cookies for pages, bearer credentials for the API, and the CSRF guard on
//! every form post. Access decisions are not made here: the service layer makes them.

use crate::error::{ApiError, Problem};
use crate::i18n::Lang;
use crate::AppState;
use axum::body::{to_bytes, Body};
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use baluarte_core::policy::Actor;
use baluarte_core::service::{SessionInfo, SessionStage};
use baluarte_core::CoreError;
use std::net::SocketAddr;

pub const SESSION_COOKIE: &str = "baluarte_session";
pub const CSRF_COOKIE: &str = "baluarte_csrf";
pub const LANG_COOKIE: &str = "baluarte_lang";
pub const CSRF_FIELD: &str = "_csrf";
/// Forms are small; uploads get their own limits where they exist.
pub const FORM_LIMIT: usize = 256 * 1024;

/// What the page layer knows about the caller, put in the request extensions by [`load_session`].
#[derive(Debug, Clone)]
pub struct PageSession {
    pub session: Option<SessionInfo>,
    /// The secret of the session cookie (to end or keep this session).
    pub secret: Option<String>,
    /// The token every form must echo in `_csrf`.
    pub csrf: String,
    pub lang: Lang,
    /// Unread notices of a signed-in person, for the navigation badge (one indexed count per page).
    pub unread: Option<i64>,
}

/// The caller's address: the peer, or the first `X-Forwarded-For` hop when the operator says a
/// trusted reverse proxy sits in front (`trust_forwarded`). Used for login throttling.
#[derive(Debug, Clone)]
pub struct ClientIp(pub String);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let forwarded = state
            .config
            .trust_forwarded
            .then(|| forwarded_for(&parts.headers))
            .flatten();
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip().to_string());
        Ok(ClientIp(forwarded.or(peer).unwrap_or_else(|| "unknown".into())))
    }
}

fn forwarded_for(headers: &HeaderMap) -> Option<String> {
    let v = headers.get("x-forwarded-for")?.to_str().ok()?;
    v.split(',')
        .next()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// The session cookie: HttpOnly, SameSite=Strict, and Secure when the server is reached over HTTPS.
pub fn session_cookie(secure: bool, secret: String) -> Cookie<'static> {
    Cookie::build((SESSION_COOKIE, secret))
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .path("/")
        .max_age(time_max_age(12 * 3600))
        .build()
}

fn time_max_age(secs: i64) -> cookie::time::Duration {
    cookie::time::Duration::seconds(secs)
}

pub fn removal(name: &'static str) -> Cookie<'static> {
    Cookie::build((name, "")).path("/").max_age(time_max_age(0)).build()
}

/// Marks routes whose forms are multipart (uploads). [`load_session`] resolves the session for them as
/// for every page but leaves the body unread: the handler checks `_csrf`, which must be the body's first
/// part, before it reads any file.
#[derive(Debug, Clone, Copy)]
pub struct CsrfInMultipart;

/// Middleware for pages: resolve the session cookie, the language and the CSRF token, and reject any
/// POST whose `_csrf` field does not match (on routes marked [`CsrfInMultipart`], the handler checks it).
pub async fn load_session(State(state): State<AppState>, jar: CookieJar, req: Request, next: Next) -> Response {
    let multipart = req.extensions().get::<CsrfInMultipart>().is_some();
    let secret = jar.get(SESSION_COOKIE).map(|c| c.value().to_string());
    let session = match &secret {
        Some(s) => state.services.accounts().session(s).await.ok(),
        None => None,
    };
    let mut new_anon = None;
    let csrf = match &session {
        Some(s) => s.csrf.clone(),
        None => match jar.get(CSRF_COOKIE) {
            Some(c) if c.value().len() >= 32 => c.value().to_string(),
            _ => {
                let v = baluarte_core::crypto::random_secret("");
                new_anon = Some(v.clone());
                v
            }
        },
    };
    let lang = session
        .as_ref()
        .and_then(|s| Lang::parse(&s.user.lang))
        .or_else(|| jar.get(LANG_COOKIE).and_then(|c| Lang::parse(c.value())))
        .unwrap_or_default();
    let unread = match &session {
        Some(s) if s.stage == SessionStage::Full => {
            state.services.notifications().unread_notifications(&s.actor).await.ok()
        }
        _ => None,
    };
    let ctx = PageSession {
        session,
        secret,
        csrf: csrf.clone(),
        lang,
        unread,
    };

    let (mut parts, body) = req.into_parts();
    let body = if parts.method == Method::POST && !multipart {
        let bytes = match to_bytes(body, FORM_LIMIT).await {
            Ok(b) => b,
            Err(_) => return crate::pages::error_page(lang, StatusCode::PAYLOAD_TOO_LARGE, "error.too_large"),
        };
        let sent = url::form_urlencoded::parse(&bytes)
            .find(|(k, _)| k == CSRF_FIELD)
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        if new_anon.is_some() || !baluarte_core::crypto::same_secret(&sent, &csrf) {
            return crate::pages::error_page(lang, StatusCode::FORBIDDEN, "error.csrf");
        }
        Body::from(bytes)
    } else {
        body
    };
    parts.extensions.insert(ctx);
    let mut res = next.run(Request::from_parts(parts, body)).await;
    if let Some(v) = new_anon {
        let c = Cookie::build((CSRF_COOKIE, v))
            .http_only(true)
            .same_site(SameSite::Strict)
            .secure(state.config.cookie_secure)
            .path("/")
            .build();
        if let Ok(h) = c.to_string().parse() {
            res.headers_mut().append(header::SET_COOKIE, h);
        }
    }
    res
}

/// A signed-in person with full access, for page handlers. Others are sent to the step they owe.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub info: SessionInfo,
    pub ctx: PageSession,
}

impl SignedIn {
    pub fn actor(&self) -> &Actor {
        &self.info.actor
    }
    /// The translator of this person's pages.
    pub fn tr(&self) -> crate::i18n::Tr {
        crate::i18n::Tr::new(self.ctx.lang)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for SignedIn {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let ctx = parts
            .extensions
            .get::<PageSession>()
            .cloned()
            .ok_or_else(|| StatusCode::INTERNAL_SERVER_ERROR.into_response())?;
        let Some(info) = ctx.session.clone() else {
            let next = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
            let target = format!(
                "/login?next={}",
                url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
            );
            return Err(Redirect::to(&target).into_response());
        };
        match info.stage {
            SessionStage::Full => Ok(SignedIn { info, ctx }),
            SessionStage::Totp => Err(Redirect::to("/login/totp").into_response()),
            SessionStage::Enrol => Err(Redirect::to("/account/totp").into_response()),
        }
    }
}

/// A session in any stage: for the second-factor pages themselves.
#[derive(Debug, Clone)]
pub struct AnyStage {
    pub info: SessionInfo,
    pub ctx: PageSession,
}

impl<S: Send + Sync> FromRequestParts<S> for AnyStage {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let ctx = parts
            .extensions
            .get::<PageSession>()
            .cloned()
            .ok_or_else(|| StatusCode::INTERNAL_SERVER_ERROR.into_response())?;
        match ctx.session.clone() {
            Some(info) => Ok(AnyStage { info, ctx }),
            None => Err(Redirect::to("/login").into_response()),
        }
    }
}

/// The page context of anyone, signed in or not.
impl<S: Send + Sync> FromRequestParts<S> for PageSession {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<PageSession>()
            .cloned()
            .ok_or_else(|| StatusCode::INTERNAL_SERVER_ERROR.into_response())
    }
}

/// The credentials of `Authorization: <scheme> <credentials>` when its scheme is `scheme`, which is
/// compared without regard to case (RFC 9110 §11.1: `bearer` is `Bearer`).
pub fn authorization<'a>(headers: &'a HeaderMap, scheme: &str) -> Option<&'a str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (given, credentials) = value.split_once(' ')?;
    let credentials = credentials.trim();
    (given.eq_ignore_ascii_case(scheme) && !credentials.is_empty()).then_some(credentials)
}

fn bearer(parts: &Parts) -> Option<&str> {
    authorization(&parts.headers, "Bearer")
}

/// An API caller with full access: an API token (`blt_…`) or a session token (`bls_…`) past its
/// second factor.
#[derive(Debug, Clone)]
pub struct ApiCaller(pub Actor);

impl FromRequestParts<AppState> for ApiCaller {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let secret = bearer(parts).ok_or(CoreError::Unauthenticated)?;
        if secret.starts_with("blt_") {
            return Ok(ApiCaller(state.services.tokens().authenticate_token(secret).await?));
        }
        let s = state.services.accounts().session(secret).await?;
        if s.stage != SessionStage::Full {
            return Err(ApiError::Http(
                StatusCode::FORBIDDEN,
                "finish the second factor first (POST /api/v1/me/totp or /api/v1/session with totp_code)".into(),
            ));
        }
        Ok(ApiCaller(s.actor))
    }
}

/// A person's API session in any stage (for enrolling the second factor over the API).
#[derive(Debug, Clone)]
pub struct ApiPerson {
    pub info: SessionInfo,
    pub secret: String,
}

impl FromRequestParts<AppState> for ApiPerson {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let secret = bearer(parts)
            .filter(|s| s.starts_with("bls_"))
            .ok_or(CoreError::Unauthenticated)?;
        let info = state.services.accounts().session(secret).await?;
        Ok(ApiPerson {
            info,
            secret: secret.to_string(),
        })
    }
}

/// Problem+json for API responses that axum produced itself (unknown route, wrong method, body
/// limits, timeouts), so that clients meet one error format.
pub async fn problem_for_plain_errors(req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    let status = res.status();
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(crate::error::PROBLEM_JSON.as_bytes()));
    if (status.is_client_error() || status.is_server_error()) && !is_problem {
        let detail = match to_bytes(res.into_body(), 4096).await {
            Ok(b) if !b.is_empty() => String::from_utf8_lossy(&b).into_owned(),
            _ => status.canonical_reason().unwrap_or("error").to_string(),
        };
        return Problem::new(status, crate::error::slug_for(status), Some(detail)).into_response();
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_cookie_is_http_only_strict_and_secure_behind_tls() {
        let plain = session_cookie(false, "bls_x".into()).to_string();
        assert!(
            plain.contains("HttpOnly") && plain.contains("SameSite=Strict"),
            "{plain}"
        );
        assert!(!plain.contains("Secure"), "{plain}");
        let tls = session_cookie(true, "bls_x".into()).to_string();
        assert!(tls.contains("Secure") && tls.contains("HttpOnly"), "{tls}");
    }
}
