//! Baluarte's HTTP server: server-rendered pages (Spanish by default, English on request) and the JSON
//! API under `/api/v1` with its OpenAPI 3.1 document. Handlers are thin: they parse, call the service
//! layer, and render.

pub mod api;
pub mod auth;
pub mod charts;
pub mod error;
pub mod i18n;
pub mod ops;
pub mod pages;
pub mod taxii;

use axum::http::{header, HeaderValue};
use axum::Router;
use baluarte_core::Services;
use std::sync::Arc;
use std::time::Duration;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

/// Settings of the web layer.
#[derive(Debug, Clone, Default)]
pub struct WebConfig {
    /// Mark cookies `Secure` (the server is reached over HTTPS).
    pub cookie_secure: bool,
    /// Take the client address from `X-Forwarded-For` (only behind a trusted reverse proxy).
    pub trust_forwarded: bool,
}

#[derive(Debug, Clone)]
pub struct AppState {
    pub services: Services,
    pub config: Arc<WebConfig>,
    pub metrics: Arc<ops::Metrics>,
}

impl AppState {
    pub fn new(services: Services, config: WebConfig) -> Self {
        AppState {
            services,
            config: Arc::new(config),
            metrics: Arc::new(ops::Metrics::default()),
        }
    }
}

/// Content Security Policy: no inline script or style, nothing from elsewhere, no framing.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; \
                   frame-ancestors 'none'; base-uri 'none'; connect-src 'self'";

/// The whole application.
pub fn app(state: AppState) -> Router {
    Router::new()
        .merge(pages::router(state.clone()))
        .nest("/api/v1", api::router(state.clone()))
        .nest("/taxii2/", taxii::router())
        .merge(ops::router())
        .layer(axum::middleware::from_fn_with_state(state.clone(), ops::track))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        .layer(CatchPanicLayer::new())
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
