//! What schemathesis (tests/api/schemathesis.py) found where the server and its OpenAPI document
//! disagreed, each held here as a plain request on both backends: the answer the document promises.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use serde_json::Value;

conformance!(
    paging_at_the_integer_limit_is_an_empty_page,
    integral_numbers_read_as_integers,
);

async fn get(base: &str, token: &str, path: &str) -> (u16, Value) {
    let res = client()
        .get(format!("{base}/api/v1{path}"))
        .bearer_auth(token)
        .send()
        .await
        .expect("request");
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// `page` is any integer (below 1 reads as 1): the last representable page is an empty page, not an
/// overflow in the offset.
async fn paging_at_the_integer_limit_is_an_empty_page(backend: Backend) {
    let server = start_demo(backend).await;
    let token = api_login(&server.base, "seguridad@sat.example", PASSWORD).await;
    for path in ["/entities", "/contacts", "/users", "/tokens", "/audit", "/incidents"] {
        let (status, body) = get(&server.base, &token, &format!("{path}?page={}&per_page=200", i64::MAX)).await;
        assert_eq!(status, 200, "{path}: {body}");
        assert_eq!(body["items"], Value::Array(vec![]), "{path}");
        assert_eq!(body["page"], i64::MAX, "{path}");
    }
}

/// JSON has one number type and JSON Schema's `integer` admits `30.0`: an integer field takes it.
async fn integral_numbers_read_as_integers(backend: Backend) {
    let server = start_demo(backend).await;
    let token = api_login(&server.base, "seguridad@sat.example", PASSWORD).await;
    let (_, me) = get(&server.base, &token, "/me").await;
    let entity = me["user"]["entity_id"].as_str().expect("entity").to_string();
    let post = |days: serde_json::Value| {
        client()
            .post(format!("{}/api/v1/tokens", server.base))
            .bearer_auth(&token)
            .json(&serde_json::json!({
                "entity_id": entity, "name": "integración", "purposes": ["registry:read"], "expires_in_days": days,
            }))
            .send()
    };
    let res = post(serde_json::json!(30.0)).await.expect("request");
    assert_eq!(res.status(), 201);
    let body: Value = res.json().await.expect("json");
    let created = body["token"]["created_at"]
        .as_str()
        .and_then(|s| s.parse::<jiff::Timestamp>().ok());
    let expires = body["token"]["expires_at"]
        .as_str()
        .and_then(|s| s.parse::<jiff::Timestamp>().ok());
    let (Some(created), Some(expires)) = (created, expires) else {
        panic!("times: {body}");
    };
    assert_eq!(expires.as_second() - created.as_second(), 30 * 86_400);
    // A fraction is no integer.
    let res = post(serde_json::json!(30.5)).await.expect("request");
    assert_eq!(res.status(), 422);
}
