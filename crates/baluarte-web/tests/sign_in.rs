//! Signing in over HTTP: the second factor is throttled like the password (API and pages), the lockout's
//! `Retry-After` is the real one, `next` never leads off the site, and the `Authorization` scheme is read
//! in any case.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use baluarte_core::crypto::totp;
use baluarte_core::service::Settings;
use baluarte_core::time::MINUTE;
use baluarte_core::Services;
use baluarte_test_support::Template;
use baluarte_web::{app, AppState, WebConfig};
use base64::Engine;
use common::*;
use serde_json::{json, Value};
use std::net::SocketAddr;

conformance!(api_second_factor_guesses_are_throttled);

/// The strict limit of the default settings: failures for one account from one address.
const LIMIT: usize = 5;
/// A national account of the demo: its role requires a second factor.
const CSIRT: &str = "csirt@atdt.example";
/// An entity's account of the demo: no second factor.
const OFFICER: &str = "seguridad@sat.example";

/// Enrol `email`'s second factor over the API; the TOTP secret.
async fn enrolled(srv: &TestServer, email: &str) -> String {
    let c = client();
    let r: Value = c
        .post(format!("{}/api/v1/session", srv.base))
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["stage"], "enrol", "{r}");
    let token = r["token"].as_str().unwrap();
    let e: Value = c
        .post(format!("{}/api/v1/me/totp", srv.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let secret = e["secret"].as_str().unwrap().to_string();
    let code = totp::code_at(&secret, srv.svc.now()).unwrap();
    let s = c
        .post(format!("{}/api/v1/me/totp/confirm", srv.base))
        .bearer_auth(token)
        .json(&json!({"code": code}))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(s, 204);
    secret
}

/// A code that is certainly not valid now (nor a step either side).
fn wrong_code(srv: &TestServer, secret: &str) -> String {
    let code: u32 = totp::code_at(secret, srv.svc.now()).unwrap().parse().unwrap();
    format!("{:06}", (code + 500_000) % 1_000_000)
}

/// The right password with wrong codes on `POST /api/v1/session`: refused (422) up to the limit, then
/// 429 with `Retry-After`, even for the right code.
async fn api_second_factor_guesses_are_throttled(backend: Backend) {
    let srv = start_demo(backend).await;
    let secret = enrolled(&srv, CSIRT).await;
    let c = client();
    let session = |code: String| {
        c.post(format!("{}/api/v1/session", srv.base))
            .json(&json!({"email": CSIRT, "password": PASSWORD, "totp_code": code}))
            .send()
    };
    let mut statuses = Vec::new();
    for _ in 0..40 {
        let r = session(wrong_code(&srv, &secret)).await.unwrap();
        if r.status() == 429 {
            let retry: u64 = r.headers()["retry-after"].to_str().unwrap().parse().unwrap();
            assert!((1..=15 * 60).contains(&retry), "{retry}");
        }
        statuses.push(r.status().as_u16());
    }
    let expected: Vec<u16> = [422; LIMIT].into_iter().chain([429; 40 - LIMIT]).collect();
    assert_eq!(statuses, expected);
    let right = totp::code_at(&secret, srv.svc.now() + 30 * 1_000_000).unwrap();
    assert_eq!(session(right).await.unwrap().status(), 429);
}

/// The same through the pages: `/login` with the right password, then wrong codes on `/login/totp`;
/// once the limit is reached, both pages answer 429 with `Retry-After`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_second_factor_guesses_are_throttled() {
    let srv = start_demo(Backend::Sqlite).await;
    let secret = enrolled(&srv, CSIRT).await;
    let c = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let base = srv.base.as_str();
    let status_of = |r: &reqwest::Response| {
        if r.status() == 429 {
            assert!(r.headers().contains_key("retry-after"));
        }
        r.status().as_u16()
    };
    let expected: Vec<u16> = [422; LIMIT].into_iter().chain([429; 40 - LIMIT]).collect();

    // A fresh password step before each code.
    let mut statuses = Vec::new();
    for _ in 0..40 {
        let r = password_step(&c, base).await;
        if r.status() != 303 {
            statuses.push(status_of(&r));
            continue;
        }
        assert_eq!(r.headers()["location"], "/login/totp");
        statuses.push(status_of(&code_step(&c, base, &wrong_code(&srv, &secret)).await));
    }
    assert_eq!(statuses, expected);

    // Once the failures above have left the window: one password step, then every code on it.
    srv.svc.clock().advance(16 * 60 * 1_000_000);
    let r = password_step(&c, base).await;
    assert_eq!(r.status(), 303);
    let statuses: Vec<u16> = {
        let mut v = Vec::new();
        for _ in 0..40 {
            v.push(status_of(&code_step(&c, base, &wrong_code(&srv, &secret)).await));
        }
        v
    };
    assert_eq!(statuses, expected);
}

async fn csrf(c: &reqwest::Client, url: String) -> String {
    csrf_of(&c.get(url).send().await.unwrap().text().await.unwrap())
}

/// `POST /login` with the right password, as a browser (cookies kept).
async fn password_step(c: &reqwest::Client, base: &str) -> reqwest::Response {
    let token = csrf(c, format!("{base}/login")).await;
    c.post(format!("{base}/login"))
        .form(&[
            ("_csrf", token.as_str()),
            ("email", CSIRT),
            ("password", PASSWORD),
            ("next", "/"),
        ])
        .send()
        .await
        .unwrap()
}

/// `POST /login/totp` with `code`.
async fn code_step(c: &reqwest::Client, base: &str, code: &str) -> reqwest::Response {
    let token = csrf(c, format!("{base}/login/totp")).await;
    c.post(format!("{base}/login/totp"))
        .form(&[("_csrf", token.as_str()), ("code", code)])
        .send()
        .await
        .unwrap()
}

/// A server over a fresh demo store with `settings`, reading the client's address from
/// `X-Forwarded-For`, so that one test can come from several addresses.
async fn forwarded_server(settings: Settings) -> (String, Services, TestStore) {
    let store = TestStore::new(Backend::Sqlite, Template::Demo).await.unwrap().unwrap();
    let svc = Services::new(store.svc.db().clone(), store.svc.server_key().clone(), settings);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let config = WebConfig {
        trust_forwarded: true,
        ..WebConfig::default()
    };
    let router = app(AppState::new(svc.clone(), config));
    tokio::spawn(async move {
        axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
            .await
            .unwrap();
    });
    (format!("http://{addr}"), svc, store)
}

/// `Retry-After` and the problem's detail give the time until the longest lockout that applies lifts:
/// here the address's (14 min), not the account's (4 min).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_is_the_longest_lockout() {
    let (base, svc, _store) = forwarded_server(Settings {
        max_failures_per_account: 6,
        max_failures_per_ip: 4,
        lockout_window: 15 * MINUTE,
        ..Settings::default()
    })
    .await;
    let c = client();
    let login = |email: &str, password: &str, ip: &str| {
        c.post(format!("{base}/api/v1/session"))
            .header("x-forwarded-for", ip)
            .json(&json!({"email": email, "password": password}))
            .send()
    };
    for ip in ["198.51.100.2", "198.51.100.3"] {
        for _ in 0..3 {
            assert_eq!(
                login(OFFICER, "wrong horse battery staple", ip).await.unwrap().status(),
                401
            );
        }
    }
    svc.clock().advance(10 * MINUTE);
    for i in 0..4 {
        let r = login(&format!("nadie{i}@sat.example"), "wrong horse", "198.51.100.4")
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
    }
    svc.clock().advance(MINUTE);
    for (ip, secs) in [("198.51.100.4", 14 * 60), ("198.51.100.5", 4 * 60)] {
        let r = login(OFFICER, PASSWORD, ip).await.unwrap();
        assert_eq!(r.status(), 429);
        assert_eq!(r.headers()["retry-after"], secs.to_string().as_str(), "from {ip}");
        let problem: Value = r.json().await.unwrap();
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.contains(&format!("{secs} s")), "{detail}");
    }
}

/// Whatever `next` says, the sign-in (and the language switch) redirects to a local path; hostile values
/// fall back to `/`, and nothing answers 500.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn next_never_leads_off_the_site() {
    let srv = start_demo(Backend::Sqlite).await;
    let hostile = [
        "/\t/evil.example",
        "/\n",
        "/\r\nSet-Cookie: x=1",
        "\t/evil.example",
        "//evil.example",
        "///evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "/ /evil.example",
        "https://evil.example/",
        "http:evil.example",
        "javascript:alert(1)",
        "evil.example",
        "/%09/evil.example",
        "/%0a",
        "/%2F/evil.example",
        "/%2f%2fevil.example",
        "/%5Cevil.example",
        "/%5c%5cevil.example",
        "/\u{3000}/evil.example",
        "/\u{202E}/evil.example",
        "/\u{0}",
        "/ok//evil.example",
    ];
    let long = format!("/{}", "a".repeat(4096));
    let benign = [
        "/",
        "/incidents",
        "/incidents?status=new&page=2",
        "/entities/0190d5c4-1a2b-7c3d-8e4f-5a6b7c8d9e0f",
        "/indicators?q=pago-seguro.example&kind=domain",
        "/incidents?q=n%C3%B3mina+marzo",
    ];
    let cases: Vec<(&str, &str)> = hostile
        .iter()
        .map(|v| (*v, "/"))
        .chain(std::iter::once((long.as_str(), "/")))
        .chain(benign.iter().map(|v| (*v, *v)))
        .collect();

    let c = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = |path: String| {
        let c = c.clone();
        let url = format!("{}{path}", srv.base);
        async move { c.get(url).send().await.unwrap() }
    };
    for (next, expected) in &cases {
        // Signed out: the form carries the safe value, and posting any value lands on a safe one.
        let anonymous = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let url = format!("{}/login?next={}", srv.base, encode(next));
        let r = anonymous.get(&url).send().await.unwrap();
        assert_eq!(r.status(), 200, "GET /login?next={next:?}");
        let html = r.text().await.unwrap();
        let escaped = expected.replace('&', "&#38;");
        assert!(
            html.contains(&format!(r#"name="next" value="{escaped}""#)),
            "the form keeps {expected:?} for {next:?}"
        );
        let r = anonymous
            .post(format!("{}/login", srv.base))
            .form(&[
                ("_csrf", csrf_of(&html).as_str()),
                ("email", OFFICER),
                ("password", PASSWORD),
                ("next", next),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "POST /login next={next:?}");
        assert_eq!(r.headers()["location"], *expected, "POST /login next={next:?}");
    }

    // Signed in: GET /login?next= redirects at once, and the language switch follows `next` too.
    let token = csrf_of(&page("/login".into()).await.text().await.unwrap());
    let r = c
        .post(format!("{}/login", srv.base))
        .form(&[
            ("_csrf", token.as_str()),
            ("email", OFFICER),
            ("password", PASSWORD),
            ("next", "/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    for (next, expected) in &cases {
        let r = page(format!("/login?next={}", encode(next))).await;
        assert_eq!(r.status(), 303, "signed in, GET /login?next={next:?}");
        assert_eq!(
            r.headers()["location"],
            *expected,
            "signed in, GET /login?next={next:?}"
        );
        let token = csrf_of(&page("/account".into()).await.text().await.unwrap());
        let r = c
            .post(format!("{}/lang", srv.base))
            .form(&[("_csrf", token.as_str()), ("lang", "es"), ("next", next)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "POST /lang next={next:?}");
        assert_eq!(r.headers()["location"], *expected, "POST /lang next={next:?}");
    }
    // The raw query strings of the report, as a browser sends them.
    for raw in [
        "/%09/evil.example",
        "/%0a",
        "/%0d%0a",
        "%2F%2Fevil.example",
        "/%5C/evil.example",
    ] {
        let r = page(format!("/login?next={raw}")).await;
        assert_eq!(r.status(), 303, "GET /login?next={raw}");
        assert_eq!(r.headers()["location"], "/", "GET /login?next={raw}");
    }
}

fn encode(v: &str) -> String {
    url::form_urlencoded::byte_serialize(v.as_bytes()).collect()
}

/// The `Authorization` scheme is case-insensitive (RFC 9110 §11.1): `bearer`, `BEARER`, and for TAXII
/// `basic` too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorization_scheme_is_read_in_any_case() {
    let srv = start_demo(Backend::Sqlite).await;
    let token = api_login(&srv.base, OFFICER, PASSWORD).await;
    let c = client();
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        let r = c
            .get(format!("{}/api/v1/me", srv.base))
            .header("authorization", format!("{scheme} {token}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{scheme}");
    }
    let basic = base64::engine::general_purpose::STANDARD.encode(format!(":{token}"));
    for value in [
        format!("bearer {token}"),
        format!("BEARER {token}"),
        format!("basic {basic}"),
        format!("BASIC {basic}"),
    ] {
        let r = c
            .get(format!("{}/taxii2/", srv.base))
            .header("accept", "application/taxii+json;version=2.1")
            .header("authorization", &value)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "TAXII with {}", &value[..6]);
    }
    // Other schemes, or none, are still no credential.
    for value in [format!("Token {token}"), token.clone(), format!("Bearer{token}")] {
        let r = c
            .get(format!("{}/api/v1/me", srv.base))
            .header("authorization", &value)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{value:.8}");
    }
}
