//! What schemathesis (tests/api/schemathesis.py) found where the server and its OpenAPI document
//! disagreed, each held here as a plain request on both backends: the answer the document promises.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use serde_json::Value;

conformance!(paging_at_the_integer_limit_is_an_empty_page,);

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
