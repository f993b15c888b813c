//! A real server on a loopback port over a fresh store loaded with the demo registry, and clients that
//! sign in as each role.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use baluarte_core::crypto::{totp, ServerKey};
use baluarte_core::db::Db;
use baluarte_core::service::Settings;
use baluarte_core::{demo, Services};
use baluarte_web::{app, AppState, WebConfig};
use serde_json::{json, Value};
use std::net::SocketAddr;

pub struct TestServer {
    pub base: String,
    pub svc: Services,
    _dir: tempfile::TempDir,
}

pub async fn start_demo() -> TestServer {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = Db::connect(&Db::sqlite_url(dir.path()))
        .await
        .expect("db")
        .with_clock(baluarte_test_support::clock::clock());
    let svc = Services::new(
        db,
        ServerKey::generate(),
        Settings {
            max_failures_per_ip: 10_000,
            ..Settings::default()
        },
    );
    demo::load(
        &svc,
        &demo::parse_dataset(demo::MX_DATASET).expect("dataset"),
        &|_, _| {},
    )
    .await
    .expect("demo");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let router = app(AppState::new(svc.clone(), WebConfig::default()));
    tokio::spawn(async move {
        axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
            .await
            .expect("serve");
    });
    TestServer {
        base: format!("http://{addr}"),
        svc,
        _dir: dir,
    }
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

pub fn csrf_of(html: &str) -> String {
    let re = regex_lite::Regex::new(r#"name="_csrf" value="([^"]+)""#).expect("regex");
    re.captures(html)
        .and_then(|c| c.get(1))
        .map(|m| m.as_str().to_string())
        .expect("a _csrf field on the page")
}
