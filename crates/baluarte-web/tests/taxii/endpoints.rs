//! TAXII 2.1 endpoints beyond reading objects: an object's versions (§5.8), adding objects to a
//! read-only collection (§5.4: `can_write` false is 403), and the addresses discovery gives (the
//! configured public address, never the request's `Host`).

use super::*;
use baluarte_core::service::Settings;
use baluarte_core::Services;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versions_read_only_collections_and_discovery_addresses() {
    let d = dataset().await;
    let root = format!("{}/taxii2", d.srv.base);
    let api_root = format!("{root}/api/");
    let basic = Some(("token", d.indicators.as_str()));

    // Get Object Versions: one version per object, the object's `modified` (or `created`; for an
    // object with neither, when it was added); added_after, limit and next as for the objects.
    let green = taxii_get(&format!("{api_root}collections/{GREEN}/objects/"), basic, None).await;
    assert_eq!(green.status, 200);
    let objects = green.body["objects"].as_array().unwrap().clone();
    let incident = objects.iter().find(|o| o["type"] == "incident").unwrap();
    let id = incident["id"].as_str().unwrap();
    let url = format!("{api_root}collections/{GREEN}/objects/{id}/versions/");
    let v = taxii_get(&url, basic, None).await;
    assert_eq!(v.status, 200, "{}", v.body);
    assert_eq!(v.body["versions"], json!([incident["modified"]]), "{}", v.body);
    assert_eq!(v.body["more"], false);
    assert!(v.body.get("next").is_none());
    for h in ["x-taxii-date-added-first", "x-taxii-date-added-last"] {
        let value = v.headers.get(h).and_then(|v| v.to_str().ok()).unwrap_or("");
        assert!(value.parse::<jiff::Timestamp>().is_ok(), "{h}: {value:?}");
    }
    let added = v.headers["x-taxii-date-added-first"].to_str().unwrap().to_string();
    let v = taxii_get(&format!("{url}?limit=1"), Some(("bearer", &d.indicators)), None).await;
    assert_eq!((v.status, v.body["versions"].as_array().map(Vec::len)), (200, Some(1)));
    // Nothing added after the object was: no version.
    let v = taxii_get(&format!("{url}?added_after={added}"), basic, None).await;
    assert_eq!(v.status, 404, "{}", v.body);
    for q in ["?limit=0", "?next=not-a-cursor", "?added_after=yesterday"] {
        let v = taxii_get(&format!("{url}{q}"), basic, None).await;
        assert_eq!(v.status, 400, "{q}: {}", v.body);
    }
    // An object without a version of its own has one too.
    let observable = objects
        .iter()
        .find(|o| o.get("modified").is_none() && o.get("created").is_none())
        .unwrap();
    let oid = observable["id"].as_str().unwrap();
    let v = taxii_get(
        &format!("{api_root}collections/{GREEN}/objects/{oid}/versions/"),
        basic,
        None,
    )
    .await;
    assert_eq!(v.status, 200, "{}", v.body);
    assert_eq!(v.body["versions"].as_array().map(Vec::len), Some(1));
    // Unknown objects and collections, and collections the caller may not read.
    let unknown = "indicator--00000000-0000-4000-8000-000000000000";
    let v = taxii_get(
        &format!("{api_root}collections/{GREEN}/objects/{unknown}/versions/"),
        basic,
        None,
    )
    .await;
    assert_eq!((v.status, v.body["http_status"].as_str()), (404, Some("404")));
    let v = taxii_get(
        &format!("{api_root}collections/00000000-0000-0000-0000-000000000000/objects/{id}/versions/"),
        basic,
        None,
    )
    .await;
    assert_eq!(v.status, 404);
    let v = taxii_get(
        &format!("{api_root}collections/{STRICT}/objects/{id}/versions/"),
        basic,
        None,
    )
    .await;
    assert_eq!(v.status, 403);
    let v = taxii_get(&url, None, None).await;
    assert_eq!(v.status, 401);

    // Add Objects to a collection whose can_write is false: 403, a TAXII error; unknown: 404.
    let envelope = json!({"objects": [incident]});
    for (collection, want) in [
        (GREEN, 403),
        (CLEAR, 403),
        ("00000000-0000-0000-0000-000000000000", 404),
    ] {
        let res = client()
            .post(format!("{api_root}collections/{collection}/objects/"))
            .basic_auth("token", Some(&d.indicators))
            .header("content-type", TAXII)
            .header("accept", TAXII)
            .body(envelope.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), want, "POST to {collection}");
        assert_eq!(res.headers()["content-type"], TAXII);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["http_status"], want.to_string(), "{body}");
        assert!(body["title"].is_string() && body["description"].is_string(), "{body}");
    }
    let res = client()
        .post(format!("{api_root}collections/{GREEN}/objects/"))
        .header("content-type", TAXII)
        .body(envelope.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401, "a write without credentials");

    // Discovery never reflects the Host header.
    let res = client()
        .get(format!("{root}/"))
        .basic_auth("token", Some(&d.indicators))
        .header("host", "evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    assert!(!text.contains("evil.example"), "{text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["api_roots"], json!(["/taxii2/api/"]));

    // With a public address configured, discovery gives that one, whatever the Host.
    let configured = Services::new(
        d.srv.svc.db().clone(),
        d.srv.svc.server_key().clone(),
        Settings {
            public_url: Some("https://baluarte.example.gob.mx/".into()),
            ..Settings::default()
        },
    );
    let base = serve(configured).await;
    let res = client()
        .get(format!("{base}/taxii2/"))
        .basic_auth("token", Some(&d.indicators))
        .header("host", "evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["default"], "https://baluarte.example.gob.mx/taxii2/api/", "{body}");
    assert_eq!(
        body["api_roots"],
        json!(["https://baluarte.example.gob.mx/taxii2/api/"])
    );
}
