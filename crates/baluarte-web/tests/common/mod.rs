//! A real server on a loopback port over a fresh store loaded with the demo registry, on SQLite or
//! PostgreSQL (copied from `baluarte-test-support`'s demo template), and clients that sign in as each role.
#![allow(dead_code, unused_imports, clippy::unwrap_used, clippy::expect_used)]

pub use baluarte_test_support::{conformance, Backend, TestStore};

use baluarte_core::crypto::totp;
use baluarte_core::demo;
use baluarte_core::service::Settings;
use baluarte_core::Services;
use baluarte_test_support::Template;
use baluarte_web::{app, AppState, WebConfig};
use serde_json::{json, Value};
use std::net::SocketAddr;

pub struct TestServer {
    pub base: String,
    pub svc: Services,
    /// The store's directory and database, removed and dropped with the server.
    _store: TestStore,
}

/// A server over a fresh copy of the demo store on `backend`. Generate the test on both backends with
/// `conformance!`, which skips (or, under CI, fails) the PostgreSQL half when there is no server.
pub async fn start_demo(backend: Backend) -> TestServer {
    let store = TestStore::new(backend, Template::Demo)
        .await
        .unwrap_or_else(|e| panic!("{backend:?} demo store: {e}"))
        .unwrap_or_else(|| panic!("no PostgreSQL server for this test: run it through conformance!"));
    let svc = Services::new(
        store.svc.db().clone(),
        store.svc.server_key().clone(),
        Settings {
            max_failures_per_ip: 10_000,
            ..Settings::default()
        },
    );
    TestServer {
        base: serve(svc.clone()).await,
        svc,
        _store: store,
    }
}

/// A server over `svc` on a loopback port; its base URL.
pub async fn serve(svc: Services) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let router = app(AppState::new(svc, WebConfig::default()));
    tokio::spawn(async move {
        axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
            .await
            .expect("serve");
    });
    format!("http://{addr}")
}

pub const PASSWORD: &str = demo::DEMO_PASSWORD;

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// A full API session for a person: password, then TOTP enrolment or code when the role needs it.
pub async fn api_login(base: &str, email: &str, password: &str) -> String {
    let c = client();
    let r: Value = c
        .post(format!("{base}/api/v1/session"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("json");
    let token = r["token"]
        .as_str()
        .unwrap_or_else(|| panic!("login of {email} failed: {r}"))
        .to_string();
    if r["stage"] == "enrol" {
        let e: Value = c
            .post(format!("{base}/api/v1/me/totp"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("enrol")
            .json()
            .await
            .expect("json");
        let secret = e["secret"].as_str().expect("secret");
        // Every test server's clock stands at the test clock's start.
        let code = totp::code_at(secret, baluarte_test_support::clock::start()).expect("code");
        let s = c
            .post(format!("{base}/api/v1/me/totp/confirm"))
            .bearer_auth(&token)
            .json(&json!({"code": code}))
            .send()
            .await
            .expect("confirm")
            .status();
        assert_eq!(s, 204, "TOTP confirmation for {email}");
    }
    token
}

/// A browser-like client signed in through the login form (for roles without a second factor).
pub async fn page_login(base: &str, email: &str, password: &str) -> (reqwest::Client, String) {
    let c = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let html = c
        .get(format!("{base}/login"))
        .send()
        .await
        .expect("login page")
        .text()
        .await
        .expect("text");
    let csrf = csrf_of(&html);
    let r = c
        .post(format!("{base}/login"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("email", email),
            ("password", password),
            ("next", "/"),
        ])
        .send()
        .await
        .expect("login");
    assert_eq!(r.status(), 303, "page login of {email}");
    let html = c
        .get(format!("{base}/account"))
        .send()
        .await
        .expect("account")
        .text()
        .await
        .expect("text");
    let csrf = csrf_of(&html);
    (c, csrf)
}

/// GET a page or document: its status and its body as text.
pub async fn get_text(c: &reqwest::Client, url: &str) -> (u16, String) {
    let r = c.get(url).send().await.expect("get");
    (r.status().as_u16(), r.text().await.expect("text"))
}

pub fn csrf_of(html: &str) -> String {
    let re = regex_lite::Regex::new(r#"name="_csrf" value="([^"]+)""#).expect("regex");
    re.captures(html)
        .and_then(|c| c.get(1))
        .map(|m| m.as_str().to_string())
        .expect("a _csrf field on the page")
}
